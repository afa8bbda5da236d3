import type { Control } from '../types.js';

const dnsIsNeverWritten =
  'DNS is never written by apply. The finding carries the exact TXT record to publish; the domain owner publishes it with their DNS provider.';

/** DMARC, SPF and DKIM: every domain in scope proves the mail it sends and tells receivers to reject forgeries. */
export const senderAuthentication: readonly Control[] = [
  {
    id: 'MAIL.DMARC.1',
    version: 1,
    area: 'sender-authentication',
    title: 'Exactly one valid DMARC record is published for every domain',
    rationale:
      'Receivers apply a domain\'s own DMARC policy only when exactly one syntactically valid record is found at _dmarc.<domain> (RFC 9989 "DNS Tree Walk"). ' +
      'A missing record, two records, or one with a syntax error all leave the domain open to direct spoofing.',
    severity: 'high',
    frameworks: { nistCsf: ['PR.DS-02', 'PR.PS-01'], scuba: ['MS.EXO.4.1v1'] },
    checks: [
      { id: 'dmarc-record-present', description: 'A TXT record starting with v=DMARC1 exists at _dmarc.<domain>, or at the organizational or public suffix domain the RFC 9989 DNS tree walk finds (at most 8 queries, no Public Suffix List).' },
      { id: 'dmarc-record-single', description: 'There is exactly one such record.' },
      { id: 'dmarc-record-valid', description: 'The record parses strictly by RFC 9989: v first, a valid p, valid values of the tags RFC 9989 defines; the historic pct, rf and ri never make it invalid.' },
    ],
    // It also finds the tenant's domains the posture does not declare: Graph's verified domains and Exchange's accepted domains.
    resources: { read: ['domain', 'acceptedDomain', 'dnsRecords'] },
    remediation: { automatic: false, description: dnsIsNeverWritten },
    exceptionScopes: ['domain'],
  },
  {
    id: 'MAIL.DMARC.2',
    version: 1,
    area: 'sender-authentication',
    title: 'DMARC policy is reject (quarantine only where declared), applied to all mail and to subdomains',
    rationale:
      'Only p=reject (or a declared p=quarantine) makes receivers act on forged mail; testing mode (RFC 9989 t=y) has them apply a weaker policy, ' +
      'the historic pct below 100 exempts part of it at receivers that still implement RFC 7489, ' +
      'and a weaker sp or np lets attackers spoof any subdomain, existing or invented, of a domain that is otherwise protected.',
    severity: 'high',
    frameworks: { nistCsf: ['PR.DS-02', 'PR.PS-01'], scuba: ['MS.EXO.4.2v1'] },
    checks: [
      { id: 'dmarc-policy', description: 'p is reject, or quarantine where the posture declares quarantine for the domain.' },
      { id: 'dmarc-pct', description: 'The historic pct (RFC 7489; RFC 9989 removed it) is absent or 100, or no lower than declared.' },
      { id: 'dmarc-subdomain-policy', description: 'sp, where present, is no weaker than the declared subdomain policy.' },
      { id: 'dmarc-nonexistent-subdomain-policy', description: 'np (RFC 9989; absent means sp, then p) is no weaker than the declared non-existent subdomain policy (by default the subdomain policy).' },
      { id: 'dmarc-testing', description: 'The record is not in testing mode (RFC 9989 t=y, what pct=0 was), unless the posture declares testing.' },
    ],
    resources: { read: ['domain', 'dnsRecords'] },
    remediation: { automatic: false, description: dnsIsNeverWritten },
    exceptionScopes: ['domain'],
  },
  {
    id: 'MAIL.DMARC.3',
    version: 1,
    area: 'sender-authentication',
    title: 'DMARC aggregate and failure reports go to the declared mailto: addresses',
    rationale:
      'Without aggregate reports (rua) nobody sees who sends as the domain, so legitimate senders break silently on p=reject ' +
      'and spoofing campaigns go unnoticed; failure reports (ruf), where the posture declares them, must reach the team that investigates them.',
    severity: 'medium',
    frameworks: { nistCsf: ['DE.CM-09', 'DE.AE-02'], scuba: ['MS.EXO.4.3v1', 'MS.EXO.4.4v1'] },
    checks: [
      { id: 'dmarc-rua', description: 'rua holds at least one mailto: URI and includes every declared report address.' },
      { id: 'dmarc-ruf', description: 'Where the posture declares failure report addresses, ruf includes every one of them.' },
    ],
    resources: { read: ['domain', 'dnsRecords'] },
    remediation: { automatic: false, description: dnsIsNeverWritten },
    exceptionScopes: ['domain'],
  },
  {
    id: 'MAIL.DMARC.4',
    version: 1,
    area: 'sender-authentication',
    title: 'DMARC identifier alignment is as declared',
    rationale:
      'Strict alignment (adkim=s, aspf=s) stops a sender on a sibling subdomain from passing DMARC for the parent; ' +
      'the posture states which mode each domain needs and the record must say the same.',
    severity: 'low',
    frameworks: { nistCsf: ['PR.DS-02'] },
    checks: [
      { id: 'dmarc-alignment', description: 'adkim and aspf (default r) equal the declared alignment.' },
    ],
    resources: { read: ['domain', 'dnsRecords'] },
    remediation: { automatic: false, description: dnsIsNeverWritten },
    exceptionScopes: ['domain'],
  },
  {
    id: 'MAIL.SPF.1',
    version: 1,
    area: 'sender-authentication',
    title: 'SPF is published and ends in -all (~all only where declared)',
    rationale:
      'SPF lists who may send for the domain; a record ending in ?all or +all, or none at all, lets anyone pass SPF, ' +
      'and DMARC alignment on SPF then proves nothing.',
    severity: 'high',
    frameworks: { nistCsf: ['PR.DS-02', 'PR.PS-01'], scuba: ['MS.EXO.2.2v3'] },
    checks: [
      { id: 'spf-record-present', description: 'Exactly one v=spf1 TXT record at the domain apex.' },
      { id: 'spf-record-valid', description: 'The record parses and stays within the 10 DNS-lookup limit.' },
      { id: 'spf-all-qualifier', description: 'The record ends in -all, or ~all where the posture declares softfail.' },
    ],
    resources: { read: ['domain', 'dnsRecords'] },
    remediation: { automatic: false, description: dnsIsNeverWritten },
    exceptionScopes: ['domain'],
  },
  {
    id: 'MAIL.DKIM.1',
    version: 1,
    area: 'sender-authentication',
    title: 'DKIM signing is enabled in Exchange Online and its selectors are published',
    rationale:
      'DKIM gives DMARC an alignment that survives forwarding; Exchange Online signs with the domain key only when the ' +
      'signing configuration is enabled and selector1/selector2 CNAMEs are published.',
    severity: 'high',
    frameworks: { nistCsf: ['PR.DS-02', 'PR.PS-01'], scuba: ['MS.EXO.3.1v1'] },
    checks: [
      { id: 'dkim-signing-enabled', description: 'Get-DkimSigningConfig shows Enabled for the domain.' },
      { id: 'dkim-selectors-published', description: 'selector1._domainkey and selector2._domainkey resolve to the keys Exchange expects.' },
    ],
    resources: { read: ['dkimSigningConfig', 'acceptedDomain', 'dnsRecords'], write: ['dkimSigningConfig'] },
    remediation: {
      automatic: true,
      description: 'New-DkimSigningConfig or Set-DkimSigningConfig -Enabled $true. Selector CNAMEs are reported for the domain owner to publish.',
    },
    exceptionScopes: ['domain'],
  },
];
