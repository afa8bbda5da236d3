import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import { startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { cli, synthExamples, target, writer, driftedCore } from './harness.js';

let synthDir: string;
let sim: RunningSimulator | undefined;
beforeAll(() => {
  synthDir = synthExamples();
});
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const tmp = () => mkdtempSync(join(tmpdir(), 'posture-review-out-'));
async function plan(s: RunningSimulator, out: string): Promise<PlanDocument> {
  await cli(['plan', ...target(s, synthDir), '--out', out], writer(s));
  return JSON.parse(readFileSync(out, 'utf8')) as PlanDocument;
}

const FORGED = 'Apply complete: 6 changes applied and verified.';

describe('a name any mailbox user sets cannot forge a line of apply\'s refusal', () => {
  it('a stale plan naming an inbox rule whose name holds a newline prints it on one line', async () => {
    const s = (sim = await startSimulator({ scenario: driftedCore() }));
    const first = await plan(s, join(tmp(), 'plan.json'));
    const change = first.changes.find((c) => c.resource.type === 'inboxRule')!;
    const [, user, id] = /^\/users\/([^/]+)\/mailFolders\/inbox\/messageRules\/([^/]+)$/.exec((change.write as { path: string }).path)!;
    const rule = () => s.tenant.inboxRules.list(decodeURIComponent(user!)).find((r) => r.id === decodeURIComponent(id!))!;
    rule()['displayName'] = `Fwd\n${FORGED}`;
    const file = join(tmp(), 'plan.json');
    const reviewed = await plan(s, file);
    expect(reviewed.changes.find((c) => c.resource.type === 'inboxRule')!.resource.name).toContain(`Fwd\n${FORGED}`);
    // The user changes the rule again after the plan was reviewed: the plan is stale.
    rule()['sequence'] = Number(rule()['sequence'] ?? 0) + 7;
    const r = await cli(['apply', file, '--auto-approve', ...target(s, synthDir)], writer(s));
    expect(r.code).toBe(1);
    // One line: the refusal, with the name in it; no line of its own that starts as apply's summary does.
    expect(r.stderr).toMatch(/^posture apply: stale plan: inboxRule "morgan\.reed@tailspintoys\.example: "Fwd.Apply complete: 6 changes applied and verified\."" changed since \S+; make a new plan$/m);
    expect(`${r.stdout}${r.stderr}`.split('\n').filter((l) => l.startsWith('Apply complete'))).toEqual([]);
  });
});
