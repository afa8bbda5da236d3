import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../reconciler/manifest/schema.js';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import { startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { planAgainst, synthExamples, TODAY, trailOf } from './harness.js';

/**
 * The inbound path map (MAIL.PATH.1) against the simulator over HTTP and DNS: the compliant tenant's
 * one direct path, the gateway scenario's gateway without enhanced filtering and its partner
 * connector, owners missing, a declared path gone, an MX query that fails, and path exceptions.
 */
let synthDir: string;
let sim: RunningSimulator | undefined;

/** The example posture's synthesized output with its inbound paths (and exceptions) changed. */
function variant(change: (m: Manifest) => void): string {
  const outdir = join(mkdtempSync(join(tmpdir(), 'posture-e2e-')), 'cdktf.out');
  cpSync(synthDir, outdir, { recursive: true });
  const file = join(outdir, 'stacks', 'tailspin', 'posture.json');
  const m = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  change(m);
  writeFileSync(file, JSON.stringify(m, null, 2));
  return outdir;
}

beforeAll(() => {
  synthDir = synthExamples();
});
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const plan = (stdout: string) => JSON.parse(stdout) as PlanDocument;
const ours = (p: PlanDocument) => p.findings.filter((f) => f.control.id.startsWith('MAIL.PATH.'));
const GATEWAY = 'tailspintoys.example/gateway:mx1.secure-gateway.example';
const PARTNER = '*/partner:partner woodgrove bank';

