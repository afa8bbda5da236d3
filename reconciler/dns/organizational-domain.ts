import { domainToASCII } from 'node:url';
import { parse } from 'tldts';

/**
 * Normalises a domain name for DNS queries and comparisons: trims it, drops one trailing dot,
 * converts U-labels to A-labels (punycode) and lower-cases it.
 *
 * @throws RangeError when the text is not a domain name (empty, an IP address, an empty label,
 *   a label over 63 octets or a name over 253 octets).
 */
export function normalizeDomain(domain: string): string {
  const trimmed = domain.trim().replace(/\.$/, '');
  if (trimmed === '') throw new RangeError('not a domain name: the name is empty');
  if (/^[\d.]+$/.test(trimmed) || trimmed.includes(':')) throw new RangeError(`not a domain name: "${domain}" looks like an IP address`);
  const ascii = domainToASCII(trimmed).toLowerCase();
  if (ascii === '') throw new RangeError(`not a domain name: "${domain}" cannot be converted to an ASCII (IDNA) name`);
  if (ascii.length > 253) throw new RangeError(`not a domain name: "${domain}" is longer than 253 octets`);
  for (const label of ascii.split('.')) {
    if (label === '') throw new RangeError(`not a domain name: "${domain}" has an empty label`);
    if (label.length > 63) throw new RangeError(`not a domain name: label "${label}" of "${domain}" is longer than 63 octets`);
  }
  return ascii;
}

/**
 * The Organizational Domain of `domain` (RFC 7489 §3.2): the public suffix that matches most labels,
 * plus one label. The Public Suffix List comes from tldts, restricted to its ICANN section
 * (`allowPrivateDomains: false`), so `x.github.io` belongs to `github.io`, not to `x.github.io`.
 *
 * Names under a TLD that the list does not contain, such as the reserved `.example`, `.test`,
 * `.invalid` and `.localhost` (RFC 2606, RFC 6761), fall under the list's default rule `*`: the
 * last label is the public suffix and the last two labels are the organizational domain.
 * A name that is itself a public suffix (`co.uk`) has no label above the suffix; it is returned
 * unchanged, so DMARC discovery makes no second query for it.
 *
 * The result is lower-case ASCII without a trailing dot.
 *
 * @throws RangeError when `domain` is not a domain name (see {@link normalizeDomain}) or a label
 *   starts or ends with a hyphen.
 */
export function organizationalDomain(domain: string): string {
  const name = normalizeDomain(domain);
  const parsed = parse(name, { allowPrivateDomains: false });
  if (parsed.hostname === null) throw new RangeError(`not a domain name: "${domain}" is not a valid host name`);
  return parsed.domain ?? name;
}
