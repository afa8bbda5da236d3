import type { DesiredState, Owner } from '../../reconciler/manifest/schema.js';
import { domainName, upn } from '../../reconciler/manifest/formats.js';
import { DEFAULT_PATH_REQUIREMENT, FAILURE_KINDS, type FailureKind, type Outcome } from '../../reconciler/model/paths.js';
import { areaProps, PostureArea, type PostureAreaProps } from './area.js';
import { checkOwner, type EmailSecurityPosture } from './posture.js';
import type { Problems } from './problems.js';
import { list, named, oneOf, ownerProps, props, text, whole } from './prop-schemas.js';

/** The weakest outcome accepted per failure kind, unless the posture says otherwise (one definition, in the path model). */
export { DEFAULT_PATH_REQUIREMENT };

/** Days of analyzed emails read as evidence by default. */
export const DEFAULT_EVIDENCE_DAYS = 7;
/** The subject prefix of a probe message by default. */
export const DEFAULT_PROBE_MARKER = '[email-posture probe]';

export type PathRequirement = Partial<Record<FailureKind, Outcome>>;

export interface DeclaredPathProps {
  /**
   * Which path: `tailspintoys.example/eop` (the domain's MX to Exchange Online Protection),
   * `tailspintoys.example/gateway:mx1.gateway.example` (an MX to a gateway), `*\/partner:Woodgrove`
   * (a partner connector, by name), or a domain alone for every path of that domain.
   */
  readonly path: string;
  /** Who owns the routing decision of this path (MX, gateway, connector). @default the area's routingOwner */
  readonly routingOwner?: Owner;
  /** Who owns the policy decision (anti-phishing, anti-spam, the bypasses). @default the area's policyOwner */
  readonly policyOwner?: Owner;
  /** A stricter (or, with an exception, weaker) requirement for this path. @default the area's require */
  readonly require?: PathRequirement;
}

export interface InboundPathsProps extends PostureAreaProps {
  /** Owner of the routing decision of every path no declared path names. @default none: such a path is unowned (a finding) */
  readonly routingOwner?: Owner;
  /** Owner of the policy decision of every path no declared path names. @default none: such a path is unowned (a finding) */
  readonly policyOwner?: Owner;
  /** The weakest outcome accepted per failure kind. @default {@link DEFAULT_PATH_REQUIREMENT} */
  readonly require?: PathRequirement;
  /** Paths with owners or a requirement of their own. A declared path the tenant does not have is reported. */
  readonly paths?: readonly DeclaredPathProps[];
  /**
   * Days of Defender's analyzed emails read as evidence of what happened to failing mail
   * (MAIL.PATH.2); 0 reads none. At most 30, the service's search window. @default 7
   */
  readonly evidenceDays?: number;
  /**
   * Where `posture probe` sends its test messages: a mailbox kept for probes (never a real user's),
   * and an outside domain that publishes DMARC p=reject for the second probe to spoof.
   * @default none: `posture probe` refuses to run
   */
  readonly probe?: { readonly recipient: string; readonly outsideDomain: string; readonly marker?: string };
}

/**
 * Every inbound mail path mapped, its disposition of failed authentication owned (MAIL.PATH.1) and
 * proven by evidence (MAIL.PATH.2): the area's owner owns the control objective; routing and policy
 * owners are declared per path or for all. A path that must keep delivering failing mail takes an
 * exception scoped to the path (`{ type: 'path', value: 'domain/gateway:host' }`) with its
 * compensating control.
 */
export class InboundPaths extends PostureArea {
  readonly props: InboundPathsProps;

  constructor(scope: EmailSecurityPosture, id: string, props: InboundPathsProps) {
    super(scope, id, 'inbound-paths', props, inboundPathsProps);
    this.props = props;
  }

