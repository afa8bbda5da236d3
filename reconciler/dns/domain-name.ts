import { domainToASCII } from 'node:url';

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
