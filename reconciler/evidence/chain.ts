/**
 * The hash chain: each record carries the SHA-256 of its own canonical JSON (without `hash`) and
 * the `hash` of the record before it, so an edited, removed, inserted or reordered record shows.
 */
import { sha256 } from '../core/hash.js';
import { canonicalJsonV1, wellFormed } from '../core/json.js';
import { redactSecrets } from '../core/redact.js';
import { EVIDENCE_FORMAT_VERSION, type EvidenceInput, type EvidenceRecord } from './records.js';

/**
 * The hash a record must carry: SHA-256 of its canonical JSON (RFC 8785) without the `hash` field.
 * Records of version 1 written before strings were made well-formed may hold lone surrogates:
 * {@link canonicalJsonV1} hashes those as they were hashed when written.
 */
export function recordHash(record: object): string {
  const { hash: _hash, ...rest } = record as Record<string, unknown>;
  return sha256(canonicalJsonV1(rest));
}

/** Where the chain stands: the last record's `seq` and `hash` (0 and `GENESIS_PREV` when empty). */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

/**
 * The record that follows `head`: `v`, `seq`, `time` (unless given) and `prev` set, secrets
 * redacted, the value fixed to exactly what JSON can hold, strings made well-formed (a lone
 * surrogate becomes U+FFFD, as RFC 8785 asks), and `hash` computed over exactly that.
 * The caller has validated `input`.
 */
export function nextRecord(input: EvidenceInput, head: ChainHead, now: () => Date = () => new Date()): EvidenceRecord {
  const { kind, runId, actor, time, v: _v, seq: _seq, prev: _prev, hash: _hash, ...rest } = input as EvidenceInput & Record<string, unknown>;
  const fields: Record<string, unknown> = {
    v: EVIDENCE_FORMAT_VERSION,
    seq: head.seq + 1,
    runId,
    time: time ?? now().toISOString(),
    kind,
    actor,
    ...rest,
    prev: head.hash,
  };
  if (kind === 'change') {
    fields['before'] = fields['before'] ?? null;
    fields['after'] = fields['after'] ?? null;
  }
  // Redact, then fix the value to exactly what JSON can hold, so the hash covers what is written.
  const body = wellFormed(JSON.parse(JSON.stringify(redactSecrets(fields))) as Record<string, unknown>);
  delete body['hash'];
  return { ...body, hash: recordHash(body) } as unknown as EvidenceRecord;
}
