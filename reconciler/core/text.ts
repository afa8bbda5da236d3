/**
 * Text from outside (tenant names anyone can set, service answers, DNS records) made safe to show.
 * Control characters (ESC above all, which can move the cursor, clear the screen or retitle the
 * window; BEL; C1 controls such as CSI), bidirectional formatting characters (which reorder what is
 * shown, so `\u202Egnp.exe` reads as `exe.png`) and line or paragraph separators (which forge lines)
 * never reach a terminal or a report raw.
 */

/** Whether a code point changes how the text around it is shown rather than being shown itself. */
export function isUnsafeCodePoint(code: number): boolean {
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x061c ||
    code === 0x200e ||
    code === 0x200f ||
    code === 0x2028 ||
    code === 0x2029 ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

/** `\x1b`, `\u{202e}`: what an unsafe character is shown as. */
export function visibleEscape(code: number): string {
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

/**
 * Shows every unsafe character as its escape (`\x1b`, `\u{202e}`), except the ones in `keep`
 * (for instance the newline of a multi-line block).
 */
export function neutralise(text: string, keep = ''): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    out += isUnsafeCodePoint(code) && !keep.includes(ch) ? visibleEscape(code) : ch;
  }
  return out;
}

/**
 * Makes a string safe to print on a terminal: control characters and bidirectional formatting are
 * shown as `\xNN` / `\u{NNNN}` instead of being written raw. Newlines, tabs and carriage returns
 * become spaces, so a name cannot forge a line; with `keepNewlines` a newline stays a newline.
 */
export function terminalSafe(text: string, keepNewlines = false): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === '\n' && keepNewlines) out += ch;
    else if (ch === '\n' || ch === '\t' || ch === '\r') out += ' ';
    else if (isUnsafeCodePoint(code)) out += visibleEscape(code);
    else out += ch;
  }
  return out;
}

const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Serialised JSON with the unsafe characters JSON.stringify leaves raw (DEL, C1 controls,
 * bidirectional formatting, line separators) written as `\uXXXX` escapes. The JSON means exactly
 * the same; the file and a terminal showing it carry none of them. (C0 controls JSON already escapes.)
 */
export function jsonSafe(json: string): string {
  return json.replace(JSON_UNSAFE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A deep copy of a JSON value with `fn` applied to every string in it (keys included). */
export function mapStrings<T>(value: T, fn: (s: string) => string): T {
  const walk = (v: unknown, depth: number): unknown => {
    if (depth > 200) throw new Error('value is nested too deeply to be shown (a cycle?)');
    if (typeof v === 'string') return fn(v);
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [fn(k), walk(x, depth + 1)]));
    return v;
  };
  return walk(value, 0) as T;
}

/** A value as a single-quoted PowerShell string (nothing in it is expanded when a command is pasted). */
export const psQuote = (s: string): string => `'${s.replace(/['\u2018\u2019\u201a\u201b]/g, (q) => q + q)}'`;
