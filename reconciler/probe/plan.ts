/**
 * `posture probe`, pure parts: which test messages go to which inbound path, what each should get,
 * and what the disposition it got means. No I/O: the command sends and traces.
 */
import { weaker, type FailureKind, type MappedPath, type Outcome, type PathMap } from '../model/paths.js';

export type ProbeKind = 'own-domain-spoof' | 'outside-spoof';

/** One test message to send. */
export interface Probe {
  readonly path: string;
  /** The MX exchange it is sent to. */
  readonly host: string;
  readonly kind: ProbeKind;
  /** The spoofed sender (From and MAIL FROM). */
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly messageId: string;
  /** The failure the message makes: the spoofed domain's DMARC policy decides it. */
  readonly failure: FailureKind;
  /** What the path map says the path does with it. */
  readonly expected: Outcome;
  /** The weakest outcome the posture accepts. */
  readonly required: Outcome;
  /** Whether an exception in force covers the path. */
  readonly excepted: boolean;
}

/** A path the probe cannot reach, and why. */
export interface Unprobed {
  readonly path: string;
  readonly reason: string;
}

export interface ProbeConfig {
  readonly recipient: string;
  readonly outsideDomain: string;
  readonly marker: string;
}

/** The DMARC policy a domain publishes, as DNS answered (`unknown`: the query failed). */
export type PublishedPolicy = 'reject' | 'quarantine' | 'none' | 'unknown';

/** The failure a spoof of a domain with this policy makes. */
export const failureFor = (policy: PublishedPolicy): FailureKind | undefined =>
  policy === 'reject' ? 'dmarc-reject' : policy === 'quarantine' ? 'dmarc-quarantine' : policy === 'none' ? 'compauth-fail' : undefined;

/**
 * The probes of a run: for each path entered by MX (Exchange Online Protection or a gateway), a
 * spoof of the path's own domain and a spoof of the declared outside domain (which must publish
 * p=reject), each to every MX host of the path. Partner paths take mail only from the partner's
 * servers: they are listed as not probed. `policies` holds the DMARC policy of each spoofed domain.
 */
export function planProbes(
  map: PathMap,
  config: ProbeConfig,
  policies: ReadonlyMap<string, PublishedPolicy>,
  runId: string,
  /** The probe mailbox's address in a domain (a path is probed with a recipient in its own domain, as its routing would route it); undefined when it has none. */
  recipientIn: (domain: string) => string | undefined = (d) => (config.recipient.toLowerCase().endsWith(`@${d}`) ? config.recipient : undefined),
): { probes: Probe[]; unprobed: Unprobed[]; problems: string[] } {
  const probes: Probe[] = [];
  const unprobed: Unprobed[] = [];
  const problems: string[] = [];
  const outside = policies.get(config.outsideDomain) ?? 'unknown';
  if (outside !== 'reject') {
    problems.push(
      outside === 'unknown'
        ? `the DMARC policy of ${config.outsideDomain} (probe.outsideDomain) could not be looked up`
        : `${config.outsideDomain} (probe.outsideDomain) publishes p=${outside}, not p=reject: declare an outside domain that publishes p=reject`,
    );
  }
  let n = 0;
  for (const p of map.paths) {
    if (p.entry === 'partner' || !p.hosts.length) {
      unprobed.push({ path: p.key, reason: 'a partner connector takes mail only from the partner\'s servers (by IP or certificate): it cannot be probed from here' });
      continue;
    }
    const to = recipientIn(p.domain);
    if (!to) {
      const reason = `the probe mailbox ${config.recipient} has no address in ${p.domain}: add one (an smtp: proxy address) to probe this path`;
      unprobed.push({ path: p.key, reason });
      // A path mail can take that no test message went down is not confirmed: the run is incomplete.
      problems.push(`${p.key} was not probed: ${reason}`);
      continue;
    }
    const own = policies.get(p.domain) ?? 'unknown';
    const kinds: Array<[ProbeKind, string, PublishedPolicy]> = [['own-domain-spoof', p.domain, own], ['outside-spoof', config.outsideDomain, outside]];
    for (const host of p.hosts) {
      for (const [kind, domain, policy] of kinds) {
        const failure = kind === 'outside-spoof' ? (policy === 'reject' ? 'dmarc-reject' : undefined) : failureFor(policy);
        if (kind === 'own-domain-spoof' && policy === 'none') {
          // Without a DMARC policy a spoof fails nothing definite: what becomes of it is Exchange's implicit judgement.
          if (host === p.hosts[0]) unprobed.push({ path: p.key, reason: `${domain} publishes no DMARC policy to enforce (p=none or no record): its own-domain spoof is not sent; publish p=reject (MAIL.DMARC.1)` });
          continue;
        }
        if (!failure) {
          if (kind === 'own-domain-spoof') problems.push(`the DMARC policy of ${domain} could not be looked up: its spoof cannot be judged`);
          continue;
        }
        n++;
        probes.push({
          path: p.key, host, kind,
          from: `posture-probe@${domain}`,
          to,
          subject: `${config.marker} ${kind} to ${p.key} (${runId.slice(0, 8)}-${n})`,
          messageId: `<probe.${runId}.${n}@${domain}>`,
          failure,
          expected: p.dispositions[failure].outcome,
          required: p.required[failure],
          excepted: pathExcepted(p),
        });
      }
    }
  }
  return { probes, unprobed, problems };
}

const pathExcepted = (p: MappedPath) => p.exception?.inForce === true;

/**
 * What a probe's disposition means:
 * - `confirmed`: it got what the map says, which the posture accepts;
 * - `delivered`: it got through weaker than the posture requires (a finding, unless `excepted`);
 * - `excepted`: as `delivered`, on a path an exception in force covers;
 * - `differs`: acceptable, but not what the map says (the map misses something: worth a look);
 * - `not-confirmed`: no disposition was seen (message trace had none in time, or the send failed).
 */
export type ProbeResult = 'confirmed' | 'delivered' | 'excepted' | 'differs' | 'not-confirmed';

export function judgeProbe(probe: Probe, got: Outcome | undefined): ProbeResult {
  if (got === undefined) return 'not-confirmed';
  if (weaker(got, probe.required)) return probe.excepted ? 'excepted' : 'delivered';
  return got === probe.expected ? 'confirmed' : 'differs';
}

/** Message trace's status as an outcome; undefined while the service is still working on it. */
export function outcomeOfTrace(status: string): Outcome | undefined {
  switch (status.toLowerCase()) {
    case 'delivered':
      return 'inbox';
    case 'filteredasspam':
      return 'junk';
    case 'quarantined':
      return 'quarantine';
    case 'failed':
      return 'reject';
    default:
      return undefined;
  }
}

/** The exit code of a probe run: 1 when a disposition was not seen or a probe could not be made, 2 when a path delivered, else 0. */
export function probeExitCode(results: readonly ProbeResult[], problems: readonly string[]): 0 | 1 | 2 {
  if (problems.length || results.includes('not-confirmed')) return 1;
  return results.includes('delivered') ? 2 : 0;
}
