import type { Control } from '../types.js';

/**
 * Who owns what happens to mail that fails authentication, path by path (docs/inbound-paths.md):
 * every way mail enters the tenant is mapped, its disposition of failed authentication computed and
 * owned, and what really happened to such mail shown by evidence.
 */
export const inboundPaths: readonly Control[] = [
  {
    id: 'MAIL.PATH.1',
    version: 1,
    area: 'inbound-paths',
    title: 'Every inbound mail path rejects or quarantines mail that fails authentication, and has named owners',
    rationale:
      'Spoofed mail that reaches an inbox although SPF, DKIM or DMARC failed was let in by the path it took: an MX pointing to a gateway ' +
      'whose connector has no enhanced filtering (Exchange Online Protection then judges the gateway, not the sender, and does not act on ' +
      'the failure), a partner connector, a transport rule or allow list that skips filtering, an anti-phishing policy that does not honour ' +
      'DMARC. Each path needs an owner of its routing, an owner of its policy and an owner of the control objective, and a path that still ' +
      'delivers failing mail needs an approved, expiring exception with its compensating control.',
    severity: 'high',
    frameworks: { nistCsf: ['PR.PS-01', 'DE.CM-09', 'GV.RR-02'], scuba: ['MS.EXO.4.2v1', 'MS.EXO.12.1v1'] },
    checks: [
      {
        id: 'path-disposition',
        description:
          'For each path of each accepted domain (the MX records: Exchange Online Protection directly or a gateway; partner connectors), the ' +
          'disposition computed for each failure kind (DMARC fail under p=reject and p=quarantine, SPF hard fail, composite authentication ' +
          'fail) is at least the one the posture requires; a path that falls short outside a declared exception is a finding naming its ' +
          'routing, policy and objective owners.',
      },
      { id: 'path-owners', description: 'Every path has a routing owner and a policy owner in the posture (a declared path or the defaults).' },
      { id: 'path-declared', description: 'Every path the posture declares owners for exists: a declared path the map does not hold is reported, so a renamed gateway is noticed.' },
    ],
    resources: {
      read: ['acceptedDomain', 'mxRecord', 'inboundConnector', 'transportRule', 'hostedConnectionFilterPolicy', 'spoofItem', 'antiPhishPolicy', 'hostedContentFilterPolicy'],
      write: [],
    },
    remediation: {
      automatic: false,
      description:
        'Reported for the owners: turn on enhanced filtering for the gateway connector (Set-InboundConnector -EFSkipLastIP $true or -EFSkipIPs), ' +
        'point the MX to Exchange Online Protection, remove the bypass, or make the anti-phishing policy honour DMARC (MAIL.INBOUND.1). A path ' +
        'that must stay as it is takes an exception scoped to the path, with its compensating control.',
    },
    exceptionScopes: ['path'],
    exceptionNeedsCompensatingControl: true,
  },
  {
    id: 'MAIL.PATH.2',
    version: 1,
    area: 'inbound-paths',
    title: 'No mail that failed authentication was delivered on a path that must reject or quarantine it',
    rationale:
      'The map says what a path should do; the evidence says what it did. Defender for Office 365 records every inbound message with its ' +
      'authentication verdicts, the connector it arrived on and where it ended (analyzed emails). A message that failed authentication and ' +
      'was delivered to the inbox or to Junk on a path whose required disposition is reject or quarantine shows the control did not work, ' +
      'whatever the configuration says; the counts per path and disposition are the audit evidence that it did.',
    severity: 'high',
    frameworks: { nistCsf: ['DE.CM-09', 'DE.AE-02', 'ID.IM-02'], scuba: ['MS.EXO.4.2v1'] },
    checks: [
      {
        id: 'delivered-despite-failure',
        description:
          'Inbound analyzed emails of the evidence period that failed DMARC, SPF or composite authentication, attributed to a path by their ' +
          'connector and recipient domain: none was delivered (inbox or Junk) where the path requires reject or quarantine for its failure kind. ' +
          'One finding per path, with the messages as evidence.',
      },
    ],
    resources: { read: ['acceptedDomain', 'mxRecord', 'inboundConnector', 'analyzedEmail'], write: [] },
    remediation: {
      automatic: false,
      description: 'Reported for the owners with the messages: fix the path (MAIL.PATH.1), and remove the delivered messages (posture respond, or Defender\'s remediation).',
    },
    exceptionScopes: ['path'],
    exceptionNeedsCompensatingControl: true,
  },
];
