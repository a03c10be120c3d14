import { closeSync, fstatSync, openSync, unlinkSync, writeSync, writevSync } from 'node:fs';

/** Bytes gathered before one system call. */
const BATCH = 2 ** 20;

/**
 * Write a stream of chunks to `path` with synchronous writes of about 1 MiB each. An export
 * yields thousands of small chunks (a 512-byte header per file, its padding), and a Node
 * write stream sends each one through the thread pool and back: ~0.7 s for a 107 MiB
 * container against ~0.2 s this way. When the stream fails, a regular file is removed
 * rather than left half-written.
 */
export async function writeChunks(path: string, chunks: AsyncIterable<Uint8Array>): Promise<void> {
  const fd = openSync(path, 'w', 0o644);
  let batch: Uint8Array[] = [];
  let size = 0;
  const flush = () => {
    let done = writevSync(fd, batch);
    // libuv writes the whole batch, or stops short at an error after a part: the rest then
    // goes by writeSync, which reports that error (a full disk) as itself.
    for (const c of batch) {
      if (done >= c.length) {
        done -= c.length;
        continue;
      }
      for (let off = done; off < c.length;) off += writeSync(fd, c, off, c.length - off);
      done = 0;
    }
    batch = [];
    size = 0;
  };
  try {
    for await (const c of chunks) {
      batch.push(c);
      size += c.length;
      if (size >= BATCH) flush();
    }
    if (batch.length > 0) flush();
  } catch (e) {
    const regular = fstatSync(fd).isFile();
    closeSync(fd);
    if (regular) unlinkSync(path);
    throw e;
  }
  closeSync(fd);
}
