import { z } from 'zod';
import { DEFAULT_MAX_SECRET_AGE_DAYS, MAIL_APP_PERMISSIONS } from '../../policies/catalogue.js';
import type { DesiredState, Owner } from '../../reconciler/manifest/schema.js';
import { guid, upn } from '../../reconciler/manifest/formats.js';
import { areaProps, PostureArea, type PostureAreaProps } from './area.js';
import { checkOwner, type EmailSecurityPosture } from './posture.js';
import type { Problems } from './problems.js';
import { list, named, oneOf, ownerProps, props, text, texts, whole } from './prop-schemas.js';

/** How an app signs in: a certificate, a federated identity credential (workload identity federation), a client secret. */
export type CredentialKind = 'certificate' | 'federated' | 'secret';

/** One app that holds mail application permissions, as the organisation approved it. */
export interface MailAppProps {
  /** The application (client) id. */
  readonly appId: string;
  /** What people call the app. */
  readonly displayName: string;
  /** Who answers for the app: its findings of MAIL.APPS.1 to 3 go to this owner. */
  readonly owner: Owner;
  /**
   * The mail application permissions it may hold: of Microsoft Graph (`Mail.Send`, …) and of Office
   * 365 Exchange Online (`full_access_as_app`, `Mail.Read`, …). At least one.
   */
  readonly permissions: { readonly graph?: readonly string[]; readonly exchange?: readonly string[] };
  /** The mailboxes it is restricted to: a mail-enabled security group by its address, or mailboxes by address. */
  readonly scope: { readonly group: string } | { readonly mailboxes: readonly string[] };
  /** The credentials it may sign in with. @default ['certificate', 'federated'] */
  readonly credentials?: readonly CredentialKind[];
  /** The longest a client secret may live, and the oldest it may be, in days (1 to 730). @default 180 */
  readonly maxSecretAgeDays?: number;
}

export interface MailApplicationsProps extends PostureAreaProps {
  /** Every app allowed to hold a mail application permission; any other app holding one is a finding. */
  readonly apps: readonly MailAppProps[];
}

const byLower = (names: readonly string[]) => new Map(names.map((n) => [n.toLowerCase(), n]));
const KNOWN = { graph: byLower(MAIL_APP_PERMISSIONS.graph), exchange: byLower(MAIL_APP_PERMISSIONS.exchange) };

/**
 * Non-human identities with mail (MAIL.APPS.1 to 3): the apps that hold mail application
 * permissions are declared with an owner, restricted to the mailboxes they need, and sign in with a
 * certificate or federation rather than a long-lived secret.
 */
export class MailApplications extends PostureArea {
  readonly props: MailApplicationsProps;

  constructor(scope: EmailSecurityPosture, id: string, props: MailApplicationsProps) {
    super(scope, id, 'mail-apps', props, mailApplicationsProps);
    this.props = props;
  }

  desiredState(): Partial<DesiredState> {
    return {
      mailApps: {
        apps: (this.props.apps ?? []).map((a) => ({
          appId: a.appId.toLowerCase(),
          displayName: a.displayName,
          owner: { name: a.owner.name, team: a.owner.team, contact: a.owner.contact },
          // Each permission as the API spells it, once.
          permissions: {
            graph: [...new Set((a.permissions?.graph ?? []).map((p) => KNOWN.graph.get(p.toLowerCase()) ?? p))].sort(),
            exchange: [...new Set((a.permissions?.exchange ?? []).map((p) => KNOWN.exchange.get(p.toLowerCase()) ?? p))].sort(),
          },
          scope: 'group' in a.scope ? { group: a.scope.group.toLowerCase() } : { mailboxes: [...new Set(a.scope.mailboxes.map((m) => m.toLowerCase()))].sort() },
          credentials: [...new Set(a.credentials ?? (['certificate', 'federated'] as const))].sort(),
          maxSecretAgeDays: a.maxSecretAgeDays ?? DEFAULT_MAX_SECRET_AGE_DAYS,
        })),
      },
    };
  }

  protected checkProps(p: Problems): void {
    if (!p.required('apps', this.props.apps)) return;
    const seen = new Map<string, number>();
    this.props.apps.forEach((a, i) => {
      const at = `apps[${i}]`;
      if (p.required(`${at}.appId`, a.appId) && p.format(`${at}.appId`, guid, a.appId)) {
        const before = seen.get(a.appId.toLowerCase());
        if (before !== undefined) p.add(`${at}.appId`, `${a.appId} is already declared by apps[${before}]; declare each app once`);
        else seen.set(a.appId.toLowerCase(), i);
      }
      p.required(`${at}.displayName`, a.displayName);
      checkOwner(p, `${at}.owner`, a.owner);
      if (p.required(`${at}.permissions`, a.permissions)) {
        const count = (a.permissions.graph?.length ?? 0) + (a.permissions.exchange?.length ?? 0);
        if (!count) p.add(`${at}.permissions`, 'name at least one mail permission (graph or exchange); an app that needs none need not be declared');
        for (const api of ['graph', 'exchange'] as const) {
          (a.permissions[api] ?? []).forEach((name, j) => {
            if (!KNOWN[api].has(String(name).toLowerCase())) {
              p.add(`${at}.permissions.${api}[${j}]`, `"${name}" is not a mail application permission of ${api === 'graph' ? 'Microsoft Graph' : 'Office 365 Exchange Online'}; use one of ${MAIL_APP_PERMISSIONS[api].join(', ')}`);
            }
          });
        }
      }
      if (p.required(`${at}.scope`, a.scope)) {
        const s = a.scope as { group?: string; mailboxes?: readonly string[] };
        if ((s.group === undefined) === (s.mailboxes === undefined)) p.add(`${at}.scope`, 'must be { group: "<address of a mail-enabled security group>" } or { mailboxes: ["<address>", …] }, one of the two');
        else if (s.group !== undefined) p.format(`${at}.scope.group`, upn, s.group);
        else if (!s.mailboxes!.length) p.add(`${at}.scope.mailboxes`, 'name at least one mailbox');
        else s.mailboxes!.forEach((m, j) => p.format(`${at}.scope.mailboxes[${j}]`, upn, m));
      }
      if (a.credentials !== undefined && !a.credentials.length) p.add(`${at}.credentials`, 'allow at least one kind of credential (certificate, federated, secret)');
      const d = a.maxSecretAgeDays;
      if (d !== undefined && (!Number.isInteger(d) || d < 1 || d > 730)) p.add(`${at}.maxSecretAgeDays`, `must be a whole number of days from 1 to 730, not ${d}`);
    });
  }
}

export const mailApplicationsProps = named('MailApplications', areaProps<MailApplicationsProps>({
  apps: list(
    props<MailAppProps>({
      appId: text,
      displayName: text,
      owner: ownerProps.optional(),
      permissions: props<MailAppProps['permissions']>({ graph: texts, exchange: texts }).optional(),
      // The scope is { group } or { mailboxes }; which of the two is checked by the construct.
      scope: z.strictObject({ group: text, mailboxes: texts }).optional(),
      credentials: list(oneOf<CredentialKind>({ certificate: true, federated: true, secret: true })),
      maxSecretAgeDays: whole,
    }),
  ),
}));
