import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastJsonPatch, { type Operation } from 'fast-json-patch';
import { z } from 'zod';
import { EXCHANGE_COLLECTIONS, EXCHANGE_STATE } from '../exchange/cmdlets.js';
import { GRAPH_COLLECTIONS, GRAPH_STATE } from '../graph/routes.js';
import { ALL_LICENCES } from '../tenant/tenant.js';
import { simulatorSettingsSchema } from '../http/settings.js';
import type { ExchangeNoun, ExchangeScenarioState, GraphCollectionName, GraphScenarioState } from '../tenant/tenant.js';

/**
 * A scenario is a whole tenant as data: Graph objects as Graph returns them, Exchange objects as the
 * admin API returns them (each with its Guid), inbox rules per mailbox, and DNS records. An overlay
 * scenario `extends` another and lists its `drifts`, each a described JSON Patch, so every departure
 * from the base is named. The format is documented in docs/scenarios.md.
 *
 * The `graph` and `exchange` sections are assembled from the resource types the simulator serves
 * (graph/routes.ts, exchange/cmdlets.ts): every collection may be left out and is then empty (or
 * holds the service's default objects, where a new organisation has some); other state takes the
 * schema its type declares.
 */
const entity = z.object({ id: z.string().min(1) }).passthrough();
const exchangeEntity = z.object({ Guid: z.string().min(1) }).passthrough();
const dnsRecord = z
  .object({ name: z.string().min(1), type: z.enum(['TXT', 'CNAME', 'A', 'MX']), ttl: z.number().int().positive().optional(), data: z.union([z.string(), z.array(z.string())]) })
  .strict();

const timelineEntry = z
  .object({
    at: z.iso.datetime({ offset: true }),
    ...Object.fromEntries(GRAPH_COLLECTIONS.map((c) => [c, z.array(entity).optional()])),
  })
  .strict();

const graphSection = z
  .object({
    ...Object.fromEntries(GRAPH_COLLECTIONS.map((c) => [c, z.array(entity).default([])])),
    ...Object.fromEntries(GRAPH_STATE.map((s) => [s.key, s.schema])),
  })
  .strict();

const exchangeSection = z
  .object({
    ...Object.fromEntries(EXCHANGE_COLLECTIONS.map((c) => [c.noun, z.array(exchangeEntity).default(() => structuredClone(c.defaults) as Array<z.infer<typeof exchangeEntity>>)])),
    ...Object.fromEntries(EXCHANGE_STATE.map((s) => [s.key, s.schema])),
  })
  .strict();

export const scenarioSchema = z
  .object({
    name: z.string().min(1),
    description: z.string(),
    tenant: z
      .object({
        id: z.guid(),
        displayName: z.string(),
        initialDomain: z.string().min(3),
        size: z.enum(['small', 'medium', 'large']).optional(),
        /** Service plans the tenant holds (default all): AAD_PREMIUM (Entra ID P1) for conditional access, AAD_PREMIUM_P2 for Identity Protection, ATP_ENTERPRISE (Defender for Office 365) for security alerts. */
        licences: z.array(z.enum(ALL_LICENCES)).optional(),
      })
      .strict(),
    graph: graphSection,
    /** May be left out: every Exchange collection and setting then takes its default. */
    exchange: exchangeSection.prefault({}),
    dns: z.array(dnsRecord).default([]),
    /** The tenant's time at start; the clock then stands still until moved. Left out, the clock follows the wall clock. */
    clock: z.iso.datetime({ offset: true }).optional(),
    /** Signals that arrive over time: each entry's Graph objects, by collection, appear once the simulator's clock reaches `at`. */
    timeline: z.array(timelineEntry).default([]),
    /** How the simulator serves the tenant: latency, throttling limits and faults (`posture sim` options override each). */
    simulator: simulatorSettingsSchema.optional(),
  })
  .strict();

type GraphObject = { id: string } & Record<string, unknown>;
type ExchangeObject = { Guid: string } & Record<string, unknown>;

