/**
 * Findings and warnings in the words of the pipeline the command runs in: GitHub Actions workflow
 * commands (annotations and the job summary) and Azure Pipelines logging commands, when those
 * environments are detected. Every value is escaped as the platform asks, so tenant text cannot
 * end a command or start another.
 */
import { appendFileSync } from 'node:fs';
import { neutralise } from '../core/text.js';
import { ACTIONABLE } from '../model/finding.js';
import type { PlanDocument } from '../model/plan.js';

export type Pipeline = 'github' | 'azure' | undefined;

/** The pipeline of the environment: GITHUB_ACTIONS=true, or TF_BUILD=True (Azure Pipelines). */
export function pipelineOf(env: NodeJS.ProcessEnv = process.env): Pipeline {
  if (env['GITHUB_ACTIONS'] === 'true') return 'github';
  if ((env['TF_BUILD'] ?? '').toLowerCase() === 'true') return 'azure';
  return undefined;
}

/** GitHub's escaping of a workflow command's message (`%`, CR, LF) and, for properties, `:` and `,`. */
const ghData = (s: string) => neutralise(s, '\r\n').replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const ghProperty = (s: string) => ghData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
/** Azure Pipelines' escaping of a logging command (`%`, CR, LF, `;` and `]` in properties). */
const azData = (s: string) => neutralise(s, '\r\n').replace(/%/g, '%AZP25').replace(/\r/g, '%AZP0D').replace(/\n/g, '%AZP0A');
const azProperty = (s: string) => azData(s).replace(/;/g, '%AZP3B').replace(/]/g, '%AZP5D');

/** A warning as the pipeline shows it; undefined outside one. */
export function pipelineWarning(pipeline: Pipeline, message: string, title?: string): string | undefined {
  if (pipeline === 'github') return `::warning${title ? ` title=${ghProperty(title)}` : ''}::${ghData(message)}`;
  if (pipeline === 'azure') return `##vso[task.logissue type=warning]${azData(message)}`;
  return undefined;
}

/** GitHub shows at most 10 annotations of each kind per step: the rest are counted in one. */
export const ANNOTATIONS_SHOWN = 10;

/** The lines a plan adds to the pipeline's log: an annotation per finding to act on (the first ten), one for an incomplete run. */
export function pipelineLines(pipeline: Pipeline, plan: PlanDocument): string[] {
  if (!pipeline) return [];
  const acting = plan.findings.filter((f) => ACTIONABLE.includes(f.status));
  const out: string[] = [];
  for (const f of acting.slice(0, ANNOTATIONS_SHOWN)) {
    const title = `${f.control.versionedId} ${f.severity}: ${f.resource.type} ${f.resource.name}`;
    out.push(pipeline === 'github' ? `::error title=${ghProperty(title)}::${ghData(`${f.summary} Owner: ${f.owner.name} (${f.owner.contact}).`)}` : `##vso[task.logissue type=error;code=${azProperty(f.control.versionedId)}]${azData(`${title}: ${f.summary}`)}`);
  }
  if (acting.length > ANNOTATIONS_SHOWN) {
    const more = `${acting.length - ANNOTATIONS_SHOWN} more findings to act on: see the report`;
    out.push(pipeline === 'github' ? `::error::${ghData(more)}` : `##vso[task.logissue type=error]${azData(more)}`);
  }
  if (plan.incomplete.length) {
    const what = `the run is incomplete: ${plan.incomplete.map((i) => `${i.what} (${i.error})`).join('; ')}`;
    out.push(pipeline === 'github' ? `::error title=incomplete read::${ghData(what)}` : `##vso[task.logissue type=error]${azData(what)}`);
  }
  return out;
}

/** Appends the plan's Markdown to GitHub's job summary (GITHUB_STEP_SUMMARY), when there is one. */
export function writeJobSummary(markdown: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const file = env['GITHUB_STEP_SUMMARY'];
  if (pipelineOf(env) !== 'github' || !file) return false;
  appendFileSync(file, markdown.endsWith('\n') ? markdown : `${markdown}\n`);
  return true;
}
