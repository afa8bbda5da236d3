import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSimulator } from '../../simulator/index.js';
import type { Collection } from '../../simulator/tenant/collection.js';
import { all, exo, graph, start } from './helpers.js';

/** Counts the positions a collection is asked for while `f` runs. */
async function positionsRead<T>(coll: Collection, f: () => Promise<T>): Promise<{ result: T; reads: number }> {
  const original = coll.at.bind(coll);
  let reads = 0;
  coll.at = (p: number) => {
    reads++;
    return original(p);
  };
  try {
    return { result: await f(), reads };
  } finally {
    coll.at = original;
  }
}

type Page = { names: string[]; next: string | undefined };
const mailboxPage = async (sim: RunningSimulator, parameters: Record<string, unknown>, pageSize: number, url?: string): Promise<Page> => {
  const r = await exo(sim, 'Get-Mailbox', parameters, { pageSize, ...(url ? { url } : {}) });
  expect(r.status).toBe(200);
  return { names: r.body.value.map((m: { UserPrincipalName: string }) => m.UserPrincipalName), next: r.body['@odata.nextLink'] };
};

/** Every page of a Get-Mailbox, following its next links; `between` runs after each page. */
async function everyMailbox(sim: RunningSimulator, parameters: Record<string, unknown>, pageSize: number, between?: (page: number) => void): Promise<{ names: string[]; pages: number }> {
  const names: string[] = [];
  let page = await mailboxPage(sim, parameters, pageSize);
  let pages = 1;
  names.push(...page.names);
  while (page.next) {
    between?.(pages);
    page = await mailboxPage(sim, parameters, pageSize, page.next);
    names.push(...page.names);
    pages++;
  }
  return { names, pages };
}

const upns = (coll: Collection) => [...coll.values()].map((m) => String(m['UserPrincipalName']));

describe('Get-Mailbox paging over a large tenant', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await start({ scenario: 'compliant', generate: { mailboxes: 3000, mailboxForwardingShare: 0.1 } });
  });
  afterAll(() => sim?.stop());

  it('lists every mailbox exactly once, in order, across pages', async () => {
    const { names, pages } = await everyMailbox(sim, { ResultSize: 'Unlimited' }, 250);
    const expected = upns(sim.tenant.exchange.Mailbox);
    expect(expected.length).toBeGreaterThan(3000);
    expect(names).toEqual(expected);
    expect(pages).toBe(Math.ceil(expected.length / 250));
  });

  it('a page reads its own positions, not the whole list', async () => {
    const coll = sim.tenant.exchange.Mailbox;
    const first = await positionsRead(coll, () => mailboxPage(sim, { ResultSize: 'Unlimited' }, 100));
    expect(first.result.names).toHaveLength(100);
    expect(first.reads).toBeLessThanOrEqual(101);
    // A page deep in the list costs the same as the first.
    let page = first.result;
    for (let i = 0; i < 20; i++) page = await mailboxPage(sim, { ResultSize: 'Unlimited' }, 100, page.next);
    const deep = await positionsRead(coll, () => mailboxPage(sim, { ResultSize: 'Unlimited' }, 100, page.next));
    expect(deep.result.names).toHaveLength(100);
    expect(deep.reads).toBeLessThanOrEqual(101);
  });

  it('-Filter across pages: each matching mailbox once, and no next link after the last match', async () => {
    const filter = "ForwardingSmtpAddress -ne $null";
    const { names } = await everyMailbox(sim, { Filter: filter, ResultSize: 'Unlimited' }, 50);
    const expected = [...sim.tenant.exchange.Mailbox.values()].filter((m) => typeof m['ForwardingSmtpAddress'] === 'string' && m['ForwardingSmtpAddress'] !== '').map((m) => String(m['UserPrincipalName']));
    expect(expected.length).toBeGreaterThan(100);
    expect(names).toEqual(expected);
  });

  it('while it is paged: a mailbox removed before its page is not listed, one changed is listed as it is then, one added comes at the end, and none already read is skipped or repeated', async () => {
    const coll = sim.tenant.exchange.Mailbox;
    const before = upns(coll);
    const later = coll.at(2000)!;
    const changed = coll.at(2500)!;
    const alreadyRead = coll.at(10)!;
    const added = { ...coll.at(5)!, id: 'a11ed000-0000-4000-8000-000000000001', Guid: 'a11ed000-0000-4000-8000-000000000001', Name: 'added', Alias: 'added', UserPrincipalName: 'added@tailspintoys.example', PrimarySmtpAddress: 'added@tailspintoys.example', ExternalDirectoryObjectId: 'a11ed000-0000-4000-8000-0000000000ff' };
    const seen: Record<string, string> = {};
    const names: string[] = [];
    let page = await mailboxPage(sim, { ResultSize: 'Unlimited' }, 500);
    names.push(...page.names);
    coll.remove(later.id);
    coll.remove(alreadyRead.id);
    coll.replace(changed.id, { ...changed, DisplayName: 'Changed while paged' });
    coll.insert(added);
    while (page.next) {
      const r = await exo(sim, 'Get-Mailbox', { ResultSize: 'Unlimited' }, { pageSize: 500, url: page.next });
      for (const m of r.body.value as Array<{ UserPrincipalName: string; DisplayName: string }>) seen[m.UserPrincipalName] = m.DisplayName;
      page = { names: r.body.value.map((m: { UserPrincipalName: string }) => m.UserPrincipalName), next: r.body['@odata.nextLink'] };
      names.push(...page.names);
    }
    expect(names).toEqual([...before.filter((n) => n !== later['UserPrincipalName']), 'added@tailspintoys.example']);
    expect(seen[String(changed['UserPrincipalName'])]).toBe('Changed while paged');
    expect(new Set(names).size).toBe(names.length);
  });

  it('a continuation whose cursor has been dropped (more lists open than the service keeps) reads on from its position', async () => {
    const first = await mailboxPage(sim, { ResultSize: 'Unlimited' }, 100);
    // Seventeen other lists opened: the first one's cursor is the oldest and is dropped.
    for (let i = 0; i < 17; i++) await mailboxPage(sim, { ResultSize: 'Unlimited' }, 100);
    const names = [...first.names];
    let next = first.next;
    while (next) {
      const page = await mailboxPage(sim, { ResultSize: 'Unlimited' }, 100, next);
      names.push(...page.names);
      next = page.next;
    }
    expect(names).toEqual(upns(sim.tenant.exchange.Mailbox));
  });

  it('a short result (one mailbox by -Identity) is one page, without a next link', async () => {
    const upn = String(sim.tenant.exchange.Mailbox.at(42)!['UserPrincipalName']);
    const page = await mailboxPage(sim, { Identity: upn }, 10);
    expect(page).toEqual({ names: [upn], next: undefined });
  });
});

