import { createHash } from 'node:crypto';

/** SHA-256 of a string's UTF-8 bytes, or of raw bytes, as lower-case hex. */
export const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');
