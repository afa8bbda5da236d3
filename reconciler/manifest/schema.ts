import { z } from 'zod';
import { domainName, guid, isoDate, mailDestination, mailtoUri, upn } from './formats.js';
import { responseSchema } from './response.js';
import { alertsSchema } from './alerts.js';
import { threatAttachmentsSchema, threatLinksSchema } from './threat-links.js';
import { WEAK_METHODS } from '../../policies/catalogue/authentication.js';

/**
 * The posture manifest: the whole desired state, written by `posture synth` beside cdk.tf.json as
 * cdktf.out/stacks/<stack>/posture.json. The reconciler reads only this file and cdk.tf.json.
 *
 * Versioning: `manifestVersion` is an integer, bumped on any change a reader of the previous
 * version would misread. Readers refuse versions they do not know.
 */
export const MANIFEST_VERSION = 1;

/** Default and ceiling for how long an exception may run, in days from the day of synth. */
export const DEFAULT_EXCEPTION_MAX_DAYS = 180;

/** `date` (YYYY-MM-DD) plus `days`, as YYYY-MM-DD. */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}
export const MANIFEST_FILE = 'posture.json';

/**
 * Written at the root of the synthesized output (beside stacks/) when a synth fails, and removed
 * with the rest of the output by the next synth that succeeds. The reconciler refuses an output that
 * holds it: the stacks there are from an earlier synth, not from the posture as it is now.
 */
export const SYNTH_FAILED_FILE = 'synth-failed.json';

const text = z.string().trim().min(1, 'must not be empty');
const versionedControlId = z.string().regex(/^[A-Z]+\.[A-Z]+\.[0-9]+v[0-9]+$/, 'must be a versioned control id such as MAIL.DMARC.2v1');

export const ownerSchema = z
  .object({
    /** The accountable person or function, e.g. "Mail Platform Lead". */
    name: text,
    /** The team that acts on findings. */
    team: text,
    /** A userPrincipalName, or the mail address of a group; it must resolve in the tenant (GOV.OWNER.1). */
    contact: upn,
  })
  .strict();

export const controlModeSchema = z.enum(['report', 'alert', 'remediate']);

/**
 * Where a construct is declared in the posture's code: the stack file relative to the folder holding
 * cdktf.json (posix separators, never absolute, never `..`) and the line and column of the `new …`.
 * Absent from manifests written before it was recorded, and when the declaration lies outside that
 * folder.
 */
export const sourceLocationSchema = z
  .object({
    file: z
      .string()
      .regex(
        // eslint-disable-next-line no-control-regex
        /^(?![A-Za-z][A-Za-z0-9+.-]*:)(?!\.\.?(?:\/|$))(?!.*\/\.\.?(?:\/|$))(?!.*[\u0000-\u001f\u007f])[^\\/]+(?:\/[^\\/]+)*$/,
        'must be a relative path with / separators, without `..`, `.` or empty segments or control characters',
      ),
    line: z.number().int().min(1),
    column: z.number().int().min(1).optional(),
  })
  .strict();

export const controlEntrySchema = z
  .object({
    id: versionedControlId,
    mode: controlModeSchema,
    owner: ownerSchema,
    /** The construct that declared the control, for messages that point back at the code. */
    declaredBy: text,
    /** Where that construct is declared, for reports that annotate the code (SARIF). */
    source: sourceLocationSchema.optional(),
  })
  .strict();

export const exceptionScopeSchema = z
  .object({
    type: z.enum(['domain', 'user', 'app', 'policy', 'rule', 'path']),
    /** A domain name, a UPN, an app id or display name, a policy display name, or a rule name/identity. */
    value: text,
    /**
     * Where the excepted mail may go, for controls whose findings have a destination (forwarding):
     * addresses or domains. A live destination outside them is a finding, not excepted. Absent: any.
     */
    destinations: z.array(mailDestination).min(1, 'name at least one address or domain, or leave destinations out').optional(),
  })
  .strict();

const outcome = z.enum(['reject', 'quarantine', 'junk', 'inbox']);
const pathRequirement = z.object({ 'dmarc-reject': outcome, 'dmarc-quarantine': outcome, 'spf-hardfail': outcome, 'compauth-fail': outcome }).strict();

export const exceptionSchema = z
  .object({
    /** Stable id derived from control and scope, so findings can point at the exception that covers them. */
    id: text,
    control: versionedControlId,
    scope: exceptionScopeSchema,
    reason: text,
    approvedBy: upn,
    expires: isoDate,
    compensatingControl: text.optional(),
    ticket: text.optional(),
    declaredBy: text,
  })
  .strict();

