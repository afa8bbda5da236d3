import type { Evaluation } from '../evaluate/context.js';
import type { Population } from './populations.js';
import { populationsFor } from './threat-protection.js';

/**
 * The populations MAIL.THREAT.3–5 are judged on: the same ones as MAIL.THREAT.1–2 (everyone, the
 * privileged, each high-value group), built once per evaluation. Undefined when a section they come
 * from was not read; the checks then say which.
 */
export function linksPopulations(ev: Evaluation): Population[] | undefined {
  const d = ev.manifest.desired.threatProtection;
  const { users, mailboxes, groupMemberships, privilegedRoleHolders } = ev.live;
  if (!d || !users?.ok || !mailboxes?.ok || !groupMemberships?.ok || !privilegedRoleHolders?.ok) return undefined;
  return populationsFor(ev, users.value, mailboxes.value, groupMemberships.value, privilegedRoleHolders.value);
}
