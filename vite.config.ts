import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The renderer's build: one static bundle in renderer/dist that both shells load — the desktop
 * app from its `app://talon` protocol, browser mode from `talon serve` at `/`. Relative asset
 * URLs (`base: './'`) serve both; no inline script, so the strict CSP holds.
 */
export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'chrome120',
    sourcemap: false,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1200,
  },
  server: { port: 5173, strictPort: true },
});