const dmarcPolicy = z.enum(['none', 'quarantine', 'reject']);
const alignment = z.enum(['r', 's']);

export const domainSchema = z
  .object({
    name: domainName,
    /** Whether the domain sends mail. A parked domain publishes `v=spf1 -all` and needs no DKIM. */
    sending: z.boolean(),
    dmarc: z
      .object({
        policy: dmarcPolicy,
        subdomainPolicy: dmarcPolicy,
        /** The policy for non-existent subdomains (RFC 9989 np); absent in manifests written before it: the subdomain policy. */
        nonExistentSubdomainPolicy: dmarcPolicy.optional(),
        /** The historic pct (RFC 7489), which receivers that implement RFC 7489 still apply. */
        pct: z.number().int().min(0).max(100),
        /** Whether testing mode (RFC 9989 t=y) is declared; absent in manifests written before it: false. */
        testing: z.boolean().optional(),
        rua: z.array(mailtoUri).min(1, 'needs at least one mailto: address for aggregate reports'),
        ruf: z.array(mailtoUri),
        adkim: alignment,
        aspf: alignment,
      })
      .strict(),
    spf: z
      .object({
        /** How the record must end: `-all` (hardfail) or `~all` (softfail, only where declared). */
        all: z.enum(['-all', '~all']),
        /** The record to publish, when the posture states it in full. */
        record: text.optional(),
      })
      .strict(),
    dkim: z.object({ enabled: z.boolean() }).strict(),
  })
  .strict();

/** `user:<userPrincipalName>` or `group:<displayName>`: resolved to object ids against the tenant. */
export const principalRef = z
  .string()
  .regex(/^(user:[^\s@]+@[^\s@]+|group:.+)$/, 'must be user:<userPrincipalName> or group:<display name>');

const userValues = z.union([z.literal('All'), z.literal('None'), z.literal('GuestsOrExternalUsers'), principalRef]);
const riskLevel = z.enum(['low', 'medium', 'high', 'none']);

export const caPolicySchema = z
  .object({
    /** Stable key of the policy within the posture; the display name may change, the key may not. */
    key: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case letters, digits and dashes'),
    control: versionedControlId,
    displayName: text,
    state: z.enum(['enabled', 'disabled', 'enabledForReportingButNotEnforced']),
    /** When true, apply creates the policy in report-only state first. */
    staged: z.boolean(),
    /** Whether the policy enforces something (block, grant or session control) on the users it covers. */
    enforcing: z.boolean(),
    conditions: z
      .object({
        users: z
          .object({
            includeUsers: z.array(userValues),
            excludeUsers: z.array(userValues),
            includeGroups: z.array(principalRef),
            excludeGroups: z.array(principalRef),
            includeRoles: z.array(guid),
            excludeRoles: z.array(guid),
          })
          .strict(),
        applications: z
          .object({ includeApplications: z.array(z.string()), excludeApplications: z.array(z.string()) })
          .strict(),
        clientAppTypes: z.array(z.enum(['all', 'browser', 'mobileAppsAndDesktopClients', 'exchangeActiveSync', 'other'])),
        userRiskLevels: z.array(riskLevel),
        signInRiskLevels: z.array(riskLevel),
      })
      .strict(),
    grantControls: z
      .object({
        operator: z.enum(['AND', 'OR']),
        builtInControls: z.array(z.enum(['block', 'mfa', 'passwordChange', 'compliantDevice', 'domainJoinedDevice', 'approvedApplication', 'compliantApplication'])),
        /** The authentication strength the grant requires, by id (a built-in one's id is the same in every tenant). */
        authenticationStrength: z.object({ id: guid }).strict().optional(),
      })
      .strict()
      .nullable(),
    sessionControls: z
      .object({
        signInFrequency: z
          .object({
            isEnabled: z.boolean(),
            frequencyInterval: z.enum(['timeBased', 'everyTime']),
            authenticationType: z.enum(['primaryAndSecondaryAuthentication', 'secondaryAuthentication']),
            value: z.number().int().positive().nullable(),
            type: z.enum(['days', 'hours']).nullable(),
          })
          .strict()
          .nullable(),
      })
      .strict()
      .nullable(),
    /** The cdk.tf.json resource that carries the same policy for Terraform users. */
    terraformAddress: text,
  })
  .strict();

/** The kinds of credential an app may sign in with: a certificate, a federated identity credential, a client secret. */
export const credentialKind = z.enum(['certificate', 'federated', 'secret']);

