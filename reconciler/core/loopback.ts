import { BlockList, isIP } from 'node:net';

/** Loopback addresses, for the rules of what may be plain http and what a proxy must never carry. */
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * Whether a host name is a loopback address: an IPv4 address in 127.0.0.0/8, ::1 (IPv4-mapped forms
 * included), or `localhost`. A name that merely starts like one (`127.evil.example`) is not, and
 * neither is `localhost.`: an absolute name a resolver may send to DNS instead of the hosts file.
 * Takes a URL's `hostname` (IPv6 in brackets) or a bare address.
 */
export function isLoopbackHost(host: string): boolean {
  const name = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (name.toLowerCase() === 'localhost') return true;
  const family = isIP(name);
  return family !== 0 && LOOPBACK.check(name, family === 6 ? 'ipv6' : 'ipv4');
}
