import type { Collection } from '../../tenant/collection.js';
import { CmdletError, exchangeObject } from '../object.js';

declare module '../../tenant/tenant.js' {
  interface ExchangeCollections {
    SharingPolicy: Collection;
  }
}

/** What a sharing policy entry may share, by the domain it names (`Anonymous` is calendar publishing). */
const ACTIONS = ['CalendarSharingFreeBusySimple', 'CalendarSharingFreeBusyDetail', 'CalendarSharingFreeBusyReviewer', 'ContactsSharing'];
const ANONYMOUS_ACTIONS = ['CalendarSharingFreeBusySimple', 'CalendarSharingFreeBusyDetail', 'CalendarSharingFreeBusyReviewer'];

/** One Domains entry, `domain:Action[, Action]`, checked as Exchange parses a SharingPolicyDomain. */
function checkEntry(entry: string): string {
  const at = entry.indexOf(':');
  const domain = at < 0 ? '' : entry.slice(0, at).trim();
  const actions = at < 0 ? [] : entry.slice(at + 1).split(',').map((a) => a.trim()).filter(Boolean);
  const anonymous = domain.toLowerCase() === 'anonymous';
  const allowed = anonymous ? ANONYMOUS_ACTIONS : ACTIONS;
  const domainOk = anonymous || domain === '*' || /^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(domain);
  if (!domainOk || actions.length === 0 || !actions.every((a) => allowed.some((x) => x.toLowerCase() === a.toLowerCase()))) {
    throw new CmdletError(
      'System.Management.Automation.ParameterBindingException',
      `Cannot process argument transformation on parameter 'Domains'. Cannot convert value "${entry}" to type "Microsoft.Exchange.Data.SharingPolicyDomain".`,
    );
  }
  return entry.trim();
}

/**
 * Sharing policies: which outside domains users may share calendars (free/busy, details, reviewer)
 * and contacts with, and `Anonymous` for publishing calendars to anyone with a link. Exchange Online
 * ships the Default Sharing Policy with anonymous reviewer publishing and free/busy for every domain.
 */
export const SharingPolicy = exchangeObject({
  noun: 'SharingPolicy',
  defaults: [
    {
      Guid: '0f5e8a21-7c3d-4b9e-a6d2-5e1f0c8b7a43',
      Identity: 'Default Sharing Policy',
      Name: 'Default Sharing Policy',
      Domains: ['Anonymous:CalendarSharingFreeBusyReviewer', '*:CalendarSharingFreeBusySimple'],
      Enabled: true,
      Default: true,
      AdminDisplayName: '',
      ExchangeVersion: '0.10 (14.0.100.0)',
      IsValid: true,
      ObjectState: 'Unchanged',
      WhenCreated: '2024-01-08T09:00:00Z',
      WhenChanged: '2024-01-08T09:00:00Z',
    },
  ],
  cmdlets: (o) => [
    o.get(),
    o.set({ Domains: 'strings', Enabled: 'bool', Default: 'switch', Name: 'string' }, (x, p, t) => {
      const next = { ...x };
      if (p['Domains'] !== undefined) next['Domains'] = p['Domains'] === null ? [] : (p['Domains'] as string[]).map(checkEntry);
      if (p['Enabled'] !== undefined) next['Enabled'] = p['Enabled'];
      if (p['Name'] !== undefined) next['Name'] = p['Name'];
      if (p['Default'] === true) {
        for (const other of t.exchange.SharingPolicy.values()) if (other.id !== x.id && other['Default'] === true) t.exchange.SharingPolicy.replace(other.id, { ...other, Default: false });
        next['Default'] = true;
      }
      return next;
    }),
  ],
});
