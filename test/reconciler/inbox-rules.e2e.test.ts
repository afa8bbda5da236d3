import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import { loadScenario, startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { cli, planAgainst, synthExamples, target, writer } from './harness.js';

let synthDir: string;
let sim: RunningSimulator | undefined;
beforeAll(() => {
  synthDir = synthExamples();
});
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const fast = ['--max-retries', '1', '--timeout', '2', '--format', 'json'];
const plan = (stdout: string) => JSON.parse(stdout) as PlanDocument;
/** morgan.reed, whose inbox rule forwards outside in the drifted tenant. */
const MORGAN = '6c0c8543-6c3d-5c16-a0fe-5579aadd9158';
const morganRules = `^/v1\\.0/users/${MORGAN}/mailFolders/inbox/messageRules$`;

describe('inbox rules read through $batch', () => {
  it.each([
    ['an empty object', {}],
    ['null', null],
    ['a value that is not an array', { value: { id: 'x' } }],
    ['a value holding something that is not a rule', { value: ['forward everything'] }],
    ['a nextLink that is not a URL', { value: [], '@odata.nextLink': 42 }],
  ])('an item answered 200 with %s is a failed read of that mailbox, never "no rules"', async (_what, body) => {
    sim = await startSimulator({ scenario: 'drifted', faults: [{ route: morganRules, kind: 'body', body }] });
    const r = await planAgainst(sim, synthDir, fast);
    expect(r.code).toBe(1);
    const p = plan(r.stdout);
    expect(p.incomplete).toEqual([expect.objectContaining({ what: 'inbox rules of every mailbox', error: expect.stringMatching(/^inbox rules of 1 of \d+ mailboxes could not be read \(first: morgan\.reed@tailspintoys\.example: malformed answer: /) })]);
    expect(p.findings.filter((f) => f.control.id === 'MAIL.FWD.4').map((f) => f.status)).toEqual(['not-evaluated']);
    expect(r.stderr).toMatch(/the run is incomplete; this is not a clean result/);
  });

  it.each([
    ['protocol-relative, to another host', `//127.0.0.2:9/v1.0/users/${MORGAN}/mailFolders/inbox/messageRules?$skiptoken=x`, /nextLink that is not an absolute URL/],
    ['a path', `/v1.0/users/${MORGAN}/mailFolders/inbox/messageRules?$skiptoken=x`, /nextLink that is not an absolute URL/],
    ['with a user name and password', `http://user:secret@127.0.0.1:9/v1.0/users/${MORGAN}/mailFolders/inbox/messageRules`, /nextLink with a user name or password in it/],
  ])('an item\'s nextLink (%s) is a malformed answer, and nothing is requested for it', async (_what, link, reason) => {
    sim = await startSimulator({ scenario: 'drifted', faults: [{ route: morganRules, kind: 'body', body: { value: [], '@odata.nextLink': link } }] });
    const r = await planAgainst(sim, synthDir, fast);
    expect(r.code).toBe(1);
    const error = plan(r.stdout).incomplete[0]!.error;
    expect(error).toMatch(/morgan\.reed@tailspintoys\.example: malformed answer: /);
    expect(error).toMatch(reason);
    expect(sim.requests.entries.filter((e) => e.batch === undefined && e.path.includes('messageRules'))).toEqual([]);
  });

  it('an item\'s nextLink is followed, so a forwarding rule past the first page is found; apply deletes it and a second plan is clean', async () => {
    const scenario = loadScenario('compliant');
    const benign = Array.from({ length: 11 }, (_, i) => ({
      id: `AQAAAJ5dZ${String(i).padStart(2, '0')}=`, displayName: `Sort ${i}`, sequence: i + 1, isEnabled: true, hasError: false, isReadOnly: false,
      conditions: { subjectContains: [`topic ${i}`] }, actions: { moveToFolder: 'AAMkAGNews', stopProcessingRules: false },
    }));
    const forward = {
      id: 'AQAAAJ5dZxx=', displayName: 'zz', sequence: 12, isEnabled: true, hasError: false, isReadOnly: false,
      conditions: {}, actions: { redirectTo: [{ emailAddress: { name: 'Archive', address: 'morgan.archive@exfil-mail.test' } }], stopProcessingRules: false },
    };
    scenario.graph.messageRules[MORGAN] = [...benign, forward];
    sim = await startSimulator({ scenario });
    const first = await planAgainst(sim, synthDir, fast);
    expect(first.code).toBe(2);
    const p = plan(first.stdout);
    expect(p.findings.map((f) => `${f.control.id} ${f.status} ${f.resource.name}`)).toEqual(['MAIL.FWD.4 violation morgan.reed@tailspintoys.example: "zz"']);
    // The rule came from the second page, read by following the item's nextLink.
    expect(sim.requests.entries.some((e) => e.batch === undefined && e.path.startsWith(`/v1.0/users/${MORGAN}/mailFolders/inbox/messageRules?`) && e.path.includes('skiptoken'))).toBe(true);

    const applied = await cli(['apply', '--auto-approve', ...target(sim, synthDir)], writer(sim));
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('Apply complete: 1 change applied and verified.');
    expect(sim.tenant.inboxRules.list(MORGAN).map((r) => r.id)).not.toContain('AQAAAJ5dZxx=');
    const second = await planAgainst(sim, synthDir, fast);
    expect(second.code).toBe(0);
    expect(plan(second.stdout).changes).toEqual([]);
  });

  describe('a nextLink to another host', () => {
    let trap: Server;
    const seen: string[] = [];
    beforeAll(async () => {
      trap = createServer((req, res) => {
        seen.push(String(req.headers.authorization ?? 'none'));
        res.end('{"value":[]}');
      });
      await new Promise<void>((done) => trap.listen(0, '127.0.0.2', done));
      return () => new Promise<void>((done) => trap.close(() => done()));
    });

    it('is refused: the token stays with Graph, and the mailbox counts as not read', async () => {
      const port = (trap.address() as AddressInfo).port;
      sim = await startSimulator({ scenario: 'drifted', faults: [{ route: morganRules, kind: 'body', body: { value: [], '@odata.nextLink': `http://127.0.0.2:${port}/v1.0/users/${MORGAN}/mailFolders/inbox/messageRules?$skiptoken=x` } }] });
      const r = await planAgainst(sim, synthDir, fast);
      expect(r.code).toBe(1);
      expect(plan(r.stdout).incomplete[0]!.error).toMatch(/morgan\.reed@tailspintoys\.example: .*refusing to send the Graph token to http:\/\/127\.0\.0\.2:\d+/);
      expect(seen).toEqual([]);
    });
  });
});

describe('inbox rules read page by page alongside the mailbox list', () => {
  it('the rules of the first page of mailboxes are read before the list ends; a list that fails on its second page leaves the rules not read, never clean', async () => {
    sim = await startSimulator({ scenario: 'compliant', generate: { mailboxes: 1500 }, faults: [{ api: 'exchange', route: '^Get-Mailbox$', kind: 'status', status: 503, after: 1 }] });
    const r = await planAgainst(sim, synthDir, fast);
    expect(r.code).toBe(1);
    const p = plan(r.stdout);
    expect(p.incomplete.map((i) => i.what)).toEqual(expect.arrayContaining(['inbox rules of every mailbox']));
    expect(p.incomplete.map((i) => i.endpoint)).toEqual(expect.arrayContaining(['Exchange Get-Mailbox']));
    const fwd4 = p.findings.filter((f) => f.control.id === 'MAIL.FWD.4').map((f) => f.status);
    expect(fwd4.length).toBeGreaterThan(0);
    expect(new Set(fwd4)).toEqual(new Set(['not-evaluated']));
    // The first page's mailboxes had their rules read: they were asked for as the page came, not after the whole list.
    expect(sim.requests.entries.filter((e) => e.batch !== undefined && /messageRules/.test(e.path)).length).toBeGreaterThanOrEqual(1000);
  });
});
