import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseState, type IncrementalState } from './state.js';

/**
 * The state file of `posture drift --incremental`: beside the evidence trail, named after it
 * (`evidence.jsonl` → `evidence.jsonl.drift-state.json`), so each trail has its own.
 */
export const statePathFor = (evidencePath: string): string => join(dirname(evidencePath), `${basename(evidencePath)}.drift-state.json`);

/**
 * The state the file holds: `state` when it is there and checks, `problem` when it is there but
 * cannot be used (what is wrong, for the run to say why it reads in full), neither when there is none.
 */
export function loadState(path: string): { state?: IncrementalState; problem?: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    return { problem: `${path} could not be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { problem: `${path} is not valid JSON` };
  }
  const parsed = parseState(raw);
  return 'problem' in parsed ? { problem: `${path}: ${parsed.problem}` } : { state: parsed };
}

/** Writes the state whole: to a temporary file beside it, flushed, then renamed over it (a crash leaves the old one). */
export function saveState(path: string, state: IncrementalState): void {
  const temp = `${path}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(state));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}
