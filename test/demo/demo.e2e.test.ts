import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// `posture demo` as a person runs it: the real command line in a child process, from a folder of
// its own so that nothing lands in the repository.

const posture = fileURLToPath(new URL('../../bin/posture.js', import.meta.url));
const dirs: string[] = [];

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

type Demo = ChildProcessByStdio<null, Readable, Readable> & { stdoutText(): string; stderrText(): string };

function startDemo(args: readonly string[]): { child: Demo; cwd: string } {
  const cwd = mkdtempSync(join(tmpdir(), 'posture-demo-'));
  dirs.push(cwd);
  const child = spawn(process.execPath, [posture, 'demo', ...args], {
    cwd,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', NO_COLOR: '1', POSTURE_LOCK_DIR: join(cwd, 'locks') },
    stdio: ['ignore', 'pipe', 'pipe'],
  }) as Demo;
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdoutText = () => stdout;
  child.stderrText = () => stderr;
  return { child, cwd };
}

/** Resolves with the exit code and signal once the child has exited and its output is read. */
const closed = (child: Demo) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done({ code: child.exitCode, signal: child.signalCode });
    child.once('close', (code, signal) => done({ code, signal }));
  });

/** The HTTP status of a GET, on a fresh connection that is closed afterwards. */
const statusOf = (url: string) =>
  new Promise<number>((done, failed) => {
    get(url, { agent: false }, (res) => {
      res.resume();
      done(res.statusCode ?? 0);
    }).on('error', failed);
  });

/** The report paths the demo names under "Reports:", by format. */
function reportPaths(stdout: string, cwd: string): Record<string, string> {
  const block = /\nReports:\n((?: {2}\S+ +\S.*\n)+)/.exec(stdout);
  expect(block, 'the demo names its reports').not.toBeNull();
  return Object.fromEntries(
    block![1]!
      .trimEnd()
      .split('\n')
      .map((line) => /^ {2}(\S+) +(.+)$/.exec(line)!)
      .map((m) => [m[1]!, resolve(cwd, m[2]!.trim())]),
  );
}

