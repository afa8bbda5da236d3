/** Writes the scenarios built as code (simulator/scenario/phish-invite.ts, gateway.ts) to simulator/scenarios/. */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gatewayScenario } from '../simulator/scenario/gateway.js';
import { phishInviteScenario } from '../simulator/scenario/phish-invite.js';

export const BUILT_SCENARIOS = { 'phish-invite': phishInviteScenario, gateway: gatewayScenario } as const;

/** The overlay as a file: its fields and drifts one per line, each patch operation on a line of its own. */
export const scenarioText = (build: () => Record<string, unknown>): string => {
  const { drifts, ...head } = build() as { drifts: Array<{ patch: unknown[] } & Record<string, unknown>> } & Record<string, unknown>;
  const drift = (d: { patch: unknown[] } & Record<string, unknown>) => {
    const { patch, ...rest } = d;
    const fields = Object.entries(rest).map(([k, v]) => `      ${JSON.stringify(k)}: ${JSON.stringify(v)},`);
    return `    {\n${fields.join('\n')}\n      "patch": [\n${patch.map((op) => `        ${JSON.stringify(op)}`).join(',\n')}\n      ]\n    }`;
  };
  const fields = Object.entries(head).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)},`);
  return `{\n${fields.join('\n')}\n  "drifts": [\n${drifts.map(drift).join(',\n')}\n  ]\n}\n`;
};

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const [name, build] of Object.entries(BUILT_SCENARIOS)) {
    writeFileSync(fileURLToPath(new URL(`../simulator/scenarios/${name}.json`, import.meta.url)), scenarioText(build));
  }
}
