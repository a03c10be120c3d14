#!/usr/bin/env node
// `pnpm start`: the main job on the built-in example image (examples/hello): load it into a
// fresh Strata root, run it, and show the layer stack and what the container changed.
// Every step is a real `strata` command; their output is printed as it comes.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const cli = join(repo, 'runtime', 'dist', 'bundle', 'strata.js');
if (!existsSync(cli)) execFileSync('pnpm', ['build'], { cwd: repo, stdio: 'inherit' });
const root = process.env.STRATA_ROOT ?? mkdtempSync(join(tmpdir(), 'strata-demo-'));
const image = join(repo, 'examples', 'hello', 'image');

function strata(...args) {
  console.log(`\n$ strata ${args.join(' ')}`);
  return execFileSync(process.execPath, [cli, '--root', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}
const show = (...args) => process.stdout.write(strata(...args));

console.log(`Strata root: ${root}`);
show('load', '-i', image);
show('run', '--name', 'hello-demo', 'strata-hello', 'Strata');

const [info] = JSON.parse(strata('inspect', 'strata-hello'));
console.log('\nThe layer stack (bottom first), read-only and shared by every container of the image:');
info.RootFS.Layers.forEach((diffId, i) => {
  const index = JSON.parse(readFileSync(join(root, 'layers', `${diffId.slice(7)}.json`), 'utf8'));
  const paths = index.entries.map((e) => `/${e[0]}`).filter((p) => p !== '/');
  console.log(`  layer ${i + 1}  ${diffId.slice(0, 19)}…  ${paths.join(' ')}`);
});
const [c] = JSON.parse(strata('inspect', 'hello-demo'));
console.log(`  upper    (container hello-demo)  ${c.GraphDriver.Data.UpperDir}`);
console.log(`GraphDriver of hello-demo: ${JSON.stringify(c.GraphDriver, null, 2)}`);

show('diff', 'hello-demo');
show('start', '-a', 'hello-demo');
show('diff', 'hello-demo');
show('ps', '-a');
