import { OverlayFs } from '@strata/overlay';
import { MemoryContentStore, type LayerEntry, type LayerIndex } from '@strata/store';
import { WASI } from '@strata/wasi';

const T = 1_700_000_000n * 1_000_000_000n;
const dir = (): LayerEntry => ({ type: 'dir', mode: 0o755, uid: 0, gid: 0, mtimeNs: T, size: 0 });

/**
 * The hello example on an overlay root built in the browser: a layer with /etc/motd and
 * /data in a MemoryContentStore, the module run under Strata's WASI. Returns its stdout and
 * what `diff` says it changed.
 */
export async function runHello(wasm: Uint8Array): Promise<{ code: number; stdout: string; diff: string[] }> {
  const content = new MemoryContentStore();
  const motd = new TextEncoder().encode('from a browser layer\n');
  const ref = { digest: await content.put(motd), size: motd.length };
  const layer: LayerIndex = {
    diffId: `sha256:${'2'.repeat(64)}`,
    entries: new Map<string, LayerEntry>([
      ['', dir()], ['etc', dir()], ['data', dir()],
      ['etc/motd', { type: 'file', mode: 0o644, uid: 0, gid: 0, mtimeNs: T, size: motd.length, content: ref }],
    ]),
  };
  const fs = new OverlayFs({ lowers: [layer], content });
  let stdout = '';
  const wasi = new WASI({
    args: ['/hello.wasm', 'browser'],
    env: ['GREETING=Hi'],
    preopens: { '/': fs },
    stdout: (b) => (stdout += new TextDecoder().decode(b)),
  });
  const instance = await WebAssembly.instantiate(await WebAssembly.compile(wasm as Uint8Array<ArrayBuffer>), wasi.getImportObject());
  const code = wasi.start(instance);
  return { code, stdout, diff: fs.diff().map((c) => `${c.kind} ${c.path}`).sort() };
}
