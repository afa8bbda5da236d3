import { describe, expect, it } from 'vitest';
import { evaluate } from '../../reconciler/evaluate/index.js';
import { dmarcRecordFor } from '../../reconciler/checks/sender-authentication.js';
import { readDomainDns, type DnsResolver } from '../../reconciler/read/dns.js';
import { SenderAuthentication, type MailDomainProps } from '../../stacks/index.js';
import { FakeResolver, type FakeAnswer } from '../dns/fake-resolver.js';
import { build, owner, postureProps, TODAY } from '../stacks/helpers.js';

const RUA = 'mailto:dmarc@contoso.example';
const RUF = 'mailto:dmarc-failures@contoso.example';
const exception = { control: 'MAIL.DMARC.2', scope: { type: 'domain' as const, value: 'contoso.example' }, reason: 'rollout', approvedBy: 'ciso@contoso.example', expires: '2026-12-31', declaredBy: 'mail-lead@contoso.example' };

/** The MAIL.DMARC.2 and MAIL.DMARC.3 findings for one declared domain and the TXT records DNS holds. */
async function dmarcFindings(domain: MailDomainProps, zone: Record<string, FakeAnswer>, withException = false) {
  const { posture } = build(
    (p) => new SenderAuthentication(p, 'SenderAuthentication', { owner, reportAddresses: [RUA], domains: [domain] }),
    postureProps(withException ? { exceptions: [exception] } : {}),
  );
  const manifest = posture.toManifest();
  const fake = new FakeResolver(zone);
  const resolver: DnsResolver = Object.assign(fake, { resolveCname: () => Promise.reject(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' })) });
  const dns = await readDomainDns(domain.name, resolver);
  const empty = (endpoint: string) => ({ ok: true as const, value: [], endpoint, readAt: dns.readAt });
  const live = { dns: new Map([[domain.name, dns]]), domains: empty('/domains'), acceptedDomains: empty('Get-AcceptedDomain'), dkim: empty('Get-DkimSigningConfig') };
  const { findings } = evaluate(manifest, live, TODAY);
  return { findings: findings.filter((f) => f.control.id === 'MAIL.DMARC.2' || f.control.id === 'MAIL.DMARC.3'), asked: fake.asked.filter((n) => n.startsWith('_dmarc.')), manifest };
}
const brief = (fs: Awaited<ReturnType<typeof dmarcFindings>>['findings']) => fs.map((f) => `${f.control.id} ${f.check} ${f.status}: ${f.summary}`);

describe('MAIL.DMARC.2 under RFC 9989', () => {
  it('testing mode (t=y) is not enforcing, as pct below 100 was', async () => {
    const { findings } = await dmarcFindings({ name: 'contoso.example' }, { '_dmarc.contoso.example': [`v=DMARC1; p=reject; t=y; rua=${RUA}`] });
    expect(brief(findings)).toEqual([
      'MAIL.DMARC.2 dmarc-testing violation: contoso.example DMARC is weaker than the posture: t=y (testing mode: receivers apply a weaker policy than p=reject).',
    ]);
    expect(findings[0]!.remediation).toBe(`Publish TXT at _dmarc.contoso.example: "v=DMARC1; p=reject; rua=${RUA}"`);
  });

  it('the historic pct below 100 is still a finding, since receivers that implement RFC 7489 apply it', async () => {
    const { findings } = await dmarcFindings({ name: 'contoso.example' }, { '_dmarc.contoso.example': [`v=DMARC1; p=reject; pct=50; rua=${RUA}`] });
    expect(brief(findings)).toEqual(['MAIL.DMARC.2 dmarc-pct violation: contoso.example DMARC is weaker than the posture: pct=50 (declared 100).']);
  });

  it('declared testing (under an exception) accepts t=y and asks for it; t=n is stricter, not drift', async () => {
    const declared = { name: 'contoso.example', testing: true };
    const withT = await dmarcFindings(declared, { '_dmarc.contoso.example': [`v=DMARC1; p=reject; t=y; rua=${RUA}`] }, true);
    expect(withT.findings).toEqual([]);
    expect(dmarcRecordFor(withT.manifest.desired.senderAuthentication!.domains[0]!)).toBe(`v=DMARC1; p=reject; t=y; rua=${RUA}`);
    expect((await dmarcFindings(declared, { '_dmarc.contoso.example': [`v=DMARC1; p=reject; rua=${RUA}`] }, true)).findings).toEqual([]);
  });

  it('np weaker than the declared policy for non-existent subdomains (by default sp, then p) is a finding', async () => {
    const { findings } = await dmarcFindings({ name: 'contoso.example' }, { '_dmarc.contoso.example': [`v=DMARC1; p=reject; np=none; rua=${RUA}`] });
    expect(brief(findings)).toEqual([
      'MAIL.DMARC.2 dmarc-nonexistent-subdomain-policy violation: contoso.example DMARC is weaker than the posture: np=none (declared reject).',
    ]);
    const stricter = await dmarcFindings({ name: 'contoso.example', subdomainPolicy: 'quarantine', nonExistentSubdomainPolicy: 'quarantine' }, { '_dmarc.contoso.example': [`v=DMARC1; p=reject; np=reject; rua=${RUA}`] });
    expect(stricter.findings).toEqual([]);
    expect(dmarcRecordFor({ ...stricter.manifest.desired.senderAuthentication!.domains[0]!, dmarc: { ...stricter.manifest.desired.senderAuthentication!.domains[0]!.dmarc, nonExistentSubdomainPolicy: 'reject' } })).toBe(
      `v=DMARC1; p=reject; sp=quarantine; np=reject; rua=${RUA}`,
    );
  });

  it('a manifest written before np and t still reads: np is the subdomain policy, testing is false', async () => {
    const { manifest } = await dmarcFindings({ name: 'contoso.example' }, {});
    const d = manifest.desired.senderAuthentication!.domains[0]!;
    const { nonExistentSubdomainPolicy: _np, testing: _t, ...old } = d.dmarc;
    expect(dmarcRecordFor({ ...d, dmarc: old })).toBe(`v=DMARC1; p=reject; rua=${RUA}`);
  });

  it('a subdomain without a record is judged by the organizational domain the tree walk finds', async () => {
    const { findings, asked } = await dmarcFindings(
      { name: 'mail.eu.contoso.example' },
      { '_dmarc.eu.contoso.example': [`v=DMARC1; p=reject; sp=none; psd=n; rua=${RUA}`], '_dmarc.contoso.example': [`v=DMARC1; p=reject; rua=${RUA}`] },
    );
    expect(asked).toEqual(['_dmarc.mail.eu.contoso.example', '_dmarc.eu.contoso.example']);
    // The record of eu.contoso.example (psd=n: the organizational domain) applies its sp=none to the subdomain, not contoso.example's p=reject.
    expect(brief(findings)).toEqual([
      'MAIL.DMARC.2 dmarc-policy violation: mail.eu.contoso.example DMARC is weaker than the posture: p=none (declared reject), sp=none (declared reject), np=none (declared reject); receivers only monitor forged mail.',
    ]);
    expect(findings[0]!.evidence).toMatchObject({ endpoint: 'DNS TXT _dmarc.eu.contoso.example', live: { organizationalDomain: 'eu.contoso.example' } });
  });
});

describe('MAIL.DMARC.3: failure reports (ruf)', () => {
  it('checks a declared ruf address as it checks rua', async () => {
    const { findings } = await dmarcFindings({ name: 'contoso.example', ruf: [RUF] }, { '_dmarc.contoso.example': [`v=DMARC1; p=reject; rua=${RUA}`] });
    expect(brief(findings)).toEqual([`MAIL.DMARC.3 dmarc-ruf violation: contoso.example DMARC failure reports do not go to ${RUF}.`]);
    expect(findings[0]!.remediation).toBe(`Publish TXT at _dmarc.contoso.example: "v=DMARC1; p=reject; rua=${RUA}; ruf=${RUF}"`);
  });

  it('names both when neither rua nor ruf is right, in one finding', async () => {
    const { findings } = await dmarcFindings({ name: 'contoso.example', ruf: [RUF] }, { '_dmarc.contoso.example': ['v=DMARC1; p=reject; rua=mailto:other@contoso.example'] });
    expect(brief(findings)).toEqual([`MAIL.DMARC.3 dmarc-rua violation: contoso.example DMARC aggregate reports do not go to ${RUA}; failure reports do not go to ${RUF}.`]);
  });

  it('passes when ruf lists the declared address (case and the obsolete size limit aside), and checks nothing when none is declared', async () => {
    const zone = { '_dmarc.contoso.example': [`v=DMARC1; p=reject; rua=${RUA}; ruf=mailto:DMARC-Failures@contoso.example!10m,mailto:soc@contoso.example`] };
    expect((await dmarcFindings({ name: 'contoso.example', ruf: [RUF] }, zone)).findings).toEqual([]);
    expect((await dmarcFindings({ name: 'contoso.example' }, { '_dmarc.contoso.example': [`v=DMARC1; p=reject; rua=${RUA}`] })).findings).toEqual([]);
  });
});
