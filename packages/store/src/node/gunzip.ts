import { createGunzip } from 'node:zlib';
import type { Gunzip } from '../import/decompress.js';
import { LayerFormatError } from '../errors.js';

/**
 * gzip through Node's zlib stream with 256 KiB output chunks: about three times the speed of
 * Node's DecompressionStream on a large layer (fewer, bigger chunks through fewer promise
 * hops), and the inflating runs on libuv's thread pool while this thread hashes and writes.
 */
export const nodeGunzip: Gunzip = async function* (source) {
  const z = createGunzip({ chunkSize: 256 * 1024 });
  let sourceError: unknown;
  let zlibError: Error | undefined;
  z.on('error', (e) => (zlibError ??= e));
  const pump = (async () => {
    try {
      for await (const chunk of source) {
        if (zlibError) return;
        if (!z.write(chunk)) await drainOrError(z);
      }
      z.end();
    } catch (e) {
      sourceError = e;
      z.destroy();
    }
  })();
  try {
    for await (const chunk of z as AsyncIterable<Buffer>) yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
  } catch (e) {
    // A failing source (a dropped download) is reported as itself, not as corruption.
    if (sourceError !== undefined) throw sourceError;
    throw new LayerFormatError(`corrupt gzip data: ${(e as Error).message}`, undefined, { cause: e });
  } finally {
    if (!z.destroyed) z.destroy();
    await pump;
  }
  if (sourceError !== undefined) throw sourceError;
};

/** Wait for room to write, or for the stream to fail; both listeners go once either fires. */
function drainOrError(z: ReturnType<typeof createGunzip>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      z.off('drain', done);
      z.off('error', done);
      resolve();
    };
    z.on('drain', done);
    z.on('error', done);
  });
}
