import { playwright } from '@vitest/browser-playwright';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

// Workspace packages export `strata-source` → src/*.ts, so tests need no build step.
const conditions = ['strata-source', 'node', 'import', 'module', 'default'];
const browserConditions = ['strata-source', 'browser', 'import', 'module', 'default'];

/**
 * A project in real Chromium (Debian's, never a downloaded browser). `isolated` adds the
 * COOP/COEP headers, which must sit in the project's own server config or
 * crossOriginIsolated stays false.
 */
function chromium(name: string, include: string[], isolated: boolean): TestProjectInlineConfiguration {
  return {
    resolve: { conditions: browserConditions },
    // Static files served as they are (Vite would transform an extension-less blob as a
    // module): the example images, as an offline page ships them.
    publicDir: 'examples',
    // Every dependency the pages load, declared: a dependency Vite discovers mid-run makes it
    // re-optimise and reload the page under a running test (seen on a fresh clone). Vite
    // resolves these from the root, so the root package lists them too (same versions).
    optimizeDeps: { noDiscovery: true, include: ['idb-keyval', 'fzstd', '@noble/hashes/sha2', '@noble/hashes/blake3', 'hash-wasm', 'tar-stream', 'events'] },
    ...(isolated ? { server: { headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } } } : {}),
    test: {
      name,
      include,
      // Packs the wasi-testsuite (modules and fixtures) for the page to import; starts a
      // registry that sends CORS headers; writes the hello image as archives.
      globalSetup: ['test/browser/src/suite-bundle.ts', 'test/browser/src/cors-registry.ts', 'test/browser/src/archives.ts'],
      testTimeout: 60_000,
      browser: {
        enabled: true,
        headless: true,
        provider: playwright({
          launchOptions: {
            executablePath: '/usr/bin/chromium',
            args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
          },
        }),
        instances: [{ browser: 'chromium' }],
      },
    },
  };
}

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      {
        resolve: { conditions },
        ssr: { resolve: { conditions, externalConditions: conditions } },
        test: {
          name: 'node',
          include: [
            'packages/*/test/**/*.test.ts',
            'runtime/test/**/*.test.ts',
            'test/*/test/**/*.test.ts',
            'examples/*/test/**/*.test.ts',
          ],
          exclude: ['**/node_modules/**', 'test/browser/**'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
      // The browser-safe packages in a page and in Web Workers, IndexedDB for real.
      chromium('chromium', ['test/browser/test/**/*.test.ts'], false),
      // The same, cross-origin isolated: SharedArrayBuffer and the SAB sync bridge.
      chromium('chromium-isolated', ['test/browser/isolated/**/*.test.ts'], true),
    ],
  },
});
