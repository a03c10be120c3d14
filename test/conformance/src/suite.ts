import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The official wasi-testsuite binaries: ../shared/wasi-testsuite, or $WASI_TESTSUITE. */
export const suiteDir = process.env.WASI_TESTSUITE ?? fileURLToPath(new URL('../../../../shared/wasi-testsuite/', import.meta.url));

/** One test: its module and the spec fields of its .json (see the suite's SOURCE.txt). */
export interface SuiteTest {
  name: string;
  wasm: string;
  args: string[];
  env: Record<string, string>;
  /** Fixture directory preopened as "/" (a fresh copy per run). */
  root?: string;
  exitCode: number;
  stdout?: string;
}

export function loadSuite(): SuiteTest[] {
  const out: SuiteTest[] = [];
  for (const lang of readdirSync(suiteDir, { withFileTypes: true })) {
    if (!lang.isDirectory()) continue;
    const dir = join(suiteDir, lang.name);
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.wasm')).sort()) {
      const name = `${lang.name}/${basename(f, '.wasm')}`;
      const specPath = join(dir, `${basename(f, '.wasm')}.json`);
      const spec = existsSync(specPath) ? (JSON.parse(readFileSync(specPath, 'utf8')) as Record<string, unknown>) : {};
      const t: SuiteTest = {
        name, wasm: join(dir, f), args: (spec.args as string[]) ?? [], env: (spec.env as Record<string, string>) ?? {},
        exitCode: (spec.exit_code as number) ?? 0,
      };
      if (typeof spec.root === 'string') t.root = join(dir, spec.root);
      if (typeof spec.stdout === 'string') t.stdout = spec.stdout;
      out.push(t);
    }
  }
  return out;
}
