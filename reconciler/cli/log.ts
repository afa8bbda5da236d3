/** Run logs on stderr: plain lines, or JSON lines for pipelines. Secrets are masked before anything is written. */
export type LogFormat = 'text' | 'json';

const JWT = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g;
const BEARER = /(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi;
const SECRET_ENV = /((?:client_secret|password|secret|assertion)=)[^&\s]+/gi;

/** Masks tokens and secrets in a message. */
export function redact(text: string): string {
  return text.replace(JWT, '[token]').replace(BEARER, '$1[token]').replace(SECRET_ENV, '$1[secret]');
}

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  /** Progress of a long scan; a bar on a terminal, a line every so often otherwise. */
  progress(label: string, done: number, total: number): void;
}

export function createLogger(format: LogFormat, stream: NodeJS.WriteStream = process.stderr): Logger {
  const tty = format === 'text' && stream.isTTY === true;
  let lastLine = 0;
  const write = (level: string, message: string, fields: Record<string, unknown> = {}) => {
    if (tty && lastLine) stream.write('\n');
    lastLine = 0;
    if (format === 'json') stream.write(`${redact(JSON.stringify({ time: new Date().toISOString(), level, message, ...fields }))}\n`);
    else stream.write(`${redact(message)}\n`);
  };
  return {
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', `warning: ${m}`, f),
    progress: (label, done, total) => {
      if (tty) {
        const width = 30;
        const filled = total ? Math.round((done / total) * width) : width;
        stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
        lastLine = 1;
        if (done >= total) {
          stream.write('\n');
          lastLine = 0;
        }
        return;
      }
      const now = Date.now();
      if (done >= total || now - lastLine > 5000) {
        lastLine = now;
        if (format === 'json') stream.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'info', message: label, done, total })}\n`);
        else stream.write(`${label}: ${done}/${total}\n`);
      }
    },
  };
}
