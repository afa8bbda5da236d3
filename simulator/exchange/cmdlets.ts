import { randomUUID } from 'node:crypto';
import type { Collection, Entity } from '../tenant/collection.js';
import type { ExchangeNoun, Tenant } from '../tenant/tenant.js';
import { parseOpath, FilterSyntaxError } from './filter.js';

/** A cmdlet failure, reported in Exchange's error shape with the .NET exception type it would raise. */
export class CmdletError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

type ParamType = 'string' | 'bool' | 'int' | 'strings' | 'switch' | 'any';

export interface Cmdlet {
  readonly name: string;
  /** Whether the cmdlet changes the tenant (needs the Exchange Administrator role). */
  readonly writes: boolean;
  readonly parameters: Readonly<Record<string, ParamType>>;
  readonly required?: readonly string[];
  run(tenant: Tenant, params: Record<string, unknown>): Entity[];
}

const COMMON = { ErrorAction: 'string', WarningAction: 'string', Confirm: 'switch' } as const;

function identityOf(o: Entity, keys: readonly string[]): string[] {
  return keys.map((k) => o[k]).filter((v): v is string => typeof v === 'string').map((v) => v.toLowerCase());
}

function find(coll: Collection, identity: string, noun: string, keys: readonly string[] = ['Identity', 'Name', 'Guid']): Entity {
  const want = identity.toLowerCase();
  for (const o of coll.values()) if (identityOf(o, keys).includes(want)) return o;
  throw new CmdletError(
    'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException',
    `The operation couldn't be performed because object '${identity}' couldn't be found on 'SIMPR01A001DC01.simulated.prod.outlook.com'.`,
    404,
  );
}

function checkEnum(param: string, value: unknown, allowed: readonly string[]): string {
  const hit = allowed.find((a) => a.toLowerCase() === String(value).toLowerCase());
  if (!hit) {
    throw new CmdletError(
      'System.Management.Automation.ParameterBindingException',
      `Cannot bind parameter '${param}'. Cannot convert value "${String(value)}" to type. Specify one of the following enumeration values and try again. The possible enumeration values are "${allowed.join(', ')}".`,
    );
  }
  return hit;
}

function getter(noun: ExchangeNoun, keys?: readonly string[]): Cmdlet {
  return {
    name: `Get-${noun}`,
    writes: false,
    parameters: { Identity: 'string', ResultSize: 'any', ...COMMON },
    run: (t, p) => (p['Identity'] !== undefined ? [find(t.exchange[noun], String(p['Identity']), noun, keys)] : [...t.exchange[noun].values()]),
  };
}

function setter(noun: ExchangeNoun, parameters: Record<string, ParamType>, apply: (o: Entity, p: Record<string, unknown>, t: Tenant) => Entity, verb = 'Set', keys?: readonly string[]): Cmdlet {
  return {
    name: `${verb}-${noun}`,
    writes: true,
    parameters: { Identity: 'string', ...parameters, ...COMMON },
    required: ['Identity'],
    run: (t, p) => {
      const o = find(t.exchange[noun], String(p['Identity']), noun, keys);
      t.exchange[noun].replace(o.id, { ...apply(o, p, t), WhenChanged: new Date().toISOString() });
      return [];
    },
  };
}

const MAILBOX_KEYS = ['Identity', 'Name', 'Alias', 'UserPrincipalName', 'PrimarySmtpAddress', 'ExternalDirectoryObjectId', 'Guid', 'DistinguishedName'];

/** `"Display Name" [SMTP:address]`, the form Get-InboxRule shows recipients in. */
function exchangeRecipients(list: unknown): string[] | null {
  if (!Array.isArray(list) || list.length === 0) return null;
  return list.map((r: { emailAddress?: { name?: string; address?: string } }) => `"${r.emailAddress?.name ?? r.emailAddress?.address ?? ''}" [SMTP:${r.emailAddress?.address ?? ''}]`);
}

