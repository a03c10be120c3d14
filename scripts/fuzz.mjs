#!/usr/bin/env node
// `pnpm fuzz [--seed N] [--count M] [--ops K]`: the kernel differential fuzzer
// (test/differential), run from source.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const entry = fileURLToPath(new URL('../test/differential/src/fuzz.ts', import.meta.url));
const r = spawnSync(process.execPath, ['--conditions=strata-source', '--import', 'tsx', entry, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
