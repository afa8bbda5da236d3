import { describe, expect, it } from 'vitest';
import { normalizeDomain, organizationalDomain } from '../../reconciler/dns/organizational-domain.js';

describe('organizationalDomain', () => {
  it.each([
    ['mail.contoso.com', 'contoso.com'],
    ['contoso.com', 'contoso.com'],
    ['a.b.fabrikam.co.uk', 'fabrikam.co.uk'],
    ['www.fabrikam.com.au', 'fabrikam.com.au'],
    ['MAIL.Contoso.COM.', 'contoso.com'],
    ['mail.bücher.de', 'xn--bcher-kva.de'],
    ['_dmarc.contoso.com', 'contoso.com'],
  ])('%s belongs to %s (ICANN section of the Public Suffix List)', (domain, org) => {
    expect(organizationalDomain(domain)).toBe(org);
  });

  it('ignores the private section of the list', () => {
    expect(organizationalDomain('tenant.github.io')).toBe('github.io');
    expect(organizationalDomain('a.b.blogspot.com')).toBe('blogspot.com');
  });

  it.each([
    ['mail.contoso.example', 'contoso.example'],
    ['contoso.example', 'contoso.example'],
    ['a.b.fabrikam.test', 'fabrikam.test'],
    ['host.lab.invalid', 'lab.invalid'],
  ])('%s, under a reserved TLD the list lacks, belongs to its last two labels: %s', (domain, org) => {
    expect(organizationalDomain(domain)).toBe(org);
  });

  it('returns a public suffix itself unchanged', () => {
    expect(organizationalDomain('co.uk')).toBe('co.uk');
    expect(organizationalDomain('example')).toBe('example');
  });

  it.each([
    ['', 'not a domain name: the name is empty'],
    ['192.0.2.1', 'not a domain name: "192.0.2.1" looks like an IP address'],
    ['2001:db8::1', 'not a domain name: "2001:db8::1" looks like an IP address'],
    ['a..contoso.com', 'not a domain name: "a..contoso.com" has an empty label'],
    ['-mail.contoso.com', 'not a domain name: "-mail.contoso.com" is not a valid host name'],
    [`${'a'.repeat(64)}.com`, `not a domain name: label "${'a'.repeat(64)}" of "${'a'.repeat(64)}.com" is longer than 63 octets`],
  ])('refuses %j', (domain, message) => {
    expect(() => organizationalDomain(domain)).toThrow(new RangeError(message));
  });
});

describe('normalizeDomain', () => {
  it('trims, drops one trailing dot, converts to A-labels and lower-cases', () => {
    expect(normalizeDomain('  Mail.Contoso.Example. ')).toBe('mail.contoso.example');
    expect(normalizeDomain('Bücher.DE')).toBe('xn--bcher-kva.de');
  });
});
