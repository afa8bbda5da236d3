import type { Control } from '../types.js';

/** Inbound mail that fails DMARC is rejected or quarantined on every path. */
export const inbound: readonly Control[] = [
  {
    id: 'MAIL.INBOUND.1',
    version: 1,
    area: 'inbound',
    title: "Anti-phishing policy honours the sender's DMARC policy",
    rationale:
      'Exchange Online by default treats a p=reject failure as composite authentication failure and may still deliver it to Junk. ' +
      'HonorDmarcPolicy with DmarcRejectAction Reject and DmarcQuarantineAction Quarantine makes the sender\'s published policy binding.',
    severity: 'high',
    frameworks: { nistCsf: ['PR.DS-02', 'DE.CM-09'], scuba: ['MS.EXO.4.2v1'] },
    checks: [
      { id: 'antiphish-honor-dmarc', description: 'Every enabled anti-phishing policy has HonorDmarcPolicy true.' },
      { id: 'antiphish-dmarc-actions', description: 'DmarcRejectAction and DmarcQuarantineAction equal the declared actions.' },
    ],
    resources: { read: ['antiPhishPolicy'], write: ['antiPhishPolicy'] },
    remediation: { automatic: true, description: 'Set-AntiPhishPolicy -HonorDmarcPolicy $true with the declared actions.' },
    exceptionScopes: ['policy'],
  },
  {
    id: 'MAIL.INBOUND.2',
    version: 1,
    area: 'inbound',
    title: 'No mail path bypasses filtering unless it is a declared exception',
    rationale:
      'A transport rule that sets SCL -1, or an allow-list entry, delivers spoofed mail straight to the inbox whatever DMARC says. ' +
      'Attackers who gain admin access add such rules to keep their phishing flowing.',
    severity: 'critical',
    frameworks: { nistCsf: ['PR.PS-01', 'DE.CM-09'], scuba: ['MS.EXO.4.2v1'] },
    checks: [
      { id: 'transport-rule-scl-bypass', description: 'No enabled transport rule sets SCL to -1 outside a declared exception.' },
      { id: 'allow-list-bypass', description: 'No allowed sender or sender-domain entry outside a declared exception; an entry in a policy that applies to nobody is still reported, saying so.' },
    ],
    resources: { read: ['transportRule', 'hostedContentFilterPolicy', 'hostedContentFilterRule'], write: ['transportRule'] },
    remediation: { automatic: true, description: 'Disable-TransportRule for an undeclared bypass rule; allow-list entries are reported for removal.' },
    exceptionScopes: ['rule', 'domain'],
  },
  {
    id: 'MAIL.INBOUND.3',
    version: 1,
    area: 'inbound',
    title: 'The connection filter lets no IP range or safe list skip filtering',
    rationale:
      'Mail from an address on the connection filter IP allow list, or from a source on the Microsoft safe list, skips spam filtering and ' +
      "DMARC's verdict with it: a spoofed message relayed from an allowed range lands in the inbox. An attacker with admin access adds " +
      'a range of their own to keep phishing flowing. A range that must stay is an exception scoped to "<policy>/<entry>", with an expiry.',
    severity: 'high',
    frameworks: { nistCsf: ['PR.PS-01', 'DE.CM-09'], scuba: ['MS.EXO.12.1v1', 'MS.EXO.12.2v1'] },
    checks: [
      { id: 'connection-filter-allow-list', description: 'No connection filter policy allow-lists an IP address or range outside a declared exception.' },
      { id: 'connection-filter-safe-list', description: 'No connection filter policy has EnableSafeList true.' },
    ],
    resources: { read: ['hostedConnectionFilterPolicy'], write: ['hostedConnectionFilterPolicy'] },
    remediation: { automatic: true, description: 'Set-HostedConnectionFilterPolicy with IPAllowList holding only the excepted entries, and EnableSafeList $false.' },
    exceptionScopes: ['policy'],
  },
];
