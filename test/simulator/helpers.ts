import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../simulator/index.js';

export interface Reply {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Starts a simulator with limits off unless the options say otherwise. */
export function start(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  return startSimulator({ ...options, limits: { enabled: false, ...options.limits } });
}

async function reply(res: Response): Promise<Reply> {
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

/** A Graph call; `token` defaults to one with every permission. */
export async function graph(sim: RunningSimulator, method: string, path: string, o: { body?: unknown; token?: string | null } = {}): Promise<Reply> {
  const url = path.startsWith('http') ? path : `${sim.graphUrl}${path}`;
  const token = o.token === undefined ? sim.token('graph') : o.token;
  const res = await fetch(url, {
    method,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(o.body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
  });
  return reply(res);
}

/** An Exchange admin API call. */
export async function exo(
  sim: RunningSimulator,
  cmdlet: string,
  parameters: Record<string, unknown> = {},
  o: { token?: string | null; url?: string; pageSize?: number } = {},
): Promise<Reply> {
  const token = o.token === undefined ? sim.token('exchange') : o.token;
  const res = await fetch(o.url ?? `${sim.exoUrl}/adminapi/beta/${sim.tenantId}/InvokeCommand`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(o.pageSize ? { Prefer: `odata.maxpagesize=${o.pageSize}` } : {}),
    },
    body: JSON.stringify({ CmdletInput: { CmdletName: cmdlet, Parameters: parameters } }),
  });
  return reply(res);
}

/** Follows @odata.nextLink to the end (bounded), returning every item and the pages read. */
export async function all(sim: RunningSimulator, path: string, token?: string): Promise<{ items: any[]; pages: number }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const items = [];
  let next: string | undefined = path;
  let pages = 0;
  while (next && pages < 10_000) {
    const r = await graph(sim, 'GET', next, token ? { token } : {});
    if (r.status !== 200) throw new Error(`${next}: ${r.status} ${JSON.stringify(r.body)}`);
    items.push(...r.body.value);
    next = r.body['@odata.nextLink'];
    pages++;
  }
  return { items, pages };
}

export const refPath = (file: string) => new URL(`../../../shared/reference/${file}`, import.meta.url);
