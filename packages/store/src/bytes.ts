/** Byte-stream helpers shared by the importers, the archive loader and the browser runtime. */

/** A ReadableStream (fetch bodies, Blob.stream()) or an async iterable, as an async iterable. */
export function toAsyncIterable(body: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  if (Symbol.asyncIterator in body) return body as AsyncIterable<Uint8Array>;
  const stream = body as ReadableStream<Uint8Array>;
  return (async function* () {
    const reader = stream.getReader();
    try {
      for (;;) {
        const r = await reader.read();
        if (r.done) return;
        yield r.value;
      }
    } finally {
      reader.releaseLock();
    }
  })();
}

/**
 * The chunks of `src`, each handed to `fn` (and awaited) before it is passed on: a blob
 * writer and a consumer fed from one read, without ReadableStream.tee's copy per chunk.
 */
export async function* tap(src: AsyncIterable<Uint8Array>, fn: (c: Uint8Array) => void | Promise<void>): AsyncGenerator<Uint8Array> {
  for await (const c of src) {
    await fn(c);
    yield c;
  }
}

/** The parts, one after the other, in a new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