describe('the inbound path map', () => {
  it('the compliant tenant: one direct path that rejects and quarantines, owned, and no finding', async () => {
    sim = await startSimulator({ scenario: 'compliant' });
    const r = await planAgainst(sim, synthDir, ['--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const p = plan(r.stdout);
    expect(ours(p)).toEqual([]);
    // The domain's MX to EOP; every other accepted domain still receives at its own EOP host, which no MX names.
    expect(p.inboundPaths!.paths.map((x) => [x.key, x.entry, x.hosts, x.unpublished ?? false, x.short])).toEqual([
      ['news.tailspintoys.example/eop', 'eop', ['news-tailspintoys-example.mail.protection.outlook.com'], true, []],
      ['tailspin-toys.example/eop', 'eop', ['tailspin-toys-example.mail.protection.outlook.com'], true, []],
      ['tailspintoys.example/eop', 'eop', ['tailspintoys-example.mail.protection.outlook.com'], false, []],
      ['tailspintoys.mail.onmicrosoft.example/eop', 'eop', ['tailspintoys-mail-onmicrosoft-example.mail.protection.outlook.com'], true, []],
      ['tailspintoys.onmicrosoft.example/eop', 'eop', ['tailspintoys-onmicrosoft-example.mail.protection.outlook.com'], true, []],
    ]);
    const eop = p.inboundPaths!.paths.find((x) => x.key === 'tailspintoys.example/eop')!;
    expect(Object.fromEntries(Object.entries(eop.dispositions).map(([k, v]) => [k, v.outcome]))).toEqual({ 'dmarc-reject': 'reject', 'dmarc-quarantine': 'quarantine', 'spf-hardfail': 'quarantine', 'compauth-fail': 'quarantine' });
    expect([eop.owners.routing?.contact, eop.owners.policy?.contact, eop.owners.objective.contact]).toEqual(['jordan.patel@tailspintoys.example', 'mail-platform@tailspintoys.example', 'secops@tailspintoys.example']);
    const human = await planAgainst(sim, synthDir);
    expect(human.stdout).toContain('Inbound paths: 5 (MAIL.PATH.1)');
    expect(human.stdout).toContain('tailspintoys.example/eop  [ok]');
    expect(human.stdout).toContain('No changes. The tenant matches the posture.');
  });

  it('the gateway scenario: the gateway without enhanced filtering delivers every failure, a finding naming the three owners; the partner path is judged', async () => {
    sim = await startSimulator({ scenario: 'gateway' });
    const trail = join(mkdtempSync(join(tmpdir(), 'posture-trail-')), 'trail.jsonl');
    const r = await planAgainst(sim, synthDir, ['--format', 'json', '--evidence', trail]);
    expect(r.code, r.stderr).toBe(2);
    const p = plan(r.stdout);
    const gw = p.inboundPaths!.paths.find((x) => x.key === GATEWAY)!;
    expect(gw).toMatchObject({ entry: 'gateway', connector: 'From Secure Gateway', enhancedFiltering: 'off', short: ['dmarc-reject', 'dmarc-quarantine', 'spf-hardfail', 'compauth-fail'] });
    // The marketing platform's SCL -1 rule is on the path for some senders, under its declared exception.
    expect(gw.bypasses).toEqual([expect.objectContaining({ kind: 'scl-minus-one', name: 'Marketing platform bypass', scope: 'some', excepted: expect.objectContaining({ id: 'MAIL.INBOUND.2:rule:marketing platform bypass', inForce: true }) })]);
    const partner = p.inboundPaths!.paths.find((x) => x.key === PARTNER)!;
    expect([partner.entry, partner.connector, partner.short]).toEqual(['partner', 'Partner Woodgrove Bank', []]);
    const f = ours(p).filter((x) => x.check === 'path-disposition');
    expect(f.map((x) => [x.control.id, x.resource.name, x.status, x.owner.contact])).toEqual([['MAIL.PATH.1', GATEWAY, 'violation', 'secops@tailspintoys.example']]);
    expect(f[0]!.summary).toMatch(/Routing owner: Jordan Patel, Messaging Engineer .*; policy owner: Mail Platform Lead .*; objective owner: Security Operations Manager/);
    expect(f[0]!.remediation).toContain('Set-InboundConnector -Identity "From Secure Gateway" -EFSkipLastIP $true');
    expect(f[0]!.change).toEqual({ action: 'none', automatic: false });
    const md = await planAgainst(sim, synthDir, ['--format', 'markdown']);
    expect(md.stdout).toMatch(/\| tailspintoys\.example\/gateway:mx1\.secure-gateway\.example \| .*\*\*inbox\*\* \(quarantine required\)/);
    const record = trailOf(trail).find((x) => x.kind === 'plan') as { inboundPaths?: { paths: Array<{ path: string; short: string[] }> } };
    expect(record.inboundPaths!.paths.find((x) => x.path === GATEWAY)!.short).toHaveLength(4);
  });

  it('the map of every other shipped scenario: drifted lists its bypasses (for some senders: no path short), incident and phish-invite are the compliant map', async () => {
    const compliantKeys = ['news.tailspintoys.example/eop', 'tailspin-toys.example/eop', 'tailspintoys.example/eop', 'tailspintoys.mail.onmicrosoft.example/eop', 'tailspintoys.onmicrosoft.example/eop'];
    for (const scenario of ['drifted', 'incident', 'phish-invite'] as const) {
      sim = await startSimulator({ scenario });
      const p = plan((await planAgainst(sim, synthDir, ['--format', 'json'])).stdout);
      expect(p.inboundPaths!.paths.map((x) => x.key), scenario).toEqual(compliantKeys);
      expect(p.inboundPaths!.paths.filter((x) => x.short.length).map((x) => x.key), scenario).toEqual([]);
      expect(ours(p).filter((f) => f.status !== 'not-evaluated'), scenario).toEqual([]);
      const eop = p.inboundPaths!.paths.find((x) => x.key === 'tailspintoys.example/eop')!;
      expect(eop.bypasses.map((b) => [b.kind, b.name, b.scope]), scenario).toEqual(
        scenario === 'drifted' ? [['scl-minus-one', 'Partner mail bypass', 'some'], ['ip-allow-list', 'Default', 'some']] : [],
      );
      await sim.stop();
      sim = undefined;
    }
  });

  it('a path nobody owns is a finding; a declared path the tenant no longer has is reported', async () => {
    sim = await startSimulator({ scenario: 'gateway' });
    const dir = variant((m) => {
      m.desired.inboundPaths!.routingOwner = null;
      m.desired.inboundPaths!.paths = [
        { match: PARTNER, routingOwner: { name: 'Partner desk', team: 'Messaging', contact: 'mail-platform@tailspintoys.example' }, policyOwner: null, require: {}, declaredBy: 'tailspin/Posture/InboundPaths' },
        { match: 'tailspintoys.example/gateway:mx9.old-gateway.example', routingOwner: null, policyOwner: null, require: {}, declaredBy: 'tailspin/Posture/InboundPaths' },
      ];
    });
    const p = plan((await planAgainst(sim, dir, ['--format', 'json'])).stdout);
    const byCheck = (c: string) => ours(p).filter((f) => f.check === c).map((f) => [f.resource.name, f.status]);
    // Every path falls back on the (now absent) routing owner but the partner path, which declares its own.
    expect(byCheck('path-owners')).toContainEqual([GATEWAY, 'missing']);
    expect(byCheck('path-owners').map(([name]) => name)).not.toContain(PARTNER);
    expect(ours(p).find((f) => f.check === 'path-owners' && f.resource.name === GATEWAY)!.summary).toMatch(/^Nobody owns the routing decision of tailspintoys\.example through the gateway/);
    expect(byCheck('path-declared')).toEqual([['tailspintoys.example/gateway:mx9.old-gateway.example', 'missing']]);
    expect(p.inboundPaths!.paths.find((x) => x.key === PARTNER)!.owners.routing!.name).toBe('Partner desk');
  });

  it('an MX query that fails makes the run incomplete, naming the domain: never "no path"', async () => {
    sim = await startSimulator({ scenario: 'gateway', dnsFaults: { 'tailspintoys.example': 'servfail' } });
    const r = await planAgainst(sim, synthDir, ['--format', 'json']);
    expect(r.code).toBe(1);
    const p = plan(r.stdout);
    expect(p.incomplete.map((i) => i.what)).toContain('the MX records of tailspintoys.example');
    expect(p.inboundPaths!.paths.map((x) => x.key).filter((k) => k.startsWith('tailspintoys.example/'))).toEqual([]);
    expect(p.inboundPaths!.paths.map((x) => x.key)).toContain(PARTNER);
    expect(ours(p).filter((f) => f.check === 'path-disposition')).toEqual([]);
  });

  it('an exception scoped to the path covers its finding until it expires', async () => {
    sim = await startSimulator({ scenario: 'gateway' });
    const except = (expires: string) =>
      variant((m) => {
        m.exceptions.push({ id: `MAIL.PATH.1:path:${GATEWAY}`, control: 'MAIL.PATH.1v1', scope: { type: 'path', value: GATEWAY }, reason: 'Gateway migration to EOP in Q1', approvedBy: 'ciso@tailspintoys.example', expires, compensatingControl: 'The gateway quarantines DMARC failures itself.', declaredBy: 'tailspin/Posture' });
      });
    const inForce = plan((await planAgainst(sim, except('2026-08-01'), ['--format', 'json'])).stdout);
    expect(ours(inForce).filter((f) => f.check === 'path-disposition').map((f) => f.status)).toEqual(['excepted']);
    expect(inForce.inboundPaths!.paths.find((x) => x.key === GATEWAY)!.exception).toMatchObject({ inForce: true, compensatingControl: 'The gateway quarantines DMARC failures itself.' });
    const expired = plan((await planAgainst(sim, except('2026-05-01'), ['--format', 'json'])).stdout);
    expect(ours(expired).filter((f) => f.check === 'path-disposition').map((f) => f.status)).toEqual(['exception-expired']);
    expect(TODAY).toBe('2026-06-01');
  });
});