/** The cmdlets the simulator implements, by name. */
export const CMDLETS: ReadonlyMap<string, Cmdlet> = new Map(
  ([
    getter('HostedOutboundSpamFilterPolicy'),
    setter('HostedOutboundSpamFilterPolicy', { AutoForwardingMode: 'string' }, (o, p) => ({
      ...o,
      ...(p['AutoForwardingMode'] !== undefined ? { AutoForwardingMode: checkEnum('AutoForwardingMode', p['AutoForwardingMode'], ['Automatic', 'Off', 'On']) } : {}),
    })),
    getter('HostedContentFilterPolicy'),
    getter('RemoteDomain', ['Identity', 'Name', 'DomainName', 'Guid']),
    setter('RemoteDomain', { AutoForwardEnabled: 'bool' }, (o, p) => ({ ...o, ...(p['AutoForwardEnabled'] !== undefined ? { AutoForwardEnabled: p['AutoForwardEnabled'] } : {}) }), 'Set', ['Identity', 'Name', 'DomainName', 'Guid']),
    getter('TransportRule'),
    setter('TransportRule', { RedirectMessageTo: 'strings', BlindCopyTo: 'strings', SetSCL: 'any' }, (o, p) => {
      const next = { ...o };
      if (p['RedirectMessageTo'] !== undefined) next['RedirectMessageTo'] = p['RedirectMessageTo'];
      if (p['BlindCopyTo'] !== undefined) next['BlindCopyTo'] = p['BlindCopyTo'];
      if (p['SetSCL'] !== undefined) {
        const scl = p['SetSCL'] === null ? null : Number(p['SetSCL']);
        if (scl !== null && (!Number.isInteger(scl) || scl < -1 || scl > 9)) {
          throw new CmdletError('System.Management.Automation.ParameterBindingException', `Cannot validate argument on parameter 'SetSCL'. The value ${String(p['SetSCL'])} is not in the range -1 to 9.`);
        }
        next['SetSCL'] = scl;
      }
      return next;
    }),
    setter('TransportRule', {}, (o) => ({ ...o, State: 'Disabled' }), 'Disable'),
    setter('TransportRule', {}, (o) => ({ ...o, State: 'Enabled' }), 'Enable'),
    {
      name: 'Get-Mailbox',
      writes: false,
      parameters: { Identity: 'string', Filter: 'string', ResultSize: 'any', RecipientTypeDetails: 'strings', ...COMMON },
      run: (t, p) => {
        if (p['Identity'] !== undefined) return [find(t.exchange.Mailbox, String(p['Identity']), 'Mailbox', MAILBOX_KEYS)];
        let predicate: (o: Entity) => boolean = () => true;
        if (p['Filter'] !== undefined) {
          try {
            predicate = parseOpath(String(p['Filter']));
          } catch (err) {
            if (err instanceof FilterSyntaxError) throw new CmdletError('Microsoft.Exchange.Management.Tasks.ADFilterException', err.message);
            throw err;
          }
        }
        const types = (p['RecipientTypeDetails'] as string[] | undefined)?.map((x) => x.toLowerCase());
        const out: Entity[] = [];
        for (const m of t.exchange.Mailbox.values()) {
          if (types && !types.includes(String(m['RecipientTypeDetails']).toLowerCase())) continue;
          if (predicate(m)) out.push(m);
        }
        return out;
      },
    },
    setter('Mailbox', { ForwardingSmtpAddress: 'any', ForwardingAddress: 'any', DeliverToMailboxAndForward: 'bool' }, (o, p) => {
      const next = { ...o };
      for (const k of ['ForwardingSmtpAddress', 'ForwardingAddress', 'DeliverToMailboxAndForward']) {
        if (p[k] !== undefined) next[k] = p[k] === '' ? null : p[k];
      }
      if (typeof next['ForwardingSmtpAddress'] === 'string' && !/^smtp:/i.test(next['ForwardingSmtpAddress'])) next['ForwardingSmtpAddress'] = `smtp:${next['ForwardingSmtpAddress']}`;
      return next;
    }, 'Set', MAILBOX_KEYS),
    getter('AntiPhishPolicy'),
    setter('AntiPhishPolicy', { HonorDmarcPolicy: 'bool', DmarcRejectAction: 'string', DmarcQuarantineAction: 'string' }, (o, p) => ({
      ...o,
      ...(p['HonorDmarcPolicy'] !== undefined ? { HonorDmarcPolicy: p['HonorDmarcPolicy'] } : {}),
      ...(p['DmarcRejectAction'] !== undefined ? { DmarcRejectAction: checkEnum('DmarcRejectAction', p['DmarcRejectAction'], ['Quarantine', 'Reject']) } : {}),
      ...(p['DmarcQuarantineAction'] !== undefined ? { DmarcQuarantineAction: checkEnum('DmarcQuarantineAction', p['DmarcQuarantineAction'], ['Delete', 'MoveToJmf', 'NoAction', 'Quarantine', 'Redirect']) } : {}),
    })),
    getter('DkimSigningConfig', ['Identity', 'Name', 'Domain', 'Guid']),
    setter('DkimSigningConfig', { Enabled: 'bool' }, (o, p) => ({ ...o, ...(p['Enabled'] !== undefined ? { Enabled: p['Enabled'], Status: p['Enabled'] ? 'Valid' : 'Disabled' } : {}) }), 'Set', ['Identity', 'Name', 'Domain', 'Guid']),
    {
      name: 'New-DkimSigningConfig',
      writes: true,
      parameters: { DomainName: 'string', Enabled: 'bool', KeySize: 'int', ...COMMON },
      required: ['DomainName', 'Enabled'],
      run: (t, p) => {
        const domain = String(p['DomainName']).toLowerCase();
        if (!t.exchange.AcceptedDomain.findBy('DomainName', domain).length) {
          throw new CmdletError('Microsoft.Exchange.Management.Tasks.ManagementObjectNotFoundException', `The domain '${domain}' is not an accepted domain of this organization.`, 404);
        }
        if ([...t.exchange.DkimSigningConfig.values()].some((d) => String(d['Domain']).toLowerCase() === domain)) {
          throw new CmdletError('Microsoft.Exchange.Management.Tasks.ADObjectAlreadyExistsException', `A DKIM signing configuration already exists for the domain '${domain}'.`);
        }
        const selector = (n: number) => `selector${n}-${domain.replace(/\./g, '-')}._domainkey.${t.initialDomain}`;
        const config: Entity = {
          id: randomUUID(),
          Guid: '',
          Identity: domain,
          Name: domain,
          Domain: domain,
          Enabled: p['Enabled'] === true,
          Status: p['Enabled'] === true ? 'Valid' : 'Disabled',
          Selector1CNAME: selector(1),
          Selector2CNAME: selector(2),
          KeySize: p['KeySize'] ?? 2048,
          WhenChanged: new Date().toISOString(),
        };
        config['Guid'] = config.id;
        t.exchange.DkimSigningConfig.insert(config);
        return [config];
      },
    },
    getter('AcceptedDomain', ['Identity', 'Name', 'DomainName', 'Guid']),
    getter('MailContact', ['Identity', 'Name', 'Alias', 'DisplayName', 'PrimarySmtpAddress', 'Guid', 'DistinguishedName']),
    getter('MailUser', ['Identity', 'Name', 'Alias', 'DisplayName', 'UserPrincipalName', 'PrimarySmtpAddress', 'ExternalDirectoryObjectId', 'Guid', 'DistinguishedName']),
    getter('User', ['Identity', 'Name', 'UserPrincipalName', 'ExternalDirectoryObjectId', 'Guid', 'DistinguishedName']),
    {
      name: 'Get-InboxRule',
      writes: false,
      parameters: { Mailbox: 'string', Identity: 'string', IncludeHidden: 'switch', ...COMMON },
      required: ['Mailbox'],
      run: (t, p) => {
        const mailbox = find(t.exchange.Mailbox, String(p['Mailbox']), 'Mailbox', MAILBOX_KEYS);
        const userId = String(mailbox['ExternalDirectoryObjectId']);
        return t.inboxRules.list(userId).map((r) => {
          const actions = (r['actions'] ?? {}) as Record<string, unknown>;
          return {
            id: `${userId}\\${r.id}`,
            Identity: `${mailbox['Identity']}\\${r.id}`,
            Name: r['displayName'],
            RuleIdentity: r.id,
            Enabled: r['isEnabled'],
            Priority: r['sequence'],
            MailboxOwnerId: mailbox['Identity'],
            ForwardTo: exchangeRecipients(actions['forwardTo']),
            ForwardAsAttachmentTo: exchangeRecipients(actions['forwardAsAttachmentTo']),
            RedirectTo: exchangeRecipients(actions['redirectTo']),
            DeleteMessage: actions['delete'] === true,
            StopProcessingRules: actions['stopProcessingRules'] === true,
          };
        });
      },
    },
  ] satisfies Cmdlet[]).map((c) => [c.name.toLowerCase(), c]),
);

