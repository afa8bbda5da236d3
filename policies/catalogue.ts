import { authentication } from './catalogue/authentication.js';
import { conditionalAccess } from './catalogue/conditional-access.js';
import { consent } from './catalogue/consent.js';
import { exposure } from './catalogue/exposure.js';
import { forwarding } from './catalogue/forwarding.js';
import { inbound } from './catalogue/inbound.js';
import { inboundPaths } from './catalogue/inbound-paths.js';
import { mailApps } from './catalogue/mail-apps.js';
import { ownership } from './catalogue/ownership.js';
import { senderAuthentication } from './catalogue/sender-authentication.js';
import { threatProtection } from './catalogue/threat-protection.js';
import type { Control, ControlArea } from './types.js';

export { DEFAULT_MAX_SECRET_AGE_DAYS, MAIL_APP_APIS, MAIL_APP_PERMISSIONS } from './catalogue/mail-apps.js';
export { HIGHLY_PRIVILEGED_ROLES, PHISHING_RESISTANT_COMBINATIONS, PHISHING_RESISTANT_STRENGTH_ID, WEAK_METHODS } from './catalogue/authentication.js';
export { HIGH_RISK_MAIL_APP_ROLES, HIGH_RISK_MAIL_SCOPES, MAIL_API_APP_IDS, MICROSOFT_TENANT_IDS } from './catalogue/consent.js';
export type * from './types.js';

/** Every control, in catalogue order. */
export const CATALOGUE: readonly Control[] = [
  ...senderAuthentication,
  ...inbound,
  ...inboundPaths,
  ...threatProtection,
  ...forwarding,
  ...conditionalAccess,
  ...consent,
  ...mailApps,
  ...exposure,
  ...authentication,
  ...ownership,
];

/** `AREA.TOPIC.N`, optionally followed by `vN`. */
export const CONTROL_REF = /^([A-Z]+\.[A-Z]+\.[0-9]+)(?:v([0-9]+))?$/;

/** The id a finding carries: `MAIL.DMARC.2v1`. */
export function versionedId(control: Control): string {
  return `${control.id}v${control.version}`;
}

const byId = new Map(CATALOGUE.map((c) => [c.id, c]));

/**
 * Looks up a control by `MAIL.DMARC.2` (the current version) or `MAIL.DMARC.2v1` (that version
 * exactly). Returns an explanation instead of a control when the reference does not resolve.
 */
export function resolveControl(ref: string): { control: Control } | { error: string } {
  const m = CONTROL_REF.exec(ref);
  if (!m) return { error: `"${ref}" is not a control id (expected e.g. MAIL.DMARC.2 or MAIL.DMARC.2v1)` };
  const control = byId.get(m[1]!);
  if (!control) return { error: `unknown control "${ref}"; see docs/controls.md for the catalogue` };
  if (m[2] !== undefined && Number(m[2]) !== control.version) {
    return { error: `control ${m[1]} is at version ${control.version}, not ${m[2]} (use ${versionedId(control)})` };
  }
  return { control };
}

export function controlsForArea(area: ControlArea): Control[] {
  return CATALOGUE.filter((c) => c.area === area);
}
