import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSuite } from '../../conformance/src/suite.js';

/** One wasi-testsuite test, packed for a browser: module and fixture as base64. */
export interface PackedTest {
  name: string;
  wasm: string;
  args: string[];
  env: Record<string, string>;
  exitCode: number;
  stdout?: string;
  /** The fixture tree: path → base64 contents (files) or null (directories). */
  fixture?: Record<string, string | null>;
}

export const bundleFile = fileURLToPath(new URL('../.generated/wasi-testsuite.json', import.meta.url));

function tree(dir: string, prefix = ''): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const rel = prefix ? `${prefix}/${name}` : name;
    if (statSync(p).isDirectory()) {
      out[rel] = null;
      Object.assign(out, tree(p, rel));
    } else {
      out[rel] = readFileSync(p).toString('base64');
    }
  }
  return out;
}

/** vitest globalSetup: pack the suite (Node side) for the browser tests to import. */
export default function setup(): void {
  const tests: PackedTest[] = loadSuite().map((t) => ({
    name: t.name, wasm: readFileSync(t.wasm).toString('base64'), args: t.args, env: t.env, exitCode: t.exitCode,
    ...(t.stdout !== undefined ? { stdout: t.stdout } : {}),
    ...(t.root ? { fixture: tree(t.root) } : {}),
  }));
  mkdirSync(join(bundleFile, '..'), { recursive: true });
  writeFileSync(bundleFile, JSON.stringify(tests));
}
