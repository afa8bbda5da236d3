import { z } from 'zod';
import { checkOrganisationIdentity, CmdletError, COMMON, slot, type ExchangeObject } from '../object.js';

declare module '../../tenant/tenant.js' {
  interface TenantSlots {
    /** The organisation's external sender tag setting, as Get-ExternalInOutlook shows it. */
    externalInOutlook: Record<string, unknown>;
  }
  interface ExchangeScenarioState {
    ExternalInOutlook: Record<string, unknown>;
  }
}

/** A new organisation has the External tag off and nothing on its allow list. */
export const EXTERNAL_IN_OUTLOOK_DEFAULTS: Readonly<Record<string, unknown>> = {
  Identity: 'ExternalInOutlook',
  Guid: '6d0c3b8a-2f4e-4a17-9c58-1e7d2b4a9f60',
  Enabled: false,
  AllowList: [],
  IsValid: true,
  ObjectState: 'Unchanged',
  WhenChanged: '2024-01-08T09:00:00Z',
};

/**
 * An AllowList value as Set-ExternalInOutlook takes it: a list replaces the entries, `@{Add=…}` and
 * `@{Remove=…}` (a JSON object here) change them; each entry is a domain, `*.domain` or an address.
 */
function allowList(current: string[], value: unknown): string[] {
  if (value === null) return [];
  const valid = (e: string) => /^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(e) || /^[^@\s]+@[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(e);
  const list = (v: unknown) => (Array.isArray(v) ? v : [v]).map((e) => String(e).trim());
  const check = (entries: string[]) => {
    const bad = entries.find((e) => !valid(e));
    if (bad !== undefined) throw new CmdletError('System.Management.Automation.ParameterBindingException', `Cannot process argument transformation on parameter 'AllowList'. "${bad}" is not a valid domain or email address.`);
    return entries;
  };
  if (typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    const add = o['Add'] !== undefined ? check(list(o['Add'])) : [];
    const remove = new Set((o['Remove'] !== undefined ? list(o['Remove']) : []).map((e) => e.toLowerCase()));
    const next = current.filter((e) => !remove.has(e.toLowerCase()));
    for (const e of add) if (!next.some((x) => x.toLowerCase() === e.toLowerCase())) next.push(e);
    return next;
  }
  return [...new Set(check(list(value)))];
}

/** Outlook's native External tag for the organisation: Get-ExternalInOutlook and Set-ExternalInOutlook (-Identity names the organisation or the setting). */
export const ExternalInOutlook: ExchangeObject = {
  noun: 'ExternalInOutlook',
  identity: ['Identity', 'Guid'],
  state: slot({
    key: 'ExternalInOutlook',
    schema: z.record(z.string(), z.unknown()).default(() => ({})),
    property: 'externalInOutlook',
    init: (value) => ({ ...structuredClone(EXTERNAL_IN_OUTLOOK_DEFAULTS), ...value }) as Record<string, unknown>,
  }),
  cmdlets: [
    {
      name: 'Get-ExternalInOutlook',
      writes: false,
      parameters: { Identity: 'string', ...COMMON },
      run: (t, p) => {
        checkOrganisationIdentity(t, t.externalInOutlook, ['Identity', 'Guid'], p['Identity']);
        return [{ id: 'ExternalInOutlook', ...t.externalInOutlook }];
      },
    },
    {
      name: 'Set-ExternalInOutlook',
      writes: true,
      parameters: { Identity: 'string', Enabled: 'bool', AllowList: 'any', ...COMMON },
      run: (t, p) => {
        checkOrganisationIdentity(t, t.externalInOutlook, ['Identity', 'Guid'], p['Identity']);
        const next = { ...t.externalInOutlook };
        if (p['Enabled'] !== undefined) next['Enabled'] = p['Enabled'];
        if (p['AllowList'] !== undefined) next['AllowList'] = allowList((next['AllowList'] as string[] | undefined) ?? [], p['AllowList']);
        t.externalInOutlook = { ...next, WhenChanged: new Date().toISOString() };
        return [];
      },
    },
  ],
};
