import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ResponsePlan } from '../../reconciler/respond/run.js';
import { startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { ATTACKER_INVITE, ATTACKER_IP, CLICKER, FINANCE_LEAD, INVITED, LEGIT_ATTENDEES, LEGIT_INVITE, OUTSIDE_INVITE, PHISH, PHISH_RECIPIENTS, SWEEP_ONLY } from '../../simulator/scenario/phish-invite.js';
import { cli, isWrite, synthExamples, tenantArgs, trailOf, userAdmin, writer } from '../reconciler/harness.js';

/*
 * One phishing chain from one alert, against the phish-invite scenario over real HTTP: the message
 * in 40 mailboxes, the invite the attacker sent from the phished account to 25 colleagues, and a
 * legitimate invite with a similar subject that must stay.
 */

let synthDir: string;
let sim: RunningSimulator | undefined;
beforeAll(() => {
  synthDir = synthExamples();
});
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});
const tmp = () => mkdtempSync(join(tmpdir(), 'posture-chain-'));
const WINDOW = ['--since', '2026-11-23T00:00:00Z', '--now', '2026-11-23T09:00:00Z'];
const respond = async (s: RunningSimulator, evidence: string, extra: string[] = []) => {
  const out = join(tmp(), 'response.json');
  const r = await cli(['respond', ...tenantArgs(s, synthDir), '--evidence', evidence, '--out', out, ...extra], writer(s));
  return { r, plan: JSON.parse(readFileSync(out, 'utf8')) as ResponsePlan };
};

/** Where each recipient's copy of the phish is now. */
const locations = (s: RunningSimulator) => new Map([...s.tenant.graph.analyzedEmails.values()].filter((e) => e['networkMessageId'] === PHISH.networkMessageId).map((e) => [String(e['recipientEmailAddress']), String((e['latestDelivery'] as { location: string }).location)]));
/** The calendars still holding a copy of a meeting (and whether it is cancelled there). */
const holders = (s: RunningSimulator, uid: string, users: ReadonlyArray<{ id: string; upn: string }>) =>
  users.flatMap((u) => s.tenant.calendarEvents.list(u.id).filter((e) => e['iCalUId'] === uid).map((e) => `${u.upn}${e['isCancelled'] === true ? ' (cancelled)' : ''}`));
