import { defineConfig } from 'vite';

/**
 * The Electron preload as one CommonJS file (dist/electron/talon-preload.cjs): a sandboxed preload
 * can `require` only `electron`, so the contract's method list is bundled in.
 */
export default defineConfig({
  build: {
    outDir: 'dist/electron',
    emptyOutDir: false,
    target: 'node20',
    minify: false,
    lib: {
      entry: 'preload/talon-preload.ts',
      formats: ['cjs'],
      fileName: () => 'talon-preload.cjs',
    },
    rollupOptions: { external: ['electron'] },
  },
});
