/**
 * nodeGunzip, the zlib-stream gzip decoder Node hosts pass to importLayer: the same layer as
 * DecompressionStream gives, and the same refusals (corrupt, truncated), with a failing
 * source reported as itself.
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { importLayer, LayerFormatError, MemoryContentStore } from '../src/index.js';
import { nodeGunzip, nodeSha256 } from '../src/node/index.js';
import { listAll } from './suite/conformance.js';
import { dribble, makeTar, once } from './suite/tar-builder.js';

describe('nodeGunzip', () => {
  it('imports a gzip layer exactly as DecompressionStream does, big files included', async () => {
    const big = randomBytes(2 ** 20);
    const tar = await makeTar([{ name: 'a/b', data: 'small' }, { name: 'big.bin', data: big }, { name: 'a/.wh.gone', data: '' }]);
    const gz = gzipSync(tar);
    const viaStream = await importLayer(new MemoryContentStore(nodeSha256), dribble(gz, 65536), { hasher: nodeSha256 });
    const content = new MemoryContentStore(nodeSha256);
    const viaZlib = await importLayer(content, dribble(gz, 65536), { hasher: nodeSha256, gunzip: nodeGunzip });
    expect(viaZlib.diffId).toBe(viaStream.diffId);
    expect(viaZlib.digest).toBe(viaStream.digest);
    expect([...viaZlib.entries]).toEqual([...viaStream.entries]);
    expect(Buffer.from(await content.get(viaZlib.entries.get('big.bin')!.content!.digest)).equals(big)).toBe(true);
  });

  it('refuses corrupt and truncated gzip with a LayerFormatError, leaving the store as it was', async () => {
    const gz = gzipSync(await makeTar([{ name: 'f', data: 'contents '.repeat(2000) }]));
    const corrupt = gz.slice();
    corrupt[40] ^= 0xff;
    corrupt[corrupt.length - 20] ^= 0xff;
    for (const bad of [corrupt, gz.subarray(0, gz.length >> 1)]) {
      const content = new MemoryContentStore(nodeSha256);
      await expect(importLayer(content, once(bad), { gunzip: nodeGunzip })).rejects.toBeInstanceOf(LayerFormatError);
      expect(await listAll(content)).toEqual([]);
    }
  });

  it('reports a failing source as itself, not as corrupt data', async () => {
    const gz = gzipSync(await makeTar([{ name: 'f', data: randomBytes(200_000) }]));
    const dropped = new Error('connection dropped');
    async function* source() {
      yield gz.subarray(0, 1000);
      throw dropped;
    }
    await expect(importLayer(new MemoryContentStore(nodeSha256), source(), { gunzip: nodeGunzip })).rejects.toBe(dropped);
  });
});
