import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvidenceTrail } from '../../reconciler/evidence/store.js';
import { startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { cli, synthExamples, target, writer } from './harness.js';

let synthDir: string;
let sim: RunningSimulator;
beforeAll(async () => {
  synthDir = synthExamples();
  sim = await startSimulator({ scenario: 'drifted' });
});
afterAll(() => sim.stop());

const tmp = () => mkdtempSync(join(tmpdir(), 'posture-args-'));
/** The simulator's connection options without `--today`, for tests that give their own. */
const noToday = () => target(sim, synthDir).slice(0, -2);
/** Each case is a process of its own: a few seconds each on a busy machine. */
const SLOW = 180_000;

/** The command did not run: exit 1, the one message (and the --help hint) on stderr, nothing on stdout, no request to the tenant. */
async function refused(args: string[], message: RegExp, cwd = tmp()) {
  sim.requests.clear();
  const r = await cli(args, writer(sim), cwd);
  expect(r.code, args.join(' ')).toBe(1);
  expect(r.stdout, args.join(' ')).toBe('');
  expect(r.stderr, args.join(' ')).toMatch(message);
  expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(2);
  expect(r.stderr).toMatch(/\n\(see posture [a-z -]*--help\)\n$/);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(sim.requests.entries, args.join(' ')).toEqual([]);
  return r;
}

describe('a command line that does not parse stops the command before anything is read or written', () => {
  it('apply with a misspelled --max-changes writes nothing (it used to apply with the default limit)', async () => {
    const cwd = tmp();
    await refused(['apply', '--auto-approve', '--max-chnages', '1', ...target(sim, synthDir)], /^posture apply: Unknown argument: max-chnages\n/, cwd);
    expect(readdirSync(cwd)).toEqual([]);
    // The tenant is still drifted: the inbox rule apply would delete is there.
    expect(sim.tenant.inboxRules.list(sim.tenant.graph.users.findBy('userPrincipalName', 'morgan.reed@tailspintoys.example')[0]!['id'] as string)).not.toEqual([]);
  });

  it('evidence verify with a misspelled --expect-head fails instead of skipping the head check', async () => {
    const dir = tmp();
    const file = join(dir, 'evidence.jsonl');
    EvidenceTrail.open(file).append({ kind: 'apply-start', runId: 'r1', actor: { kind: 'unknown', id: 'unknown' }, planHash: 'a'.repeat(64), desiredHash: 'b'.repeat(64), tenantId: 't', stack: 'tailspin', changes: 0 });
    const before = readFileSync(file, 'utf8');
    await refused(['evidence', 'verify', file, '--expect-haed', '0'.repeat(64)], /^posture evidence verify: Unknown argument: expect-haed\n/);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('every command refuses an unknown option, and an unknown command is refused too', async () => {
    const dir = tmp();
    const plan = join(dir, 'plan.json');
    writeFileSync(plan, '{}');
    const commands: string[][] = [
      ['synth', '--output', join(dir, 'out')],
      ['plan', ...target(sim, synthDir)],
      ['drift', ...target(sim, synthDir)],
      ['show', plan],
      ['apply', plan, '--auto-approve', ...target(sim, synthDir)],
      ['rollback', 'run-1', '--evidence', join(dir, 'evidence.jsonl'), ...noToday()],
      ['evidence', 'verify', join(dir, 'evidence.jsonl')],
      ['controls'],
      ['permissions', 'plan'],
      ['check-domain', 'tailspintoys.example', '--dns-server', `${sim.dns.host}:${sim.dns.port}`],
      ['sim'],
      ['demo', '--out-dir', join(dir, 'demo')],
    ];
    for (const args of commands) {
      const name = args[0] === 'evidence' ? 'evidence verify' : args[0]!;
      await refused([...args, '--colour', 'false'], new RegExp(`^posture ${name}: Unknown argument: colour\\n`));
    }
    expect(existsSync(join(dir, 'out'))).toBe(false);
    expect(existsSync(join(dir, 'demo'))).toBe(false);
    expect(existsSync(join(dir, 'evidence.jsonl'))).toBe(false);
    await refused(['plna', ...target(sim, synthDir)], /^posture: unknown command "plna"\. Did you mean plan\?\n\(see posture --help\)\n$/);
  }, SLOW);

  it('a bad value of a hidden option, or one option given twice, is refused as well', async () => {
    for (const day of ['2026-13-01', '2026-02-30', 'tomorrow']) {
      await refused(['plan', ...noToday(), '--today', day], /^posture plan: --today must be a day as YYYY-MM-DD; ".*" is not\n/);
    }
    await refused(['apply', '--auto-approve', ...noToday(), '--today', '2026-6-1'], /^posture apply: --today must be a day as YYYY-MM-DD; "2026-6-1" is not\n/);
    await refused(['drift', ...noToday(), '--today'], /^posture drift: Not enough arguments following: today\n/);
    await refused(['plan', ...target(sim, synthDir), '--stack', 'minimal'], /^posture plan: --stack was given more than once\n/);
  }, SLOW);
});

describe('words the parser would take in quietly are refused too', () => {
  it('apply with --evidence left without its file writes nothing (it used to apply and record nothing)', async () => {
    const cwd = tmp();
    await refused(['apply', '--auto-approve', ...target(sim, synthDir), '--evidence'], /^posture apply: --evidence needs a value\n/, cwd);
    await refused(['apply', '--auto-approve', '--evidence=', ...target(sim, synthDir)], /^posture apply: --evidence needs a value; it was given an empty one\n/, cwd);
    expect(readdirSync(cwd)).toEqual([]);
    expect(sim.tenant.inboxRules.list(sim.tenant.graph.users.findBy('userPrincipalName', 'morgan.reed@tailspintoys.example')[0]!['id'] as string)).not.toEqual([]);
  }, SLOW);

  it('a switch given a value other than true or false, a --no- form of a valued option, an empty value, words after --', async () => {
    await refused(['plan', ...target(sim, synthDir), '--color=yes'], /^posture plan: --color is a switch: give it alone \(or as --no-color\); "yes" is not a value it takes\n/);
    await refused(['apply', '--auto-approve=yes', ...target(sim, synthDir)], /^posture apply: --auto-approve is a switch: give it alone \(or as --no-auto-approve\); "yes" is not a value it takes\n/);
    await refused(['sim', '--limits=off'], /^posture sim: --limits is a switch: give it alone \(or as --no-limits\); "off" is not a value it takes\n/);
    await refused(['check-domain', 'tailspintoys.example', '--no-dns-server'], /^posture check-domain: --no-dns-server is not an option: --dns-server takes a value\n/);
    await refused(['check-domain', 'tailspintoys.example', '--dns-server='], /^posture check-domain: --dns-server needs a value; it was given an empty one\n/);
    await refused(['drift', '--tenant=', ...noToday().slice(0, 4)], /^posture drift: --tenant needs a value; it was given an empty one\n/);
    await refused(['plan', ...target(sim, synthDir), '--out', '--format', 'json'], /^posture plan: --out needs a value\n/);
    await refused(['apply', '--auto-approve', ...target(sim, synthDir), '--', '--max-chnages', '1'], /^posture apply: "--max-chnages" after "--": no command takes arguments there\n/);
    await refused(['evidence', 'verfy', 'x'], /^posture evidence: unknown command "verfy"\. Did you mean verify\?\n/);
  }, SLOW);

  it('the forms that mean something are still read: --no-evidence, --no-color, --switch=false, --option=value', async () => {
    const cwd = tmp();
    const r = await cli(['plan', ...target(sim, synthDir), '--no-evidence', '--no-color', '--max-retries=0'], writer(sim), cwd);
    expect(r.code, r.stderr).toBe(2);
    expect(readdirSync(cwd)).toEqual([]);
    const shown = await cli(['plan', ...target(sim, synthDir), '--no-evidence', '--color=false'], writer(sim), cwd);
    expect(shown.code, shown.stderr).toBe(2);
    expect(shown.stdout).not.toContain('\u001b[');
  }, SLOW);
});

describe('every numeric option is a whole number in its range', () => {
  it('--max-retries and --timeout of every command that reads the tenant', async () => {
    const cases: Array<[string, string, string]> = [['plan', 'abc', '"abc"'], ['drift', '1e9', '1000000000'], ['apply', '-1', '-1'], ['plan', '1.5', '1\\.5'], ['drift', '21', '21']];
    for (const [command, value, shown] of cases) {
      await refused([command, ...target(sim, synthDir), '--max-retries', value], new RegExp(`^posture ${command}: --max-retries must be a whole number of retries, 0 or more and at most 20; ${shown} is not\\n`));
    }
    await refused(['rollback', 'run-1', ...noToday(), '--max-retries', 'abc'], /^posture rollback: --max-retries must be a whole number of retries/);
    for (const value of ['abc', '0', '1e9', '2.5']) {
      await refused(['plan', ...target(sim, synthDir), '--timeout', value], /^posture plan: --timeout must be a whole number of seconds, 1 or more and at most 3,600; /);
    }
    await refused(['plan', ...target(sim, synthDir), '--max-retries', '1', '--max-retries', '2'], /^posture plan: --max-retries was given more than once\n/);
  }, SLOW);

  it('--max-changes of apply', async () => {
    for (const value of ['abc', '-1', '1.5', '1e9']) {
      await refused(['apply', '--auto-approve', ...target(sim, synthDir), '--max-changes', value], /^posture apply: --max-changes must be a whole number of changes, 0 or more and at most 10,000; /);
    }
  }, SLOW);
});
