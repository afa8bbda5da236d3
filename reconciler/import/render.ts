/**
 * The stack file `posture import` writes: a class extending TerraformStack that declares the
 * imported posture with the project's constructs. Pure; every tenant string is a literal (see
 * code.ts), every comment our own words.
 */
import { CATALOGUE } from '../../policies/catalogue.js';
import { commentLine, literal, noted, quoted, Raw, render } from './code.js';
import { ownerVariable, type ImportedPosture } from './derive.js';

/** The package the constructs are imported from in a posture repository. */
export const DEFAULT_MODULE = 'email-posture';

/**
 * The owner written when none is given: its contact is in the `.invalid` domain (RFC 2606), which
 * synth refuses for an owner, so the posture cannot be synthesized until a person owns it.
 */
export const PLACEHOLDER_OWNER = { name: 'Owner required', team: 'Owner required', contact: 'owner-required@posture-import.invalid' } as const;

/**
 * The approver written on the exceptions `--accept-gaps` declares: in the `.invalid` domain, which
 * synth refuses for an approver, so no exception takes effect before a person approves it.
 */
export const PLACEHOLDER_APPROVER = 'approver-required@posture-import.invalid';

export interface RenderOptions {
  /** The module specifier the constructs are imported from. @default 'email-posture' */
  readonly module?: string;
  /** The tenant as given on the command line, for the header. */
  readonly tenant: string;
  /** Declare each gap as an exception that expires on this day (YYYY-MM-DD), for a person to approve. @default the gaps are left to the plan */
  readonly acceptGapsUntil?: string;
}

/** The exceptions that declare the tenant's gaps as they are: each with the placeholder approver, until `expires`. */
function gapExceptions(p: ImportedPosture, expires: string): Obj[] {
  return p.gaps.map((g) => {
    const control = CATALOGUE.find((c) => c.id === g.control);
    const e: Obj = {
      control: g.control,
      scope: { type: g.scope.type, value: g.scope.value, ...(g.scope.destinations && control?.exceptionDestinations ? { destinations: [...g.scope.destinations] } : {}) },
      reason: `Imported as the tenant is: ${g.reason}.`,
      approvedBy: PLACEHOLDER_APPROVER,
      expires,
    };
    return control?.exceptionNeedsCompensatingControl ? noted(e, ['TODO: name the compensating control (compensatingControl) that reduces the risk while the path stays as it is; synth requires one.']) : e;
  });
}

type Obj = Record<string, unknown>;

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
      ...(o.acceptGapsUntil && p.gaps.length
        ? {
            exceptions: noted(gapExceptions(p, o.acceptGapsUntil), [
              'TODO: each exception declares a gap of the tenant as it was imported, until it expires; approve one by naming',
              'yourself in approvedBy (synth refuses the placeholder), or remove it and the plan shows the gap.',
              'Never declared as exceptions: the consent settings (their controls accept none), a user\'s consent to mail',
              'scopes, a break-glass account a policy catches, a policy the stack declares and the tenant lacks, mailbox',
              'auditing, and inbox rules (import reads none; the plan judges each).',
              ...p.gapsNotExcepted.map((n) => `Not excepted: ${n}.`),
            ]),
          }
        : {}),
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
    o.acceptGapsUntil
      ? 'Where the tenant is below the catalogue, an exception declares it as it is until it expires, once a person approves it.'
      : 'Where the tenant is below the catalogue, the catalogue minimum is declared: the plan shows each gap.',
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
