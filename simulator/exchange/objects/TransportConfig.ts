import { z } from 'zod';
import { checkOrganisationIdentity, CmdletError, COMMON, slot, type ExchangeObject } from '../object.js';

declare module '../../tenant/tenant.js' {
  interface TenantSlots {
    /** The organisation's one transport configuration, as Get-TransportConfig shows it. */
    transportConfig: Record<string, unknown>;
  }
  interface ExchangeScenarioState {
    TransportConfig: Record<string, unknown>;
  }
}

/**
 * What a new Exchange Online organisation holds. SmtpClientAuthenticationDisabled is false: the
 * organisation-wide setting leaves SMTP AUTH client submission on until an administrator turns it
 * off (security defaults block it separately; the simulator does not model them).
 */
export const TRANSPORT_CONFIG_DEFAULTS: Readonly<Record<string, unknown>> = {
  Identity: 'Transport Settings',
  Name: 'Transport Settings',
  Guid: '8f1e2d3c-4b5a-4697-8877-6655aa44bb33',
  AddressBookPolicyRoutingEnabled: false,
  AllowLegacyTLSClients: false,
  ClearCategories: true,
  ConvertDisclaimerWrapperToEml: false,
  DSNConversionMode: 'UseExchangeDSNs',
  ExternalDelayDsnEnabled: true,
  ExternalDsnLanguageDetectionEnabled: true,
  ExternalDsnSendHtml: true,
  ExternalPostmasterAddress: null,
  HeaderPromotionModeSetting: 'NoCreate',
  InternalDelayDsnEnabled: true,
  InternalDsnLanguageDetectionEnabled: true,
  InternalDsnSendHtml: true,
  InternalSMTPServers: [],
  JournalingReportNdrTo: '<>',
  JournalMessageExpirationDays: 0,
  MaxRecipientEnvelopeLimit: 'Unlimited',
  ReplyAllStormProtectionEnabled: true,
  ReplyAllStormDetectionMinimumRecipients: 2500,
  ReplyAllStormDetectionMinimumReplies: 10,
  ReplyAllStormBlockDurationHours: 6,
  Rfc2231EncodingEnabled: false,
  SmtpClientAuthenticationDisabled: false,
  TLSReceiveDomainSecureList: [],
  TLSSendDomainSecureList: [],
  VoicemailJournalingEnabled: true,
  Xexch50Enabled: true,
  IsValid: true,
  WhenCreated: '2024-01-08T09:00:00Z',
  WhenChanged: '2024-01-08T09:00:00Z',
};

const BOOLS = ['SmtpClientAuthenticationDisabled', 'AllowLegacyTLSClients', 'ReplyAllStormProtectionEnabled', 'AddressBookPolicyRoutingEnabled'];

/** The organisation-wide transport settings: one object, read with Get-TransportConfig and changed with Set-TransportConfig. */
export const TransportConfig: ExchangeObject = {
  noun: 'TransportConfig',
  identity: ['Identity', 'Name', 'Guid'],
  state: slot({
    key: 'TransportConfig',
    schema: z.record(z.string(), z.unknown()).default(() => structuredClone(TRANSPORT_CONFIG_DEFAULTS) as Record<string, unknown>),
    property: 'transportConfig',
    init: (value) => value,
  }),
  cmdlets: [
    {
      name: 'Get-TransportConfig',
      writes: false,
      parameters: { Identity: 'string', ...COMMON },
      run: (t, p) => {
        checkOrganisationIdentity(t, t.transportConfig, ['Identity', 'Name', 'Guid'], p['Identity']);
        return [{ id: 'TransportConfig', ...t.transportConfig }];
      },
    },
    {
      name: 'Set-TransportConfig',
      writes: true,
      parameters: {
        Identity: 'string',
        ...Object.fromEntries(BOOLS.map((b) => [b, 'bool' as const])),
        ExternalPostmasterAddress: 'string',
        MaxRecipientEnvelopeLimit: 'any',
        Force: 'switch',
        ...COMMON,
      },
      run: (t, p) => {
        checkOrganisationIdentity(t, t.transportConfig, ['Identity', 'Name', 'Guid'], p['Identity']);
        const next = { ...t.transportConfig };
        for (const b of BOOLS) if (p[b] !== undefined) next[b] = p[b];
        if (p['ExternalPostmasterAddress'] !== undefined) {
          const address = p['ExternalPostmasterAddress'];
          if (address !== null && address !== '' && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(String(address))) {
            throw new CmdletError('System.Management.Automation.ParameterBindingException', `Cannot process argument transformation on parameter 'ExternalPostmasterAddress'. Cannot convert value "${String(address)}" to type "Microsoft.Exchange.Data.SmtpAddress".`);
          }
          next['ExternalPostmasterAddress'] = address === '' ? null : address;
        }
        if (p['MaxRecipientEnvelopeLimit'] !== undefined) {
          const limit = p['MaxRecipientEnvelopeLimit'];
          const n = Number(limit);
          if (String(limit).toLowerCase() === 'unlimited') next['MaxRecipientEnvelopeLimit'] = 'Unlimited';
          else if (Number.isInteger(n) && n >= 1 && n <= 1000) next['MaxRecipientEnvelopeLimit'] = n;
          else {
            throw new CmdletError('System.Management.Automation.ParameterBindingException', `Cannot validate argument on parameter 'MaxRecipientEnvelopeLimit'. The value ${String(limit)} is not Unlimited or in the range 1 to 1000.`);
          }
        }
        t.transportConfig = { ...next, WhenChanged: new Date().toISOString() };
        return [];
      },
    },
  ],
};
