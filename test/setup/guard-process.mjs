// Loaded with `node --import` into every process the tests start: the loopback guard, ending the
// process (exit code 97) at the first destination off this machine.
import { installLoopbackGuard } from './loopback-guard.mjs';

installLoopbackGuard({ mode: 'exit' });
