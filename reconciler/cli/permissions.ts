import type { CommandModule } from 'yargs';
import { CATALOGUE } from '../../policies/catalogue.js';
import { unionPermissions } from '../../policies/permissions.js';
import type { Permission } from '../../policies/types.js';
import { controlPermissions } from '../resources/permissions.js';

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
    default:
      return [];
  }
}

export const COMMANDS_WITH_PERMISSIONS = ['plan', 'drift', 'apply', 'rollback', 'check-domain', 'controls', 'show', 'synth', 'sim', 'evidence', 'demo'] as const;

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
        .option('format', { choices: ['text', 'json'], default: 'text' }) as never,
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
        }
      }
      setExit(0);
    },
  };
}
