#!/usr/bin/env node
// Bundle the strata CLI and the container worker into one file each (dist/bundle/), so a
// `strata` process and each worker load one script instead of a hundred modules: start-up
// time is a figure this project is judged on.
//
// - CommonJS, not ESM: Node sets up its ES module loader for an ESM entry, which a short
//   `strata run` pays for on every start (dist/bundle/package.json says "commonjs").
// - strata.js is a small loader (scripts/cli-loader.cjs, copied) that compiles the bundle
//   (strata-cli.js) with V8's code cache kept next to it (strata-cli.js.<command>.cache,
//   written after a run when missing or stale), so a process skips most parsing and
//   compiling. The worker bundle sits next to them, where the host looks for
//   `./container-worker.js`.
import { build } from 'esbuild';
import { chmodSync, copyFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('..', import.meta.url));
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  conditions: ['strata-source'],
  logLevel: 'warning',
  absWorkingDir: here,
  // The sources are ES modules; in CommonJS, import.meta.url becomes the bundle's own URL.
  define: { 'import.meta.url': '__strataModuleUrl' },
  banner: { js: "const __strataModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  // The browsers' WebAssembly sha256 (webSha256 loads it on first use): Node hashes with
  // node:crypto, and 270 KB more to parse would slow every start. Were webSha256 used here
  // after all, its load fails and it hashes in JavaScript, with the same digests.
  external: ['hash-wasm'],
};
// Code caches of an earlier bundle would only be rejected; drop them now.
for (const f of (() => { try { return readdirSync(`${here}dist/bundle`); } catch { return []; } })()) {
  if (f.endsWith('.cache')) rmSync(`${here}dist/bundle/${f}`);
}
await build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/bundle/strata-cli.js' });
await build({ ...common, entryPoints: ['src/worker/container-worker.ts'], outfile: 'dist/bundle/container-worker.js' });
writeFileSync(`${here}dist/bundle/package.json`, '{ "type": "commonjs" }\n');
copyFileSync(`${here}scripts/cli-loader.cjs`, `${here}dist/bundle/strata.js`);
chmodSync(`${here}dist/bundle/strata.js`, 0o755);
