import { readFileSync } from 'node:fs';
import { OverlayFs } from '@strata/overlay';
import { MemoryContentStore, type LayerIndex } from '@strata/store';
import { importDirectory, nodeSha256 } from '@strata/store/node';
import { WASI } from '@strata/wasi';
import type { SuiteTest } from './suite.js';

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Syscalls the module made: the proof that it ran. */
  syscalls: number;
  trap?: string;
}

const content = new MemoryContentStore(nodeSha256);
const fixtures = new Map<string, Promise<LayerIndex>>();

/**
 * Run one suite test on Strata: the fixture directory becomes a read-only layer (imported
 * once), and each run gets a fresh OverlayFs over it with an in-memory upper, so tests that
 * create and delete files never see each other's changes.
 */
export async function runOnStrata(t: SuiteTest): Promise<RunResult> {
  const preopens: Record<string, OverlayFs> = {};
  if (t.root) {
    let layer = fixtures.get(t.root);
    if (!layer) fixtures.set(t.root, (layer = importDirectory(content, t.root)));
    preopens['/'] = new OverlayFs({ lowers: [await layer], content });
  }
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  let syscalls = 0;
  const wasi = new WASI({
    args: [t.name, ...t.args],
    env: t.env,
    preopens,
    stdout: (b) => out.push(b.slice()),
    stderr: (b) => err.push(b.slice()),
    onSyscall: () => syscalls++,
  });
  const module = new WebAssembly.Module(readFileSync(t.wasm));
  const instance = new WebAssembly.Instance(module, wasi.getImportObject());
  let exitCode: number;
  let trap: string | undefined;
  try {
    exitCode = wasi.start(instance);
  } catch (e) {
    if (!(e instanceof WebAssembly.RuntimeError)) throw e;
    trap = e.message;
    exitCode = 134;
  }
  const text = (parts: Uint8Array[]) => Buffer.concat(parts).toString('utf8');
  return { exitCode, stdout: text(out), stderr: text(err), syscalls, ...(trap ? { trap } : {}) };
}
