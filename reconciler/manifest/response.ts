import { z } from 'zod';
import { guid, upn } from './formats.js';

/**
 * The response policy of a posture (`desired.response`): which signals are authoritative and at what
 * confidence, how identities are tiered, and which actions each tier × confidence may take: run
 * automatically, run after a person approves the plan, or never. Written by the IncidentResponse
 * construct; read by `posture respond`.
 */

const text = z.string().trim().min(1, 'must not be empty');

export const CONFIDENCES = ['high', 'medium', 'low'] as const;
export const confidenceSchema = z.enum(CONFIDENCES);
export type Confidence = z.infer<typeof confidenceSchema>;

/**
 * Identity tiers, in the order a user is placed in them: the first that holds wins. Break-glass
 * accounts are outside every tier: respond never acts on them.
 */
export const TIERS = ['privileged', 'serviceAccount', 'highValue', 'sharedMailbox', 'standard'] as const;
export const tierSchema = z.enum(TIERS);
export type Tier = z.infer<typeof tierSchema>;

/** What respond can do to an identity. */
export const ACTIONS = [
  /** POST /users/{id}/revokeSignInSessions: every refresh token and session cookie stops working. */
  'revokeSessions',
  /** POST /identityProtection/riskyUsers/confirmCompromised: user risk goes high, so risk-based conditional access forces the password change. */
  'confirmCompromised',
  /** PATCH passwordProfile.forceChangePasswordNextSignIn. */
  'requirePasswordChange',
  /** DELETE the registered authentication methods (not the password), so MFA is registered again. */
  'requireMfaReregistration',
  /** PATCH accountEnabled false. */
  'disableAccount',
  /** DELETE inbox rules that forward, redirect or delete, and clear mailbox forwarding. */
  'removeMailRules',
  /** Remove FullAccess, SendAs and folder permissions granted within the incident window. */
  'removeDelegates',
  /** DELETE delegated permission grants and app role assignments consented within the incident window. */
  'revokeConsents',
  /** Add the user to the watchlist group for a declared period. */
  'watchlist',
  /** Notify the incident owner (an entry in the plan and the trail, and the report). */
  'notify',
  /** A phishing chain: soft-delete the message from the mailbox (analyzedEmails/remediate), decided by the mailbox's tier. */
  'purgeMessage',
  /** A phishing chain: remove the chain's invites from the calendar (the organizer's copy cancelled, every other deleted). */
  'removeInvites',
] as const;
export const actionSchema = z.enum(ACTIONS);

/** Actions on a phishing chain's artifacts, decided per mailbox the chain reached rather than per incident identity. */
export const CHAIN_ACTIONS: readonly (typeof ACTIONS)[number][] = ['purgeMessage', 'removeInvites'];
export type ResponseAction = z.infer<typeof actionSchema>;

/** What a signal of one source must match for a rule to give it a confidence. Every listed field must match; values compare case-insensitively. */
export const signalRuleSchema = z.discriminatedUnion('source', [
  z
    .object({
      source: z.literal('defenderAlert'),
      /** alerts_v2 serviceSource, e.g. microsoftDefenderForOffice365. */
      serviceSources: z.array(text).min(1).optional(),
      /** alerts_v2 category, e.g. InitialAccess, Exfiltration. */
      categories: z.array(text).min(1).optional(),
      /** alerts_v2 severity values that qualify: informational, low, medium, high. */
      severities: z.array(z.enum(['informational', 'low', 'medium', 'high'])).min(1).optional(),
      /** Evidence @odata.type suffixes the alert must carry one of, e.g. mailboxConfigurationEvidence. */
      evidenceTypes: z.array(text).min(1).optional(),
      confidence: confidenceSchema,
    })
    .strict(),
  z
    .object({
      source: z.literal('riskDetection'),
      /** riskEventType values, e.g. suspiciousInboxForwarding, anomalousToken. */
      riskEventTypes: z.array(text).min(1).optional(),
      riskLevels: z.array(z.enum(['low', 'medium', 'high'])).min(1).optional(),
      confidence: confidenceSchema,
    })
    .strict(),
  z
    .object({
      source: z.literal('riskyUser'),
      riskLevels: z.array(z.enum(['low', 'medium', 'high'])).min(1),
      confidence: confidenceSchema,
    })
    .strict(),
  z
    .object({
      source: z.literal('finding'),
      /** Unversioned control ids whose findings are compromise indicators, e.g. MAIL.FWD.4. */
      controls: z.array(z.string().regex(/^[A-Z]+\.[A-Z]+\.[0-9]+$/, 'must be a control id such as MAIL.FWD.4')).min(1),
      confidence: confidenceSchema,
    })
    .strict(),
  z
    .object({
      source: z.literal('external'),
      /** The `source` a signal file names, e.g. mail-gateway. */
      sourceNames: z.array(text).min(1),
      /** The signal `type`s that qualify. */
      types: z.array(text).min(1).optional(),
      /** The lowest confidence the tool itself must state; the rule's confidence is what counts. */
      minReportedConfidence: confidenceSchema.optional(),
      confidence: confidenceSchema,
    })
    .strict(),
]);
export type SignalRule = z.infer<typeof signalRuleSchema>;

/** What one tier at one confidence may do. An action listed in none of the three is not taken. */
export const authoritySchema = z
  .object({
    automatic: z.array(actionSchema),
    approval: z.array(actionSchema),
    never: z.array(actionSchema),
  })
  .strict();
export type Authority = z.infer<typeof authoritySchema>;

const ownerRef = z.object({ name: text, team: text, contact: upn }).strict();

/** The circuit breaker's rolling window when a posture synthesized before it had one names none. */
export const DEFAULT_BREAKER_WINDOW_HOURS = 24;

export const responseSchema = z
  .object({
    /** Who owns every incident: the plan and the trail name them. */
    owner: ownerRef,
    /** Owners of the platforms actions act on (identity, mail, applications), by action. */
    actionOwners: z.partialRecord(actionSchema, ownerRef),
    /** The first run reads this far back; later runs read from the cursor kept with the trail. */
    lookbackHours: z.number().int().min(1).max(720),
    /** Signals about one identity within this window are one incident. */
    windowHours: z.number().int().min(1).max(720),
    /** Rules in order: the first that matches a signal gives its confidence. A signal no rule matches is not authoritative. */
    signals: z.array(signalRuleSchema).min(1, 'declare at least one authoritative signal'),
    tiers: z
      .object({
        /** Directory role template ids whose active members are privileged. */
        privilegedRoles: z.array(guid).min(1),
        /** Groups (display names) whose members are high-value: executives, finance. */
        highValueGroups: z.array(text),
        /** Service accounts and other non-human users, by UPN, and groups of them. */
        serviceAccounts: z.object({ users: z.array(upn), groups: z.array(text) }).strict(),
      })
      .strict(),
    /** For every tier and every confidence, what may be done. */
    matrix: z.record(tierSchema, z.record(confidenceSchema, authoritySchema)),
    /** The watchlist: a group a conditional access policy of the posture targets, and how long a user stays in it. */
    watchlist: z.object({ group: text, days: z.number().int().min(1).max(90) }).strict().optional(),
    /**
     * When the runs of the last `windowHours` (absent: DEFAULT_BREAKER_WINDOW_HOURS) would act
     * automatically on more identities than this, the run acts on none and asks for approval.
     */
    circuitBreaker: z.object({ maxIdentities: z.number().int().min(1), maxShare: z.number().gt(0).max(1), windowHours: z.number().int().min(1).max(168).optional() }).strict(),
  })
  .strict();
export type ResponsePolicy = z.infer<typeof responseSchema>;
