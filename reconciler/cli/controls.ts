import type { CommandModule } from 'yargs';
import { CATALOGUE, versionedId } from '../../policies/catalogue.js';
import { renderControlsMarkdown } from '../../policies/render-docs.js';

/** `posture controls`: the control catalogue, as a table, Markdown or JSON. */
export function controlsCommand(setExit: (code: number) => void): CommandModule<object, { format: string }> {
  return {
    command: 'controls',
    describe: 'List the control catalogue',
    builder: (y) =>
      y.option('format', { choices: ['table', 'markdown', 'json'], default: 'table', describe: 'Output format' }) as never,
    handler: (args) => {
      if (args.format === 'json') {
        console.log(JSON.stringify(CATALOGUE.map((c) => ({ ...c, versionedId: versionedId(c) })), null, 2));
      } else if (args.format === 'markdown') {
        process.stdout.write(renderControlsMarkdown());
      } else {
        const width = Math.max(...CATALOGUE.map((c) => versionedId(c).length));
        for (const c of CATALOGUE) {
          console.log(`${versionedId(c).padEnd(width)}  ${c.severity.padEnd(8)}  ${c.remediation.automatic ? 'auto  ' : 'manual'}  ${c.title}`);
        }
      }
      setExit(0);
    },
  };
}