describe('Graph collection paging over a large tenant', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await start({ scenario: 'compliant', generate: { mailboxes: 3000 } });
  });
  afterAll(() => sim?.stop());

  it('lists every user exactly once across pages of $top, with a skiptoken in each nextLink', async () => {
    const { items, pages } = await all(sim, '/v1.0/users?$top=200&$select=id,userPrincipalName');
    const expected = [...sim.tenant.graph.users.values()].map((u) => u.id);
    expect(items.map((u: { id: string }) => u.id)).toEqual(expected);
    expect(pages).toBe(Math.ceil(expected.length / 200));
  });

  it('a page reads its own positions, however deep in the collection', async () => {
    const users = sim.tenant.graph.users;
    let next: string = '/v1.0/users?$top=100&$select=id';
    for (let i = 0; i < 25; i++) next = (await graph(sim, 'GET', next)).body['@odata.nextLink'];
    expect(next).toMatch(/(\$|%24)skiptoken=/);
    const deep = await positionsRead(users, () => graph(sim, 'GET', next));
    expect(deep.result.body.value).toHaveLength(100);
    expect(deep.reads).toBeLessThanOrEqual(101);
  });

  it('while it is paged: a user removed before its page is not listed, one added comes at the end, none already read is skipped or repeated', async () => {
    const users = sim.tenant.graph.users;
    const before = [...users.values()].map((u) => u.id);
    const first = await graph(sim, 'GET', '/v1.0/users?$top=500&$select=id');
    const ids: string[] = first.body.value.map((u: { id: string }) => u.id);
    const later = users.at(2000)!;
    users.remove(later.id);
    users.remove(users.at(3)!.id);
    users.insert({ id: 'a11ed000-0000-4000-8000-0000000000ff', userPrincipalName: 'added@tailspintoys.example', accountEnabled: true });
    const rest = await all(sim, first.body['@odata.nextLink']);
    ids.push(...rest.items.map((u: { id: string }) => u.id));
    expect(ids).toEqual([...before.filter((id) => id !== later.id), 'a11ed000-0000-4000-8000-0000000000ff']);
  });
});
