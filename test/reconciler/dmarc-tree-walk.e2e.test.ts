import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../reconciler/manifest/schema.js';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import { loadScenario, startSimulator, type RunningSimulator, type Scenario } from '../../simulator/index.js';
import { cli, planAgainst, synthExamples } from './harness.js';

let synthDir: string;
let sim: RunningSimulator | undefined;
beforeAll(() => {
  synthDir = synthExamples();
});
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const RUA = 'mailto:dmarc-reports@tailspintoys.example';
const RUF = 'mailto:dmarc-failures@tailspintoys.example';
const fast = ['--max-retries', '1', '--timeout', '2', '--format', 'json'];
const plan = (stdout: string) => JSON.parse(stdout) as PlanDocument;
const compliant = (edit: (s: Scenario) => void = () => {}): Scenario => {
  const s = loadScenario('compliant');
  edit(s);
  return s;
};
const setDmarc = (s: Scenario, name: string, data: string) => {
  s.dns.find((r) => r.name === `_dmarc.${name}` && r.type === 'TXT')!.data = data;
};

interface DomainReport {
  domain: string;
  dmarc: { status: string; policy: string | null; recordName: string | null; organizationalDomain: string | null; summary: string };
}

describe('posture check-domain: the organizational domain comes from the DNS tree walk, not from a list', () => {
  const queriesFor = (s: RunningSimulator) => s.dnsQueries.filter((q) => q.type === 'TXT' && q.name.toLowerCase().startsWith('_dmarc.')).map((q) => q.name.toLowerCase());

  it('a record with psd=n below the registered domain is the organizational domain of the names under it', async () => {
    // A Public Suffix List makes tailspintoys.example (p=reject) the organizational domain of
    // shop.eu.tailspintoys.example; the walk stops at eu.tailspintoys.example, which says psd=n.
    sim = await startSimulator({
      scenario: compliant((s) => s.dns.push({ name: '_dmarc.eu.tailspintoys.example', type: 'TXT', ttl: 3600, data: `v=DMARC1; p=quarantine; sp=none; psd=n; rua=${RUA}` })),
    });
    const r = await cli(['check-domain', 'shop.eu.tailspintoys.example', '--dns-server', `${sim.dns.host}:${sim.dns.port}`, '--format', 'json']);
    expect(r.code).toBe(2);
    const [report] = JSON.parse(r.stdout) as DomainReport[];
    expect(report!.dmarc).toMatchObject({
      status: 'monitoring',
      policy: 'none',
      recordName: '_dmarc.eu.tailspintoys.example',
      organizationalDomain: 'eu.tailspintoys.example',
      summary: 'shop.eu.tailspintoys.example has p=none (inherited from _dmarc.eu.tailspintoys.example, the organizational domain): failing mail is only reported',
    });
    expect(queriesFor(sim)).toEqual(['_dmarc.shop.eu.tailspintoys.example', '_dmarc.eu.tailspintoys.example']);
  });

  it('a name of 12 labels costs 8 DNS queries, the labels between skipped, and the highest record is the organizational domain', async () => {
    sim = await startSimulator({ scenario: 'compliant' });
    const long = 'a.b.c.d.e.f.g.h.i.j.news.tailspintoys.example';
    const r = await cli(['check-domain', long, '--dns-server', `${sim.dns.host}:${sim.dns.port}`, '--format', 'json']);
    const [report] = JSON.parse(r.stdout) as DomainReport[];
    expect(report!.dmarc).toMatchObject({ status: 'enforced', policy: 'reject', recordName: '_dmarc.tailspintoys.example', organizationalDomain: 'tailspintoys.example' });
    expect(queriesFor(sim)).toEqual([
      `_dmarc.${long}`,
      '_dmarc.g.h.i.j.news.tailspintoys.example',
      '_dmarc.h.i.j.news.tailspintoys.example',
      '_dmarc.i.j.news.tailspintoys.example',
      '_dmarc.j.news.tailspintoys.example',
      '_dmarc.news.tailspintoys.example',
      '_dmarc.tailspintoys.example',
      '_dmarc.example',
    ]);
  });

  it('a public suffix domain\'s record (psd=y) applies when the organizational domain publishes none', async () => {
    sim = await startSimulator({
      scenario: compliant((s) => s.dns.push({ name: '_dmarc.partners.example', type: 'TXT', ttl: 3600, data: `v=DMARC1; p=reject; psd=y; rua=${RUA}` })),
    });
    const r = await cli(['check-domain', 'mail.acme.partners.example', '--dns-server', `${sim.dns.host}:${sim.dns.port}`, '--format', 'json']);
    const [report] = JSON.parse(r.stdout) as DomainReport[];
    expect(report!.dmarc).toMatchObject({ status: 'enforced', recordName: '_dmarc.partners.example', organizationalDomain: 'acme.partners.example' });
  });
});

