import { readFileSync } from 'node:fs';
import { createStrataRunner } from './wasi/strata.js';
const mod = new WebAssembly.Module(readFileSync('packages/wasi/guests/bench/fsbench.wasm'));
const run = await createStrataRunner(mod);
const mode = process.argv[2] ?? 'seq';
for (let r = 0; r < Number(process.argv[3] ?? 8); r++) {
  const out = await run([mode, 'DIR']);
  console.log(out.trim());
}