describe('posture demo', () => {
  it('--apply: plans with every report, applies, plans again with nothing left for apply, and verifies the evidence', async () => {
    const { child, cwd } = startDemo(['--apply', '--out-dir', 'out']);
    const { code, signal } = await closed(child);
    const stdout = child.stdoutText();
    const context = `stdout:\n${stdout}\nstderr:\n${child.stderrText()}`;
    expect(signal, context).toBeNull();
    expect(code, context).toBe(0);

    // The human plan, grouped by owner, before the reports.
    expect(stdout).toContain('email-posture plan · Tailspin Toys · stack tailspin');
    expect(stdout).toContain('Signs: + create, ~ update, - delete (by apply)');
    expect(stdout).toMatch(/Mail Platform Lead · Messaging · mail-platform@tailspintoys\.example \(\d+ findings?\)/);
    expect(stdout).toMatch(/^Plan: \d+ to create, \d+ to update, \d+ to delete; \d+ findings? to act on/m);
    expect(stdout).toContain('Simulated tenant "Tailspin Toys" (drifted)');

    // Every report is named, exists and holds something.
    const reports = reportPaths(stdout, cwd);
    expect(Object.keys(reports).sort()).toEqual(['html', 'json', 'junit', 'markdown', 'sarif']);
    for (const [format, path] of Object.entries(reports)) {
      expect(path.startsWith(join(cwd, 'out')), `${format} report is in --out-dir: ${path}`).toBe(true);
      expect(existsSync(path), `${format} report ${path} exists`).toBe(true);
      expect(statSync(path).size, `${format} report ${path} is not trivial`).toBeGreaterThan(1_000);
    }
    const sarif = JSON.parse(readFileSync(reports['sarif']!, 'utf8')) as { version: string; runs: unknown[] };
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs.length).toBeGreaterThan(0);
    const plan = JSON.parse(readFileSync(reports['json']!, 'utf8')) as { format: string; stack: string };
    expect(plan.format).toBe('email-posture-plan');
    expect(plan.stack).toBe('tailspin');
    const html = readFileSync(reports['html']!, 'utf8');
    expect(html.trimStart().toLowerCase().startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('Tailspin Toys');
    expect(readFileSync(reports['markdown']!, 'utf8')).toContain('## email-posture plan: Tailspin Toys');
    expect(readFileSync(reports['junit']!, 'utf8')).toMatch(/^<\?xml[^>]*\?>\s*<testsuites /);

    // Apply, then a second plan with nothing left for apply (DNS and owners are for people).
    const second = stdout.slice(stdout.indexOf('── Plan again'));
    expect(stdout.indexOf('── Plan again')).toBeGreaterThan(stdout.indexOf('── Apply the reviewed plan'));
    expect(stdout).toMatch(/Apply complete: \d+ changes? applied and verified\./);
    expect(second).toMatch(/^Plan: 0 to create, 0 to update, 0 to delete\b/m);

    // The inbound paths behind a gateway: the map with its owners and the week's evidence, then the probe catches the gateway.
    const paths = stdout.slice(stdout.indexOf('── Inbound paths'), stdout.indexOf('── Respond'));
    expect(stdout.indexOf('── Inbound paths')).toBeGreaterThan(stdout.indexOf('── Verify the evidence trail'));
    expect(stdout).toContain('Simulated tenant "Tailspin Toys" (gateway)');
    expect(paths).toContain('tailspintoys.example/gateway:mx1.secure-gateway.example  [SHORT]');
    expect(paths).toMatch(/observed: \d+ failing: 0 rejected, 0 quarantined, 0 junk, \d+ inbox; \d+ DELIVERED DESPITE FAILURE/);
    expect(paths).toMatch(/tailspintoys\.example\/gateway:mx1\.secure-gateway\.example via mx1\.secure-gateway\.example: own-domain-spoof .* DELIVERED \(weaker than required\)/);
    expect(paths).toMatch(/tailspintoys\.example\/eop via tailspintoys-example\.mail\.protection\.outlook\.com: own-domain-spoof .*: confirmed/);
    expect(readFileSync(join(cwd, 'out', 'inbound-paths.html'), 'utf8')).toContain('Inbound paths');

    // The response to the incident scenario: incidents, the automatic actions run and verified, the rest saved for approval.
    const response = stdout.slice(stdout.indexOf('── Respond'));
    expect(stdout.indexOf('── Respond')).toBeGreaterThan(stdout.indexOf('── Verify the evidence trail'));
    expect(stdout).toContain('Simulated tenant "Tailspin Toys" (incident)');
    expect(response).toContain('Incident INC-');
    expect(response).toMatch(/^Response: 5 incidents, (\d+ phishing chains?, )?[1-9]\d* automatic writes?, [1-9]\d* waiting for approval\.$/m);
    expect(response).toMatch(/Apply complete: [1-9]\d* changes? applied and verified\./);
    expect(response).toContain('Break-glass account bg-alpha@tailspintoys.example is named in 1 signal');
    expect(existsSync(join(cwd, 'out', 'response.json'))).toBe(true);

    // The phishing chain: one chain, its invite, the legitimate one left alone, contained.
    const chain = stdout.slice(stdout.indexOf('── Respond to a phishing chain'));
    expect(stdout.indexOf('── Respond to a phishing chain')).toBeGreaterThan(stdout.indexOf('── Respond:'));
    expect(stdout).toContain('Simulated tenant "Tailspin Toys" (phish-invite)');
    expect(chain).toMatch(/^Response: 1 incident, 1 phishing chain, [1-9]\d* automatic writes?, [1-9]\d* waiting for approval\.$/m);
    expect(chain).toContain('Payment portal walkthrough (required)');
    expect(chain).toContain('no-shared-link');
    expect(chain).toMatch(/Apply complete: [1-9]\d* changes? applied and verified\./);
    const chainPlan = JSON.parse(readFileSync(join(cwd, 'out', 'response-chain.json'), 'utf8')) as { chains: Array<{ invites: unknown[]; leftAlone: unknown[] }> };
    expect(chainPlan.chains.map((c) => [c.invites.length, c.leftAlone.length])).toEqual([[1, 1]]);
    expect(existsSync(join(cwd, 'out', 'response-chain.html'))).toBe(true);

    // The evidence trail of the three runs verifies.
    const verify = stdout.slice(stdout.indexOf('── Verify the evidence trail'));
    expect(verify).toMatch(/\d+ records, chain intact, head [0-9a-f]{64}/);
    expect(existsSync(join(cwd, 'out', 'evidence.jsonl'))).toBe(true);

    // Nothing outside --out-dir.
    expect(existsSync(join(cwd, 'posture-evidence.jsonl'))).toBe(false);
    expect(existsSync(join(cwd, 'demo-output'))).toBe(false);
    expect(existsSync(join(cwd, 'cdktf.out'))).toBe(false);
  }, 180_000);

  it('Ctrl-C stops the demo and the simulator with it', async () => {
    const { child } = startDemo(['--out-dir', 'out']);
    try {
      const graphUrl = await new Promise<string>((found, failed) => {
        const look = () => {
          const m = /Simulated tenant .*: Graph (http:\/\/\S+?),/.exec(child.stdoutText());
          if (m) {
            child.stdout.off('data', look);
            found(m[1]!);
          }
        };
        child.stdout.on('data', look);
        child.once('close', (code) => failed(new Error(`the demo exited (${code}) before starting the simulator:\n${child.stdoutText()}\n${child.stderrText()}`)));
      });
      // The simulator answers while the demo runs (on a connection of its own, not kept alive).
      expect(await statusOf(`${graphUrl}/v1.0/organization`)).toBeGreaterThanOrEqual(200);

      child.kill('SIGINT');
      const ended = await Promise.race([
        closed(child),
        new Promise<'still running'>((done) => setTimeout(() => done('still running'), 15_000).unref()),
      ]);
      expect(ended, 'the demo ends on SIGINT').not.toBe('still running');
      const { code, signal } = ended as { code: number | null; signal: NodeJS.Signals | null };
      expect(code === 130 || signal !== null, `exit code ${code}, signal ${signal}`).toBe(true);

      // The simulator is gone: its port refuses connections.
      const error = await fetch(`${graphUrl}/v1.0/organization`).then(
        () => undefined,
        (err: unknown) => err as Error & { cause?: { code?: string } },
      );
      expect(error, 'the simulator still answers after the demo ended').toBeDefined();
      expect(error!.cause?.code).toBe('ECONNREFUSED');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});
