import type { CommandModule } from 'yargs';
import { CATALOGUE } from '../../policies/catalogue.js';
import { unionPermissions } from '../../policies/permissions.js';
import type { Permission } from '../../policies/types.js';
import { controlPermissions } from '../resources/permissions.js';
import { P } from '../../policies/permissions.js';
import { ACTIONS } from '../manifest/response.js';
import { EXCHANGE_READ } from '../resources/exchange-object.js';
import { respondersFor } from '../resources/registry.js';

/** What each command needs: read-only commands need read permissions only. */
export function permissionsFor(command: string): Permission[] {
  switch (command) {
    case 'plan':
    case 'drift':
      return unionPermissions(CATALOGUE.map((c) => controlPermissions(c).read));
    case 'apply':
    case 'rollback':
      return unionPermissions([...CATALOGUE.map((c) => controlPermissions(c).read), ...CATALOGUE.filter((c) => c.remediation.automatic).map((c) => controlPermissions(c).remediate)]).filter(
        // Exchange reads are covered by the write role.
        (p, _i, all) => !(p.api === 'entra-role' && p.name === 'Global Reader' && all.some((q) => q.name === 'Exchange Administrator')),
      );
    case 'respond':
      return unionPermissions([RESPOND_READ, ...ACTIONS.map(actionPermissions)]);
    case 'probe':
      // The path map (MAIL.PATH.1's reads), the recipient's mailbox and its inbox rules, and message trace.
      return unionPermissions([...CATALOGUE.filter((c) => c.id === 'MAIL.PATH.1').map((c) => controlPermissions(c).read), [P.messageTraceRead, P.mailboxSettingsRead, ...EXCHANGE_READ]]);
    default:
      return [];
  }
}

/** What `posture respond` reads: the signals, the directory it tiers identities by, shared mailboxes, and the controls its finding rules can name. */
const RESPOND_READ: readonly Permission[] = unionPermissions([
  [P.alertRead, P.riskEventRead, P.riskyUserRead, P.userRead, P.roleRead, P.groupMemberRead, P.domainRead, P.analyzedMessageRead, P.calendarRead, P.auditLogQueryRead, ...EXCHANGE_READ],
  ...CATALOGUE.filter((c) => ['MAIL.FWD.3', 'MAIL.FWD.4', 'APP.CONSENT.4'].includes(c.id)).map((c) => controlPermissions(c).read),
]);

/** What one response action writes with: the write permissions of every type that serves it. */
export const actionPermissions = (action: string): Permission[] => unionPermissions(respondersFor(action).map((t) => t.writePermissions));

export const COMMANDS_WITH_PERMISSIONS = ['plan', 'drift', 'apply', 'rollback', 'respond', 'probe', 'check-domain', 'controls', 'show', 'synth', 'sim', 'evidence', 'demo'] as const;

const API_NAMES: Record<Permission['api'], string> = {
  graph: 'Microsoft Graph (application permission)',
  exchange: 'Office 365 Exchange Online (application permission)',
  'entra-role': 'Microsoft Entra directory role (assigned to the app)',
};

/** `posture permissions [command]`: the exact application permissions to grant. */
export function permissionsCommand(setExit: (code: number) => void): CommandModule<object, { command?: string; format: string }> {
  return {
    command: 'permissions [command]',
    describe: 'The exact Graph and Exchange application permissions each command needs',
    builder: (y) =>
      y
        .positional('command', { type: 'string', choices: COMMANDS_WITH_PERMISSIONS, describe: 'One command (default: all)' })
        .option('format', { choices: ['text', 'json'], default: 'text', describe: 'The permissions as text or as JSON' }) as never,
    handler: (args) => {
      const commands = args.command ? [args.command] : [...COMMANDS_WITH_PERMISSIONS];
      const table = Object.fromEntries(commands.map((c) => [c, permissionsFor(c)]));
      if (args.format === 'json') {
        console.log(JSON.stringify(table, null, 2));
      } else {
        for (const [command, perms] of Object.entries(table)) {
          console.log(`posture ${command}:`);
          if (!perms.length) console.log('  no tenant permissions (works offline or with DNS only)');
          for (const api of ['graph', 'exchange', 'entra-role'] as const) {
            const names = perms.filter((p) => p.api === api).map((p) => p.name);
            if (names.length) console.log(`  ${API_NAMES[api]}: ${names.join(', ')}`);
          }
          if (command === 'respond') {
            // Grant the reader all of the reads, and a writer only the actions the matrix lets run: those that run automatically in the scheduled job, those approved in the protected one.
            console.log('  by response action (grant what the actions the policy lets run automatically, or after approval, need):');
            for (const action of ACTIONS) {
              const need = actionPermissions(action);
              console.log(`    ${action}: ${need.length ? need.map((p) => p.name).join(', ') : 'nothing (an entry in the plan and the trail)'}`);
            }
          }
        }
      }
      setExit(0);
    },
  };
}
