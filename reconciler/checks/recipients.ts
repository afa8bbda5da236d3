type Obj = Record<string, unknown>;

/** Whether a transport rule sends mail to the sender's manager (AddManagerAsRecipientType, ModerateMessageByManager). */
export const sendsToManager = (r: Obj): boolean => (typeof r['AddManagerAsRecipientType'] === 'string' && r['AddManagerAsRecipientType'] !== '') || r['ModerateMessageByManager'] === true;

/** Where mail sent to a recipient goes: outside the organisation or not, and the address it is delivered to. */
export interface Destination {
  readonly external: boolean;
  /** The SMTP address mail is delivered to (a mail contact's or mail user's external address). */
  readonly address: string;
  /** How the identity resolved, for messages: e.g. `mail contact "Payroll Desk"`. */
  readonly via?: string;
}

/** The address in any of the forms Exchange and Graph write one (`smtp:a@b`, `"N" [SMTP:a@b]`, `<a@b>`, `a@b`), lower-cased. */
export function addressOf(value: string): string | undefined {
  const v = value.trim();
  // The plain forms (`a@b`, `smtp:a@b`), nearly every address read, without the full pattern: no
  // character the pattern stops at, but for one colon after a prefix without `@`.
  const colon = v.indexOf(':');
  const rest = colon < 0 ? v : v.slice(colon + 1);
  if (!SPECIAL.test(rest) && (colon < 0 || (!SPECIAL.test(v.slice(0, colon)) && !v.slice(0, colon).includes('@')))) {
    const at = rest.indexOf('@', 1);
    return at > 0 && at < rest.length - 1 ? rest.toLowerCase() : undefined;
  }
  const m = /([^\s<>"[\]:]+@[^\s<>"[\]]+?)\]?>?$/.exec(v);
  return m ? m[1]!.toLowerCase().replace(/[>\]]+$/, '') : undefined;
}

const SPECIAL = /[\s<>"[\]:]/;

export const domainOfAddress = (address: string) => address.slice(address.lastIndexOf('@') + 1);

const IDENTITY_KEYS = ['Identity', 'Name', 'Alias', 'DisplayName', 'Guid', 'ExternalDirectoryObjectId', 'DistinguishedName', 'UserPrincipalName', 'PrimarySmtpAddress'];

/**
 * Resolves the recipients Exchange settings name (a mailbox's ForwardingAddress, a transport rule's
 * CopyTo, a user's Manager) as Exchange does: an identity names a mailbox, mail user, mail contact
 * or group; an SMTP address is delivered to the recipient that holds it (a mail user's or mail
 * contact's external address), or else by its domain. Pure: built from what was read.
 */
export class Recipients {
  private readonly byIdentity = new Map<string, Destination>();
  private readonly byAddress = new Map<string, Destination>();

  constructor(
    private readonly internal: ReadonlySet<string>,
    read: { mailboxes?: readonly Obj[]; mailUsers?: readonly Obj[]; mailContacts?: readonly Obj[]; groups?: readonly Obj[] },
  ) {
    // An object's keys often repeat a value (its address as user name, its alias as name): each once.
    const index = (o: Obj, d: Destination, addresses: unknown[]) => {
      let previous: unknown;
      for (const k of IDENTITY_KEYS) {
        const v = o[k];
        if (typeof v === 'string' && v && v !== previous) this.byIdentity.set(v.toLowerCase(), d);
        previous = v;
      }
      for (const a of addresses) {
        const address = typeof a === 'string' ? addressOf(a) : undefined;
        if (address && !this.byAddress.has(address)) this.byAddress.set(address, d);
      }
    };
    const list = (v: unknown) => (Array.isArray(v) ? v : []);
    for (const m of read.mailboxes ?? []) {
      const address = addressOf(String(m['PrimarySmtpAddress'] ?? m['UserPrincipalName'] ?? '')) ?? '';
      index(m, { external: false, address, via: `mailbox ${address}` }, [m['PrimarySmtpAddress'], m['UserPrincipalName'], ...list(m['EmailAddresses'])]);
    }
    for (const [kind, objects] of [['mail user', read.mailUsers], ['mail contact', read.mailContacts]] as const) {
      for (const o of objects ?? []) {
        const address = addressOf(String(o['ExternalEmailAddress'] ?? o['PrimarySmtpAddress'] ?? '')) ?? '';
        index(o, { external: this.isExternalAddress(address), address, via: `${kind} "${String(o['DisplayName'] ?? o['Name'] ?? address)}"` }, [o['PrimarySmtpAddress'], o['ExternalEmailAddress'], ...list(o['EmailAddresses'])]);
      }
    }
    for (const g of read.groups ?? []) {
      const address = typeof g['mail'] === 'string' ? g['mail'].toLowerCase() : '';
      const d = { external: false, address, via: `group "${String(g['displayName'])}"` };
      if (typeof g['displayName'] === 'string') this.byIdentity.set(g['displayName'].toLowerCase(), d);
      if (typeof g['mailNickname'] === 'string') this.byIdentity.set(g['mailNickname'].toLowerCase(), d);
      if (address && !this.byAddress.has(address)) this.byAddress.set(address, d);
    }
  }

  private isExternalAddress(address: string): boolean {
    return address.includes('@') && !this.internal.has(domainOfAddress(address));
  }

  /** Where mail to `value` goes; undefined for an identity that names no recipient that was read. */
  resolve(value: string): Destination | undefined {
    const v = value.trim();
    if (!v) return undefined;
    const known = this.byIdentity.get(v.toLowerCase());
    if (known) return known;
    const address = addressOf(v);
    if (!address) return undefined;
    return this.byAddress.get(address) ?? { external: this.isExternalAddress(address), address };
  }

  /** The external destinations among `values`, and the identities that name no recipient that was read. */
  classify(values: readonly string[]): { external: Destination[]; unresolved: string[] } {
    const external: Destination[] = [];
    const unresolved: string[] = [];
    for (const v of values) {
      const d = this.resolve(v);
      if (!d) unresolved.push(v);
      else if (d.external) external.push(d);
    }
    return { external, unresolved };
  }
}

/** `a@b` or, through a contact or mail user, `a@b (mail contact "Name")`. */
export const describeDestination = (d: Destination) => (d.via && !d.via.startsWith('mailbox') ? `${d.address} (${d.via})` : d.address);
