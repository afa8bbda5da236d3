/**
 * The stack file `posture import` writes: a class extending TerraformStack that declares the
 * imported posture with the project's constructs. Pure; every tenant string is a literal (see
 * code.ts), every comment our own words.
 */
import { commentLine, literal, noted, quoted, Raw, render } from './code.js';
import { ownerVariable, type ImportedPosture } from './derive.js';

/** The package the constructs are imported from in a posture repository. */
export const DEFAULT_MODULE = 'email-posture';

/**
 * The owner written when none is given: its contact is in the `.invalid` domain (RFC 2606), which
 * synth refuses for an owner, so the posture cannot be synthesized until a person owns it.
 */
export const PLACEHOLDER_OWNER = { name: 'Owner required', team: 'Owner required', contact: 'owner-required@posture-import.invalid' } as const;

export interface RenderOptions {
  /** The module specifier the constructs are imported from. @default 'email-posture' */
  readonly module?: string;
  /** The tenant as given on the command line, for the header. */
  readonly tenant: string;
}

/** `contoso-prod` → `ContosoProdStack`: a class name from a stack name. */
export function classNameOf(stack: string): string {
  const words = stack.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const name = words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
  return `${/^[A-Za-z]/.test(name) ? name : `Posture${name}`}Stack`;
}

const comment = (lines: readonly string[], pad: string) => lines.map((l) => `${pad}// ${commentLine(l)}\n`).join('');

export function renderStack(p: ImportedPosture, o: RenderOptions): string {
  const className = classNameOf(p.stack);
  const constructs = [...new Set(['EmailSecurityPosture', 'LocalBackend', 'TerraformStack', ...p.areas.map((a) => a.construct)])].sort();
  const pad = '    ';
  let body = '';
  body += `${pad}new LocalBackend(this, { path: \`terraform.\${id}.tfstate\` });\n\n`;
  if (p.owner) {
    body += comment([p.mailOwner && p.identityOwner ? 'The owner of the ownership controls; give an area or a control its own owner with `owner` or `controls`.' : 'The owner of every control not given another; give an area or a control its own owner with `owner` or `controls`.'], pad);
    body += `${pad}const owner = ${render({ ...p.owner }, pad)};\n`;
  } else {
    body += comment(
      [
        'TODO: replace the placeholder owner written by posture import with the person or function',
        'accountable for these controls (or run posture import with --owner and --team). Synth refuses it.',
      ],
      pad,
    );
    body += `${pad}const owner = ${render({ ...PLACEHOLDER_OWNER }, pad)};\n`;
  }
  if (p.mailOwner) {
    body += comment(['The owner of the mail areas: sender authentication, inbound, forwarding, threat protection, exposure.'], pad);
    body += `${pad}const mailOwner = ${render({ ...p.mailOwner }, pad)};\n`;
  }
  if (p.identityOwner) {
    body += comment(['The owner of the identity areas: consent, conditional access, authentication strength, mail applications.'], pad);
    body += `${pad}const identityOwner = ${render({ ...p.identityOwner }, pad)};\n`;
  }
  body += '\n';

  const confirmed = p.breakGlass.users.length > 0 && !p.breakGlass.notes.some((n) => n.startsWith('TODO'));
  const breakGlass = noted(
    { users: [...p.breakGlass.users], ...(p.breakGlass.groups.length ? { groups: [...p.breakGlass.groups] } : {}) },
    confirmed ? [`Confirmed with --break-glass${p.breakGlass.groups.length ? ' and --break-glass-group' : ''}: excluded from every conditional access policy, never acted on.`] : [],
  );
  const root = noted(
    {
      organization: noted({ name: p.organization.name, primaryDomain: p.organization.primaryDomain }, p.organizationNotes),
      breakGlass: noted(breakGlass, p.breakGlass.notes),
      ownership: { owner: new Raw('owner') },
    },
    [],
  );
  body += `${pad}const posture = new EmailSecurityPosture(this, "Posture", ${render(root, pad)});\n`;

  for (const area of p.areas) {
    body += '\n';
    body += comment(area.notes, pad);
    const hasPolicies = area.construct === 'RiskBasedAccess' && p.policies.length > 0;
    // Spread copies the comment symbols too.
    const props = render({ owner: new Raw(ownerVariable(p, area.group)), ...area.props }, pad);
    body += `${pad}${hasPolicies ? 'const access = ' : ''}new ${area.construct}(posture, ${literal(area.id)}, ${props});\n`;
    if (area.construct === 'RiskBasedAccess') {
      for (const policy of p.policies) {
        body += comment(policy.notes, pad);
        body += `${pad}access.addPolicy(${literal(policy.id)}, ${render(policy.props, pad)});\n`;
      }
      if (p.notImported.length) {
        body += comment(['Conditional access policies of the tenant not declared here (the plan reports what they do to break-glass accounts and exclusions):', ...p.notImported.map((n) => `  - ${n}`)], pad);
      }
    }
  }

  const header = [
    `A posture imported from tenant ${quoted(o.tenant)} by posture import. Review every comment, above all`,
    'each TODO, before the first synth; then `posture plan` shows where the tenant is below the catalogue.',
    'Not imported: InboundPaths, exceptions and IncidentResponse; declare them here as the posture needs them.',
  ];
  return (
    `${comment(header, '')}` +
    `import { ${constructs.join(', ')}, type Construct } from ${literal(o.module ?? DEFAULT_MODULE)};\n\n` +
    `/** The email-security posture of ${commentLine(quoted(p.organization.name))}, as imported. */\n` +
    `export class ${className} extends TerraformStack {\n` +
    `  constructor(scope: Construct, id: string) {\n` +
    `    super(scope, id);\n` +
    body +
    `  }\n` +
    `}\n`
  );
}
