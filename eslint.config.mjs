// Lint rules that guard correctness, not taste: floating promises lose errors, and workflow code
// must stay deterministic (no Node built-ins, no activity implementations, only their types).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
/** domain/ modules that use Node or the Temporal client: not for workflow code. */
const impureDomain = ['invoice-client', 'checkout-client', 'download-keys', 'invoice-settings', 'mail-template', 'license-keys', 'minisign', 'signing-key'];

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', '.tools/', '.test-artifacts/', 'dist/', 'eslint.config.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test runs what describe() and test() return; they are not lost promises.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'test', 'it', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The api (and the PayPal intake it serves) shares code with the worker only through domain/.
    files: ['api/**/*.{ts,tsx}', 'paypal/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/activities', '**/activities/*', '**/worker', '**/worker/*'],
              message: 'The api imports nothing from activities/ or worker/: move what both need to domain/.',
            },
          ],
        },
      ],
    },
  },
  {
    // Workflow code must replay deterministically: only the workflow SDK, other workflow files, the
    // pure domain/ modules and activity types.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Workflow code must be deterministic: no Node built-ins.' })),
          patterns: [
            {
              regex: `^(?!@temporalio/(workflow|common)$|\\./[^/]+$|\\.\\./activities(/[^/]+)?$|\\.\\./domain/(?!(${impureDomain.join('|')})$)[^/]+$)`,
              message: 'Workflow code imports only @temporalio/workflow, workflows/*, the pure domain/ modules and activity types.',
            },
            {
              group: ['**/activities/*', '**/activities', '!**/activities/types'],
              allowTypeImports: true,
              message: 'Workflows may import activity types only (import type ...).',
            },
          ],
        },
      ],
    },
  },
  {
    // The pure domain/ modules are what workflow code may import: they import nothing but each other.
    files: ['domain/**/*.ts'],
    ignores: impureDomain.map((m) => `domain/${m}.ts`),
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `^(?!\\./(?!(${impureDomain.join('|')})$)[^/]+$)`,
              message: 'A pure domain/ module imports only other pure domain/ modules; it must stay safe for workflow code.',
            },
          ],
        },
      ],
    },
  },
);
