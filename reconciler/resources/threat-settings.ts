import type { Operation } from 'fast-json-patch';
import type { Write } from '../model/change.js';
import type { Finding } from '../model/finding.js';

type Obj = Record<string, unknown>;

/**
 * The Set-<Noun> of a threat protection finding (MAIL.THREAT.*): the policy its resource names, with
 * each setting its patch replaces at the top level (`/EnableTargetedUserProtection` → the parameter of
 * that name). The check computed the patch against the live policy, so a setting already stricter
 * stays out of it.
 */
export function settingsWrite(cmdlet: string, f: Finding): Write | undefined {
  const parameters: Obj = { Identity: f.resource.name };
  for (const op of f.patch as readonly Operation[]) {
    const m = /^\/([A-Za-z]+)$/.exec(op.path);
    if ((op.op === 'replace' || op.op === 'add') && m) parameters[m[1]!] = (op as { value: unknown }).value;
  }
  return Object.keys(parameters).length > 1 ? { api: 'exchange', cmdlet, parameters } : undefined;
}
