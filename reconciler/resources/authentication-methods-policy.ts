import { P } from '../../policies/permissions.js';
import { withoutAnnotations } from '../core/annotations.js';
import { differs, isObj } from './compare.js';
import { graphEntity, graphRead, graphWriteOf } from './graph-entity.js';
import type { Inverse, Obj, RecordedChange, ResourceType, Reversible, Writable } from './types.js';

const CONFIGURATIONS = '/policies/authenticationMethodsPolicy/authenticationMethodConfigurations';

/** The path of one method's configuration (`Sms`, `Voice`, `Email`, …; Graph matches the id case-insensitively). */
export const methodConfigurationPath = (id: string) => `${CONFIGURATIONS}/${encodeURIComponent(id)}`;

/** The configurations of the authentication methods policy as read (with their `@odata.type`). */
export const methodConfigurations = (policy: Obj | undefined): Obj[] =>
  Array.isArray(policy?.['authenticationMethodConfigurations']) ? (policy['authenticationMethodConfigurations'] as unknown[]).filter(isObj) : [];

/** A configuration's derived type, which a PATCH of it must name. */
const typeOf = (config: Obj | undefined, id: string): string =>
  typeof config?.['@odata.type'] === 'string' ? config['@odata.type'] : `#microsoft.graph.${id.charAt(0).toLowerCase()}${id.slice(1)}AuthenticationMethodConfiguration`;

const base = graphEntity({
  key: 'authenticationMethodsPolicy',
  title: 'the authentication methods policy',
  read: graphRead('authMethodsPolicy', 'graph-get', '/policies/authenticationMethodsPolicy', [P.policyReadAuthenticationMethod]),
  writes: [['PATCH', `${CONFIGURATIONS}/{id}`]],
  writePermissions: [P.policyWriteAuthenticationMethod],
  // Only ever disables: the finding names the method, the live policy gives its derived type.
  writeFor: (f, { live }) => {
    if (f.check !== 'auth-weak-method-disabled' || !f.resource.id) return undefined;
    const id = f.resource.id;
    const policy = live.authMethodsPolicy?.ok ? live.authMethodsPolicy.value : undefined;
    const config = methodConfigurations(policy).find((c) => String(c['id']).toLowerCase() === id.toLowerCase());
    return { api: 'graph', method: 'PATCH', path: methodConfigurationPath(String(config?.['id'] ?? id)), body: { '@odata.type': typeOf(config, id), state: 'disabled' } };
  },
  // The derived type is how the write is addressed, not a value that reads back.
  took: (w, after) => differs(withoutAnnotations(w.body ?? {}) as Obj, after),
});

/**
 * The tenant's authentication methods policy: which methods (SMS, voice, email one-time passcodes,
 * OATH, the Authenticator app, FIDO2, …) users may register and sign in with. Apply disables a
 * configuration the posture names as weak; rollback enables it again with the same derived type.
 */
export const authenticationMethodsPolicy: ResourceType & Writable & Reversible = {
  ...(base as ResourceType & Writable & Reversible),
  inverse(record: RecordedChange): Inverse | string | undefined {
    const undo = (base as Reversible).inverse(record);
    if (typeof undo !== 'object') return undo;
    const w = graphWriteOf(record.write, 'the authentication methods policy');
    const { '@odata.type': type } = w.body ?? {};
    const body = Object.fromEntries(Object.entries((undo.write as { body?: Obj }).body ?? {}).filter(([k]) => !k.startsWith('@odata')));
    return { ...undo, write: { ...graphWriteOf(undo.write, 'the authentication methods policy'), body: { ...(type ? { '@odata.type': type } : {}), ...body } } };
  },
};
