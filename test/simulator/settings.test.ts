import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { limitsOfSettings, parseFault, parseLimit, simulatorSettingsSchema } from '../../simulator/http/settings.js';
import { loadScenario, startSimulator, type RunningSimulator } from '../../simulator/index.js';

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

describe('--fault', () => {
  it('maps key=value pairs onto a fault rule', () => {
    expect(parseFault('status=503,path=/v1.0/users,times=3')).toEqual({ api: 'graph', route: '/v1.0/users', kind: 'status', status: 503, times: 3 });
    expect(parseFault('kind=throttle, retryAfter=2, cmdlet=^Get-Mailbox$, after=5')).toEqual({ api: 'exchange', route: '^Get-Mailbox$', kind: 'throttle', retryAfter: 2, after: 5 });
    expect(parseFault('kind=drop,path=/oauth2PermissionGrants/,method=delete,times=1')).toEqual({ api: 'graph', route: '/oauth2PermissionGrants/', kind: 'drop', method: 'DELETE', times: 1 });
    expect(parseFault('kind=slow,delayMs=5000,path=/v1.0/domains')).toMatchObject({ kind: 'slow', delayMs: 5000 });
    expect(parseFault('kind=redirect,url=http://elsewhere.example/,path=/v1.0/users')).toMatchObject({ kind: 'redirect', url: 'http://elsewhere.example/' });
    expect(parseFault('path=/v1.0/users')).toEqual({ api: 'graph', route: '/v1.0/users', kind: 'status' });
  });

  it('refuses bad input with one message naming the option and the bad part', () => {
    const bad: Array<[string, RegExp]> = [
      ['status=503', /^--fault "status=503": name the requests it hits with path=REGEX .* or cmdlet=REGEX/],
      ['status=503,path=(', /^--fault "status=503,path=\(": path=\(: not a valid regular expression$/],
      ['status=5o3,path=/x', /^--fault "status=5o3,path=\/x": status=5o3: status must be a whole number from 100 to 599$/],
      ['status=99,path=/x', /status=99: status must be a whole number from 100 to 599/],
      ['kind=explode,path=/x', /kind=explode: not a kind of fault; give one of status, throttle, reset/],
      ['kind=body,path=/x', /kind=body: a body fault needs a JSON body: declare it in a scenario file's simulator.faults/],
      ['kind=hold,path=/x', /kind=hold: a held answer waits for code/],
      ['path=/x,colour=red', /"colour": not a key of a fault; the keys are kind, path, cmdlet/],
      ['path=/x,times=0', /times=0: times must be a whole number 1 or more$/],
      ['path=/x,times=3,times=4', /"times": given twice/],
      ['path=/x,,times=1', /an empty part/],
      ['path=/x,times', /"times": not key=value/],
      ['path=/x,times=', /"times": has no value/],
      ['path=/x,cmdlet=Get-Mailbox', /path and cmdlet: give one/],
      ['cmdlet=Get-Mailbox,method=GET', /method=GET: an Exchange cmdlet has no HTTP method/],
      ['path=/x,method=FETCH', /method=FETCH: give one of GET, POST, PATCH, PUT, DELETE/],
      ['kind=throttle,status=500,path=/x', /status=500: a throttle fault takes no status/],
      ['kind=redirect,path=/x', /url: a redirect fault needs the url it points to/],
      ['kind=redirect,url=elsewhere,path=/x', /url=elsewhere: not an absolute URL/],
    ];
    for (const [spec, message] of bad) expect(() => parseFault(spec), spec).toThrow(message);
  });
});

describe('--limit', () => {
  it('sets one limit by name', () => {
    expect(parseLimit('graph.perAppPerSecond=100')).toEqual({ field: 'appPerSecond', value: 100 });
    expect(parseLimit('mailbox.concurrent=2')).toEqual({ field: 'mailboxConcurrency', value: 2 });
    expect(parseLimit('identity.unitsPer10Seconds=7')).toEqual({ field: 'identityUnitsPer10s', value: 7 });
  });

  it('refuses an unknown name, a missing value and a value out of range', () => {
    expect(() => parseLimit('graph.perApp=5')).toThrow(/^--limit "graph.perApp=5": "graph.perApp" is not a limit; give one of graph.perAppPerSecond, /);
    expect(() => parseLimit('mailbox.concurrent')).toThrow(/^--limit "mailbox.concurrent": give the limit as mailbox.concurrent=N$/);
    expect(() => parseLimit('mailbox.concurrent=0')).toThrow(/mailbox.concurrent must be a whole number from 1 to 1,000,000; "0" is not/);
    expect(() => parseLimit('security.perMinute=1.5')).toThrow(/"1.5" is not/);
  });
});

describe("a scenario file's simulator block", () => {
  it('is validated like the rest of the file, with the path of the problem', () => {
    expect(simulatorSettingsSchema.safeParse({ latencyMs: 5, jitterMs: 1, limits: false, faults: [{ route: '/v1.0/users', kind: 'status', status: 503, times: 1 }] }).success).toBe(true);
    const problems = (value: unknown) => simulatorSettingsSchema.safeParse(value).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(problems({ latencyMs: -1 })?.[0]).toMatch(/^latencyMs: /);
    expect(problems({ limits: { graph: { perApp: 5 } } })?.[0]).toMatch(/^limits.graph: .*perApp/);
    expect(problems({ faults: [{ route: '(', kind: 'status' }] })).toEqual(['faults.0.route: is not a valid regular expression']);
    expect(problems({ faults: [{ route: '/x', kind: 'hold' }] })?.[0]).toMatch(/^faults.0.kind: must be one of status, throttle/);
    expect(problems({ faults: [{ route: '/x', kind: 'throttle', status: 500 }] })).toEqual(['faults.0.status: a throttle fault takes no status']);
    expect(problems({ faults: [{ route: '/x', kind: 'body' }] })).toEqual(['faults.0.body: a body fault needs the body to answer with']);
    expect(problems({ latency: 5 })?.[0]).toMatch(/latency/);
  });

  it('maps onto the limits; a scenario file names the problem, and what the caller gives overrides the file', async () => {
    expect(limitsOfSettings({ latencyMs: 50, limits: { graph: { perAppPerSecond: 10 }, mailbox: { concurrent: 2 } } })).toEqual({ latencyMs: 50, appPerSecond: 10, mailboxConcurrency: 2 });
    expect(limitsOfSettings({ limits: false })).toEqual({ enabled: false });
    const dir = mkdtempSync(join(tmpdir(), 'posture-settings-'));
    const file = join(dir, 'faulty.json');
    writeFileSync(file, JSON.stringify({ name: 'faulty', description: 'compliant, with a fault', extends: 'compliant', drifts: [], simulator: { faults: [{ route: '/v1.0/domains$', kind: 'status', status: 502 }] } }));
    expect(loadScenario(file).simulator?.faults).toHaveLength(1);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, JSON.stringify({ name: 'broken', description: '', extends: 'compliant', drifts: [], simulator: { jitterMs: 'lots' } }));
    expect(() => loadScenario(broken)).toThrow(/broken\.json: simulator\.jitterMs: /);
    sim = await startSimulator({ scenario: file });
    const token = sim.token('graph');
    const get = async (path: string) => (await fetch(`${sim!.graphUrl}${path}`, { headers: { authorization: `Bearer ${token}` } })).status;
    expect(await get('/v1.0/domains')).toBe(502);
    await sim.stop();
    sim = await startSimulator({ scenario: file, faults: [] });
    expect(await get('/v1.0/domains')).toBe(200);
  });
});
