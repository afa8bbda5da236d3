import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * What the README says each pipeline job needs: the permissions of its app and the federated
 * credential subject it presents. The tests register exactly these in the simulator and sign in
 * with them, so the README cannot drift from what works.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
export const README = readFileSync(`${root}README.md`, 'utf8');

/** The rows of the first markdown table after a heading, as cells (code spans unwrapped). */
export function tableAfter(markdown: string, heading: string): string[][] {
  const start = markdown.indexOf(heading);
  if (start < 0) throw new Error(`README has no "${heading}"`);
  const lines = markdown.slice(start).split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(first)) {
    if (!line.startsWith('|')) break;
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    if (cells.every((c) => /^:?-+:?$/.test(c))) continue;
    rows.push(cells);
  }
  return rows.slice(1);
}

const code = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

export interface DocumentedSubject {
  /** With ORG/REPO (GitHub) or ORG/PROJECT/CONNECTION (Azure DevOps) as placeholders. */
  readonly subject: string;
  readonly jobs: string;
  readonly app: 'reader' | 'writer';
}

/** The README's federated credential subjects for GitHub Actions. */
export function githubSubjects(): DocumentedSubject[] {
  return tableAfter(README, '### Federated credentials: GitHub Actions').map(([subject, jobs, app]) => ({ subject: code(subject!)[0]!, jobs: jobs!, app: app!.trim() as 'reader' | 'writer' }));
}

/** The README's federated credential subject for Azure DevOps, and its issuer form. */
export function azureDevOpsCredential(): { issuer: string; subject: string } {
  const rows = tableAfter(README, '### Federated credentials: Azure DevOps');
  const get = (name: string) => code(rows.find((r) => r[0]!.toLowerCase() === name)![1]!)[0]!;
  return { issuer: get('issuer'), subject: get('subject') };
}

/** The README's permissions per app: Graph and Exchange application permissions, and the directory role. */
export function documentedPermissions(): Record<'reader' | 'writer', { graph: string[]; exchange: string[]; role: string[] }> {
  const rows = tableAfter(README, '### Permissions per pipeline app');
  const out: Record<string, { graph: string[]; exchange: string[]; role: string[] }> = {};
  const keys = ['graph', 'exchange', 'role'] as const;
  const header = ['Microsoft Graph', 'Office 365 Exchange Online', 'directory role'];
  for (const [what, reader, writer] of rows) {
    const key = keys[header.findIndex((h) => what!.startsWith(h))];
    if (!key) throw new Error(`README permissions table: unknown row "${what}"`);
    for (const [app, cell] of [['reader', reader], ['writer', writer]] as const) {
      out[app] ??= { graph: [], exchange: [], role: [] };
      out[app]![key] = code(cell!);
    }
  }
  return out as Record<'reader' | 'writer', { graph: string[]; exchange: string[]; role: string[] }>;
}
