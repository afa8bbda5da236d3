import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdktf.out/', 'coverage/', 'demo-output/', '.gen/', 'dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['cdktf', 'cdktf/*', '@cdktf/*', 'constructs'], message: 'cdktf stays inside stacks/' }] },
      ],
    },
  },
  {
    // The declaration side is the only place cdktf may be imported.
    files: ['stacks/**/*.ts', 'test/stacks/**/*.ts', 'test/fixtures/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