  desiredState(): Partial<DesiredState> {
    const p = this.props;
    const probe = p.probe;
    return {
      inboundPaths: {
        routingOwner: p.routingOwner ?? null,
        policyOwner: p.policyOwner ?? null,
        require: { ...DEFAULT_PATH_REQUIREMENT, ...(p.require ?? {}) },
        paths: (p.paths ?? []).map((d) => ({
          match: d.path.trim().toLowerCase(),
          routingOwner: d.routingOwner ?? null,
          policyOwner: d.policyOwner ?? null,
          require: { ...(d.require ?? {}) },
          declaredBy: this.node.path,
        })),
        evidenceDays: p.evidenceDays ?? DEFAULT_EVIDENCE_DAYS,
        probe: probe ? { recipient: probe.recipient.toLowerCase(), outsideDomain: probe.outsideDomain.toLowerCase(), marker: probe.marker ?? DEFAULT_PROBE_MARKER } : null,
      },
    };
  }

  protected checkProps(p: Problems): void {
    const props = this.props;
    if (props.routingOwner) checkOwner(p, 'routingOwner', props.routingOwner);
    if (props.policyOwner) checkOwner(p, 'policyOwner', props.policyOwner);
    const seen = new Set<string>();
    (props.paths ?? []).forEach((d, i) => {
      const at = `paths[${i}]`;
      if (!p.required(`${at}.path`, d.path)) return;
      const key = d.path.trim().toLowerCase();
      if (!PATH_KEY.test(key)) p.add(`${at}.path`, `"${d.path.slice(0, 80)}" is not a path: use domain/eop, domain/gateway:host, */partner:connector or a domain`);
      else if (/\p{Cc}/u.test(d.path)) p.add(`${at}.path`, 'must not contain control characters');
      if (seen.has(key)) p.add(`${at}.path`, `"${d.path}" is declared twice`);
      seen.add(key);
      if (d.routingOwner) checkOwner(p, `${at}.routingOwner`, d.routingOwner);
      if (d.policyOwner) checkOwner(p, `${at}.policyOwner`, d.policyOwner);
    });
    if (props.evidenceDays !== undefined && (!Number.isInteger(props.evidenceDays) || props.evidenceDays < 0 || props.evidenceDays > 30)) {
      p.add('evidenceDays', `must be a whole number of days from 0 to 30 (the analyzed emails' search window), not ${props.evidenceDays}`);
    }
    if (props.probe) {
      if (p.required('probe.recipient', props.probe.recipient)) p.format('probe.recipient', upn, props.probe.recipient);
      if (p.required('probe.outsideDomain', props.probe.outsideDomain)) p.format('probe.outsideDomain', domainName, props.probe.outsideDomain);
      const marker = props.probe.marker;
      if (marker !== undefined && (marker.trim() === '' || /\p{Cc}/u.test(marker) || marker.length > 60)) p.add('probe.marker', 'must be a short text (at most 60 characters, no control characters)');
    }
  }
}

/** `domain/eop`, `domain/gateway:host`, `*\/partner:name`, or a domain. */
const PATH_KEY = /^(?:[a-z0-9.-]+\.[a-z]{2,}(?:\/(?:eop|gateway:[a-z0-9.-]+))?|\*\/partner:.+)$/;

const outcome = oneOf<Outcome>({ reject: true, quarantine: true, junk: true, inbox: true }).optional();
const requirement = props<PathRequirement>(Object.fromEntries(FAILURE_KINDS.map((k) => [k, outcome])) as Record<FailureKind, typeof outcome>).optional();

export const inboundPathsProps = named('InboundPaths', areaProps<InboundPathsProps>({
  routingOwner: ownerProps.optional(),
  policyOwner: ownerProps.optional(),
  require: requirement,
  paths: list(props<DeclaredPathProps>({ path: text, routingOwner: ownerProps.optional(), policyOwner: ownerProps.optional(), require: requirement })),
  evidenceDays: whole,
  probe: props<NonNullable<InboundPathsProps['probe']>>({ recipient: text, outsideDomain: text, marker: text }).optional(),
}));
