// The loopback guard's settings for TypeScript callers; the guard itself is plain JavaScript.
export { GUARD_EXIT_CODE, GUARD_NODE_OPTIONS, withGuard } from './loopback-guard.mjs';
