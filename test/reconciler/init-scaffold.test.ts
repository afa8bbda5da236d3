import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { checkAnswers, mergePackageJson, packageNameFor, scaffoldFiles, stackNameFor, type ScaffoldAnswers, type ScaffoldPackage } from '../../reconciler/init/scaffold.js';

const pkg: ScaffoldPackage = {
  version: '1.2.3',
  tsx: '4.23.15',
  typescript: '5.9.3',
  pipelines: {
    github: [
      { path: '.github/workflows/posture.yml', text: 'env:\n  POSTURE_STACK: contoso\n' },
      { path: '.github/actions/posture/action.yml', text: 'runs:\n  using: composite\n' },
    ],
    'azure-devops': [
      { path: 'azure-pipelines.yml', text: 'variables:\n  - name: POSTURE_STACK\n    value: contoso\n' },
      { path: 'templates/posture-setup.yml', text: 'steps:\n  - script: npm ci\n' },
    ],
  },
};

const answers = (over: Partial<ScaffoldAnswers> = {}): ScaffoldAnswers => ({
  organization: 'Contoso',
  domains: ['contoso.com', 'contoso.net'],
  breakGlass: ['bg1@contoso.com', 'bg2@contoso.com'],
  owner: { name: 'Mail Platform Lead', team: 'Messaging', contact: 'mail@contoso.com' },
  dmarcReports: ['mailto:dmarc@contoso.com'],
  stack: 'contoso',
  ci: ['github'],
  packageName: 'contoso-posture',
  ...over,
});

/** The string literals of a TypeScript source, after checking it parses without a syntax error. */
function literals(source: string): string[] {
  const file = ts.createSourceFile('posture.ts', source, ts.ScriptTarget.ES2022, true);
  const diagnostics = (file as unknown as { parseDiagnostics: ts.Diagnostic[] }).parseDiagnostics;
  expect(diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isStringLiteral(node)) found.push(node.text);
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

describe('posture init: the files of a new repository', () => {
  it('declares the answers in the stack, each value a string literal exactly as given', () => {
    const files = scaffoldFiles(answers(), pkg);
    expect([...files.keys()].sort()).toEqual(['.github/actions/posture/action.yml', '.github/workflows/posture.yml', '.gitignore', 'README.md', 'cdktf.json', 'package.json', 'stacks/main.ts', 'stacks/posture.ts', 'tsconfig.json']);
    const values = literals(files.get('stacks/posture.ts')!);
    expect(values).toEqual(expect.arrayContaining(['Contoso', 'contoso.com', 'contoso.net', 'bg1@contoso.com', 'bg2@contoso.com', 'mail@contoso.com', 'mailto:dmarc@contoso.com', 'email-posture']));
    expect(literals(files.get('stacks/main.ts')!)).toContain('contoso');
    expect(JSON.parse(files.get('package.json')!)).toMatchObject({ dependencies: { 'email-posture': '1.2.3', tsx: '4.23.15' }, devDependencies: { typescript: '5.9.3' } });
    expect(files.get('.github/workflows/posture.yml')).toBe('env:\n  POSTURE_STACK: contoso\n');
  });

  it('an organisation name that tries to end the string or the comment stays one value and adds no code', () => {
    const hostile = 'Evil"; process.exit(1); const x = "*/ require("child_process")';
    const source = scaffoldFiles(answers({ organization: hostile }), pkg).get('stacks/posture.ts')!;
    expect(literals(source)).toContain(hostile);
    const file = ts.createSourceFile('posture.ts', source, ts.ScriptTarget.ES2022, true);
    const calls: string[] = [];
    const visit = (node: ts.Node) => {
      if (ts.isCallExpression(node)) calls.push(node.expression.getText(file));
      ts.forEachChild(node, visit);
    };
    visit(file);
    expect(calls.filter((c) => /exit|require/.test(c))).toEqual([]);
  });

  it('writes the stack name into the pipelines, and both pipelines when asked', () => {
    const files = scaffoldFiles(answers({ stack: 'fabrikam', ci: ['github', 'azure-devops'] }), pkg);
    expect(files.get('.github/workflows/posture.yml')).toContain('POSTURE_STACK: fabrikam');
    expect(files.get('azure-pipelines.yml')).toBe('variables:\n  - name: POSTURE_STACK\n    value: fabrikam\n');
    expect(files.has('azure-pipelines.yml')).toBe(true);
    // Each pipeline with the action or template its jobs use.
    expect(files.get('.github/actions/posture/action.yml')).toBe('runs:\n  using: composite\n');
    expect(files.get('templates/posture-setup.yml')).toBe('steps:\n  - script: npm ci\n');
    const none = scaffoldFiles(answers({ ci: [] }), pkg);
    for (const f of ['.github/workflows/posture.yml', '.github/actions/posture/action.yml', 'azure-pipelines.yml', 'templates/posture-setup.yml']) expect(none.has(f), f).toBe(false);
  });

  it('refuses answers it cannot declare, naming the option of each', () => {
    const problems = checkAnswers(
      answers({
        organization: 'Con\u202etoso',
        domains: ['contoso.com; rm -rf', 'contoso.com'],
        breakGlass: [],
        owner: { name: '', team: 'T', contact: 'not-an-address' },
        dmarcReports: ['dmarc@contoso.com'],
        stack: 'Contoso Stack',
      }),
    );
    expect(problems.map((p) => p.option).sort()).toEqual(['break-glass', 'dmarc-reports', 'domain', 'organization', 'owner', 'owner', 'stack']);
    expect(checkAnswers(answers())).toEqual([]);
    expect(checkAnswers(answers({ domains: ['contoso.com', 'contoso.com'] })).map((p) => p.message)).toEqual(['a domain is given twice']);
  });

  it('names stacks and packages from what it was given', () => {
    expect(stackNameFor('contoso.com')).toBe('contoso');
    expect(stackNameFor('123.example')).toBe('posture');
    expect(packageNameFor('My Posture!')).toBe('my-posture-');
    expect(packageNameFor('...')).toBe('email-posture-config');
  });

  it('adds to an existing package.json what it lacks and keeps what it has', () => {
    const merged = mergePackageJson({ name: 'mine', dependencies: { 'email-posture': 'file:../email-posture-1.2.3.tgz', left: '1.0.0' }, scripts: { plan: 'my plan' } }, answers(), pkg);
    expect(merged).toMatchObject({
      name: 'mine',
      type: 'module',
      dependencies: { 'email-posture': 'file:../email-posture-1.2.3.tgz', left: '1.0.0', tsx: '4.23.15' },
      scripts: { plan: 'my plan', synth: 'posture synth' },
    });
  });
});
