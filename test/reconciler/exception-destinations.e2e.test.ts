import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import { loadScenario, startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { planAgainst, synthExamples } from './harness.js';

let synthDir: string;
let sim: RunningSimulator | undefined;
beforeAll(() => {
  synthDir = synthExamples();
});
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

/** The compliant tenant where payroll's mailbox forwards to `to` (the example posture excepts payroll's forwarding to payroll-partner.example). */
const forwarding = (to: string) => {
  const s = loadScenario('compliant');
  s.exchange.Mailbox.find((m) => m['UserPrincipalName'] === 'payroll@tailspintoys.example')!['ForwardingSmtpAddress'] = `smtp:${to}`;
  return s;
};
const plan = (stdout: string) => JSON.parse(stdout) as PlanDocument;

describe('an exception pins the destinations it allows', () => {
  it('forwarding to the declared destination is excepted', async () => {
    sim = await startSimulator({ scenario: forwarding('statements@payroll-partner.example') });
    const r = await planAgainst(sim, synthDir, ['--format', 'json']);
    expect(r.code).toBe(0);
    const [f, ...rest] = plan(r.stdout).findings;
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ control: { id: 'MAIL.FWD.3' }, status: 'excepted', exception: { id: 'MAIL.FWD.3:user:payroll@tailspintoys.example', ticket: 'RISK-2291' }, change: { action: 'none', automatic: false } });
  });

  it('the same mailbox forwarding anywhere else is a violation, and apply would clear it', async () => {
    sim = await startSimulator({ scenario: forwarding('payroll.copy@exfil-mail.test') });
    const r = await planAgainst(sim, synthDir, ['--format', 'json']);
    expect(r.code).toBe(2);
    const p = plan(r.stdout);
    expect(p.findings.map((f) => [f.control.id, f.status, f.change.action, f.change.automatic])).toEqual([['MAIL.FWD.3', 'violation', 'update', true]]);
    expect(p.findings[0]!.exception).toBeUndefined();
    expect(p.findings[0]!.summary).toBe(
      'Mailbox payroll@tailspintoys.example forwards all mail to payroll.copy@exfil-mail.test, outside the organisation. Exception MAIL.FWD.3:user:payroll@tailspintoys.example allows only payroll-partner.example, not payroll.copy@exfil-mail.test.',
    );
    expect(p.changes.map((c) => c.write)).toEqual([{ api: 'exchange', cmdlet: 'Set-Mailbox', parameters: { Identity: 'payroll@tailspintoys.example', ForwardingSmtpAddress: null, ForwardingAddress: null, DeliverToMailboxAndForward: false } }]);
  });

  it('a look-alike domain is not the declared one', async () => {
    sim = await startSimulator({ scenario: forwarding('statements@payroll-partner.example.exfil-mail.test') });
    const r = await planAgainst(sim, synthDir, ['--format', 'json']);
    expect(r.code).toBe(2);
    expect(plan(r.stdout).findings.map((f) => f.status)).toEqual(['violation']);
  });
});
