import { pipelineOf, pipelineWarning } from './pipeline.js';
/**
 * Run logs on stderr: plain lines, or JSON lines for pipelines. Secrets are masked before anything is
 * written, and no control or bidirectional formatting character reaches the terminal.
 */
import { redactSecrets, redactText } from '../core/redact.js';
import { jsonSafe, terminalSafe } from '../core/text.js';

export type LogFormat = 'text' | 'json';

/** A line of text for a terminal: secrets masked, control characters shown as escapes (newlines kept). */
export function printable(text: string): string {
  return terminalSafe(redactText(text), true);
}

/** One line of text for a terminal: secrets masked, control characters shown as escapes, line breaks as spaces. */
export function printableLine(text: string): string {
  return terminalSafe(redactText(text));
}

/** JSON for stdout or a log: secrets masked, unsafe characters escaped; one line unless `indent`. */
export function jsonLine(value: unknown, indent?: number): string {
  return jsonSafe(JSON.stringify(redactSecrets(value), null, indent));
}

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  /** Progress of a long scan; a bar on a terminal, a line every so often otherwise. */
  progress(label: string, done: number, total: number): void;
}

export function createLogger(format: LogFormat, stream: NodeJS.WriteStream = process.stderr): Logger {
  // A progress bar redraws its line: not on a terminal that cannot (TERM=dumb).
  const tty = format === 'text' && stream.isTTY === true && process.env['TERM'] !== 'dumb';
  let lastLine = 0;
  const write = (level: string, message: string, fields: Record<string, unknown> = {}) => {
    if (tty && lastLine) stream.write('\n');
    lastLine = 0;
    if (format === 'json') stream.write(`${jsonLine({ time: new Date().toISOString(), level, message, ...fields })}\n`);
    else stream.write(`${printable(message)}\n`);
  };
  return {
    info: (m, f) => write('info', m, f),
    warn: (m, f) => {
      write('warn', `warning: ${m}`, f);
      // In a pipeline, the warning is an annotation as well.
      const annotation = format === 'text' ? pipelineWarning(pipelineOf(), m) : undefined;
      if (annotation) stream.write(`${annotation}\n`);
    },
    progress: (label, done, total) => {
      if (tty) {
        const width = 30;
        const filled = total ? Math.round((done / total) * width) : width;
        stream.write(`\r${printable(label)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
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
        if (format === 'json') stream.write(`${jsonLine({ time: new Date().toISOString(), level: 'info', message: label, done, total })}\n`);
        else stream.write(`${printable(label)}: ${done}/${total}\n`);
      }
    },
  };
}
