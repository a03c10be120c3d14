#!/usr/bin/env node
// Bundle the strata CLI and the container worker into one file each (dist/bundle/), so a
// `strata` process and each worker load one module instead of a hundred: start-up time is
// a figure this project is judged on. The worker bundle sits next to the CLI bundle, where
// the host looks for `./container-worker.js`.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('..', import.meta.url));
const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  conditions: ['strata-source'],
  logLevel: 'warning',
  absWorkingDir: here,
  // CommonJS dependencies inside an ES module bundle still call require().
  banner: { js: "import { createRequire as __strataRequire } from 'node:module'; const require = __strataRequire(import.meta.url);" },
};
await build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/bundle/strata.js' });
await build({ ...common, entryPoints: ['src/worker/container-worker.ts'], outfile: 'dist/bundle/container-worker.js' });
