import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeChunks } from '../src/write-chunks.js';

const dir = mkdtempSync(join(tmpdir(), 'strata-write-chunks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * 3,000 chunks of 100 bytes (more buffers than one writev system call takes, in one batch),
 * then chunks of every size from 0 to 3 KiB and a few of 300 KiB.
 */
function* pieces(): Generator<Uint8Array> {
  for (let i = 0; i < 3000; i++) yield new Uint8Array(100).fill(i & 0xff);
  for (let i = 0; i < 5000; i++) {
    const size = i % 100 === 0 ? 300 * 1024 : i % 3072;
    yield new Uint8Array(size).fill(i & 0xff);
  }
}

describe('writeChunks', () => {
  it('writes every chunk in order, in batches of many small chunks and of few large ones', async () => {
    const path = join(dir, 'out');
    async function* source() {
      yield* pieces();
    }
    await writeChunks(path, source());
    const want = Buffer.concat([...pieces()]);
    const got = readFileSync(path);
    expect(got.length).toBe(want.length);
    expect(got.equals(want)).toBe(true);
  });

  it('removes the file when the stream fails, and reports the failure', async () => {
    const path = join(dir, 'broken');
    async function* source() {
      yield new Uint8Array(3 * 2 ** 20);
      throw new Error('the container went away');
    }
    await expect(writeChunks(path, source())).rejects.toThrow('the container went away');
    expect(existsSync(path)).toBe(false);
  });
});
