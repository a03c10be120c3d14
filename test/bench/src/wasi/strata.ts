/**
 * The Strata peer: fsbench under Strata's WASI with an OverlayFs root whose upper is in
 * memory and whose single lower layer holds an empty /scratch directory.
 *
 * Imported dynamically and typed here by what the bench uses, so the bench still runs (and
 * says why Strata's cell is empty) while @strata/wasi or @strata/overlay are incomplete.
 */
import type { LayerIndex } from '@strata/store';
import type { SyncFs } from '@strata/syncfs';

interface StrataWasi {
  getImportObject(): WebAssembly.Imports;
  start(instance: WebAssembly.Instance): number;
}
interface WasiModule {
  WASI?: new (options: {
    args: string[];
    env: Record<string, string>;
    preopens: Record<string, SyncFs>;
    stdout?: (chunk: Uint8Array) => void;
    stderr?: (chunk: Uint8Array) => void;
  }) => StrataWasi;
}
interface OverlayModule {
  OverlayFs?: new (options: { lowers: LayerIndex[]; content: { reader(): never } }) => SyncFs;
}

const dirEntry = { type: 'dir', mode: 0o755, uid: 0, gid: 0, mtimeNs: 0n, size: 0 } as const;

/** A lower layer with `/` and `/scratch`, as an image's rootfs would provide. */
export const scratchLayer: LayerIndex = {
  diffId: `sha256:${'0'.repeat(64)}`,
  entries: new Map([['', dirEntry], ['scratch', dirEntry]]),
};

/** Nothing in the lower layer has contents: any read of a blob is a bug in the bench. */
const noContent = {
  reader(): never {
    throw new Error('the bench lower layer has no file contents');
  },
};

export async function createStrataRunner(module: WebAssembly.Module): Promise<(args: string[]) => Promise<string>> {
  const wasiMod = (await import('@strata/wasi')) as WasiModule;
  const overlayMod = (await import('@strata/overlay')) as OverlayModule;
  const { WASI } = wasiMod;
  const { OverlayFs } = overlayMod;
  return async (args) => {
    if (!WASI || !OverlayFs) {
      throw new Error(`not available yet: ${!WASI ? '@strata/wasi exports no WASI' : '@strata/overlay exports no OverlayFs'}`);
    }
    const root = new OverlayFs({ lowers: [scratchLayer], content: noContent });
    const chunks: Uint8Array[] = [];
    const errors: Uint8Array[] = [];
    const wasi = new WASI({
      args: ['fsbench', ...args.map((a) => (a === 'DIR' ? '/scratch' : a))],
      env: {},
      preopens: { '/': root },
      stdout: (c) => chunks.push(c.slice()),
      stderr: (c) => errors.push(c.slice()),
    });
    const instance = new WebAssembly.Instance(module, wasi.getImportObject());
    const code = wasi.start(instance);
    const text = (parts: Uint8Array[]) => Buffer.concat(parts).toString('utf8');
    if (code !== 0) throw new Error(`exit ${code}: ${text(errors).trim()}`);
    return text(chunks);
  };
}
