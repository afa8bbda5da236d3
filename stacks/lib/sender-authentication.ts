import type { DesiredDomain, DesiredState } from '../../reconciler/manifest/schema.js';
import { domainName, mailtoUri } from '../../reconciler/manifest/formats.js';
import { areaProps, PostureArea, type PostureAreaProps } from './area.js';
import type { EmailSecurityPosture } from './posture.js';
import type { Problems } from './problems.js';
import { flag, list, named, oneOf, props, text, texts, whole } from './prop-schemas.js';

export type DmarcPolicy = 'none' | 'quarantine' | 'reject';
const STRENGTH: Record<DmarcPolicy, number> = { none: 0, quarantine: 1, reject: 2 };

/** One mail domain and what it must publish. */
export interface MailDomainProps {
  /** The domain, lower case, e.g. `contoso.example`. */
  readonly name: string;
  /**
   * Whether the domain sends mail. A parked domain (false) must publish `v=spf1 -all` and p=reject,
   * and needs no DKIM signing. @default true
   */
  readonly sending?: boolean;
  /**
   * DMARC policy. `reject` is the catalogue minimum; `quarantine` is allowed because declaring it here
   * is the declaration MAIL.DMARC.2 asks for; `none` needs an approved exception. @default 'reject'
   */
  readonly policy?: DmarcPolicy;
  /** Policy for subdomains (sp). Weaker than `policy` needs an exception. @default same as policy */
  readonly subdomainPolicy?: DmarcPolicy;
  /**
   * Policy for non-existent subdomains (RFC 9989 np), which an attacker can invent without touching
   * DNS. Weaker than quarantine, and weaker than `subdomainPolicy`, needs an exception.
   * @default same as subdomainPolicy
   */
  readonly nonExistentSubdomainPolicy?: DmarcPolicy;
  /**
   * The historic pct (RFC 7489; RFC 9989 removed it): share of failing mail the policy applies to at
   * receivers that still implement RFC 7489. Below 100 needs an exception. @default 100
   */
  readonly pct?: number;
  /**
   * Testing mode (RFC 9989 t=y): receivers apply the policy one level below. Not enforcing, so it
   * needs an exception, as pct below 100 does. @default false
   */
  readonly testing?: boolean;
  /** Aggregate report addresses (rua), `mailto:` URIs. @default the area's reportAddresses */
  readonly rua?: readonly string[];
  /**
   * Failure report addresses (ruf), `mailto:` URIs. When declared, MAIL.DMARC.3 checks that the
   * record sends failure reports to each of them, as it does for rua. @default none
   */
  readonly ruf?: readonly string[];
  /** Identifier alignment. @default relaxed for both */
  readonly alignment?: { readonly dkim?: 'relaxed' | 'strict'; readonly spf?: 'relaxed' | 'strict' };
  /** How the SPF record must end: `-all`, or `~all` where declared here. @default '-all' */
  readonly spfAll?: '-all' | '~all';
  /** The full SPF record to publish, when the posture fixes it. */
  readonly spfRecord?: string;
  /** Whether Exchange Online must DKIM-sign for the domain. @default the value of `sending` */
  readonly dkim?: boolean;
}

export interface SenderAuthenticationProps extends PostureAreaProps {
  /** Every domain in scope. Accepted domains of the tenant that are not listed here are reported as unmanaged. */
  readonly domains: readonly MailDomainProps[];
  /** Default aggregate report addresses (rua) for domains that name none. */
  readonly reportAddresses?: readonly string[];
}

/**
 * DMARC, SPF and DKIM for every domain in scope (MAIL.DMARC.*, MAIL.SPF.1, MAIL.DKIM.1). DNS is
 * never written: the reconciler reports the exact record to publish.
 */
export class SenderAuthentication extends PostureArea {
  readonly props: SenderAuthenticationProps;

  constructor(scope: EmailSecurityPosture, id: string, props: SenderAuthenticationProps) {
    super(scope, id, 'sender-authentication', props, senderAuthenticationProps);
    this.props = props;
  }

  /** The effective settings of each domain, defaults applied. */
  domains(): DesiredDomain[] {
    return (this.props.domains ?? []).map((d) => {
      const sending = d.sending ?? true;
      const policy = d.policy ?? 'reject';
      const subdomainPolicy = d.subdomainPolicy ?? policy;
      return {
        name: String(d.name ?? '').toLowerCase(),
        sending,
        dmarc: {
          policy,
          subdomainPolicy,
          nonExistentSubdomainPolicy: d.nonExistentSubdomainPolicy ?? subdomainPolicy,
          pct: d.pct ?? 100,
          testing: d.testing ?? false,
          rua: [...(d.rua ?? this.props.reportAddresses ?? [])],
          ruf: [...(d.ruf ?? [])],
          adkim: d.alignment?.dkim === 'strict' ? 's' : 'r',
          aspf: d.alignment?.spf === 'strict' ? 's' : 'r',
        },
        spf: { all: d.spfAll ?? '-all', ...(d.spfRecord ? { record: d.spfRecord } : {}) },
        dkim: { enabled: d.dkim ?? sending },
      };
    });
  }

  desiredState(): Partial<DesiredState> {
    return { senderAuthentication: { domains: this.domains() } };
  }

