import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { startDnsServer } from '../../simulator/dns/server.js';
import { isUnsafeCodePoint } from '../../reconciler/core/text.js';
import { cli } from './harness.js';

describe('posture check-domain', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ scenario: 'drifted', dnsFaults: { '_dmarc.broken.example': 'servfail' } });
  });
  afterAll(() => sim.stop());
  const dns = () => `${sim.dns.host}:${sim.dns.port}`;

  it('reports DMARC and SPF per domain in JSON, with the organizational-domain fallback', async () => {
    const r = await cli(['check-domain', 'tailspintoys.example', 'news.tailspintoys.example', 'tailspin-toys.example', 'sub.news.tailspintoys.example', '--dns-server', dns(), '--format', 'json']);
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout) as Array<{ domain: string; dmarc: { status: string; policy: string | null; record: string | null; errors: string[] }; spf: { status: string; record: string | null; errors: string[] } }>;
    expect(out.map((d) => [d.domain, d.dmarc.status, d.dmarc.policy, d.spf.status])).toEqual([
      ['tailspintoys.example', 'monitoring', 'none', 'hardfail'],
      ['news.tailspintoys.example', 'enforced', 'quarantine', 'softfail'],
      ['tailspin-toys.example', 'missing', null, 'hardfail'],
      ['sub.news.tailspintoys.example', 'monitoring', 'none', 'missing'],
    ]);
    expect(out[0]!.dmarc.record).toBe('v=DMARC1; p=none; adkim=s; aspf=r; rua=mailto:dmarc-reports@tailspintoys.example');
    expect(out[0]!.spf.record).toBe('v=spf1 include:spf.protection.outlook.com -all');
  });

  it('a DNS failure is error, never missing, and exits 1', async () => {
    const r = await cli(['check-domain', 'broken.example', '--dns-server', dns(), '--format', 'json']);
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as Array<{ dmarc: { status: string } }>)[0]!.dmarc.status).toBe('error');
  });

  it('exits 0 for an enforced domain, and refuses a name that is not a domain', async () => {
    expect((await cli(['check-domain', 'news.tailspintoys.example', '--dns-server', dns()])).code).toBe(0);
    const bad = await cli(['check-domain', 'not a domain', '--dns-server', dns()]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^posture check-domain: "not a domain" is not a domain name/);
  });
});

describe('posture check-domain with records whoever owns the domain wrote', () => {
  it('shows no raw control or bidirectional character, as text or as JSON', async () => {
    const dns = await startDnsServer({
      zone: [
        { name: '_dmarc.hostile.example', type: 'TXT', data: 'v=DMARC1; p=none; rua=mailto:a@hostile.example\u001b[2J\u001b]0;pwned\u0007 \u202egnp.exe' },
        { name: 'hostile.example', type: 'TXT', data: 'v=spf1 include:x\u001b[31m.hostile.example \u2066-all\u2069 \u0085forged' },
      ],
    });
    try {
      for (const format of ['text', 'json']) {
        const r = await cli(['check-domain', 'hostile.example', '--dns-server', `${dns.host}:${dns.port}`, '--format', format]);
        expect(r.stderr).toBe('');
        // A TXT record is bytes: what is not ASCII arrives one character per byte, C1 controls among them.
        const raw = [...r.stdout].filter((ch) => ch !== '\n' && isUnsafeCodePoint(ch.codePointAt(0)!));
        expect(raw, format).toEqual([]);
        if (format === 'text') expect(r.stdout).toContain('v=spf1 include:x\\x1b[31m.hostile.example');
        else expect((JSON.parse(r.stdout) as Array<{ spf: { record: string } }>)[0]!.spf.record.startsWith('v=spf1 include:x\u001b[31m.hostile.example ')).toBe(true);
      }
    } finally {
      await dns.stop();
    }
  });
});

describe('posture permissions', () => {
  it('lists read-only permissions for plan and drift, and write permissions for apply', async () => {
    const r = await cli(['permissions', '--format', 'json']);
    expect(r.code).toBe(0);
    const table = JSON.parse(r.stdout) as Record<string, Array<{ api: string; name: string }>>;
    const names = (c: string) => table[c]!.map((p) => p.name);
    expect(names('plan')).toEqual(names('drift'));
    for (const p of names('plan')) expect(p).not.toMatch(/ReadWrite/);
    expect(names('plan')).toEqual(expect.arrayContaining(['Policy.Read.All', 'MailboxSettings.Read', 'Exchange.ManageAsApp', 'Global Reader']));
    expect(names('apply')).toEqual(expect.arrayContaining(['Policy.ReadWrite.ConditionalAccess', 'MailboxSettings.ReadWrite', 'DelegatedPermissionGrant.ReadWrite.All', 'Exchange Administrator']));
    expect(names('rollback')).toEqual(names('apply'));
    expect(table['check-domain']).toEqual([]);
  });

  it('prints the permissions of one command as text', async () => {
    const r = await cli(['permissions', 'drift']);
    expect(r.stdout).toContain('posture drift:');
    expect(r.stdout).toContain('Microsoft Graph (application permission): Application.Read.All');
    expect(r.stdout).not.toContain('posture plan:');
  });
});
