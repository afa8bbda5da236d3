import { z } from 'zod';
import { HIGH_RISK_MAIL_SCOPES } from '../../policies/catalogue.js';
import type { DesiredState } from '../../reconciler/manifest/schema.js';
import { upn } from '../../reconciler/manifest/formats.js';
import { areaProps, PostureArea, type PostureAreaProps } from './area.js';
import type { EmailSecurityPosture } from './posture.js';
import type { Problems } from './problems.js';
import { flag, list, named, oneOf, props, text, texts, whole } from './prop-schemas.js';

/** A reviewer of admin consent requests: a user by UPN or a group by display name. */
export type Reviewer = { readonly user: string } | { readonly group: string };

export interface ConsentGovernanceProps extends PostureAreaProps {
  /**
   * What users may consent to by themselves (APP.CONSENT.1): nothing, or low-risk permissions of
   * apps from verified publishers (`microsoft-user-default-low`). @default 'disabled'
   */
  readonly userConsent?: 'disabled' | 'lowRiskVerifiedPublishers';
  /** The admin consent workflow (APP.CONSENT.2). Required: with user consent off, users need a way to ask. */
  readonly adminConsentWorkflow: {
    /** Who reviews requests; at least one. */
    readonly reviewers: readonly Reviewer[];
    /** @default true */
    readonly notifyReviewers?: boolean;
    /** @default true */
    readonly remindersEnabled?: boolean;
    /** Days before a request expires, 1 to 30. @default 30 */
    readonly requestDurationInDays?: number;
  };
  /** Delegated scopes treated as high risk in addition to the catalogue's (APP.CONSENT.4). */
  readonly additionalHighRiskScopes?: readonly string[];
}

/**
 * Users cannot consent apps into their mailboxes; an admin consent workflow with named reviewers
 * exists; only admins register apps; no user-granted high-risk mail permission (APP.CONSENT.1 to 4).
 */
export class ConsentGovernance extends PostureArea {
  readonly props: ConsentGovernanceProps;

  constructor(scope: EmailSecurityPosture, id: string, props: ConsentGovernanceProps) {
    super(scope, id, 'consent', props, consentGovernanceProps);
    this.props = props;
  }

  desiredState(): Partial<DesiredState> {
    const w = this.props.adminConsentWorkflow;
    const reviewers = (w?.reviewers ?? []).map((r) => ('user' in r ? `user:${r.user.toLowerCase()}` : `group:${r.group}`));
    return {
      consent: {
        userConsent: this.props.userConsent ?? 'disabled',
        allowUsersToRegisterApps: false,
        adminConsentWorkflow: {
          reviewers,
          notifyReviewers: w?.notifyReviewers ?? true,
          remindersEnabled: w?.remindersEnabled ?? true,
          requestDurationInDays: w?.requestDurationInDays ?? 30,
        },
        highRiskScopes: [...new Set([...HIGH_RISK_MAIL_SCOPES, ...(this.props.additionalHighRiskScopes ?? [])])].sort(),
      },
    };
  }

  protected checkProps(p: Problems): void {
    const w = this.props.adminConsentWorkflow;
    if (!p.required('adminConsentWorkflow', w)) return;
    if (!w.reviewers?.length) p.add('adminConsentWorkflow.reviewers', 'name at least one reviewer ({ user } or { group })');
    (w.reviewers ?? []).forEach((r, i) => {
      const at = `adminConsentWorkflow.reviewers[${i}]`;
      if ('user' in r) p.format(`${at}.user`, upn, r.user);
      else if (!('group' in r) || !String(r.group ?? '').trim()) p.add(at, 'must be { user: "<UPN>" } or { group: "<display name>" }');
    });
    const d = w.requestDurationInDays;
    if (d !== undefined && (!Number.isInteger(d) || d < 1 || d > 30)) {
      p.add('adminConsentWorkflow.requestDurationInDays', `must be a whole number from 1 to 30, not ${d}`);
    }
  }
}

export const consentGovernanceProps = named('ConsentGovernance', areaProps<ConsentGovernanceProps>({
  userConsent: oneOf<NonNullable<ConsentGovernanceProps['userConsent']>>({ disabled: true, lowRiskVerifiedPublishers: true }).optional(),
  adminConsentWorkflow: props<ConsentGovernanceProps['adminConsentWorkflow']>({
    // A reviewer is { user } or { group }; which of the two is checked by the construct.
    reviewers: list(z.strictObject({ user: text, group: text })),
    notifyReviewers: flag,
    remindersEnabled: flag,
    requestDurationInDays: whole,
  }).optional(),
  additionalHighRiskScopes: texts,
}));
