import { readFileSync } from 'node:fs';
import { controlPermissions } from '../../reconciler/resources/permissions.js';
import { describe, expect, it } from 'vitest';
import { CATALOGUE, CONTROL_REF, HIGH_RISK_MAIL_SCOPES, resolveControl, versionedId } from '../../policies/catalogue.js';
import { CONTROLS_DOC } from '../../policies/generate-docs.js';
import { renderControlsMarkdown } from '../../policies/render-docs.js';

describe('control catalogue', () => {
  it('gives every control a unique id in the one scheme, with a version', () => {
    const ids = CATALOGUE.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const c of CATALOGUE) {
      expect(c.id).toMatch(/^[A-Z]+\.[A-Z]+\.[0-9]+$/);
      expect(versionedId(c)).toMatch(CONTROL_REF);
      expect(Number.isInteger(c.version) && c.version >= 1).toBe(true);
    }
  });

  it('gives every control its text, severity, frameworks, checks, permissions and remediation', () => {
    for (const c of CATALOGUE) {
      expect(c.title.length, c.id).toBeGreaterThan(10);
      expect(c.rationale.length, c.id).toBeGreaterThan(40);
      expect(['critical', 'high', 'medium', 'low']).toContain(c.severity);
      expect(c.frameworks.nistCsf.length, c.id).toBeGreaterThan(0);
      for (const n of c.frameworks.nistCsf) expect(n).toMatch(/^(GV|ID|PR|DE|RS|RC)\.[A-Z]{2}-[0-9]{2}$/);
      for (const s of c.frameworks.scuba ?? []) expect(s).toMatch(/^MS\.(EXO|AAD|DEFENDER)\.[0-9]+\.[0-9]+v[0-9]+$/);
      for (const o of c.frameworks.owaspNhi ?? []) expect(o).toMatch(/^NHI([1-9]|10):2025$/);
      expect(c.checks.length, c.id).toBeGreaterThan(0);
      expect(controlPermissions(c).read.length, c.id).toBeGreaterThan(0);
      if (c.remediation.automatic) expect(controlPermissions(c).remediate.length, c.id).toBeGreaterThan(0);
    }
  });

  it('maps the CISA SCuBA baseline ids the product promises', () => {
    const mapped = new Set(CATALOGUE.flatMap((c) => c.frameworks.scuba ?? []));
    for (const id of [
      'MS.EXO.1.1v2', 'MS.EXO.2.2v3', 'MS.EXO.3.1v1', 'MS.EXO.4.1v1', 'MS.EXO.4.2v1', 'MS.EXO.4.3v1', 'MS.EXO.4.4v1',
      'MS.AAD.1.1v1', 'MS.AAD.2.1v1', 'MS.AAD.2.3v1', 'MS.AAD.5.1v1', 'MS.AAD.5.2v1', 'MS.AAD.5.3v1',
      'MS.EXO.6.1v1', 'MS.EXO.6.2v1', 'MS.EXO.7.1v1', 'MS.EXO.13.1v1',
    ]) {
      expect(mapped, id).toContain(id);
    }
  });

  it('covers every area the posture declares', () => {
    const areas = new Set(CATALOGUE.map((c) => c.area));
    expect([...areas].sort()).toEqual(['authentication', 'conditional-access', 'consent', 'exposure', 'forwarding', 'inbound', 'inbound-paths', 'mail-apps', 'ownership', 'sender-authentication', 'threat']);
  });

  it('never auto-remediates DNS: DMARC and SPF controls are owner-fixed', () => {
    for (const c of CATALOGUE.filter((k) => /^MAIL\.(DMARC|SPF)\./.test(k.id))) expect(c.remediation.automatic, c.id).toBe(false);
  });

  it('treats the mail scopes of consent phishing as high risk', () => {
    for (const s of ['Mail.ReadWrite', 'Mail.Send', 'MailboxSettings.ReadWrite', 'full_access_as_user']) expect(HIGH_RISK_MAIL_SCOPES).toContain(s);
  });

  it('resolves control references with and without version, and explains bad ones', () => {
    expect(resolveControl('MAIL.DMARC.2')).toMatchObject({ control: { id: 'MAIL.DMARC.2' } });
    expect(resolveControl('MAIL.DMARC.2v1')).toMatchObject({ control: { id: 'MAIL.DMARC.2' } });
    expect(resolveControl('MAIL.DMARC.2v7')).toEqual({ error: expect.stringContaining('is at version 1, not 7') });
    expect(resolveControl('MAIL.DMARC.99')).toEqual({ error: expect.stringContaining('unknown control') });
    expect(resolveControl('dmarc')).toEqual({ error: expect.stringContaining('not a control id') });
  });

  it('docs/controls.md is generated from the catalogue and is up to date (run `npm run docs`)', () => {
    expect(readFileSync(CONTROLS_DOC, 'utf8')).toBe(renderControlsMarkdown());
  });

  it('the generated docs name every control, its permissions and its checks', () => {
    const md = renderControlsMarkdown();
    for (const c of CATALOGUE) {
      expect(md).toContain(`### ${versionedId(c)}`);
      for (const k of c.checks) expect(md).toContain(`\`${k.id}\``);
      for (const p of controlPermissions(c).read) expect(md).toContain(p.name);
    }
  });
});
