// Keeps the tests on this machine: every TCP or TLS connection, UDP datagram, hostname lookup and
// DNS query must go to loopback (127.0.0.0/8, ::1, localhost). Anything else is stopped before it
// is sent. Plain JavaScript, so a child process can load it with `node --import` before anything else;
// every process started from a guarded one gets the guard too, whatever environment it is given.
import childProcess from 'node:child_process';
import dgram from 'node:dgram';
import dns from 'node:dns';
import dnsPromises from 'node:dns/promises';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import { promisify } from 'node:util';

/** The exit code of a process the guard stopped. */
export const GUARD_EXIT_CODE = 97;

/** NODE_OPTIONS that load the guard into a Node.js process before its own code. */
export const GUARD_NODE_OPTIONS = `--import=${new URL('./guard-process.mjs', import.meta.url).href}`;

/** NODE_OPTIONS with the guard added to what is there. */
export function withGuard(nodeOptions) {
  return nodeOptions?.includes(GUARD_NODE_OPTIONS) ? nodeOptions : [nodeOptions, GUARD_NODE_OPTIONS].filter(Boolean).join(' ');
}

const IPV4_LOOPBACK = /^127(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** Is this host (a name, an address, maybe in brackets) on this machine? */
export function isLoopbackHost(host) {
  if (typeof host !== 'string') return false;
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  return h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1' || IPV4_LOOPBACK.test(h) || /^::ffff:127(?:\.\d{1,3}){3}$/.test(h);
}

/** The host a DNS server string (`1.2.3.4`, `1.2.3.4:53`, `[::1]:53`, `::1`) names. */
export function serverHost(server) {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(server);
  if (bracketed) return bracketed[1];
  const parts = server.split(':');
  return parts.length === 2 ? parts[0] : server;
}

/** Where a `Socket.prototype.connect` call goes: `{ host, port }`, or undefined for a local pipe. */
export function connectTarget(args) {
  const a = Array.isArray(args[0]) ? args[0] : args;
  const first = a[0];
  if (first !== null && typeof first === 'object') {
    if (first.path) return undefined;
    return { host: first.host ?? 'localhost', port: first.port };
  }
  if (typeof first === 'string' && !/^\s*\d+\s*$/.test(first)) return undefined;
  return { host: typeof a[1] === 'string' ? a[1] : 'localhost', port: first };
}

const state = { installed: false, violations: [], seen: [], onViolation: undefined, connect: undefined };

/** Destinations refused so far (in this process). */
export const violations = state.violations;
/** Hosts connected to so far (in this process): what the guard checked. */
export const seen = state.seen;

function refuse(what) {
  const message = `loopback guard: ${what} is not on this machine; tests must not leave loopback`;
  state.violations.push(message);
  state.onViolation(message);
}

const RESOLVER_METHODS = ['resolve', 'resolve4', 'resolve6', 'resolveAny', 'resolveCaa', 'resolveCname', 'resolveMx', 'resolveNaptr', 'resolveNs', 'resolvePtr', 'resolveSoa', 'resolveSrv', 'resolveTxt', 'reverse'];

function guardResolver(target, servers) {
  for (const name of RESOLVER_METHODS) {
    const original = target[name];
    if (typeof original !== 'function') continue;
    target[name] = function (...args) {
      const list = servers(this);
      const outside = list.map(serverHost).find((h) => !isLoopbackHost(h));
      if (outside !== undefined || list.length === 0) refuse(`DNS server ${outside ?? '(none set)'} (${name} ${String(args[0])})`);
      return original.apply(this, args);
    };
  }
}

/**
 * For the guard's own tests: runs `body` with the connect underneath the guard replaced by `fake`,
 * so that even a guard that failed to stop a connection would send nothing.
 */
export async function withUnderlyingConnect(fake, body) {
  const real = state.connect;
  state.connect = fake;
  try {
    return await body();
  } finally {
    state.connect = real;
  }
}

/**
 * Installs the guard once per process. `mode: 'throw'` throws where the request was made (and
 * records it); `mode: 'exit'` prints the refusal and ends the process with code 97.
 */
export function installLoopbackGuard({ mode }) {
  if (state.installed) return;
  state.installed = true;
  state.onViolation =
    mode === 'exit'
      ? (message) => {
          process.stderr.write(`${message}\n`);
          process.exit(GUARD_EXIT_CODE);
        }
      : (message) => {
          throw new Error(message);
        };

  state.connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (...args) {
    const target = connectTarget(args);
    if (target) {
      state.seen.push(String(target.host));
      if (!isLoopbackHost(String(target.host))) refuse(`a connection to ${target.host}:${target.port}`);
    }
    return state.connect.apply(this, args);
  };

  for (const mod of [dns, dnsPromises]) {
    for (const name of ['lookup', 'lookupService']) {
      const original = mod[name];
      mod[name] = function (host, ...rest) {
        // An address is looked up without asking anyone (sockets look up the address they bind to);
        // a name other than localhost would be asked of a resolver.
        if (net.isIP(String(host)) === 0 && !isLoopbackHost(String(host))) refuse(`a lookup of ${host}`);
        return original.call(this, host, ...rest);
      };
    }
  }

  guardResolver(dns.Resolver.prototype, (r) => r.getServers());
  guardResolver(dnsPromises.Resolver.prototype, (r) => r.getServers());
  guardResolver(dns, () => dns.getServers());
  guardResolver(dnsPromises, () => dnsPromises.getServers());

  const send = dgram.Socket.prototype.send;
  dgram.Socket.prototype.send = function (...args) {
    const address = args.slice(1).find((a) => typeof a === 'string');
    const port = args.slice(1).find((a) => typeof a === 'number');
    // Without an address, an unconnected socket sends to localhost.
    if (address !== undefined && !isLoopbackHost(address)) refuse(`a datagram to ${address}:${port}`);
    return send.apply(this, args);
  };
  guardChildProcesses();

  const udpConnect = dgram.Socket.prototype.connect;
  dgram.Socket.prototype.connect = function (port, address, ...rest) {
    if (typeof address === 'string' && !isLoopbackHost(address)) refuse(`a datagram socket to ${address}:${port}`);
    return udpConnect.call(this, port, address, ...rest);
  };
}

/** The arguments of a child_process call with the guard in the environment its options give the child. */
export function guardedArguments(args) {
  const i = args.findIndex((a, n) => n > 0 && a !== null && typeof a === 'object' && !Array.isArray(a));
  // Without options or without an env, the child inherits this process's environment, which loads the guard.
  if (i < 0 || !args[i].env) return args;
  const options = { ...args[i], env: { ...args[i].env, NODE_OPTIONS: withGuard(args[i].env.NODE_OPTIONS) } };
  return [...args.slice(0, i), options, ...args.slice(i + 1)];
}

/**
 * Every way of starting a process passes the guard on: a child given its own environment gets
 * NODE_OPTIONS with the guard added (a Node.js child loads it; any other program ignores it).
 */
function guardChildProcesses() {
  for (const name of ['spawn', 'spawnSync', 'execFile', 'execFileSync', 'exec', 'execSync', 'fork']) {
    const original = childProcess[name];
    const guarded = function (...args) {
      return original.apply(this, guardedArguments(args));
    };
    const custom = original[promisify.custom];
    if (custom) guarded[promisify.custom] = (...args) => custom(...guardedArguments(args));
    childProcess[name] = guarded;
  }
  syncBuiltinESMExports();
}