const chainWrites = (s: RunningSimulator) => s.requests.entries.filter(isWrite).filter((e) => /analyzedEmails\/remediate|\/events\//.test(e.path));

describe('a phishing chain as one incident', () => {
  it('is traced whole from one alert and contained exactly: every copy of the message, every copy of the invite, the legitimate invite left alone', async () => {
    const s = (sim = await startSimulator({ scenario: 'phish-invite' }));
    const evidence = join(tmp(), 'evidence.jsonl');
    const { r, plan } = await respond(s, evidence, [...WINDOW, '--auto-approve']);
    expect(r.code, r.stderr).toBe(2); // the account changes the matrix keeps for a person wait for approval

    expect(plan.chains).toHaveLength(1);
    const chain = plan.chains![0]!;
    expect(chain).toMatchObject({
      networkMessageId: PHISH.networkMessageId,
      confidence: 'high',
      startedBy: ['defenderAlert:fa6b1d2e3c4f5a69788b9cadbecfd0e1'],
      message: { sender: PHISH.sender, senderIp: PHISH.senderIp, directionality: 'inbound', authentication: { spf: 'fail', dkim: 'none', dmarc: 'fail', composite: 'fail' }, recipients: 40, links: [PHISH.link] },
      invites: [{ iCalUId: ATTACKER_INVITE.iCalUId, organizer: CLICKER.upn, organizerKind: 'compromised-internal', matchedBy: ['links'], copies: 26 }],
      leftAlone: [{ iCalUId: LEGIT_INVITE.iCalUId, organizer: FINANCE_LEAD.upn, reason: 'no-shared-link' }],
      accounts: [{ upn: CLICKER.upn, role: 'compromised-internal' }],
      untouched: [],
    });
    // Each step names its source.
    expect(chain.trace.map((t) => t.source)).toEqual(['analyzedEmails', 'events', 'events', 'events', 'auditLog']);
    // The identity side, from the audit log since delivery: the attacker's sign-in and the rule, not the usual sign-in before.
    expect(chain.trace.at(-1)!.found).toBe(`${CLICKER.upn}: New-InboxRule ×1, UserLoggedIn ×1; signed in from ${ATTACKER_IP}`);
    expect(chain.trace[0]!.found).toContain('40 copies from accounts@tailspin-billing.test (203.0.113.45), inbound; SPF fail, DKIM none, DMARC fail, composite fail');
    // Before containment, everything was open.
    expect(chain.open.messages).toHaveLength(40);
    expect(chain.open.invites).toHaveLength(26);
    // Containment per mailbox, by its tier's cell (all standard users here, high confidence: automatic).
    const byAction = (a: string) => chain.actions.filter((x) => x.action === a);
    expect(byAction('purgeMessage').map((x) => x.upn).sort()).toEqual(PHISH_RECIPIENTS.map((u) => u.upn).sort());
    expect(byAction('removeInvites').map((x) => x.upn).sort()).toEqual([CLICKER, ...INVITED].map((u) => u.upn).sort());
    expect(chain.actions.every((x) => x.disposition === 'automatic' && x.rule === 'matrix.standard.high.automatic' && x.writes === 1)).toBe(true);
    // Each containment step names who carries it out: the mail platform's owner (the posture's actionOwners), not the incident owner.
    const owners = [...new Set(chain.actions.map((x) => x.owner))];
    expect(owners).toHaveLength(1);
    expect(owners[0]).not.toBe(plan.owner);
    expect(r.stdout).toContain(`carried out by ${owners[0]}`);
    // The account behind the invite is an identity incident of its own, acted on per the matrix.
    const quinn = plan.incidents.find((i) => i.identity.upn === CLICKER.upn)!;
    expect(quinn.actions.filter((a) => a.disposition === 'automatic' && a.writes > 0).map((a) => a.action).sort()).toEqual(['confirmCompromised', 'revokeSessions']);

    // What the tenant holds now: the message nowhere a user reads it; the invite nowhere; the legitimate one everywhere, not cancelled.
    expect([...locations(s).values()].every((l) => l === 'deletedFolder')).toBe(true);
    expect(holders(s, ATTACKER_INVITE.iCalUId, [CLICKER, ...PHISH_RECIPIENTS, FINANCE_LEAD])).toEqual([]);
    expect(holders(s, LEGIT_INVITE.iCalUId, [FINANCE_LEAD, ...LEGIT_ATTENDEES]).sort()).toEqual([FINANCE_LEAD, ...LEGIT_ATTENDEES].map((u) => u.upn).sort());
    // Exactly: 40 remediations (one copy each), the organizer's cancel, 25 deletes; nothing of the legitimate invite.
    // (Requests answered 429 under the security API's limit were not carried out, and are sent again.)
    const writes = chainWrites(s).filter((e) => e.status !== 429);
    expect(writes.filter((e) => e.path.endsWith('/remediate'))).toHaveLength(40);
    expect(writes.filter((e) => e.path.endsWith('/cancel')).map((e) => e.path)).toEqual([expect.stringContaining(`/users/${CLICKER.id}/events/`)]);
    expect(writes.filter((e) => e.method === 'DELETE')).toHaveLength(25);

    // The trail holds the chain, and each verified write.
    const trail = trailOf(evidence);
    const response = trail.find((x) => x.kind === 'response') as unknown as { chains: Array<{ id: string }> };
    expect(response.chains.map((c) => c.id)).toEqual([chain.id]);
    const changes = trail.filter((x) => x.kind === 'change' && /respond\.(purgeMessage|removeInvites)/.test((x as { control: string }).control));
    expect(changes).toHaveLength(66);
    expect(changes.every((c) => (c as { result: string }).result === 'applied')).toBe(true);

    // The next run traces the chain again, finds it contained and does nothing; the one after leaves it be.
    const again = await respond(s, evidence, ['--now', '2026-11-23T09:10:00Z', '--auto-approve']);
    expect(again.plan.chains!.map((c) => ({ id: c.id, open: c.open, writes: c.actions.reduce((n, a) => n + a.writes, 0) }))).toEqual([{ id: chain.id, open: { messages: [], invites: [] }, writes: 0 }]);
    const third = await respond(s, evidence, ['--now', '2026-11-23T09:20:00Z', '--auto-approve']);
    expect(third.plan.chains).toEqual([]);
    expect(chainWrites(s).filter((e) => e.status !== 429)).toHaveLength(66);
  }, 240_000);

  it('a write that fails leaves the chain open; the next run finishes it, doing nothing twice', async () => {
    const s = (sim = await startSimulator({ scenario: 'phish-invite', faults: [{ route: '/events/[^/]+$', method: 'DELETE', kind: 'status', status: 503, after: 10 }] }));
    const evidence = join(tmp(), 'evidence.jsonl');
    const first = await respond(s, evidence, [...WINDOW, '--auto-approve']);
    expect(first.r.code).toBe(1);
    expect(holders(s, ATTACKER_INVITE.iCalUId, INVITED).length).toBeGreaterThan(0);
    const deletedFirst = new Set(chainWrites(s).filter((e) => e.method === 'DELETE' && e.status === 204).map((e) => e.path));
    expect(deletedFirst.size).toBe(10);

    s.faults.clear();
    const second = await respond(s, evidence, ['--now', '2026-11-23T09:10:00Z', '--auto-approve']);
    expect(second.r.code, second.r.stderr).not.toBe(1);
    // The second run read what was left (what the first did not reach after its failure) and did it.
    const chain = second.plan.chains![0]!;
    const left = chain.open.messages.length + chain.open.invites.length;
    expect(left).toBeGreaterThan(0);
    expect(chain.actions.reduce((n, a) => n + a.writes, 0)).toBe(left);
    expect([...locations(s).values()].every((l) => l === 'deletedFolder')).toBe(true);
    expect(holders(s, ATTACKER_INVITE.iCalUId, [CLICKER, ...INVITED])).toEqual([]);
    const third = await respond(s, evidence, ['--now', '2026-11-23T09:20:00Z', '--auto-approve']);
    expect(third.plan.chains!.map((c) => c.open)).toEqual([{ messages: [], invites: [] }]);
    // Nothing twice: every remediation and every successful delete was sent once.
    const ok = chainWrites(s).filter((e) => e.status < 300);
    expect(ok.filter((e) => e.path.endsWith('/remediate'))).toHaveLength(40);
    expect(new Set(ok.filter((e) => e.method === 'DELETE').map((e) => e.path)).size).toBe(ok.filter((e) => e.method === 'DELETE').length);
    expect(ok.filter((e) => e.method === 'DELETE')).toHaveLength(25);
    expect(holders(s, LEGIT_INVITE.iCalUId, [FINANCE_LEAD, ...LEGIT_ATTENDEES])).toHaveLength(13);
  }, 240_000);

  it('a user\u2019s report handed in by the mail gateway (medium confidence) saves the containment for approval; apply carries it out against the chain traced again', async () => {
    const s = (sim = await startSimulator({ scenario: 'phish-invite' }));
    const dir = tmp();
    const evidence = join(dir, 'evidence.jsonl');
    const report = join(dir, 'report.json');
    const reporter = PHISH_RECIPIENTS[5]!;
    writeFileSync(report, JSON.stringify({ schema: 'email-posture/signals@1', signals: [{ id: 'r-1', source: 'mail-gateway', type: 'user-reported-phish', observedAt: '2026-11-23T08:45:00Z', user: { upn: reporter.upn }, title: 'Reported as phishing', networkMessageId: PHISH.networkMessageId }] }));
    const { r, plan } = await respond(s, evidence, ['--since', '2026-11-23T08:30:00Z', '--now', '2026-11-23T09:00:00Z', '--signals', report, '--auto-approve']);
    expect(r.code, r.stderr).toBe(2);
    const chain = plan.chains![0]!;
    expect(chain).toMatchObject({ confidence: 'medium', startedBy: ['external:mail-gateway:r-1'] });
    expect(new Set(chain.actions.map((a) => `${a.disposition} ${a.rule}`))).toEqual(new Set(['approval matrix.standard.medium.approval']));
    expect(chainWrites(s)).toEqual([]);
    expect(plan.approvals.filter((c) => /purgeMessage|removeInvites/.test(c.control))).toHaveLength(66);

    // An edited plan (one more mailbox's remediation) is refused whole.
    const file = join(dir, 'response.json');
    writeFileSync(file, JSON.stringify(plan));
    const edited = join(dir, 'edited.json');
    writeFileSync(edited, JSON.stringify({ ...plan, chains: plan.chains!.map((c) => ({ ...c, actions: c.actions.map((a, i) => (i === 0 ? { ...a, disposition: 'automatic' } : a)) })) }));
    const refused = await cli(['apply', edited, '--auto-approve', '--max-changes', '100', '--evidence', evidence, ...tenantArgs(s, synthDir)], writer(s));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('altered');
    expect(chainWrites(s)).toEqual([]);

    // 68 writes wait (66 of the chain, and the reporter's account changes): more than apply's default rail of 25.
    expect((await cli(['apply', file, '--auto-approve', '--evidence', evidence, ...tenantArgs(s, synthDir)], writer(s))).stderr).toContain('more than --max-changes 25');
    // (The reporter's password change needs the User Administrator role besides the permissions.)
    const approved = await cli(['apply', file, '--auto-approve', '--max-changes', '100', '--evidence', evidence, ...tenantArgs(s, synthDir)], userAdmin(s));
    expect(approved.code, approved.stderr).toBe(0);
    expect([...locations(s).values()].every((l) => l === 'deletedFolder')).toBe(true);
    expect(holders(s, ATTACKER_INVITE.iCalUId, [CLICKER, ...INVITED])).toEqual([]);
    expect(holders(s, LEGIT_INVITE.iCalUId, [FINANCE_LEAD, ...LEGIT_ATTENDEES])).toHaveLength(13);
  }, 240_000);

  it('an audit log that cannot be searched leaves the chain open for its evidence, without holding containment back; the next run reads it', async () => {
    const s = (sim = await startSimulator({ scenario: 'phish-invite', faults: [{ route: '/security/auditLog/queries$', method: 'POST', kind: 'status', status: 500, times: 1 }] }));
    const evidence = join(tmp(), 'evidence.jsonl');
    const first = await respond(s, evidence, [...WINDOW, '--auto-approve']);
    const chain = first.plan.chains![0]!;
    expect(chain.trace.at(-1)).toMatchObject({ source: 'auditLog', found: expect.stringContaining('not read') });
    expect(chain.open.evidence).toEqual([`the audit log of ${CLICKER.upn} since ${PHISH.receivedAt}`]);
    expect([...locations(s).values()].every((l) => l === 'deletedFolder')).toBe(true);
    const second = await respond(s, evidence, ['--now', '2026-11-23T09:10:00Z', '--auto-approve']);
    expect(second.plan.chains!.map((c) => [c.open, c.trace.at(-1)!.found])).toEqual([[{ messages: [], invites: [] }, expect.stringContaining(ATTACKER_IP)]]);
  }, 240_000);

  it('the tenant-wide sweep finds the invite the phisher sent to people the message did not reach; without it, only the recipients\u2019 calendars are read', async () => {
    const s = (sim = await startSimulator({ scenario: 'phish-invite' }));
    const plain = await respond(s, join(tmp(), 'evidence.jsonl'), WINDOW);
    expect(plain.plan.chains![0]!.invites.map((i) => i.iCalUId)).toEqual([ATTACKER_INVITE.iCalUId]);
    expect(holders(s, OUTSIDE_INVITE.iCalUId, SWEEP_ONLY)).toHaveLength(5);

    const before = s.requests.entries.length;
    const swept = await respond(s, join(tmp(), 'evidence.jsonl'), [...WINDOW, '--sweep-calendars', '--auto-approve']);
    const chain = swept.plan.chains![0]!;
    expect(chain.trace[1]).toMatchObject({ source: 'eventsSweep', found: expect.stringContaining("(a sweep of every calendar)") });
    expect(chain.invites.map((i) => [i.iCalUId, i.organizerKind, i.matchedBy, i.copies]).sort()).toEqual([
      [ATTACKER_INVITE.iCalUId, 'compromised-internal', ['links'], 26],
      [OUTSIDE_INVITE.iCalUId, 'outside', ['sender', 'links'], 5],
    ].sort());
    expect(holders(s, OUTSIDE_INVITE.iCalUId, SWEEP_ONLY)).toEqual([]);
    expect(holders(s, LEGIT_INVITE.iCalUId, [FINANCE_LEAD, ...LEGIT_ATTENDEES])).toHaveLength(13);
    // Every user's calendar was asked (in $batch), a mailbox without Exchange Online answering that it has none.
    const users = s.tenant.graph.users.size;
    const asked = s.requests.entries.slice(before).filter((e) => e.path.includes('$batch')).length;
    expect(asked).toBeGreaterThanOrEqual(Math.ceil(users / 20));
  }, 240_000);

  it('a meeting with the link sent for a mailbox a recipient is a delegate of belongs to the chain; without the delegation it is left alone', async () => {
    const s = (sim = await startSimulator({ scenario: 'phish-invite' }));
    const delegate = PHISH_RECIPIENTS[1]!;
    const attendees = PHISH_RECIPIENTS.slice(30, 33);
    const uid = `040000008200E00074C5B7101A82E00800000000${'d1e9'.repeat(8)}`;
    // Rowan (not a recipient) "sends" a meeting with the phish link: the attacker, in a delegate's account, acting for Rowan.
    const template = s.tenant.calendarEvents.list(CLICKER.id).find((e) => e['iCalUId'] === ATTACKER_INVITE.iCalUId)!;
    const meeting = (owner: { id: string; upn: string }) => ({
      ...template, id: `AAMkAGdeleg${owner.id.slice(0, 8)}`, iCalUId: uid, subject: 'Budget sign-off', isOrganizer: owner.id === FINANCE_LEAD.id, createdDateTime: '2026-11-23T08:50:00Z',
      organizer: { emailAddress: { name: 'Rowan Price', address: FINANCE_LEAD.upn } }, attendees: attendees.map((a) => ({ type: 'required', status: { response: 'none' }, emailAddress: { address: a.upn, name: a.displayName } })),
    });
    for (const owner of [FINANCE_LEAD, ...attendees]) s.tenant.calendarEvents.add(owner.id, meeting(owner));

    const without = await respond(s, join(tmp(), 'evidence.jsonl'), WINDOW);
    expect(without.plan.chains![0]!.leftAlone.map((l) => [l.iCalUId, l.reason])).toContainEqual([uid, 'organizer-not-in-chain']);

    s.tenant.calendarPermissions.add(FINANCE_LEAD.id, { id: 'perm-1', isRemovable: true, isInsideOrganization: true, role: 'delegateWithoutPrivateEventAccess', allowedRoles: ['none', 'freeBusyRead', 'limitedRead', 'read', 'write', 'delegateWithoutPrivateEventAccess', 'delegateWithPrivateEventAccess'], emailAddress: { name: delegate.displayName, address: delegate.upn } });
    const withIt = await respond(s, join(tmp(), 'evidence.jsonl'), [...WINDOW, '--auto-approve']);
    const chain = withIt.plan.chains![0]!;
    expect(chain.invites.find((i) => i.iCalUId === uid)).toMatchObject({ organizer: FINANCE_LEAD.upn, organizerKind: 'delegate', matchedBy: ['links'], copies: 4 });
    expect(chain.trace.find((t) => t.source === 'calendarPermissions')?.found).toBe(`calendar delegates of organizers outside the chain: ${FINANCE_LEAD.upn} (1)`);
    expect(holders(s, uid, [FINANCE_LEAD, ...attendees])).toEqual([]);
    expect(holders(s, LEGIT_INVITE.iCalUId, [FINANCE_LEAD, ...LEGIT_ATTENDEES])).toHaveLength(13);
  }, 240_000);

  it('a chain named on the command line whose message is not among the analyzed emails is reported, not passed over', async () => {
    const s = (sim = await startSimulator({ scenario: 'phish-invite' }));
    const { r, plan } = await respond(s, join(tmp(), 'evidence.jsonl'), ['--since', '2026-11-23T08:30:00Z', '--now', '2026-11-23T09:00:00Z', '--message', '00000000-1111-4222-8333-444444444444']);
    expect(r.code).not.toBe(1);
    expect(plan.chains!.map((c) => [c.startedBy, c.notTraced])).toEqual([[['command-line'], expect.stringContaining('not among the analyzed emails')]]);
    const bad = await cli(['respond', ...tenantArgs(s, synthDir), '--message', "x' or 1 eq 1"], writer(s));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('is not a network message id');
  }, 120_000);
});
