import { createHash } from 'node:crypto';
import type { Owner } from '../../reconciler/manifest/schema.js';
import type { Finding } from '../../reconciler/model/finding.js';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import { FAILURE_KINDS, weaker, type Disposition, type FailureKind, type InboundPath, type MappedPath, type Outcome, type PathMap } from '../../reconciler/model/paths.js';
import { driftedFindings, identity, makePlan, mailPlatform, secOps } from './fixtures.js';

/** A connector name an attacker could give a connector in a tenant they reach: markup, a control character and a bidi override. */
export const HOSTILE_CONNECTOR = '<script>alert(1)</script> From gw\u0007 \u202egnp.exe';
/** What the page shows for it: the markup as text, the control and bidi characters as escapes. */
export const HOSTILE_CONNECTOR_SHOWN = '<script>alert(1)</script> From gw\\x07 \\u{202e}gnp.exe';

const ANTI_PHISH = 'anti-phishing policy "Office365 AntiPhish Default"';
const REQUIRED: Record<FailureKind, Outcome> = { 'dmarc-reject': 'reject', 'dmarc-quarantine': 'quarantine', 'spf-hardfail': 'junk', 'compauth-fail': 'junk' };

const eopDispositions: Record<FailureKind, Disposition> = {
  'dmarc-reject': { outcome: 'reject', because: `${ANTI_PHISH} honours DMARC p=reject (DmarcRejectAction Reject)` },
  'dmarc-quarantine': { outcome: 'quarantine', because: `${ANTI_PHISH} honours DMARC p=quarantine (DmarcQuarantineAction Quarantine)` },
  'spf-hardfail': { outcome: 'junk', because: 'anti-spam policy "Default" moves an SPF hard fail to Junk Email (SpamAction MoveToJmf)' },
  'compauth-fail': { outcome: 'junk', because: `${ANTI_PHISH} acts on a failed composite authentication with AuthenticationFailAction MoveToJmf` },
};

const GATEWAY_BECAUSE = 'mail arrives through a gateway without enhanced filtering for connectors, so Exchange Online Protection judges the gateway, not the sender, and does not act on the failure';
const allInbox = (because: string): Record<FailureKind, Disposition> =>
  Object.fromEntries(FAILURE_KINDS.map((k) => [k, { outcome: 'inbox', because }])) as Record<FailureKind, Disposition>;

/** A path as the posture measures it: `short` computed from the outcomes and what is required. */
export function mapped(path: InboundPath, owners: MappedPath['owners'], extra: Pick<MappedPath, 'exception' | 'observed'> = {}, required: Record<FailureKind, Outcome> = REQUIRED): MappedPath {
  return { ...path, owners, required, short: FAILURE_KINDS.filter((k) => weaker(path.dispositions[k].outcome, required[k])), ...extra };
}

const both = (routing: Owner | undefined, policy: Owner | undefined, objective: Owner): MappedPath['owners'] => ({
  ...(routing ? { routing } : {}),
  ...(policy ? { policy } : {}),
  objective,
});

/**
 * Tailspin Toys' inbound paths: `tailspintoys.example` on Exchange Online Protection directly (it
 * rejects), `fabrikam.example` behind a gateway whose connector (named by an attacker) has no
 * enhanced filtering and a marketing SCL -1 rule (every failure reaches the inbox), and a partner
 * connector with no policy owner and an exception.
 */
export function tailspinPathMap(connectorName = HOSTILE_CONNECTOR): PathMap {
  return {
    evidence: { from: '2025-05-03T00:00:00Z', to: '2025-06-02T00:00:00Z', failed: 1342, unattributed: 17 },
    paths: [
      mapped(
        {
          key: 'tailspintoys.example/eop',
          domain: 'tailspintoys.example',
          entry: 'eop',
          hosts: ['tailspintoys-example.mail.protection.outlook.com'],
          enhancedFiltering: 'not-applicable',
          bypasses: [],
          dispositions: eopDispositions,
        },
        both(mailPlatform, secOps, secOps),
        { observed: { failed: 1200, byOutcome: { reject: 1130, quarantine: 52, junk: 18, inbox: 0 }, deliveredDespiteFailure: 0 } },
      ),
      mapped(
        {
          key: 'fabrikam.example/gateway:mx1.gateway.example',
          domain: 'fabrikam.example',
          entry: 'gateway',
          hosts: ['mx1.gateway.example', 'mx2.gateway.example'],
          connector: connectorName,
          enhancedFiltering: 'off',
          bypasses: [
            {
              kind: 'scl-minus-one',
              name: 'Marketing bypass <b>bold</b>',
              detail: 'transport rule "Marketing bypass" sets SCL -1 for mail from news.partner-mailer.example',
              scope: 'some',
              excepted: { id: 'MAIL.INBOUND.2:rule:marketing bypass', expires: '2026-09-30', inForce: true },
            },
          ],
          dispositions: allInbox(GATEWAY_BECAUSE),
        },
        both(mailPlatform, identity, secOps),
        { observed: { failed: 125, byOutcome: { reject: 0, quarantine: 0, junk: 3, inbox: 122 }, deliveredDespiteFailure: 125 } },
      ),
      mapped(
        {
          key: '*/partner:Contoso partner',
          domain: '*',
          entry: 'partner',
          hosts: [],
          connector: 'Contoso partner',
          enhancedFiltering: 'not-applicable',
          bypasses: [
            {
              kind: 'ip-allow-list',
              name: 'Default',
              detail: 'connection filter policy "Default" allows 203.0.113.0/24 (this path\'s own servers)',
              scope: 'all',
            },
          ],
          dispositions: allInbox('connection filter policy "Default" allows 203.0.113.0/24 (this path\'s own servers), which skips the authentication verdict'),
        },
        both(mailPlatform, undefined, secOps),
        {
          exception: {
            id: 'EXC-2025-014',
            approvedBy: 'CISO Office',
            expires: '2025-09-30',
            inForce: true,
            compensatingControl: 'Contoso signs every message with DKIM; a mail flow rule quarantines unsigned mail from the partner range',
          },
        },
      ),
    ],
  };
}

/** A plan document carrying the path map, its hash covering it as the plan's does. */
export function planWithPaths(map: PathMap, findings: readonly Finding[] = driftedFindings()): PlanDocument {
  const { planHash: _, ...plan } = makePlan(findings);
  const withPaths = { ...plan, inboundPaths: map };
  return { ...withPaths, planHash: createHash('sha256').update(JSON.stringify(withPaths)).digest('hex') };
}
