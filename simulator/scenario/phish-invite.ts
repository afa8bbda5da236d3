import { createHash } from 'node:crypto';

/*
 * The `phish-invite` scenario, built as data: an outside phish reaches 40 users; one of them (Quinn
 * Harper) clicks and enters credentials; from Quinn's account the attacker sends a meeting invite
 * with the same link to 25 colleagues and adds an inbox rule forwarding outside. The day before, the
 * finance lead sent a legitimate invite with a similar subject and no shared link: it must be left
 * alone. `npm run scenarios` writes simulator/scenarios/phish-invite.json from here; a test checks the
 * file is what this builds.
 */

type Obj = Record<string, unknown>;

/** A stable GUID for a name, so the scenario is the same on every build. */
export const guidOf = (name: string): string => {
  const h = createHash('sha256').update(`phish-invite:${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

const DOMAIN = 'tailspintoys.example';
const TENANT = 'b3c1f0e2-7d4a-4e6b-9a58-2c0d1e4f6a7b';
const FIRST = ['Avery', 'Blake', 'Cameron', 'Devon', 'Emerson', 'Finley', 'Gray', 'Harley', 'Indy', 'Jules'];
const LAST = ['Abbott', 'Barnes', 'Cole', 'Dunn'];

/** The 40 recipients: Quinn Harper (who clicks) and 39 colleagues. */
export const PHISH_RECIPIENTS: ReadonlyArray<{ readonly id: string; readonly upn: string; readonly displayName: string }> = [
  { id: guidOf('quinn.harper'), upn: `quinn.harper@${DOMAIN}`, displayName: 'Quinn Harper' },
  ...Array.from({ length: 39 }, (_, i) => {
    const first = FIRST[i % FIRST.length]!;
    const last = LAST[Math.floor(i / FIRST.length)]!;
    const name = `${first.toLowerCase()}.${last.toLowerCase()}`;
    return { id: guidOf(name), upn: `${name}@${DOMAIN}`, displayName: `${first} ${last}` };
  }),
];
export const CLICKER = PHISH_RECIPIENTS[0]!;
/** Colleagues the phish did not reach: the tenant is bigger than the wave. */
export const OTHERS = Array.from({ length: 60 }, (_, i) => {
  const name = `staff.${String(i + 1).padStart(2, '0')}`;
  return { id: guidOf(name), upn: `${name}@${DOMAIN}`, displayName: `Staff ${String(i + 1).padStart(2, '0')}` };
});
/** The phisher's own invite, sent from outside to five colleagues the message did not reach: only a sweep of every calendar finds it. */
export const OUTSIDE_INVITE = { iCalUId: `040000008200E00074C5B7101A82E00800000000${'5b0e'.repeat(8)}`, subject: 'Payment portal: confirm your access', createdAt: '2026-11-23T08:05:00Z' };
export const SWEEP_ONLY = OTHERS.slice(0, 5);
/** The finance lead who sent the legitimate invite (not a recipient of the phish). */
export const FINANCE_LEAD = { id: guidOf('rowan.price'), upn: `rowan.price@${DOMAIN}`, displayName: 'Rowan Price' };

export const PHISH = {
  networkMessageId: 'a1f3c9d2-5b7e-4c61-9f08-3d2e6b1c7a54',
  internetMessageId: '<a1f3c9d2.5b7e@mail.tailspin-billing.test>',
  sender: 'accounts@tailspin-billing.test',
  senderIp: '203.0.113.45',
  subject: 'Action required: updated payment portal',
  link: 'https://portal.tailspin-billing.test/sso/login',
  receivedAt: '2026-11-23T08:02:11Z',
};
export const ATTACKER_INVITE = { iCalUId: `040000008200E00074C5B7101A82E00800000000${'7f3a'.repeat(8)}`, subject: 'Payment portal walkthrough (required)', createdAt: '2026-11-23T08:41:30Z' };
export const LEGIT_INVITE = { iCalUId: `040000008200E00074C5B7101A82E00800000000${'19c2'.repeat(8)}`, subject: 'Payment portal walkthrough', createdAt: '2026-11-22T15:10:00Z' };
/** The 25 colleagues the attacker's invite goes to (recipients 2–26). */
export const INVITED = PHISH_RECIPIENTS.slice(1, 26);
/** The legitimate invite's 12 attendees, some of whom also got the attacker's. */
export const LEGIT_ATTENDEES = PHISH_RECIPIENTS.slice(20, 32);

const user = (u: { id: string; upn: string; displayName: string }, department: string): Obj => {
  const [given, surname] = u.displayName.split(' ');
  return {
    id: u.id, displayName: u.displayName, userPrincipalName: u.upn, mail: u.upn, accountEnabled: true, userType: 'Member',
    givenName: given, surname, jobTitle: null, department, createdDateTime: '2025-01-06T09:00:00Z', onPremisesSyncEnabled: null,
    signInSessionsValidFromDateTime: '2026-11-01T08:00:00Z',
  };
};
const mailbox = (u: { id: string; upn: string; displayName: string }): Obj => ({
  Guid: guidOf(`mailbox:${u.upn}`), Identity: u.displayName, Name: u.upn.split('@')[0], Alias: u.upn.split('@')[0], DisplayName: u.displayName,
  UserPrincipalName: u.upn, PrimarySmtpAddress: u.upn, ExternalDirectoryObjectId: u.id, RecipientTypeDetails: 'UserMailbox',
  ForwardingAddress: null, ForwardingSmtpAddress: null, DeliverToMailboxAndForward: false,
});

function analyzedEmail(to: { upn: string }): Obj {
  return {
    '@odata.type': '#microsoft.graph.security.analyzedEmail',
    id: guidOf(`analyzed:${to.upn}`),
    loggedDateTime: PHISH.receivedAt,
    networkMessageId: PHISH.networkMessageId,
    internetMessageId: PHISH.internetMessageId,
    senderDetail: { fromAddress: PHISH.sender, mailFromAddress: 'bounce@tailspin-billing.test', displayName: 'Tailspin Billing', ipv4: PHISH.senderIp, domainName: 'tailspin-billing.test', location: 'NL' },
    recipientEmailAddress: to.upn,
    distributionList: null,
    subject: PHISH.subject,
    returnPath: 'bounce@tailspin-billing.test',
    directionality: 'inbound',
    originalDelivery: { action: 'delivered', location: 'inbox_folder', latestThreats: '', originalThreats: '' },
    latestDelivery: { action: 'delivered', location: 'inbox_folder', latestThreats: 'phish', originalThreats: '' },
    attachments: [],
    urls: [{ url: `${PHISH.link}?r=${guidOf(`token:${to.upn}`).slice(0, 8)}`, threatType: 'phish', detectionMethod: 'urlDetonationReputation', tenantAllowBlockListDetailInfo: null, detonationDetails: null }],
    language: 'en', sizeInBytes: 18_244, alertIds: [ALERT_ID], exchangeTransportRules: [], overrideSources: [], threatTypes: ['phish'],
    detectionMethods: ['urlDetonationReputation'], contexts: [],
    authenticationDetails: { senderPolicyFramework: 'fail', dkim: 'none', dmarc: 'fail', compositeAuthentication: 'fail' },
    phishConfidenceLevel: 'high', spamConfidenceLevel: '5', bulkComplaintLevel: '0', emailClusterId: '41177', policyAction: 'none', policy: 'Default',
    timelineEvents: [{ eventDateTime: PHISH.receivedAt, eventType: 'originalDelivery', eventSource: 'system', eventResult: 'inbox_folder' }],
    threatDetectionDetails: [], primaryOverrideSource: null, inboundConnectorFormattedName: null, policyType: 'antiPhish', clientType: null,
    dlpRules: [], forwardingDetail: null, recipientDetail: null,
  };
}

const ALERT_ID = 'fa6b1d2e3c4f5a69788b9cadbecfd0e1';
/** Where the attacker signed in from with Quinn's password. */
export const ATTACKER_IP = '198.51.100.77';

/** One record of the unified audit log, as the audit log query API returns it. */
const audit = (name: string, at: string, who: { id: string; upn: string }, operation: string, ip: string, recordType: string, service: string): Obj => ({
  '@odata.type': '#microsoft.graph.security.auditLogRecord',
  id: guidOf(`audit:${name}`), createdDateTime: at, auditLogRecordType: recordType, operation, organizationId: TENANT, userType: 'regular',
  userId: who.upn, service, objectId: operation === 'New-InboxRule' ? `${who.upn}\\.` : who.id, userPrincipalName: who.upn, clientIp: ip, administrativeUnits: [],
  auditData: { '@odata.type': '#microsoft.graph.security.auditData', CreationTime: at.replace('Z', ''), Operation: operation, ClientIP: ip, UserId: who.upn, ...(operation === 'New-InboxRule' ? { Parameters: [{ Name: 'ForwardTo', Value: 'quinn.h@mailbox-relay.test' }, { Name: 'Name', Value: '.' }] } : {}) },
});

const attendee = (u: { upn: string; displayName: string }, response = 'none') => ({ type: 'required', status: { response, time: '0001-01-01T00:00:00Z' }, emailAddress: { name: u.displayName, address: u.upn } });

function event(o: { owner: { id: string; upn: string; displayName: string }; organizer: { upn: string; displayName: string }; uid: string; subject: string; body: string; createdAt: string; attendees: ReadonlyArray<{ upn: string; displayName: string }>; start: string }): Obj {
  const isOrganizer = o.owner.upn === o.organizer.upn;
  return {
    id: `AAMkAG${guidOf(`event:${o.uid}:${o.owner.upn}`).replace(/-/g, '')}`,
    createdDateTime: o.createdAt, lastModifiedDateTime: o.createdAt, changeKey: guidOf(`ck:${o.uid}:${o.owner.upn}`).slice(0, 16),
    categories: [], transactionId: null, originalStartTimeZone: 'UTC', originalEndTimeZone: 'UTC', iCalUId: o.uid, uid: o.uid,
    reminderMinutesBeforeStart: 15, isReminderOn: true, hasAttachments: false, subject: o.subject,
    bodyPreview: o.body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 255), importance: 'normal', sensitivity: 'normal',
    isAllDay: false, isCancelled: false, isOrganizer, responseRequested: true, seriesMasterId: null, showAs: isOrganizer ? 'busy' : 'tentative',
    type: 'singleInstance', webLink: `https://outlook.office365.com/owa/?itemid=${encodeURIComponent(o.uid)}&exvsurl=1&path=/calendar/item`,
    onlineMeetingUrl: null, isOnlineMeeting: false, onlineMeetingProvider: 'unknown', allowNewTimeProposals: true, isDraft: false, hideAttendees: false,
    responseStatus: { response: isOrganizer ? 'organizer' : 'notResponded', time: '0001-01-01T00:00:00Z' },
    body: { contentType: 'html', content: o.body },
    start: { dateTime: o.start, timeZone: 'UTC' }, end: { dateTime: o.start.replace('T10:00', 'T10:30'), timeZone: 'UTC' },
    location: { displayName: 'Microsoft Teams', locationType: 'default', uniqueIdType: 'unknown' }, locations: [], recurrence: null,
    attendees: o.attendees.map((a) => attendee(a)), organizer: { emailAddress: { name: o.organizer.displayName, address: o.organizer.upn } }, onlineMeeting: null,
  };
}

