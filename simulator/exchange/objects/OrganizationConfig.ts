import { z } from 'zod';
import { checkOrganisationIdentity, COMMON, slot, type ExchangeObject } from '../object.js';

declare module '../../tenant/tenant.js' {
  interface TenantSlots {
    /** The organisation's one configuration object, as Get-OrganizationConfig shows it. */
    organizationConfig: Record<string, unknown>;
  }
  interface ExchangeScenarioState {
    OrganizationConfig: Record<string, unknown>;
  }
}

/**
 * What a new Exchange Online organisation shows (a subset of Get-OrganizationConfig's many
 * properties; Identity and Name are the organisation's initial domain). AuditDisabled is false: mailbox auditing has been on by default since 2019. A scenario
 * states only the properties it changes; the rest keep these values.
 */
export const ORGANIZATION_CONFIG_DEFAULTS: Readonly<Record<string, unknown>> = {
  Guid: '4b1d7c2e-9a3f-4e60-8d15-2c7b9e0a6f31',
  AuditDisabled: false,
  AutoExpandingArchiveEnabled: false,
  CustomerLockboxEnabled: false,
  DefaultGroupAccessType: 'Private',
  ElcProcessingDisabled: false,
  EwsEnabled: null,
  FocusedInboxOn: null,
  MailTipsAllTipsEnabled: true,
  MailTipsExternalRecipientsTipsEnabled: false,
  MailTipsGroupMetricsEnabled: true,
  MailTipsLargeAudienceThreshold: 25,
  OAuth2ClientProfileEnabled: true,
  PublicFoldersEnabled: 'Local',
  ReadTrackingEnabled: false,
  SendFromAliasEnabled: false,
  SmtpActionableMessagesEnabled: true,
  IsDehydrated: false,
  IsValid: true,
  ObjectState: 'Unchanged',
  WhenCreated: '2024-01-08T09:00:00Z',
  WhenChanged: '2024-01-08T09:00:00Z',
};

const BOOLS = ['AuditDisabled', 'AutoExpandingArchiveEnabled', 'CustomerLockboxEnabled', 'ElcProcessingDisabled', 'MailTipsAllTipsEnabled', 'MailTipsExternalRecipientsTipsEnabled', 'ReadTrackingEnabled', 'SendFromAliasEnabled'];

/** The organisation-wide configuration: read with Get-OrganizationConfig, changed with Set-OrganizationConfig (which names no object: it is the organisation's). */
export const OrganizationConfig: ExchangeObject = {
  noun: 'OrganizationConfig',
  identity: ['Identity', 'Name', 'Guid'],
  state: slot({
    key: 'OrganizationConfig',
    schema: z.record(z.string(), z.unknown()).default(() => ({})),
    property: 'organizationConfig',
    init: (value) => ({ ...structuredClone(ORGANIZATION_CONFIG_DEFAULTS), ...value }) as Record<string, unknown>,
  }),
  cmdlets: [
    {
      name: 'Get-OrganizationConfig',
      writes: false,
      parameters: { Identity: 'string', ...COMMON },
      run: (t, p) => {
        checkOrganisationIdentity(t, t.organizationConfig, ['Identity', 'Name', 'Guid'], p['Identity']);
        return [{ id: 'OrganizationConfig', Identity: t.initialDomain, Name: t.initialDomain, ...t.organizationConfig }];
      },
    },
    {
      name: 'Set-OrganizationConfig',
      writes: true,
      parameters: { ...Object.fromEntries(BOOLS.map((b) => [b, 'bool' as const])), Force: 'switch', ...COMMON },
      run: (t, p) => {
        const next = { ...t.organizationConfig };
        for (const b of BOOLS) if (p[b] !== undefined) next[b] = p[b];
        t.organizationConfig = { ...next, WhenChanged: new Date().toISOString() };
        return [];
      },
    },
  ],
};