export type Scenario = Omit<z.infer<typeof scenarioSchema>, 'graph' | 'exchange'> & {
  /** Collections by key; the state of other types (singleton policies, groupMembers, messageRules) by its key. */
  graph: Record<GraphCollectionName, GraphObject[]> & GraphScenarioState;
  exchange: Record<ExchangeNoun, ExchangeObject[]> & ExchangeScenarioState;
};

const overlaySchema = z
  .object({
    name: z.string().min(1),
    description: z.string(),
    extends: z.string().min(1),
    drifts: z.array(z.object({ id: z.string().min(1), description: z.string().min(1), patch: z.array(z.record(z.string(), z.unknown())).min(1) }).strict()),
    /** Replaces the base's `simulator` block. */
    simulator: simulatorSettingsSchema.optional(),
  })
  .strict();

export type ScenarioOverlay = z.infer<typeof overlaySchema>;

/** The scenarios that ship with the simulator. */
export const BUILT_IN_SCENARIOS = ['compliant', 'drifted', 'incident', 'phish-invite', 'gateway'] as const;

const builtInPath = (name: string) => fileURLToPath(new URL(`../scenarios/${name}.json`, import.meta.url));

export class ScenarioError extends Error {}

/** Loads a scenario by built-in name or file path, resolving `extends` and applying drifts. */
export function loadScenario(nameOrPath: string, seen: string[] = []): Scenario {
  const path = (BUILT_IN_SCENARIOS as readonly string[]).includes(nameOrPath) ? builtInPath(nameOrPath) : nameOrPath;
  if (!existsSync(path)) {
    throw new ScenarioError(`scenario "${nameOrPath}" not found: give one of ${BUILT_IN_SCENARIOS.join(', ')} or the path of a scenario file`);
  }
  if (seen.includes(path)) throw new ScenarioError(`scenario ${path} extends itself through ${seen.join(' → ')}`);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ScenarioError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof data === 'object' && data !== null && 'extends' in data) {
    const overlay = overlaySchema.safeParse(data);
    if (!overlay.success) throw new ScenarioError(`${path}: ${describe(overlay.error)}`);
    const base = loadScenario(resolveRelative(overlay.data.extends, path), [...seen, path]);
    return applyDrifts(base, overlay.data, path);
  }
  return parseScenario(data, path);
}

export function parseScenario(data: unknown, source: string): Scenario {
  const parsed = scenarioSchema.safeParse(data);
  if (!parsed.success) throw new ScenarioError(`${source}: ${describe(parsed.error)}`);
  return parsed.data as unknown as Scenario;
}

/** Applies an overlay's drifts to a copy of its base; each patch must apply cleanly, `test` ops included. */
export function applyDrifts(base: Scenario, overlay: ScenarioOverlay, source = overlay.name): Scenario {
  let doc = structuredClone(base) as unknown;
  for (const drift of overlay.drifts) {
    try {
      doc = fastJsonPatch.applyPatch(doc, drift.patch as unknown as Operation[], true, false).newDocument;
    } catch (err) {
      throw new ScenarioError(`${source}: drift "${drift.id}" does not apply: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  const result = parseScenario(doc, source);
  return { ...result, name: overlay.name, description: overlay.description, ...(overlay.simulator ? { simulator: overlay.simulator } : {}) };
}

function resolveRelative(ref: string, from: string): string {
  if ((BUILT_IN_SCENARIOS as readonly string[]).includes(ref)) return ref;
  return fileURLToPath(new URL(ref, `file://${from}`));
}

function describe(error: z.ZodError): string {
  const i = error.issues[0]!;
  return `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}${error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : ''}`;
}

/** The drifts an overlay scenario declares, for tests that check each one is found. */
export function scenarioDrifts(name: string): ScenarioOverlay['drifts'] {
  const data = JSON.parse(readFileSync(builtInPath(name), 'utf8')) as unknown;
  const overlay = overlaySchema.safeParse(data);
  return overlay.success ? overlay.data.drifts : [];
}
