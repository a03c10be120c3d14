import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The demo serves the example image as static files (publicDir = examples/, so the layout
// is at /hello/image/), uses the workspace sources directly (strata-source), and is
// cross-origin isolated so the SharedArrayBuffer path is available to report.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  publicDir: fileURLToPath(new URL('./public', import.meta.url)),
  resolve: { conditions: ['strata-source', 'browser', 'import', 'module', 'default'] },
  server: {
    headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
    fs: { allow: ['../..'] },
  },
  worker: { format: 'es' },
});
