import { Decompress } from 'fzstd';
import { LayerFormatError } from '../errors.js';

export type Compression = 'none' | 'gzip' | 'zstd';

/**
 * A platform's gzip decoder, for when it beats DecompressionStream (Node's zlib streams with
 * large output chunks are about 3x faster than its DecompressionStream): compressed chunks in,
 * tar bytes out; corrupt data must fail with a LayerFormatError, a failing source with the
 * source's own error. `@strata/store/node` has one.
 */
export type Gunzip = (source: AsyncIterable<Uint8Array>) => AsyncIterable<Uint8Array>;

/**
 * Peek at the first bytes: gzip `1f 8b`, a zstd frame `28 b5 2f fd` or a skippable frame
 * that may lead one (`5? 2a 4d 18`, which fzstd passes over), else an uncompressed tar.
 */
export function detectCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  if (head.length >= 4 && (head[0]! & 0xf0) === 0x50 && head[1] === 0x2a && head[2] === 0x4d && head[3] === 0x18) return 'zstd';
  return 'none';
}

/**
 * Decompress a stream. gzip uses the platform's DecompressionStream (zlib underneath in
 * Node, native in browsers); zstd uses fzstd's streaming decoder (pure JS, no WebAssembly or
 * native addon, so it runs in workers as well as Node). Corrupt input becomes a
 * LayerFormatError.
 */
export async function* decompress(source: AsyncIterable<Uint8Array>, compression: Compression, gunzip?: Gunzip): AsyncGenerator<Uint8Array> {
  if (compression === 'none') {
    yield* source;
    return;
  }
  if (compression === 'gzip' && gunzip) {
    yield* gunzip(source);
    return;
  }
  if (compression === 'gzip') {
    const ds = new DecompressionStream('gzip');
    const writer = ds.writable.getWriter();
    let sourceError: unknown;
    const pump = (async () => {
      try {
        for await (const chunk of source) await writer.write(chunk as Uint8Array<ArrayBuffer>);
        await writer.close();
      } catch (e) {
        sourceError ??= e;
        await writer.abort(e).catch(() => {});
      }
    })();
    const reader = ds.readable.getReader();
    let finished = false;
    try {
      for (;;) {
        let r: ReadableStreamReadResult<Uint8Array>;
        try {
          r = await reader.read();
        } catch (e) {
          // A failing source (a dropped download) is reported as itself, not as corruption.
          if (sourceError !== undefined) throw sourceError;
          throw new LayerFormatError(`corrupt gzip data: ${(e as Error).message}`, undefined, { cause: e });
        }
        if (r.done) break;
        yield r.value;
      }
      finished = true;
    } finally {
      // Stopped early (an error downstream): cancel, so the pump's pending write settles.
      if (!finished) await reader.cancel().catch(() => {});
      await pump;
    }
    return;
  }
  const out: Uint8Array[] = [];
  let ended = false;
  const d = new Decompress((chunk, final) => {
    out.push(chunk);
    if (final) ended = true;
  });
  try {
    for await (const chunk of source) {
      d.push(chunk);
      while (out.length) yield out.shift()!;
    }
    d.push(new Uint8Array(0), true);
  } catch (e) {
    if (e instanceof LayerFormatError) throw e;
    throw new LayerFormatError(`corrupt zstd data: ${(e as Error).message}`, undefined, { cause: e });
  }
  while (out.length) yield out.shift()!;
  if (!ended) throw new LayerFormatError('truncated zstd data');
}
