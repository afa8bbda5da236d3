import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunLocked } from '../../reconciler/apply/lock.js';
import { openRun, type OpenRun } from '../../reconciler/cli/run.js';
import type { Logger } from '../../reconciler/cli/log.js';
import { connect } from '../../reconciler/input/connection.js';
import { EXCHANGE_AUDIENCE, mintToken } from '../../simulator/index.js';

const TENANT_ID = 'b3c1f0e2-7d4a-4e6b-9a58-2c0d1e4f6a7b';
const log: Logger = { info: () => {}, warn: () => {}, progress: () => {} };
const env = {
  POSTURE_GRAPH_TOKEN: mintToken({ tenantId: TENANT_ID, roles: ['Policy.Read.All'] }),
  POSTURE_EXCHANGE_TOKEN: mintToken({ tenantId: TENANT_ID, audience: EXCHANGE_AUDIENCE, roles: ['Exchange.ManageAsApp'] }),
};
// Nothing is sent: the run lock is taken before any request.
const conn = (tenant: string) => connect({ tenant, auth: 'token', graphUrl: 'http://127.0.0.1:9', exchangeUrl: 'http://127.0.0.1:9', timeoutMs: 1000, env });

let saved: string | undefined;
const runs: OpenRun[] = [];
beforeEach(() => {
  saved = process.env['POSTURE_LOCK_DIR'];
  process.env['POSTURE_LOCK_DIR'] = join(mkdtempSync(join(tmpdir(), 'posture-lock-tenant-')), 'locks');
});
afterEach(async () => {
  for (const r of runs.splice(0)) await r.lock.release();
  if (saved === undefined) delete process.env['POSTURE_LOCK_DIR'];
  else process.env['POSTURE_LOCK_DIR'] = saved;
});

describe('one tenant, one run lock', () => {
  it('the tenant named by its initial domain and by its id is one lock: the second run is refused', async () => {
    runs.push(await openRun({ conn: conn(TENANT_ID), evidence: false, log }));
    await expect(openRun({ conn: conn('tailspintoys.onmicrosoft.example'), evidence: false, log }).then((r) => runs.push(r))).rejects.toThrow(RunLocked);
  });
});
