import type { Control, Permission } from '../../policies/types.js';
import { isWritable, resourceType } from './registry.js';

/** Permissions in first-seen order, each once. */
function union(lists: Iterable<readonly Permission[]>): Permission[] {
  const byKey = new Map<string, Permission>();
  for (const list of lists) for (const p of list) if (!byKey.has(`${p.api}:${p.name}`)) byKey.set(`${p.api}:${p.name}`, p);
  return [...byKey.values()];
}

/**
 * What a control needs: to read, the read permissions of every type it reads; to remediate, the
 * write permissions of every type it writes. From the resource types, never written twice.
 */
export function controlPermissions(c: Control): { read: Permission[]; remediate: Permission[] } {
  return {
    read: union(c.resources.read.map((k) => resourceType(k).read?.permissions ?? [])),
    remediate: union((c.resources.write ?? []).map((k) => {
      const t = resourceType(k);
      if (!isWritable(t)) throw new Error(`control ${c.id} writes ${k}, which is read-only`);
      return t.writePermissions;
    })),
  };
}
