import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { renderHuman } from '../../reconciler/report/human.js';
import { cleanPlan, driftedFindings, driftedPlan, finding, HOSTILE_NAME, INCOMPLETE_READ, makePlan, mailPlatform } from './fixtures.js';

const ESC = '\u001b';

/** The lines of the block that starts with `head`, up to the next blank line. */
function block(text: string, head: string): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(head));
  expect(start, `no block starting with ${JSON.stringify(head)}`).toBeGreaterThanOrEqual(0);
  const end = lines.findIndex((l, i) => i > start && l === '');
  return lines.slice(start, end);
}

describe('renderHuman', () => {
  const out = renderHuman(driftedPlan());

  it('groups findings under a heading per owner with name, team and contact', () => {
    const headings = [
      'Identity Engineering Lead · Identity · identity-team@tailspintoys.example',
      'Mail Platform Lead · Messaging · mail-platform@tailspintoys.example',
      'Security Operations Manager · SecOps · secops@tailspintoys.example',
    ];
    const at = headings.map((h) => out.indexOf(h));
    for (const i of at) expect(i).toBeGreaterThan(0);
    expect([...at].sort((a, b) => a - b)).toEqual(at);

    // Each finding sits between its owner's heading and the next one.
    const section = (i: number): string => out.slice(at[i], at[i + 1] ?? out.indexOf('\nPlan: '));
    expect(section(0)).toContain('EP: Sign-in risk requires MFA');
    expect(section(0)).not.toContain('tailspintoys.example" needs');
    expect(section(1)).toContain('domain "tailspintoys.example"');
    expect(section(1)).toContain('mailbox "payroll@tailspintoys.example"');
    expect(section(2)).toContain(`inboxRule "${HOSTILE_NAME}"`);
    expect(section(2)).toContain('mailbox "exec-office@tailspintoys.example"');
    expect(out).toContain('(3 findings)');
  });

  it('heads each finding with the sign of what apply does about it', () => {
    expect(out).toContain('  + conditionalAccessPolicy "EP: Privileged roles block medium user risk" will be created');
    expect(out).toContain('  ~ conditionalAccessPolicy "EP: Sign-in risk requires MFA" will be updated in place');
    expect(out).toContain(`  - inboxRule "${HOSTILE_NAME}" will be deleted`);
    expect(out).toContain('  ! domain "tailspintoys.example" needs action by its owner');
    expect(out).toContain('  = mailbox "payroll@tailspintoys.example" is excepted');
    expect(out).toContain('  ? mailbox "exec-office@tailspintoys.example" was not evaluated');
  });

  it('shows control, severity, status, summary, patch, remediation and exception in the block', () => {
    const ca = block(out, '  ~ conditionalAccessPolicy "EP: Sign-in risk requires MFA"').join('\n');
    expect(ca).toContain('ID.CA.2v1 Medium and high sign-in risk require MFA');
    expect(ca).toContain('severity high · status drift · check ca-signin-risk');
    expect(ca).toContain('The sign-in risk policy is report-only');
    expect(ca).toContain('~ /state: "enabledForReportingButNotEnforced" → "enabled"');
    expect(ca).toContain('~ /conditions/signInRiskLevels: ["high"] → ["medium","high"]');

    const removed = block(out, '  ~ conditionalAccessPolicy "EP: High user risk').join('\n');
    expect(removed).toContain('- /conditions/users/excludeUsers/2: "contractor.ops@tailspintoys.example"');

    const created = block(out, '  + conditionalAccessPolicy').join('\n');
    expect(created).toContain('+ /state: "enabledForReportingButNotEnforced"');
    expect(created).toContain('+ /grantControls: {"operator":"OR","builtInControls":["block"]}');

    const dmarc = block(out, '  ! domain "tailspintoys.example"');
    expect(dmarc.join('\n')).toContain('~ /policy: "none" → "reject"');
    expect(dmarc).toContain('      remediation:');
    expect(dmarc).toContain('        v=DMARC1; p=reject; sp=reject; pct=100; rua=mailto:dmarc-reports@tailspintoys.example; adkim=s; aspf=r');

    const excepted = block(out, '  = mailbox').join('\n');
    expect(excepted).toMatch(/excepted: .*approved by ciso@tailspintoys\.example, expires 2025-08-31, ticket RISK-2291/);

    const notEvaluated = block(out, '  ? mailbox').join('\n');
    expect(notEvaluated).toContain('permission-missing (needs MailboxSettings.Read)');
  });

  it('prints "(unknown)" for an old value the evidence does not hold', () => {
    const f = finding({
      control: 'MAIL.FWD.1',
      check: 'outbound-autoforward-off',
      resource: { type: 'hostedOutboundSpamFilterPolicy', id: 'Default', name: 'Default' },
      owner: mailPlatform,
      status: 'drift',
      mode: 'remediate',
      summary: 'Automatic forwarding is allowed.',
      patch: [
        { op: 'replace', path: '/AutoForwardingMode', value: 'Off' },
        { op: 'remove', path: '/Rules/7' },
      ],
      change: { action: 'update', automatic: true },
      evidence: { endpoint: 'Exchange Get-HostedOutboundSpamFilterPolicy', live: 'not an object' },
    });
    const text = renderHuman(makePlan([f]));
    expect(text).toContain('~ /AutoForwardingMode: (unknown) → "Off"');
    expect(text).toContain('- /Rules/7: (unknown)');
  });

  it('ends with the plan summary line', () => {
    expect(out).toContain(
      '\nPlan: 1 to create, 6 to update, 1 to delete; 11 findings to act on (5 critical, 4 high, 1 medium, 1 low), 1 excepted, 1 not evaluated.\n',
    );
    expect(out).not.toContain('No changes');
  });

  it('lists failed reads in a loud INCOMPLETE section after the summary', () => {
    const head = 'INCOMPLETE: the following could not be read; this run cannot report "no drift":';
    expect(out.indexOf(head)).toBeGreaterThan(out.indexOf('\nPlan: '));
    expect(out).toContain(`  - ${INCOMPLETE_READ.what}`);
    expect(out).toContain(INCOMPLETE_READ.error);
    expect(out).toContain(INCOMPLETE_READ.endpoint);
    expect(renderHuman(makePlan(driftedFindings()))).not.toContain('INCOMPLETE');
  });

  it('says "No changes" for a tenant that matches, and only then', () => {
    const clean = renderHuman(cleanPlan());
    expect(clean).toContain('\nNo changes. The tenant matches the posture.\n');
    expect(clean).not.toContain('Plan:');

    const unreadable = renderHuman(makePlan([], [INCOMPLETE_READ]));
    expect(unreadable).not.toContain('No changes');
    expect(unreadable).toContain('No findings in what could be read.');
    expect(unreadable).toContain('INCOMPLETE:');
  });

  it('writes no ANSI codes unless colour is asked for', () => {
    expect(out).not.toContain(ESC);
    expect(renderHuman(driftedPlan(), { color: false })).not.toContain(ESC);
    expect(renderHuman(cleanPlan())).not.toContain(ESC);
    const coloured = renderHuman(driftedPlan(), { color: true });
    expect(coloured).toContain(`${ESC}[`);
    expect(stripVTControlCharacters(coloured)).toBe(out);
  });

  it('neutralises terminal escapes in tenant-supplied names', () => {
    const f = { ...driftedFindings()[0]!, resource: { type: 'inboxRule', id: 'r1', name: `evil${ESC}[2J${ESC}]0;owned\u0007 \u202Egnp.exe` } };
    const text = renderHuman(makePlan([f]), { color: false });
    expect(text).not.toContain(ESC);
    expect(text).not.toContain('\u0007');
    expect(text).not.toContain('\u202E');
    expect(text).toContain('evil\\x1b[2J\\x1b]0;owned\\x07 \\u{202e}gnp.exe');
  });
});