/** Coerces and checks the cmdlet's parameters as PowerShell parameter binding would. */
export function bindParameters(cmdlet: Cmdlet, raw: unknown): Record<string, unknown> {
  if (raw !== undefined && (typeof raw !== 'object' || raw === null || Array.isArray(raw))) {
    throw new CmdletError('System.Management.Automation.ParameterBindingException', 'Parameters must be an object of name/value pairs.');
  }
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries((raw ?? {}) as Record<string, unknown>)) {
    const key = Object.keys(cmdlet.parameters).find((k) => k.toLowerCase() === name.toLowerCase());
    if (!key) throw new CmdletError('System.Management.Automation.ParameterBindingException', `A parameter cannot be found that matches parameter name '${name}'.`);
    const type = cmdlet.parameters[key]!;
    if (type === 'bool' || type === 'switch') {
      if (typeof value !== 'boolean') throw new CmdletError('System.Management.Automation.ParameterBindingException', `Cannot process argument transformation on parameter '${key}'. Cannot convert value "${String(value)}" to type "System.Boolean".`);
    } else if (type === 'int') {
      if (!Number.isInteger(value)) throw new CmdletError('System.Management.Automation.ParameterBindingException', `Cannot convert value "${String(value)}" to type "System.Int32".`);
    } else if (type === 'strings') {
      if (!(value === null || typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'string')))) {
        throw new CmdletError('System.Management.Automation.ParameterBindingException', `Cannot convert value to type "System.String[]" for parameter '${key}'.`);
      }
      out[key] = value === null ? null : Array.isArray(value) ? value : [value];
      continue;
    } else if (type === 'string' && value !== null && typeof value !== 'string') {
      throw new CmdletError('System.Management.Automation.ParameterBindingException', `Cannot convert value "${JSON.stringify(value)}" to type "System.String" for parameter '${key}'.`);
    }
    out[key] = value;
  }
  for (const r of cmdlet.required ?? []) {
    if (out[r] === undefined) throw new CmdletError('System.Management.Automation.ParameterBindingException', `Cannot process command because of one or more missing mandatory parameters: ${r}.`);
  }
  return out;
}
