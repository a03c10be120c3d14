// `pnpm bench <name> [args]`: runs test/bench/src/<name>.ts, which prints a table side by side
// with its peers. Benchmarks run on demand, never in CI.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const [name, ...rest] = process.argv.slice(2);
const dir = new URL('../test/bench/src/', import.meta.url);
const available = existsSync(dir) ? readdirSync(dir).filter((f) => /^[a-z-]+\.ts$/.test(f)).map((f) => f.slice(0, -3)) : [];
if (!name || !available.includes(name)) {
  console.error(`usage: pnpm bench <${available.join('|')}> [args]`);
  process.exit(2);
}
const r = spawnSync(process.execPath, ['--conditions=strata-source', '--import', 'tsx', new URL(`${name}.ts`, dir).pathname, ...rest], { stdio: 'inherit' });
process.exit(r.status ?? 1);
