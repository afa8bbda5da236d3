import { readFileSync } from 'node:fs';

/** The version of email-posture, from package.json. */
export const TOOL_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
