import { closeSync, openSync, readSync } from 'node:fs';
import type { LayerSource } from '../import/import-layer.js';

/**
 * A layer tar (or compressed tar) in a file, or in a range of one, for `importLayer`: read
 * in chunks the importer keeps, so a memory store holds the files' bytes as they were read
 * (one copy, where a stream's chunks are copied again). The file is opened at the first read
 * and closed at the end of the range or by `close`, which the importer calls when it is done,
 * also after a failure.
 *
 * Reads are synchronous, as the disk store's are: from the page cache a 1 MiB read takes
 * ~0.3 ms, and the thread pool's round trip per chunk left the importing thread idle for
 * about a tenth of a 100 MiB import.
 */
export function layerFile(path: string, range: { start?: number; length?: number } = {}): LayerSource & { close(): Promise<void> } {
  let fd: number | undefined;
  // Only buffers this source made are read into again.
  const made = new WeakSet<ArrayBufferLike>();
  let pos = range.start ?? 0;
  const end = range.length === undefined ? Infinity : pos + range.length;
  const close = async (): Promise<void> => {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
    pos = end;
  };
  return {
    async nextChunk(done) {
      if (pos >= end) {
        await close();
        return undefined;
      }
      fd ??= openSync(path, 'r');
      const want = Math.min(CHUNK, end - pos);
      const buf = done && made.has(done.buffer) && done.buffer.byteLength >= want
        ? new Uint8Array(done.buffer, 0, want)
        // Not zero-filled: the read overwrites what is kept, and a short read's tail is cut
        // off. Freed chunks of a size malloc has seen come back from its heap without page
        // faults: 100 MiB read into zeroed arrays took ~50 ms, into these ~35.
        : Buffer.allocUnsafeSlow(want);
      made.add(buf.buffer);
      const n = readSync(fd, buf, 0, buf.length, pos);
      pos += n;
      if (n === 0) {
        await close();
        return undefined;
      }
      return n === buf.length ? buf : buf.subarray(0, n);
    },
    close,
  };
}

/** A chunk: a store that adopts a file's bytes keeps the chunk they are in. */
const CHUNK = 2 ** 20;
