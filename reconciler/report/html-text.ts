import { escapeUTF8 } from 'entities';
import { neutralise } from '../core/text.js';

/**
 * Escapes text for HTML content and quoted attribute values. Control characters and bidirectional
 * formatting (which would reorder what the page shows) are shown as escapes; newlines and tabs stay.
 */
export const h = (text: string | number): string => escapeUTF8(neutralise(String(text), '\n\r\t'));
