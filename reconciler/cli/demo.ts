import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { ALL_GRAPH_PERMISSIONS, EXCHANGE_AUDIENCE, mintToken, ROLE_IDS, startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { printableLine } from './log.js';
import { PACKAGE_ROOT } from '../version.js';

const posture = join(PACKAGE_ROOT, 'bin', 'posture.js');
/**
 * Where the example postures' cdktf.json is: synth runs its app from there, wherever the demo is
 * started. The package root in a checkout of the source; dist/ (the compiled app) in an installed package.
 */
const root = existsSync(join(PACKAGE_ROOT, 'stacks', 'main.ts')) ? PACKAGE_ROOT : join(PACKAGE_ROOT, 'dist');

/**
 * `posture demo`: the whole loop on the example posture and the simulator's drifted tenant, in
 * under half a minute: synth, plan with every report, and with --apply, apply, a clean second plan
 * and a verified evidence trail; then the inbound paths of a tenant behind a gateway (the map, the
 * evidence, a probe); then the response to the incident scenario, and to a phishing
 * chain (phish-invite: the message, the invite sent from the phished account, the account). The simulator is
 * stopped on success, failure and Ctrl-C alike.
 */
export function demoCommand(setExit: (code: number) => void): CommandModule<object, { apply: boolean; 'out-dir': string }> {
  return {
    command: 'demo',
    describe: 'Run the example posture against a simulated drifted tenant and write every report',
    builder: (y) =>
      y
        .option('apply', { type: 'boolean', default: false, describe: 'Also apply the remediable changes, plan again and verify the evidence trail' })
        .option('out-dir', { type: 'string', default: 'demo-output', describe: 'Where the reports go' }) as never,
    handler: async (args) => {
      const out = resolve(args['out-dir']);
      mkdirSync(out, { recursive: true });
      const shown = (p: string) => relative(process.cwd(), p) || p;
      let sim: RunningSimulator | undefined;
      let child: ChildProcess | undefined;
      let interrupted = false;
      let stopping: Promise<void> | undefined;
      // Once only, whichever comes first: the end of the demo or Ctrl-C (which also ends the step that runs).
      const stop = () =>
        (stopping ??= (async () => {
          if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await sim?.stop();
          sim = undefined;
        })());
      const onSignal = () => {
        interrupted = true;
        void stop().finally(() => process.exit(130));
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const run = (step: string, argv: string[], env: NodeJS.ProcessEnv = process.env, cwd?: string) =>
        new Promise<number>((done) => {
          if (interrupted) return done(1);
          process.stdout.write(`\n── ${step}\n$ posture ${argv.join(' ')}\n`);
          child = spawn(process.execPath, [posture, ...argv], { stdio: 'inherit', env, ...(cwd ? { cwd } : {}) });
          child.on('error', () => done(1));
          child.on('close', (code) => done(code ?? 1));
        });
      try {
        const started = Date.now();
        // Synthesized into the output folder, so the demo writes nowhere else.
        const synthDir = join(out, 'cdktf.out');
        if ((await run('Synthesize the example postures', ['synth', '--output', synthDir], process.env, root)) !== 0) return setExit(1);
        if (interrupted) return;
        sim = await startSimulator({ scenario: 'drifted' });
        if (interrupted) return;
        process.stdout.write(`\n── Simulated tenant "Tailspin Toys" (drifted): Graph ${sim.graphUrl}, Exchange ${sim.exoUrl}, DNS ${sim.dns.host}:${sim.dns.port}\n`);
        const env = {
          ...process.env,
          POSTURE_GRAPH_TOKEN: mintToken({ tenantId: sim.tenantId, roles: ALL_GRAPH_PERMISSIONS }),
          POSTURE_EXCHANGE_TOKEN: mintToken({ tenantId: sim.tenantId, audience: EXCHANGE_AUDIENCE, roles: ['Exchange.ManageAsApp'], wids: [args.apply ? ROLE_IDS.exchangeAdministrator : ROLE_IDS.globalReader] }),
        };
        const target = ['--synth-dir', synthDir, '--stack', 'tailspin', '--tenant', sim.tenantId, '--graph-url', sim.graphUrl, '--exchange-url', sim.exoUrl, '--dns-server', `${sim.dns.host}:${sim.dns.port}`];
        const files = { json: join(out, 'plan.json'), html: join(out, 'report.html'), markdown: join(out, 'plan.md'), sarif: join(out, 'posture.sarif'), junit: join(out, 'posture-junit.xml') };
        const evidence = join(out, 'evidence.jsonl');
        const planCode = await run('Plan: compare the tenant with the posture', [
          'plan', ...target, '--evidence', evidence,
          ...Object.entries(files).flatMap(([format, file]) => ['--format', format, '--out', file]),
        ], env);
        if (planCode === 1) return setExit(1);
        process.stdout.write(`\nReports:\n${Object.entries(files).map(([f, p]) => `  ${f.padEnd(9)} ${shown(p)}`).join('\n')}\n`);
        if (args.apply) {
          if ((await run('Apply the reviewed plan (remediate-mode controls only)', ['apply', files.json, '--auto-approve', '--evidence', evidence, ...target], env)) !== 0) return setExit(1);
          const second = await run('Plan again: nothing left for apply; DNS and owners are for people', ['plan', ...target, '--evidence', evidence], env);
          if (second === 1) return setExit(1);
          if ((await run('Verify the evidence trail', ['evidence', 'verify', evidence])) !== 0) return setExit(1);
        }
        // The inbound paths of a tenant behind a mail gateway: the map with the week's evidence, then
        // test messages to every MX host, confirmed in message trace. Both find the gateway that
        // delivers spoofed mail (exit 2); only a failure (1) stops the demo.
        await stop();
        stopping = undefined;
        sim = await startSimulator({ scenario: 'gateway', smtp: true });
        if (interrupted) return;
        process.stdout.write(`\n── Simulated tenant "Tailspin Toys" (gateway): Graph ${sim.graphUrl}, Exchange ${sim.exoUrl}, DNS ${sim.dns.host}:${sim.dns.port}, SMTP port ${sim.smtp!.port}\n`);
        const gatewayEnv = {
          ...process.env,
          POSTURE_GRAPH_TOKEN: mintToken({ tenantId: sim.tenantId, roles: ALL_GRAPH_PERMISSIONS }),
          POSTURE_EXCHANGE_TOKEN: mintToken({ tenantId: sim.tenantId, audience: EXCHANGE_AUDIENCE, roles: ['Exchange.ManageAsApp'], wids: [ROLE_IDS.globalReader] }),
        };
        const gatewayTarget = ['--synth-dir', synthDir, '--stack', 'tailspin', '--tenant', sim.tenantId, '--graph-url', sim.graphUrl, '--exchange-url', sim.exoUrl, '--dns-server', `${sim.dns.host}:${sim.dns.port}`];
        const pathsReport = join(out, 'inbound-paths.html');
        const day = sim.clock.now().slice(0, 10);
        const pathsPlan = join(out, 'inbound-paths.json');
        const pathsCode = await run('Inbound paths: the map, its owners and the week of evidence, behind a gateway without enhanced filtering', [
          'drift', ...gatewayTarget, '--evidence-until', day, '--now', sim.clock.now(), '--evidence', join(out, 'paths-evidence.jsonl'), '--format', 'json', '--out', pathsPlan,
        ], gatewayEnv);
        if (pathsCode === 1) return setExit(1);
        // The saved plan at the terminal, path by path, and as the HTML report.
        if ((await run('Inbound paths: the saved plan, shown', ['show', pathsPlan, '--format', 'html', '--out', pathsReport])) === 1) return setExit(1);
        const probeCode = await run('Probe: test messages that fail authentication to every MX host, confirmed in message trace', [
          'probe', ...gatewayTarget, '--smtp-port', String(sim.smtp!.port), '--allow-private-mx', '--trace-interval', '1', '--wait', '30', '--evidence', join(out, 'paths-evidence.jsonl'),
        ], gatewayEnv);
        if (probeCode === 1) return setExit(1);
        process.stdout.write(`\nInbound path report: ${shown(pathsReport)}\n`);

        // The response half: the same posture's response policy against a tenant in the middle of a
        // phishing incident, then against one where a phish led to a meeting invite (one chain).
        const respondOn = async (scenario: 'incident' | 'phish-invite', step: string, name: string): Promise<number> => {
          await stop();
          stopping = undefined;
          sim = await startSimulator({ scenario });
          if (interrupted) return 1;
          process.stdout.write(`\n── Simulated tenant "Tailspin Toys" (${scenario}): Graph ${sim.graphUrl}, Exchange ${sim.exoUrl}\n`);
          const tokens = {
            ...process.env,
            POSTURE_GRAPH_TOKEN: mintToken({ tenantId: sim.tenantId, roles: ALL_GRAPH_PERMISSIONS }),
            POSTURE_EXCHANGE_TOKEN: mintToken({ tenantId: sim.tenantId, audience: EXCHANGE_AUDIENCE, roles: ['Exchange.ManageAsApp'], wids: [ROLE_IDS.exchangeAdministrator] }),
          };
          const plan = join(out, `${name}.json`);
          const html = join(out, `${name}.html`);
          // The scenario's signals are from its own day: read them from a day before its clock.
          const since = new Date(Date.parse(sim.clock.now()) - 24 * 3_600_000).toISOString();
          const code = await run(step, [
            'respond', '--synth-dir', synthDir, '--stack', 'tailspin', '--tenant', sim.tenantId, '--graph-url', sim.graphUrl, '--exchange-url', sim.exoUrl,
            '--since', since, '--auto-approve', '--out', plan, '--html', html, '--evidence', join(out, `${name}-evidence.jsonl`),
          ], tokens);
          if (code !== 1) process.stdout.write(`\nResponse plan: ${shown(plan)}, report ${shown(html)} (approve the rest with posture apply)\n`);
          return code;
        };
        if ((await respondOn('incident', 'Respond: signals become incidents; the automatic actions run, the rest wait for approval', 'response')) === 1) return setExit(1);
        if ((await respondOn('phish-invite', 'Respond to a phishing chain: the message in 40 mailboxes, the invite sent from the phished account, the account behind both', 'response-chain')) === 1) return setExit(1);
        process.stdout.write(`\nDemo finished in ${((Date.now() - started) / 1000).toFixed(1)} s. Open ${shown(files.html)} in a browser.\n`);
        setExit(0);
      } catch (err) {
        process.stderr.write(`posture demo: ${printableLine((err as Error).message)}\n`);
        setExit(1);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await stop();
      }
    },
  };
}
