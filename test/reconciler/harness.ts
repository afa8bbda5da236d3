import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_GRAPH_PERMISSIONS, EXCHANGE_AUDIENCE, loadScenario, mintToken, ROLE_IDS, scenarioDrifts, type RunningSimulator } from '../../simulator/index.js';
import { applyDrifts, type Scenario } from '../../simulator/scenario/scenario.js';
import { buildApp } from '../../stacks/app.js';
import { synthesize, TODAY_CONTEXT_KEY } from '../../stacks/index.js';
import { withGuard } from '../setup/loopback.js';
import type { EvidenceRecord } from '../../reconciler/evidence/records.js';

export const TODAY = '2026-06-01';
const posture = fileURLToPath(new URL('../../bin/posture.js', import.meta.url));

/** Synthesizes the example postures once into a temporary folder. */
export function synthExamples(): string {
  const outdir = join(mkdtempSync(join(tmpdir(), 'posture-e2e-')), 'cdktf.out');
  const r = synthesize(buildApp, { outdir, context: { [TODAY_CONTEXT_KEY]: TODAY } });
  if (!r.ok) throw new Error('synth failed');
  return outdir;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Where the commands of this test file keep their tenant locks: one folder per file, so files run
 * in parallel never share a lock (the simulated tenants have the same id), and the commands of one
 * file do, as two runs on one machine would.
 */
export const LOCK_DIR = mkdtempSync(join(tmpdir(), 'posture-locks-'));

/** Runs the real `posture` command line, with the loopback guard loaded. */
export function cli(args: readonly string[], env: Record<string, string> = {}, cwd?: string): Promise<CliResult> {
  return startCli(args, env, cwd).done;
}

/** Starts the real `posture` command line; `child.pid` is its process, `done` its result. */
export function startCli(args: readonly string[], env: Record<string, string> = {}, cwd?: string): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [posture, ...args], {
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', POSTURE_LOCK_DIR: LOCK_DIR, ...env, NODE_OPTIONS: withGuard(env['NODE_OPTIONS']) },
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: cwd ?? mkdtempSync(join(tmpdir(), 'posture-cwd-')),
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

/** Tokens for the simulated tenant: every Graph permission unless `graphRoles` says otherwise; Exchange as Global Reader (or Exchange Administrator to write). */
export function tokens(sim: RunningSimulator, graphRoles: readonly string[] = ALL_GRAPH_PERMISSIONS, exchangeRole: string = ROLE_IDS.globalReader): Record<string, string> {
  return {
    POSTURE_GRAPH_TOKEN: mintToken({ tenantId: sim.tenantId, roles: graphRoles }),
    POSTURE_EXCHANGE_TOKEN: mintToken({ tenantId: sim.tenantId, audience: EXCHANGE_AUDIENCE, roles: ['Exchange.ManageAsApp'], wids: [exchangeRole] }),
  };
}

export const writer = (sim: RunningSimulator) => tokens(sim, ALL_GRAPH_PERMISSIONS, ROLE_IDS.exchangeAdministrator);

/** Connection options of a simulator, for any command. */
export const target = (sim: RunningSimulator, synthDir: string) => [
  '--synth-dir', synthDir, '--stack', 'tailspin', '--tenant', sim.tenantId,
  '--graph-url', sim.graphUrl, '--exchange-url', sim.exoUrl, '--dns-server', `${sim.dns.host}:${sim.dns.port}`, '--today', TODAY,
];

/** `posture plan` (or drift) against a simulator. */
export function planAgainst(sim: RunningSimulator, synthDir: string, extra: readonly string[] = [], env: Record<string, string> = tokens(sim), command = 'plan'): Promise<CliResult> {
  return cli(
    [
      command, '--synth-dir', synthDir, '--stack', 'tailspin', '--tenant', sim.tenantId,
      '--graph-url', sim.graphUrl, '--exchange-url', sim.exoUrl, '--dns-server', `${sim.dns.host}:${sim.dns.port}`,
      '--today', TODAY, '--color', 'false', ...extra,
    ],
    env,
  );
}

/** Connection options of a simulator without `--today`: for commands that run as of the clock (apply, rollback, respond). */
export const tenantArgs = (sim: RunningSimulator, synthDir: string) => target(sim, synthDir).filter((a, i, all) => a !== '--today' && all[i - 1] !== '--today');

/** The records of an evidence trail, in order. */
export const trailOf = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EvidenceRecord);

/** Whether a request the simulator logged wrote to the tenant (a Graph call other than GET and $batch reads, a cmdlet other than Get-). */
export const isWrite = (e: { api: string; method?: string; path: string; cmdlet?: string }) => (e.api === 'graph' ? e.method !== 'GET' && !e.path.includes('$batch') : !/^Get-/.test(e.cmdlet ?? ''));

/** The writer, with the directory role that setting another user's passwordProfile needs. */
export const userAdmin = (sim: RunningSimulator) => ({
  ...writer(sim),
  POSTURE_GRAPH_TOKEN: mintToken({ tenantId: sim.tenantId, roles: ALL_GRAPH_PERMISSIONS, wids: [ROLE_IDS.userAdministrator] } as Parameters<typeof mintToken>[0]),
});

/** The drifts of the drifted scenario that belong to the authentication area (ID.AUTH.1–3). */
export const AUTHENTICATION_DRIFTS: readonly string[] = ['privileged-mfa-not-phishing-resistant', 'user-not-mfa-capable', 'sms-enabled'];

/** The threat protection area's drifts (MAIL.THREAT.1–5), planned and applied by its own end-to-end tests. */
export const THREAT_DRIFTS: readonly string[] = ['antiphish-impersonation-weakened', 'antispam-zap-off', 'safe-links-click-through', 'safe-attachments-monitor', 'malware-file-filter-off'];

/**
 * The drifted tenant without the authentication and threat protection areas' drifts: what tests of
 * apply, rollback and the released fixtures were written against (their counts, order and faults on
 * the nth write). authentication.e2e, threat-protection.e2e and links-attachments.e2e plan, apply
 * and roll back those drifts on their own; the first apply test applies every drift.
 */
export const driftedCore = (): Scenario =>
  applyDrifts(loadScenario('compliant'), { name: 'drifted', description: 'drifted', extends: 'compliant', drifts: scenarioDrifts('drifted').filter((d) => !AUTHENTICATION_DRIFTS.includes(d.id) && !THREAT_DRIFTS.includes(d.id)) });
