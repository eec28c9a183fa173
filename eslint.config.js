// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import globals from 'globals';

/**
 * Folders are environments (see DESIGN.md, "Folder conventions"). Data flows one way:
 * transport -> engine -> store / key store. A wrong import fails lint, and so CI.
 */
const layers = [
  {
    target: './hsm-bridge',
    from: ['./main', './mcp', './renderer', './preload'],
    message: 'hsm-bridge is the lowest layer: it imports nothing of Talon above it.',
  },
  {
    target: './main/store',
    from: [
      './main/engine',
      './main/api',
      './main/cli',
      './main/electron',
      './mcp',
      './renderer',
      './preload',
    ],
    message: 'The store sits below the engine and knows no transport.',
  },
  {
    target: './main/engine',
    from: ['./main/api', './main/cli', './main/electron', './mcp', './renderer', './preload'],
    message: 'The engine knows no transport; transports call the engine.',
  },
  {
    target: './main/api',
    from: ['./main/cli', './main/electron', './renderer', './preload', './main/store', './hsm-bridge'],
    message: 'The API is a transport: it reaches the store and the token only through the engine.',
  },
  {
    target: './mcp',
    from: './main',
    // The shared contract: request schemas and the env-bundle rules, both pure. talon-mcp keeps
    // its pairings in the user's Talon config folder, which talon-config.ts locates.
    except: ['./engine/schemas.ts', './engine/env-bundle.ts', './client', './cli/talon-config.ts'],
    message: 'MCP tools are written against the VaultClient interface and engine schemas only.',
  },
  {
    target: './mcp',
    from: ['./hsm-bridge', './renderer', './preload'],
    message: 'MCP tools are written against the VaultClient interface and engine schemas only.',
  },
  {
    // Talon's public TypeScript client speaks /v1 over fetch: the shared schemas are all it may know.
    target: './main/client',
    from: './main/engine',
    except: ['./schemas.ts'],
    message: 'The client is a /v1 client: it may use the shared schemas only.',
  },
  {
    target: './main/client',
    from: [
      './main/api',
      './main/cli',
      './main/store',
      './main/electron',
      './mcp',
      './hsm-bridge',
      './renderer',
      './preload',
    ],
    message: 'The client is a /v1 client: it may use the shared schemas only.',
  },
  {
    target: './renderer',
    from: ['./main', './mcp', './hsm-bridge', './preload'],
    message: 'The renderer talks to Talon only through the UI contract.',
  },
];

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      'bench/**',
      'test-results/**',
      'playwright-report/**',
      'renderer/dist/**',
      // Throwaway profiling scripts, gitignored.
      '.scratch/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: layers }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    // Only the Electron shell and the preload may import electron.
    files: [
      'hsm-bridge/**',
      'main/engine/**',
      'main/store/**',
      'main/api/**',
      'main/cli/**',
      'mcp/**',
      'renderer/**',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'electron', message: 'Only main/electron and preload import electron.' }] },
      ],
    },
  },
  {
    files: ['scripts/**', 'test/**', 'main/cli/**'],
    rules: { 'no-console': 'off' },
  },
);
