import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSimulator } from '../../simulator/index.js';
import { ATTACKER_INVITE, CLICKER, FINANCE_LEAD, INVITED, LEGIT_ATTENDEES, LEGIT_INVITE, PHISH, PHISH_RECIPIENTS, phishInviteScenario } from '../../simulator/scenario/phish-invite.js';
import { scenarioText } from '../../scripts/write-scenarios.js';
import { all, graph, start } from './helpers.js';

/*
 * What a phishing chain needs from the simulator, served from the phish-invite scenario: analyzed
 * emails and their remediation, calendars with Outlook's rules for delete and cancel.
 */

const q = (s: string) => encodeURIComponent(s);
const copiesOf = async (sim: RunningSimulator, who: string, uid: string) => (await graph(sim, 'GET', `/v1.0/users/${who}/events?$filter=${q(`iCalUId eq '${uid}'`)}`)).body.value;

describe('phish-invite scenario', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await start({ scenario: 'phish-invite' });
  });
  afterAll(() => sim.stop());

  it('is the file the builder writes', () => {
    expect(readFileSync(new URL('../../simulator/scenarios/phish-invite.json', import.meta.url), 'utf8')).toBe(scenarioText(phishInviteScenario));
  });

  it('serves one analyzed email per recipient, found by network message id within the search window', async () => {
    const path = `/v1.0/security/collaboration/analyzedEmails?startTime=2026-11-22&endTime=2026-11-23&$filter=${q(`networkMessageId eq '${PHISH.networkMessageId}'`)}`;
    const { items, pages } = await all(sim, path);
    expect(pages).toBe(1);
    expect(items.map((e) => e.recipientEmailAddress).sort()).toEqual(PHISH_RECIPIENTS.map((r) => r.upn).sort());
    expect(items[0]).toMatchObject({
      '@odata.type': '#microsoft.graph.security.analyzedEmail',
      directionality: 'inbound',
      senderDetail: { fromAddress: PHISH.sender, ipv4: PHISH.senderIp },
      authenticationDetails: { senderPolicyFramework: 'fail', dmarc: 'fail', compositeAuthentication: 'fail' },
      latestDelivery: { location: 'inbox_folder' },
    });
    // Outside the window, nothing; a bad time, 400.
    expect((await graph(sim, 'GET', `/v1.0/security/collaboration/analyzedEmails?startTime=2026-11-01&endTime=2026-11-02&$filter=${q(`networkMessageId eq '${PHISH.networkMessageId}'`)}`)).body.value).toEqual([]);
    expect((await graph(sim, 'GET', '/v1.0/security/collaboration/analyzedEmails?startTime=yesterday')).status).toBe(400);
    // Reading needs SecurityAnalyzedMessage.Read.All.
    expect((await graph(sim, 'GET', path, { token: sim.token('graph', { roles: ['SecurityAlert.Read.All'] }) })).status).toBe(403);
  });

  it('remediates: 202 and a Location in the action center, the named copies moved, no other', async () => {
    const [first, second] = PHISH_RECIPIENTS;
    const body = { displayName: 'Remove phish', description: 'chain', severity: 'high', action: 'softDelete', remediateSendersCopy: false, analyzedEmails: [{ networkMessageId: PHISH.networkMessageId, recipientEmailAddress: first!.upn }] };
    expect((await graph(sim, 'POST', '/v1.0/security/collaboration/analyzedEmails/remediate', { body, token: sim.token('graph', { roles: ['SecurityAnalyzedMessage.Read.All'] }) })).status).toBe(403);
    const r = await graph(sim, 'POST', '/v1.0/security/collaboration/analyzedEmails/remediate', { body });
    expect(r.status).toBe(202);
    expect(r.body).toBeUndefined();
    expect(r.headers.get('location')).toMatch(/^https:\/\/security\.microsoft\.com\/action-center\/history\?filters=/);
    const { items } = await all(sim, `/v1.0/security/collaboration/analyzedEmails?$filter=${q(`networkMessageId eq '${PHISH.networkMessageId}'`)}`);
    const where = new Map(items.map((e) => [e.recipientEmailAddress, e.latestDelivery.location]));
    expect(where.get(first!.upn)).toBe('deletedFolder');
    expect(where.get(second!.upn)).toBe('inbox_folder');
    expect(items.find((e) => e.recipientEmailAddress === first!.upn).originalDelivery.location).toBe('inbox_folder');
    expect((await graph(sim, 'POST', '/v1.0/security/collaboration/analyzedEmails/remediate', { body: { ...body, action: 'moveToQuarantine' } })).status).toBe(400);
    expect((await graph(sim, 'POST', '/v1.0/security/collaboration/analyzedEmails/remediate', { body: { ...body, analyzedEmails: [] } })).status).toBe(400);
  });

  it('finds an invite in each calendar by iCalUId; refuses a filter on the organizer as Outlook does', async () => {
    for (const who of [CLICKER, ...INVITED]) {
      const copies = await copiesOf(sim, who.id, ATTACKER_INVITE.iCalUId);
      expect(copies).toHaveLength(1);
      expect(copies[0]).toMatchObject({ isOrganizer: who === CLICKER, isCancelled: false, organizer: { emailAddress: { address: CLICKER.upn } } });
      expect(copies[0]['@odata.etag']).toMatch(/^W\/"/);
    }
    expect(await copiesOf(sim, PHISH_RECIPIENTS[30]!.id, ATTACKER_INVITE.iCalUId)).toEqual([]);
    const r = await graph(sim, 'GET', `/v1.0/users/${CLICKER.id}/events?$filter=${q(`organizer/emailAddress/address eq '${CLICKER.upn}'`)}`);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('UnsupportedEntityExpression');
    // Outlook's pages: 10 events unless $top says otherwise.
    expect((await graph(sim, 'GET', `/v1.0/users/${CLICKER.id}/events?$filter=${q("createdDateTime ge 2026-11-23T00:00:00Z")}`)).body.value).toHaveLength(1);
  });

  it('cancel is the organizer\u2019s: an attendee gets 400; the organizer\u2019s cancel marks every copy cancelled', async () => {
    const attendee = INVITED[0]!;
    const [copy] = await copiesOf(sim, attendee.id, ATTACKER_INVITE.iCalUId);
    const refused = await graph(sim, 'POST', `/v1.0/users/${attendee.id}/events/${copy.id}/cancel`, { body: { comment: 'x' } });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toBe("Your request can't be completed. You need to be an organizer to cancel a meeting.");
    const [own] = await copiesOf(sim, CLICKER.id, ATTACKER_INVITE.iCalUId);
    expect((await graph(sim, 'POST', `/v1.0/users/${CLICKER.id}/events/${own.id}/cancel`, { body: { Comment: 'Cancelled by security operations' } })).status).toBe(202);
    expect(await copiesOf(sim, CLICKER.id, ATTACKER_INVITE.iCalUId)).toEqual([]);
    expect((await graph(sim, 'GET', `/v1.0/users/${CLICKER.id}/events/${own.id}`)).status).toBe(404);
    const after = await copiesOf(sim, attendee.id, ATTACKER_INVITE.iCalUId);
    expect(after[0]).toMatchObject({ id: copy.id, isCancelled: true, subject: `Canceled: ${ATTACKER_INVITE.subject}` });
    expect(after[0]['@odata.etag']).not.toBe(copy['@odata.etag']);
    // The cancelled copy stays until removed; delete takes it away (204), a second delete is 404.
    expect((await graph(sim, 'DELETE', `/v1.0/users/${attendee.id}/events/${copy.id}`)).status).toBe(204);
    expect((await graph(sim, 'DELETE', `/v1.0/users/${attendee.id}/events/${copy.id}`)).status).toBe(404);
  });

  it('the organizer\u2019s delete cancels too; the legitimate invite is untouched by all of it', async () => {
    const [own] = await copiesOf(sim, FINANCE_LEAD.id, LEGIT_INVITE.iCalUId);
    for (const a of LEGIT_ATTENDEES) expect((await copiesOf(sim, a.id, LEGIT_INVITE.iCalUId))[0].isCancelled).toBe(false);
    expect((await graph(sim, 'DELETE', `/v1.0/users/${FINANCE_LEAD.id}/events/${own.id}`, { token: sim.token('graph', { roles: ['Calendars.Read'] }) })).status).toBe(403);
    expect((await graph(sim, 'DELETE', `/v1.0/users/${FINANCE_LEAD.id}/events/${own.id}`)).status).toBe(204);
    for (const a of LEGIT_ATTENDEES) expect((await copiesOf(sim, a.id, LEGIT_INVITE.iCalUId))[0].isCancelled).toBe(true);
  });
});
