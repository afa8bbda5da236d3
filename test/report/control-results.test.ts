import { describe, expect, it } from 'vitest';
import { evaluate } from '../../reconciler/evaluate/index.js';
import type { LiveState } from '../../reconciler/model/live.js';
import type { ControlResult } from '../../reconciler/model/plan.js';
import { readDomainDns, type DnsResolver } from '../../reconciler/read/dns.js';
import { SenderAuthentication } from '../../stacks/index.js';
import { FakeResolver, type FakeAnswer } from '../dns/fake-resolver.js';
import { build, owner, postureProps, TODAY } from '../stacks/helpers.js';

/**
 * The result of each declared control that reports show beside the findings: a control passes
 * only when its checks judged what was read and found nothing; a failed read, or nothing to judge,
 * is "not evaluated", never passed.
 */

const RUA = 'mailto:dmarc@contoso.example';
const SENDER_AUTH = ['MAIL.DMARC.1', 'MAIL.DMARC.2', 'MAIL.DMARC.3', 'MAIL.DMARC.4', 'MAIL.SPF.1'];

async function results(zone: Record<string, FakeAnswer>, dkim: LiveState['dkim'] | 'ok' = 'ok'): Promise<Map<string, ControlResult>> {
  const { posture } = build(
    (p) => new SenderAuthentication(p, 'SenderAuthentication', { owner, reportAddresses: [RUA], domains: [{ name: 'contoso.example' }] }),
    postureProps(),
  );
  const manifest = posture.toManifest();
  const fake = new FakeResolver(zone);
  const resolver: DnsResolver = Object.assign(fake, { resolveCname: () => Promise.reject(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' })) });
  const dns = await readDomainDns('contoso.example', resolver);
  const empty = (endpoint: string) => ({ ok: true as const, value: [], endpoint, readAt: dns.readAt });
  const live: LiveState = {
    dns: new Map([['contoso.example', dns]]),
    domains: empty('/domains'),
    acceptedDomains: empty('Get-AcceptedDomain'),
    dkim: dkim === 'ok' ? empty('Get-DkimSigningConfig') : dkim,
  };
  const { controls, findings } = evaluate(manifest, live, TODAY);
  // Every declared control has exactly one result, and its count of findings is the plan's.
  expect(controls.map((c) => c.control.versionedId)).toEqual(manifest.controls.map((c) => c.id));
  for (const c of controls) expect(c.findings).toBe(findings.filter((f) => f.control.id === c.control.id).length);
  return new Map(controls.map((c) => [c.control.id, c]));
}

const good = {
  '_dmarc.contoso.example': [`v=DMARC1; p=reject; rua=${RUA}`],
  'contoso.example': ['v=spf1 ip4:192.0.2.1 -all'],
};

describe('control results', () => {
  it('passes the controls whose checks judged the records and found nothing, with what they checked', async () => {
    const r = await results(good);
    for (const id of SENDER_AUTH) expect(r.get(id)?.result, id).toBe('passed');
    const spf = r.get('MAIL.SPF.1')!;
    expect(spf.owner).toEqual(owner);
    expect(spf.severity).toBe('high');
    expect(spf.checks.map((c) => c.id)).toContain('spf-all-qualifier');
    expect(spf.reads).toContain('DNS records of the declared domains');
    expect(spf.notEvaluated).toBeUndefined();
  });

  it('fails a control with a finding to act on', async () => {
    const r = await results({ ...good, 'contoso.example': ['v=spf1 ip4:192.0.2.1 ?all'] });
    expect(r.get('MAIL.SPF.1')?.result).toBe('failed');
    expect(r.get('MAIL.SPF.1')?.findings).toBe(1);
  });

  it('never passes the controls that had no record to judge: no DMARC record fails MAIL.DMARC.1 and leaves 2–4 not evaluated', async () => {
    const r = await results({ 'contoso.example': good['contoso.example'] });
    expect(r.get('MAIL.DMARC.1')?.result).toBe('failed');
    for (const id of ['MAIL.DMARC.2', 'MAIL.DMARC.3', 'MAIL.DMARC.4']) {
      expect(r.get(id)?.result, id).toBe('not-evaluated');
      expect(r.get(id)?.notEvaluated).toBe('contoso.example has no valid DMARC record to judge (MAIL.DMARC.1)');
    }
  });

  it('never passes a control whose read failed: a DNS failure, a failed Exchange read', async () => {
    const dns = await results({ '_dmarc.contoso.example': { error: 'ESERVFAIL' }, 'contoso.example': good['contoso.example'] });
    for (const id of ['MAIL.DMARC.2', 'MAIL.DMARC.3', 'MAIL.DMARC.4']) {
      expect(dns.get(id)?.result, id).toBe('not-evaluated');
      expect(dns.get(id)?.notEvaluated).toContain('ESERVFAIL');
    }
    const exchange = await results(good, { ok: false, reason: 'read-failed', error: '503 Service Unavailable', endpoint: 'Get-DkimSigningConfig', readAt: '2026-06-01T00:00:00Z' });
    expect(exchange.get('MAIL.DKIM.1')?.result).toBe('not-evaluated');
    expect(exchange.get('MAIL.DKIM.1')?.notEvaluated).toContain('503 Service Unavailable');
  });
});
