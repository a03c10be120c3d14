import { OverlayFs } from '@strata/overlay';
import { MemoryContentStore, type LayerEntry, type LayerIndex } from '@strata/store';
import { WASI } from '@strata/wasi';
import type { PackedTest } from '../src/suite-bundle.js';

export interface SuiteResult {
  name: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  syscalls: number;
  trap?: string;
}

function unbase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Run one packed test on an overlay root built from its fixture (fresh upper). */
export async function runSuiteTest(t: PackedTest): Promise<SuiteResult> {
  const preopens: Record<string, OverlayFs> = {};
  if (t.fixture) {
    const content = new MemoryContentStore();
    const T = 1_700_000_000n * 1_000_000_000n;
    const entries = new Map<string, LayerEntry>([['', { type: 'dir', mode: 0o755, uid: 0, gid: 0, mtimeNs: T, size: 0 }]]);
    for (const [path, data] of Object.entries(t.fixture)) {
      if (data === null) {
        entries.set(path, { type: 'dir', mode: 0o755, uid: 0, gid: 0, mtimeNs: T, size: 0 });
      } else {
        const bytes = unbase64(data);
        const e: LayerEntry = { type: 'file', mode: 0o644, uid: 0, gid: 0, mtimeNs: T, size: bytes.length };
        if (bytes.length) e.content = { digest: await content.put(bytes), size: bytes.length };
        entries.set(path, e);
      }
    }
    const layer: LayerIndex = { diffId: `sha256:${'3'.repeat(64)}`, entries };
    preopens['/'] = new OverlayFs({ lowers: [layer], content });
  }
  let stdout = '';
  let stderr = '';
  let syscalls = 0;
  const wasi = new WASI({
    args: [t.name, ...t.args], env: t.env, preopens,
    stdout: (b) => (stdout += new TextDecoder().decode(b)),
    stderr: (b) => (stderr += new TextDecoder().decode(b)),
    onSyscall: () => syscalls++,
  });
  const module = await WebAssembly.compile(unbase64(t.wasm) as Uint8Array<ArrayBuffer>);
  const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
  try {
    return { name: t.name, exitCode: wasi.start(instance), stdout, stderr, syscalls };
  } catch (e) {
    if (!(e instanceof WebAssembly.RuntimeError)) throw e;
    return { name: t.name, exitCode: 134, stdout, stderr, syscalls, trap: e.message };
  }
}
