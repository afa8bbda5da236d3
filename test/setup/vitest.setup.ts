import { afterEach, expect } from 'vitest';
import { installLoopbackGuard, violations } from './loopback-guard.mjs';
import { withGuard } from './loopback.js';

// No test leaves this machine. In this process a request to anywhere but loopback throws where it
// is made, and fails the test even when the code under test catches the error; every Node.js
// process a test starts with this environment loads the same guard and exits 97 instead.
installLoopbackGuard({ mode: 'throw' });
process.env['NODE_OPTIONS'] = withGuard(process.env['NODE_OPTIONS']);

let reported = 0;
afterEach(() => {
  const fresh = violations.slice(reported);
  reported = violations.length;
  expect(fresh, 'requests off loopback').toEqual([]);
});
