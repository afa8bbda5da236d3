import { fileURLToPath, pathToFileURL } from 'node:url';

/** The exit code of a process the loopback guard stopped. */
export const GUARD_EXIT_CODE = 97;

/** NODE_OPTIONS that load the loopback guard into a Node.js process before its own code. */
export const GUARD_NODE_OPTIONS = `--import=${pathToFileURL(fileURLToPath(new URL('./guard-process.mjs', import.meta.url))).href}`;

/** NODE_OPTIONS with the guard added to what is there. */
export function withGuard(nodeOptions: string | undefined): string {
  return nodeOptions?.includes(GUARD_NODE_OPTIONS) ? nodeOptions : [nodeOptions, GUARD_NODE_OPTIONS].filter(Boolean).join(' ');
}
