// Builds the package: the TypeScript compiled to dist/, with the files the compiled code reads beside it
// (the simulator's built-in scenarios) and a cdktf.json for the compiled example app (`posture demo`).
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = new URL('..', import.meta.url);
process.chdir(fileURLToPath(root));
rmSync('dist', { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
cpSync('simulator/scenarios', 'dist/simulator/scenarios', { recursive: true });
const config = { language: 'typescript', app: 'node stacks/main.js', output: 'cdktf.out', projectId: 'email-posture-examples', sendCrashReports: 'false', terraformProviders: [], terraformModules: [], context: {} };
writeFileSync('dist/cdktf.json', JSON.stringify(config, null, 2) + '\n');