/** The scenario, as the overlay file holds it. */
export function phishInviteScenario(): Obj {
  const everyone = [...PHISH_RECIPIENTS, FINANCE_LEAD];
  const attackerBody = `<html><body><p>Hi all, the payment portal moved. Please sign in before the walkthrough so your access carries over:</p><p><a href="${PHISH.link}?m=1">${PHISH.link}</a></p><p>Quinn</p></body></html>`;
  const legitBody = '<html><body><p>A short walkthrough of the new payment portal. Details on the intranet: <a href="https://intranet.tailspintoys.example/finance/portal">intranet.tailspintoys.example/finance/portal</a></p></body></html>';
  const events: Record<string, Obj[]> = {};
  const add = (owner: { id: string }, e: Obj) => (events[owner.id] = [...(events[owner.id] ?? []), e]);
  const attack = { organizer: CLICKER, uid: ATTACKER_INVITE.iCalUId, subject: ATTACKER_INVITE.subject, body: attackerBody, createdAt: ATTACKER_INVITE.createdAt, attendees: INVITED, start: '2026-11-24T10:00:00.0000000' };
  const legit = { organizer: FINANCE_LEAD, uid: LEGIT_INVITE.iCalUId, subject: LEGIT_INVITE.subject, body: legitBody, createdAt: LEGIT_INVITE.createdAt, attendees: LEGIT_ATTENDEES, start: '2026-11-25T10:00:00.0000000' };
  for (const owner of [CLICKER, ...INVITED]) add(owner, event({ owner, ...attack }));
  for (const owner of [FINANCE_LEAD, ...LEGIT_ATTENDEES]) add(owner, event({ owner, ...legit }));
  const phisher = { upn: PHISH.sender, displayName: 'Tailspin Billing' };
  const outsideBody = `<html><body><p>Please confirm your payment portal access before the change: <a href="${PHISH.link}?s=2">sign in</a></p></body></html>`;
  for (const owner of SWEEP_ONLY) add(owner, event({ owner, organizer: phisher, uid: OUTSIDE_INVITE.iCalUId, subject: OUTSIDE_INVITE.subject, body: outsideBody, createdAt: OUTSIDE_INVITE.createdAt, attendees: SWEEP_ONLY, start: '2026-11-24T10:00:00.0000000' }));
  const alert = {
    '@odata.type': '#microsoft.graph.security.alert', id: ALERT_ID, providerAlertId: ALERT_ID.slice(2), incidentId: '5201', status: 'new', severity: 'high',
    classification: null, determination: null, serviceSource: 'microsoftDefenderForOffice365', detectionSource: 'microsoftDefenderForOffice365',
    detectorId: guidOf('detector'), tenantId: TENANT, title: 'A user clicked through to a potentially malicious URL',
    description: 'A user clicked a link in a message later found to lead to a credential phishing page, and entered credentials.',
    recommendedActions: 'Reset the user\u2019s credentials and remove the message from every mailbox.', category: 'InitialAccess', assignedTo: null,
    alertWebUrl: `https://security.microsoft.com/alerts/${ALERT_ID}?tid=${TENANT}`, incidentWebUrl: `https://security.microsoft.com/incidents/5201?tid=${TENANT}`,
    actorDisplayName: null, threatDisplayName: null, threatFamilyName: null, mitreTechniques: ['T1566.002'],
    createdDateTime: '2026-11-23T08:20:05Z', lastUpdateDateTime: '2026-11-23T08:20:05Z', resolvedDateTime: null,
    firstActivityDateTime: '2026-11-23T08:14:40Z', lastActivityDateTime: '2026-11-23T08:14:40Z', comments: [],
    evidence: [
      { '@odata.type': '#microsoft.graph.security.userEvidence', createdDateTime: '2026-11-23T08:20:05Z', verdict: 'suspicious', remediationStatus: 'none', remediationStatusDetails: null, roles: ['compromised'], detailedRoles: [], tags: [], userAccount: { accountName: 'quinn.harper', domainName: DOMAIN, userSid: null, azureAdUserId: CLICKER.id, userPrincipalName: CLICKER.upn, displayName: CLICKER.displayName } },
      { '@odata.type': '#microsoft.graph.security.analyzedMessageEvidence', createdDateTime: '2026-11-23T08:20:05Z', verdict: 'malicious', remediationStatus: 'none', remediationStatusDetails: null, roles: [], detailedRoles: [], tags: [], networkMessageId: PHISH.networkMessageId, internetMessageId: PHISH.internetMessageId, subject: PHISH.subject, language: 'en', senderIp: PHISH.senderIp, recipientEmailAddress: CLICKER.upn, antiSpamDirection: 'Inbound', deliveryAction: 'delivered', deliveryLocation: 'inbox', urn: `urn:MailEntity:${PHISH.networkMessageId.replace(/-/g, '')}`, threats: ['Phish'], threatDetectionMethods: ['urlDetonation'], urls: [PHISH.link], urlCount: 1, attachmentsCount: 0, receivedDateTime: PHISH.receivedAt, p1Sender: { emailAddress: 'bounce@tailspin-billing.test', displayName: 'Tailspin Billing', domainName: 'tailspin-billing.test' }, p2Sender: { emailAddress: PHISH.sender, displayName: 'Tailspin Billing', domainName: 'tailspin-billing.test' } },
      { '@odata.type': '#microsoft.graph.security.urlEvidence', createdDateTime: '2026-11-23T08:20:05Z', verdict: 'malicious', remediationStatus: 'none', remediationStatusDetails: null, roles: [], detailedRoles: [], tags: [], url: PHISH.link },
    ],
  };
  const rule = {
    id: 'AQAAAJ7pQx0=', displayName: '.', sequence: 1, isEnabled: true, hasError: false, isReadOnly: false,
    conditions: { bodyOrSubjectContains: ['invoice', 'payment', 'portal'] },
    actions: { forwardTo: [{ emailAddress: { name: 'Billing', address: 'quinn.h@mailbox-relay.test' } }], markAsRead: true, moveToFolder: 'AAMkAGDeletedItems', stopProcessingRules: true },
  };
  return {
    name: 'phish-invite',
    description: 'Tailspin Toys after a phish: 40 users got it, Quinn Harper clicked and entered credentials, and from Quinn\u2019s account the attacker sent a meeting invite with the same link to 25 colleagues and added an inbox rule forwarding outside; a legitimate invite with a similar subject, sent the day before by the finance lead, is to be left alone.',
    extends: 'compliant',
    drifts: [
      { id: 'users', description: 'The 40 recipients of the phish and the finance lead, each with a mailbox.', patch: [
        ...everyone.map((u) => ({ op: 'add', path: '/graph/users/-', value: user(u, u === FINANCE_LEAD ? 'Finance' : 'Operations') })),
        ...everyone.map((u) => ({ op: 'add', path: '/exchange/Mailbox/-', value: mailbox(u) })),
      ] },
      { id: 'groups', description: 'The Finance group (high-value: the finance lead is its member) and the empty watchlist group the response policy names.', patch: [
        { op: 'add', path: '/graph/groups/-', value: { id: '215f7eea-2f28-58b9-b0b9-9dfa9f14f25c', displayName: 'Finance', mail: `finance@${DOMAIN}`, mailEnabled: true, mailNickname: 'finance', securityEnabled: true, groupTypes: [], description: 'Finance of Tailspin Toys', createdDateTime: '2025-03-03T09:00:00Z', visibility: null } },
        { op: 'add', path: '/graph/groupMembers/215f7eea-2f28-58b9-b0b9-9dfa9f14f25c', value: [FINANCE_LEAD.id] },
        { op: 'add', path: '/graph/groups/-', value: { id: 'e79cb607-da92-5473-8c44-af16f0ee8c47', displayName: 'Watchlist - sign-in every time', mail: null, mailEnabled: false, mailNickname: 'watchlist-signin', securityEnabled: true, groupTypes: [], description: 'Users who must sign in on every access while under investigation', createdDateTime: '2025-03-03T09:00:00Z', visibility: null } },
        { op: 'add', path: '/graph/groupMembers/e79cb607-da92-5473-8c44-af16f0ee8c47', value: [] },
      ] },
      { id: 'colleagues', description: 'Sixty colleagues the phish did not reach; five of them have mailboxes (the phisher sent them an invite of its own), the rest none.', patch: [
        ...OTHERS.map((u) => ({ op: 'add', path: '/graph/users/-', value: user(u, 'Operations') })),
        ...SWEEP_ONLY.map((u) => ({ op: 'add', path: '/exchange/Mailbox/-', value: mailbox(u) })),
      ] },
      { id: 'phish', description: 'The phish, one analyzed email per recipient: an outside sender failing SPF and DMARC, delivered to the inbox, carrying the portal link.', patch: [{ op: 'add', path: '/graph/analyzedEmails', value: PHISH_RECIPIENTS.map(analyzedEmail) }] },
      { id: 'alert', description: 'Defender\u2019s alert: Quinn clicked through and entered credentials (the analyzed message is its evidence).', patch: [{ op: 'add', path: '/graph/alerts', value: [alert] }] },
      { id: 'calendars', description: 'The attacker\u2019s invite (from Quinn, the phish link, 25 attendees), the finance lead\u2019s legitimate one (similar subject, intranet link, 12 attendees) and the phisher\u2019s own (from outside, to five colleagues the message did not reach) in every calendar they reached.', patch: [{ op: 'add', path: '/graph/events', value: events }] },
      { id: 'inbox-rule', description: 'The attacker\u2019s rule in Quinn\u2019s mailbox: payment mail forwarded outside, marked read and moved away.', patch: [{ op: 'add', path: `/graph/messageRules/${CLICKER.id}`, value: [rule] }] },
      { id: 'audit-log', description: 'The unified audit log: Quinn\u2019s usual sign-in before the phish, the attacker\u2019s sign-in from another address after it and the inbox rule made from there; a colleague\u2019s ordinary sign-in.', patch: [{ op: 'add', path: '/graph/auditLogRecords', value: [
        audit('quinn-usual-signin', '2026-11-23T07:55:00Z', CLICKER, 'UserLoggedIn', '192.0.2.10', 'azureActiveDirectoryStsLogon', 'AzureActiveDirectory'),
        audit('quinn-attacker-signin', '2026-11-23T08:14:40Z', CLICKER, 'UserLoggedIn', ATTACKER_IP, 'azureActiveDirectoryStsLogon', 'AzureActiveDirectory'),
        audit('quinn-new-rule', '2026-11-23T08:39:02Z', CLICKER, 'New-InboxRule', ATTACKER_IP, 'exchangeAdmin', 'Exchange'),
        audit('avery-signin', '2026-11-23T08:30:00Z', PHISH_RECIPIENTS[1]!, 'UserLoggedIn', '192.0.2.44', 'azureActiveDirectoryStsLogon', 'AzureActiveDirectory'),
      ] }] },
      { id: 'clock', description: 'The tenant\u2019s clock: 09:00 UTC, an hour after delivery.', patch: [{ op: 'add', path: '/clock', value: '2026-11-23T09:00:00Z' }] },
    ],
  };
}