/** One app declared to hold mail application permissions (MAIL.APPS.1 to 3). */
export const mailAppSchema = z
  .object({
    /** The app's application (client) id. */
    appId: guid,
    /** How people call it; the tenant's display name may differ. */
    displayName: text,
    /** Who answers for the app: its findings go to this owner. */
    owner: ownerSchema,
    /** The mail application permissions it may hold, by API: Microsoft Graph and Office 365 Exchange Online. */
    permissions: z.object({ graph: z.array(text), exchange: z.array(text) }).strict(),
    /** The mailboxes it is restricted to: the members of a mail-enabled security group (by its address), or these mailboxes. */
    scope: z.union([z.object({ group: upn }).strict(), z.object({ mailboxes: z.array(upn).min(1, 'name at least one mailbox') }).strict()]),
    /** The credentials it may sign in with. */
    credentials: z.array(credentialKind).min(1, 'allow at least one kind of credential'),
    /** The longest a client secret may live, and the oldest it may be, in days. */
    maxSecretAgeDays: z.number().int().positive(),
  })
  .strict();

export const manifestSchema = z
  .object({
    manifestVersion: z.literal(MANIFEST_VERSION),
    kind: z.literal('EmailSecurityPosture'),
    stack: text,
    organization: z.object({ name: text, primaryDomain: domainName, tenantId: guid.optional() }).strict(),
    /** Accounts that must stay outside every enforcing CA policy, so the tenant can never be locked. */
    breakGlass: z.object({ users: z.array(upn).min(1, 'declare at least one break-glass account'), groups: z.array(text) }).strict(),
    exceptionPolicy: z.object({ maxDays: z.number().int().positive() }).strict(),
    controls: z.array(controlEntrySchema),
    /** Where each construct of the posture (the root, each area, the response policy) is declared, by construct path. */
    sources: z.record(text, sourceLocationSchema).optional(),
    exceptions: z.array(exceptionSchema),
    /** Where findings of controls in `alert` mode are delivered (reconciler/manifest/alerts.ts); absent: nowhere. */
    alerts: alertsSchema.optional(),
    desired: z
      .object({
        senderAuthentication: z.object({ domains: z.array(domainSchema) }).strict().optional(),
        inbound: z
          .object({
            antiPhish: z
              .object({
                honorDmarcPolicy: z.literal(true),
                dmarcRejectAction: z.enum(['Reject', 'Quarantine']),
                dmarcQuarantineAction: z.enum(['Quarantine', 'MoveToJmf']),
              })
              .strict(),
          })
          .strict()
          .optional(),
        inboundPaths: z
          .object({
            /** Who owns the routing and the policy decision of every path no declared path names; null: nobody by default. */
            routingOwner: ownerSchema.nullable(),
            policyOwner: ownerSchema.nullable(),
            /** The weakest outcome accepted per failure kind, on every path unless a declared path says otherwise. */
            require: pathRequirement,
            /** Paths with their own owners or requirement: `domain/eop`, `domain/gateway:host`, `*\/partner:connector`, or a domain for all its paths. */
            paths: z.array(
              z
                .object({
                  match: text,
                  routingOwner: ownerSchema.nullable(),
                  policyOwner: ownerSchema.nullable(),
                  require: pathRequirement.partial(),
                  declaredBy: text,
                })
                .strict(),
            ),
            /** Days of analyzed emails read as evidence (MAIL.PATH.2); 0: none read. */
            evidenceDays: z.number().int().min(0).max(30),
            /** Where `posture probe` sends its test messages, when declared. */
            probe: z
              .object({
                recipient: upn,
                /** An outside domain that publishes p=reject, spoofed by the second probe. */
                outsideDomain: domainName,
                /** The subject prefix that marks a probe, so rules and people can tell it from real mail. */
                marker: text.max(60).refine((v) => !/\p{Cc}/u.test(v), 'must not contain control characters'),
              })
              .strict()
              .nullable(),
          })
          .strict()
          .optional(),
        forwarding: z
          .object({
            autoForwardingMode: z.literal('Off'),
            /** Remote domains that may receive automatic forwards. Never `*`. */
            allowedRemoteDomains: z.array(domainName),
          })
          .strict()
          .optional(),
        conditionalAccess: z
          .object({
            privilegedRoles: z.array(guid),
            /**
             * Exclusions the posture declares beyond the break-glass accounts. Any other exclusion found
             * in any policy of the tenant is undeclared (ID.CA.5).
             */
            exclusions: z.object({ users: z.array(upn), groups: z.array(text) }).strict(),
            policies: z.array(caPolicySchema),
          })
          .strict()
          .optional(),
        authentication: z
          .object({
            /**
             * Directory role template ids that must sign in with phishing-resistant MFA (ID.AUTH.1) when
             * the posture declares no conditional access area; with one, its privilegedRoles count.
             */
            privilegedRoles: z.array(guid).min(1, 'name at least one role'),
            /** Authentication method configurations that must be disabled (ID.AUTH.3); a method not listed is left as it is. */
            disabledMethods: z.array(z.enum(WEAK_METHODS)),
          })
          .strict()
          .optional(),
        consent: z
          .object({
            userConsent: z.enum(['disabled', 'lowRiskVerifiedPublishers']),
            allowUsersToRegisterApps: z.literal(false),
            adminConsentWorkflow: z
              .object({
                reviewers: z.array(principalRef).min(1, 'name at least one reviewer'),
                notifyReviewers: z.boolean(),
                remindersEnabled: z.boolean(),
                requestDurationInDays: z.number().int().min(1).max(30),
              })
              .strict(),
            highRiskScopes: z.array(text),
          })
          .strict()
          .optional(),
        /** Apps declared to hold mail application permissions (MailApplications). */
        mailApps: z.object({ apps: z.array(mailAppSchema) }).strict().optional(),
        /**
         * Threat protection (ThreatProtection): judged on the effective policy of each population, the
         * one policy of each kind Exchange Online applies to its members. Each protection kind is a
         * section of its own; a later one (links, attachments, malware) sits beside these.
         */
        threatProtection: z
          .object({
            populations: z
              .object({
                /** Role template ids whose holders are the privileged population, when the posture's conditional access declares none. */
                privilegedRoles: z.array(guid),
                /** Groups (display names) whose members are high-value: each is a population of its own. */
                highValueGroups: z.array(text),
              })
              .strict(),
            /** MAIL.THREAT.1: impersonation and spoof protection on each population's anti-phishing policy. */
            impersonation: z
              .object({
                /** Users whose names attackers impersonate (executives, finance): in TargetedUsersToProtect. */
                protectedUsers: z.array(upn),
                /** Partner domains protected from impersonation, besides the organisation's own accepted domains. */
                protectedDomains: z.array(domainName),
                /** What impersonation detections do (user, domain, mailbox intelligence). */
                action: z.enum(['Quarantine', 'Delete']),
              })
              .strict()
              .optional(),
            /** MAIL.THREAT.2: each population's anti-spam policy quarantines phishing and purges it after delivery. */
            antiSpam: z
              .object({
                highConfidencePhishAction: z.literal('Quarantine'),
                phishSpamAction: z.literal('Quarantine'),
                zeroHourAutoPurge: z.literal(true),
              })
              .strict()
              .optional(),
            /** MAIL.THREAT.3: each population's Safe Links policy (reconciler/manifest/threat-links.ts). */
            links: threatLinksSchema.optional(),
            /** MAIL.THREAT.4 and .5: each population's Safe Attachments and anti-malware policy. */
            attachments: threatAttachmentsSchema.optional(),
          })
          .strict()
          .optional(),
        exposure: z
          .object({
            externalSenders: z
              .object({
                /** The transport rule that prepends the external-sender banner; null: Outlook's native External tag. */
                bannerRule: text.nullable(),
              })
              .strict(),
            sharing: z
              .object({
                /** Whether sharing free/busy only (CalendarSharingFreeBusySimple) with every outside domain ("*") is allowed. */
                allowFreeBusyWithAllDomains: z.boolean(),
              })
              .strict(),
            mailboxAudit: z
              .object({
                /** The actions each logon type must audit on every user and shared mailbox. */
                owner: z.array(text),
                delegate: z.array(text),
                admin: z.array(text),
              })
              .strict(),
          })
          .strict()
          .optional(),
        /** The response policy `posture respond` runs (IncidentResponse). */
        response: responseSchema.optional(),
      })
      .strict(),
  })
  .strict();

export type Manifest = z.infer<typeof manifestSchema>;
export type Owner = z.infer<typeof ownerSchema>;
export type ControlMode = z.infer<typeof controlModeSchema>;
export type ControlEntry = z.infer<typeof controlEntrySchema>;
export type SourceLocation = z.infer<typeof sourceLocationSchema>;
export type PostureException = z.infer<typeof exceptionSchema>;
export type DesiredDomain = z.infer<typeof domainSchema>;
export type DesiredCaPolicy = z.infer<typeof caPolicySchema>;
export type DesiredAuthentication = z.infer<typeof manifestSchema>['desired']['authentication'];
export type DesiredState = Manifest['desired'];
export type DesiredMailApp = z.infer<typeof mailAppSchema>;

