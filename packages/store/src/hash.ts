import { sha256 } from '@noble/hashes/sha2';
import type { IHasher } from 'hash-wasm';
import type { Digest, DigestAlgorithm } from './types.js';

/** An incremental hash (sha256, or blake3 for file contents: see HasherFactory.algorithm). */
export interface Hasher {
  update(chunk: Uint8Array): void;
  /** `<algorithm>:<hex>`; the hasher is finished afterwards. */
  digest(): Digest;
}

export interface HasherFactory {
  (): Hasher;
  /** What its digests start with; sha256 when not said. */
  readonly algorithm?: DigestAlgorithm;
  /**
   * The digest of bytes held whole, where the platform has a one-shot call cheaper than a
   * Hasher (a layer's small files are hashed this way, thousands a layer).
   */
  once?(data: Uint8Array): Digest;
}

/**
 * The portable sha256, for browsers and workers (WebCrypto has no incremental digest, and
 * its one-shot call is asynchronous). It runs hash-wasm's WebAssembly build — ~4x faster
 * than JavaScript in V8, ~250 against ~60 MB/s in Chromium — once that has been compiled,
 * and @noble/hashes (audited, pure JavaScript) before that or where the page may not compile
 * WebAssembly. Both give the same digests; `webSha256.ready()` starts the compile (the first
 * hasher does too) and tells which one runs. Node code uses node:crypto instead (`nodeSha256`
 * in `@strata/store/node`), several times faster still.
 */
export const webSha256: HasherFactory & {
  /** Resolves once hashers are WebAssembly ones, or 'js' if that cannot be. */
  ready(): Promise<'wasm' | 'js'>;
} = /* @__PURE__ */ Object.assign(
  (): Hasher => {
    void startWasm();
    return wasm ? new WasmHasher(wasm) : nobleHasher();
  },
  {
    once(data: Uint8Array): Digest {
      void startWasm();
      if (!wasm) return `sha256:${toHex(sha256(data))}`;
      WasmHasher.release(wasm);
      wasm.init();
      wasm.update(data);
      return `sha256:${wasm.digest('hex')}`;
    },
    ready: () => startWasm(),
  },
);

function nobleHasher(): Hasher {
  const h = sha256.create();
  return {
    update: (chunk) => void h.update(chunk),
    digest: () => `sha256:${toHex(h.digest())}`,
  };
}

/** The one WebAssembly instance, once compiled. */
let wasm: IHasher | undefined;
let compiling: Promise<'wasm' | 'js'> | undefined;

function startWasm(): Promise<'wasm' | 'js'> {
  compiling ??= import('hash-wasm')
    .then((m) => m.createSHA256())
    .then((h) => {
      wasm = h;
      return 'wasm' as const;
    }, () => 'js' as const);
  return compiling;
}

/**
 * Hashers sharing the one instance: the instance holds the state of whichever used it last,
 * and another takes it over by saving that state (`save`, a few hundred bytes) and loading
 * its own. An importer alternates a stream's hasher with a one-shot digest per file, so the
 * instance changes hands twice a file; a hasher fed many chunks in a row pays nothing.
 */
class WasmHasher implements Hasher {
  private static owner: WasmHasher | undefined;
  private state: Uint8Array | undefined;

  constructor(private readonly h: IHasher) {}

  /** Whoever holds the instance keeps its state: the instance is about to be reset. */
  static release(h: IHasher): void {
    const o = WasmHasher.owner;
    if (o) o.state = h.save();
    WasmHasher.owner = undefined;
  }

  update(chunk: Uint8Array): void {
    this.take();
    this.h.update(chunk);
  }

  digest(): Digest {
    this.take();
    WasmHasher.owner = undefined;
    return `sha256:${this.h.digest('hex')}`;
  }

  private take(): void {
    if (WasmHasher.owner === this) return;
    WasmHasher.release(this.h);
    if (this.state) this.h.load(this.state);
    else this.h.init();
    WasmHasher.owner = this;
  }
}

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

const DIGEST = /^(sha256|blake3):[0-9a-f]{64}$/;

export function isDigest(s: string): s is Digest {
  return DIGEST.test(s);
}