  protected checkProps(p: Problems): void {
    if (!this.props.domains?.length) {
      p.add('domains', 'declare at least one domain');
      return;
    }
    (this.props.reportAddresses ?? []).forEach((a, i) => p.format(`reportAddresses[${i}]`, mailtoUri, a));
    const seen = new Set<string>();
    this.domains().forEach((d, i) => {
      const at = `domains[${i}]`;
      const raw = this.props.domains[i]!;
      if (!p.required(`${at}.name`, raw.name) || !p.format(`${at}.name`, domainName, raw.name)) return;
      if (seen.has(d.name)) p.add(`${at}.name`, `${d.name} is declared twice`);
      seen.add(d.name);

      const excepted = (control: string) => this.posture.findException(control, { type: 'domain', value: d.name });
      // Policy values outside none, quarantine and reject are refused by the props' schema.
      if (d.dmarc.policy === 'none' && !excepted('MAIL.DMARC.2')) {
        p.add(
          `${at}.policy`,
          `"none" is weaker than the catalogue minimum for ${d.name} (reject, or a declared quarantine) and no MAIL.DMARC.2 exception covers the domain`,
        );
      }
      if (
        Object.hasOwn(STRENGTH, d.dmarc.subdomainPolicy) &&
        STRENGTH[d.dmarc.subdomainPolicy] < STRENGTH[d.dmarc.policy] &&
        STRENGTH[d.dmarc.subdomainPolicy] < STRENGTH.quarantine &&
        !excepted('MAIL.DMARC.2')
      ) {
        p.add(`${at}.subdomainPolicy`, `"${d.dmarc.subdomainPolicy}" leaves subdomains of ${d.name} open to spoofing and no MAIL.DMARC.2 exception covers the domain`);
      }
      const np = d.dmarc.nonExistentSubdomainPolicy ?? d.dmarc.subdomainPolicy;
      if (
        raw.nonExistentSubdomainPolicy !== undefined &&
        Object.hasOwn(STRENGTH, np) &&
        STRENGTH[np] < STRENGTH[d.dmarc.subdomainPolicy] &&
        STRENGTH[np] < STRENGTH.quarantine &&
        !excepted('MAIL.DMARC.2')
      ) {
        p.add(
          `${at}.nonExistentSubdomainPolicy`,
          `"${np}" leaves non-existent subdomains of ${d.name} open to spoofing and no MAIL.DMARC.2 exception covers the domain`,
        );
      }
      if (!Number.isInteger(d.dmarc.pct) || d.dmarc.pct < 0 || d.dmarc.pct > 100) {
        p.add(`${at}.pct`, `must be a whole number from 0 to 100, not ${d.dmarc.pct}`);
      } else if (d.dmarc.pct < 100 && !excepted('MAIL.DMARC.2')) {
        p.add(`${at}.pct`, `${d.dmarc.pct} exempts part of the failing mail of ${d.name}; the catalogue minimum is 100 unless a MAIL.DMARC.2 exception covers the domain`);
      }
      if (d.dmarc.testing && !excepted('MAIL.DMARC.2')) {
        p.add(`${at}.testing`, `testing mode (t=y) has receivers apply a weaker policy to the failing mail of ${d.name}; it needs a MAIL.DMARC.2 exception covering the domain`);
      }
      if (d.dmarc.rua.length === 0) p.add(`${at}.rua`, 'needs at least one mailto: address for aggregate reports (or set reportAddresses)');
      d.dmarc.rua.forEach((u, k) => p.format(raw.rua ? `${at}.rua[${k}]` : `reportAddresses[${k}]`, mailtoUri, u));
      d.dmarc.ruf.forEach((u, k) => p.format(`${at}.ruf[${k}]`, mailtoUri, u));
      if (raw.spfRecord !== undefined) {
        if (!/^v=spf1(\s|$)/i.test(raw.spfRecord)) p.add(`${at}.spfRecord`, 'must start with "v=spf1"');
        else if (!raw.spfRecord.trim().toLowerCase().endsWith(` ${d.spf.all}`)) {
          p.add(`${at}.spfRecord`, `must end in ${d.spf.all} (the declared spfAll)`);
        }
      }
      if (!d.sending && d.spf.all !== '-all') p.add(`${at}.spfAll`, `${d.name} sends no mail, so its SPF record must be "v=spf1 -all"`);
    });
  }
}

const dmarcPolicy = oneOf<DmarcPolicy>({ none: true, quarantine: true, reject: true });
const alignmentMode = oneOf<'relaxed' | 'strict'>({ relaxed: true, strict: true });

const mailDomainProps = props<MailDomainProps>({
  name: text,
  sending: flag,
  policy: dmarcPolicy.optional(),
  subdomainPolicy: dmarcPolicy.optional(),
  nonExistentSubdomainPolicy: dmarcPolicy.optional(),
  pct: whole,
  testing: flag,
  rua: texts,
  ruf: texts,
  alignment: props<NonNullable<MailDomainProps['alignment']>>({ dkim: alignmentMode.optional(), spf: alignmentMode.optional() }).optional(),
  spfAll: oneOf<NonNullable<MailDomainProps['spfAll']>>({ '-all': true, '~all': true }).optional(),
  spfRecord: text,
  dkim: flag,
});

export const senderAuthenticationProps = named('SenderAuthentication', areaProps<SenderAuthenticationProps>({ domains: list(mailDomainProps), reportAddresses: texts }));