describe('MAIL.DMARC.2: testing mode (RFC 9989 t=y) is not enforcement', () => {
  it('t=y on a domain the posture wants enforced is a violation, and the record to publish drops it', async () => {
    sim = await startSimulator({
      scenario: compliant((s) => setDmarc(s, 'tailspintoys.example', `v=DMARC1; p=reject; sp=reject; adkim=s; aspf=r; t=y; rua=${RUA}`)),
    });
    const r = await planAgainst(sim, synthDir, fast);
    expect(r.code).toBe(2);
    const p = plan(r.stdout);
    expect(p.findings.map((f) => `${f.control.id} ${f.check} ${f.status} ${f.resource.name}`)).toEqual(['MAIL.DMARC.2 dmarc-testing violation tailspintoys.example']);
    expect(p.findings[0]!.remediation).toBe(`Publish TXT at _dmarc.tailspintoys.example: "v=DMARC1; p=reject; adkim=s; rua=${RUA}"`);
  });

  it('t=n, and RFC 7489\'s pct=100, are enforcement: the compliant tenant stays clean', async () => {
    sim = await startSimulator({
      scenario: compliant((s) => setDmarc(s, 'tailspintoys.example', `v=DMARC1; p=reject; sp=reject; adkim=s; aspf=r; t=n; pct=100; rua=${RUA}`)),
    });
    const r = await planAgainst(sim, synthDir, fast);
    expect(r.code).toBe(0);
    expect(plan(r.stdout).findings).toEqual([]);
  });
});

describe('MAIL.DMARC.3: declared failure report addresses (ruf)', () => {
  /** The example posture with a failure report address declared for tailspintoys.example. */
  let withRuf: string;
  beforeAll(() => {
    withRuf = join(mkdtempSync(join(tmpdir(), 'posture-ruf-')), 'cdktf.out');
    cpSync(synthDir, withRuf, { recursive: true });
    const file = join(withRuf, 'stacks', 'tailspin', 'posture.json');
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    manifest.desired.senderAuthentication!.domains.find((d) => d.name === 'tailspintoys.example')!.dmarc.ruf = [RUF];
    writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
  });

  it('a record without the declared ruf is a violation naming the address', async () => {
    sim = await startSimulator({ scenario: 'compliant' });
    const r = await planAgainst(sim, withRuf, fast);
    expect(r.code).toBe(2);
    const p = plan(r.stdout);
    expect(p.findings.map((f) => `${f.control.id} ${f.check} ${f.status} ${f.resource.name}: ${f.summary}`)).toEqual([
      `MAIL.DMARC.3 dmarc-ruf violation tailspintoys.example: tailspintoys.example DMARC failure reports do not go to ${RUF}.`,
    ]);
    expect(p.findings[0]!.remediation).toBe(`Publish TXT at _dmarc.tailspintoys.example: "v=DMARC1; p=reject; adkim=s; rua=${RUA}; ruf=${RUF}"`);
  });

  it('a record that sends failure reports there is compliant', async () => {
    sim = await startSimulator({
      scenario: compliant((s) => setDmarc(s, 'tailspintoys.example', `v=DMARC1; p=reject; sp=reject; adkim=s; aspf=r; rua=${RUA}; ruf=${RUF}`)),
    });
    const r = await planAgainst(sim, withRuf, fast);
    expect(r.code).toBe(0);
    expect(plan(r.stdout).findings).toEqual([]);
  });
});
