import { describe, expect, it } from 'vitest';
import { normalizeDomain } from '../../reconciler/dns/domain-name.js';

describe('normalizeDomain', () => {
  it('trims, drops one trailing dot, converts to A-labels and lower-cases', () => {
    expect(normalizeDomain('  Mail.Contoso.Example. ')).toBe('mail.contoso.example');
    expect(normalizeDomain('Bücher.DE')).toBe('xn--bcher-kva.de');
    expect(normalizeDomain('_dmarc.Contoso.Example')).toBe('_dmarc.contoso.example');
  });

  it.each([
    ['', 'not a domain name: the name is empty'],
    ['192.0.2.1', 'not a domain name: "192.0.2.1" looks like an IP address'],
    ['2001:db8::1', 'not a domain name: "2001:db8::1" looks like an IP address'],
    ['a..contoso.com', 'not a domain name: "a..contoso.com" has an empty label'],
    [`${'a'.repeat(64)}.com`, `not a domain name: label "${'a'.repeat(64)}" of "${'a'.repeat(64)}.com" is longer than 63 octets`],
  ])('refuses %j', (domain, message) => {
    expect(() => normalizeDomain(domain)).toThrow(new RangeError(message));
  });
});
