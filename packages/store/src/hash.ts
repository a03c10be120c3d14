import { blake3 } from '@noble/hashes/blake3';
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

/** A portable hash: a HasherFactory whose WebAssembly build is compiled on first use. */
export type WebHasherFactory = HasherFactory & {
  readonly algorithm: DigestAlgorithm;
  /** Resolves once hashers are WebAssembly ones, or 'js' if that cannot be. */
  ready(): Promise<'wasm' | 'js'>;
};

/** What a @noble/hashes hash offers: a one-shot call and incremental state. */
interface NobleHash {
  (data: Uint8Array): Uint8Array;
  create(): { update(chunk: Uint8Array): unknown; digest(): Uint8Array };
}

/**
 * A hash for browsers and workers (WebCrypto has no incremental digest, its one-shot call is
 * asynchronous, and it has no BLAKE3). It runs hash-wasm's WebAssembly build once that has
 * been compiled, and @noble/hashes (audited, pure JavaScript) before that or where the page
 * may not compile WebAssembly: the same digests either way. `ready()` starts the compile
 * (the first hasher does too) and tells which one runs.
 */
function webHasher(algorithm: DigestAlgorithm, compile: (m: typeof import('hash-wasm')) => Promise<IHasher>, noble: NobleHash): WebHasherFactory {
  let wasm: IHasher | undefined;
  let compiling: Promise<'wasm' | 'js'> | undefined;
  const ready = (): Promise<'wasm' | 'js'> => {
    compiling ??= import('hash-wasm').then(compile).then((h) => {
      wasm = h;
      return 'wasm' as const;
    }, () => 'js' as const);
    return compiling;
  };
  const factory = (): Hasher => {
    void ready();
    if (wasm) return new WasmHasher(wasm, algorithm);
    const h = noble.create();
    return {
      update: (chunk) => void h.update(chunk),
      digest: () => `${algorithm}:${toHex(h.digest())}`,
    };
  };
  const once = (data: Uint8Array): Digest => {
    void ready();
    if (!wasm) return `${algorithm}:${toHex(noble(data))}`;
    WasmHasher.release(wasm);
    wasm.init();
    wasm.update(data);
    return `${algorithm}:${wasm.digest('hex')}`;
  };
  return Object.assign(factory, { algorithm, once, ready });
}

/**
 * The portable sha256: hash-wasm's build is ~4x faster than JavaScript in V8 (~250 against
 * ~60 MB/s in Chromium). Node code uses node:crypto instead (`nodeSha256` in
 * `@strata/store/node`), several times faster still.
 */
export const webSha256: WebHasherFactory = /* @__PURE__ */ webHasher('sha256', (m) => m.createSHA256(), sha256);

/**
 * The portable BLAKE3, for the contents of files a browser imports (`fileHasher`): twice
 * hash-wasm's sha256 in V8 (~650 against ~330 MB/s). @noble/hashes' BLAKE3 before the compile
 * is slow (~55 MB/s): BrowserRuntime starts the compile when it opens.
 */
export const webBlake3: WebHasherFactory = /* @__PURE__ */ webHasher('blake3', (m) => m.createBLAKE3(), blake3);

/**
 * Hashers sharing one instance of a build: the instance holds the state of whichever used it
 * last, and another takes it over by saving that state (`save`, a few hundred bytes) and
 * loading its own. An importer alternates a stream's hasher with a one-shot digest per file,
 * so the instance changes hands twice a file; a hasher fed many chunks in a row pays nothing.
 */
class WasmHasher implements Hasher {
  private static readonly owners = new WeakMap<IHasher, WasmHasher>();
  private state: Uint8Array | undefined;

  constructor(private readonly h: IHasher, private readonly algorithm: DigestAlgorithm) {}

  /** Whoever holds the instance keeps its state: the instance is about to be reset. */
  static release(h: IHasher): void {
    const o = WasmHasher.owners.get(h);
    if (o) o.state = h.save();
    WasmHasher.owners.delete(h);
  }

  update(chunk: Uint8Array): void {
    this.take();
    this.h.update(chunk);
  }

  digest(): Digest {
    this.take();
    WasmHasher.owners.delete(this.h);
    return `${this.algorithm}:${this.h.digest('hex')}`;
  }

  private take(): void {
    if (WasmHasher.owners.get(this.h) === this) return;
    WasmHasher.release(this.h);
    if (this.state) this.h.load(this.state);
    else this.h.init();
    WasmHasher.owners.set(this.h, this);
  }
}

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

// One pattern per algorithm: an alternation in one pattern took twice as long, and every
// blob a layer import stores is checked.
const SHA256 = /^sha256:[0-9a-f]{64}$/;
const BLAKE3 = /^blake3:[0-9a-f]{64}$/;

export function isDigest(s: string): s is Digest {
  return s.charCodeAt(0) === 0x62 ? BLAKE3.test(s) : SHA256.test(s);
}
