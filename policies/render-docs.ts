import { controlPermissions } from '../reconciler/resources/permissions.js';
import { CATALOGUE, versionedId } from './catalogue.js';
import type { Control, Permission } from './types.js';

const AREA_TITLES: Record<Control['area'], string> = {
  'sender-authentication': 'Sender authentication (DMARC, SPF, DKIM)',
  inbound: 'Inbound enforcement',
  'inbound-paths': 'Inbound paths: who owns what happens to mail that fails authentication',
  forwarding: 'Forwarding',
  'conditional-access': 'Conditional access: mail risk ends sessions',
  consent: 'Application consent',
  'mail-apps': 'Apps with mail permissions (non-human identities)',
  exposure: 'Exposure: external senders, sharing, mailbox auditing',
  authentication: 'Authentication: phishing-resistant MFA, registration, weak methods',
  ownership: 'Ownership',
  threat: 'Threat protection: the effective policy of each population',
};

const permissionText = (ps: readonly Permission[]): string =>
  ps.length === 0 ? 'none' : ps.map((p) => `\`${p.name}\` (${p.api})`).join(', ');

const cell = (s: string): string => s.replace(/\|/g, '\\|');

/** The control catalogue as Markdown. Pure: docs/controls.md is exactly this text. */
export function renderControlsMarkdown(controls: readonly Control[] = CATALOGUE): string {
  const out: string[] = [
    '# Control catalogue',
    '',
    '<!-- Generated from policies/ by `npm run docs`. Do not edit: a test fails when this file is stale. -->',
    '',
    'Every finding names one control by its versioned id. A control\'s version changes when its meaning does.',
    '',
    '| id | title | severity | auto-remediable | CISA SCuBA | NIST CSF 2.0 |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const c of controls) {
    out.push(
      `| [${versionedId(c)}](#${anchor(c)}) | ${cell(c.title)} | ${c.severity} | ${c.remediation.automatic ? 'yes' : 'no'} | ${
        c.frameworks.scuba?.join(', ') ?? '—'
      } | ${c.frameworks.nistCsf.join(', ')} |`,
    );
  }
  for (const area of Object.keys(AREA_TITLES) as Control['area'][]) {
    const inArea = controls.filter((c) => c.area === area);
    if (inArea.length === 0) continue;
    out.push('', `## ${AREA_TITLES[area]}`);
    for (const c of inArea) {
      out.push(
        '',
        `### ${versionedId(c)}`,
        '',
        `**${c.title}**`,
        '',
        c.rationale,
        '',
        `- Severity: ${c.severity}`,
        `- Frameworks: NIST CSF 2.0 ${c.frameworks.nistCsf.join(', ')}` +
          (c.frameworks.scuba ? `; CISA SCuBA ${c.frameworks.scuba.join(', ')}` : '') +
          (c.frameworks.owaspNhi ? `; OWASP NHI Top 10 ${c.frameworks.owaspNhi.join(', ')}` : ''),
        `- Read permissions: ${permissionText(controlPermissions(c).read)}`,
        `- Remediate permissions: ${permissionText(controlPermissions(c).remediate)}`,
        `- Remediation: ${c.remediation.automatic ? 'automatic in remediate mode' : 'by the owner'}. ${c.remediation.description}`,
        `- Exceptions may be scoped to: ${c.exceptionScopes.length ? c.exceptionScopes.join(', ') : 'nothing (no exceptions)'}${c.exceptionDestinations ? '; `scope.destinations` pins the addresses or domains the excepted mail may go to' : ''}`,
        '- Checks:',
        ...c.checks.map((k) => `  - \`${k.id}\`: ${k.description}`),
      );
    }
  }
  return out.join('\n') + '\n';
}

function anchor(c: Control): string {
  return versionedId(c).toLowerCase().replace(/[^a-z0-9]/g, '');
}
