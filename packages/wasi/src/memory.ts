import { ERRNO } from './defs.js';
import { fail } from './errno.js';

const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/**
 * The guest's linear memory as views that are rebuilt only when the memory grows (its
 * ArrayBuffer is replaced then), so a syscall allocates nothing to reach it.
 */
export class GuestMemory {
  private memory?: WebAssembly.Memory;
  private buffer?: ArrayBuffer;
  private _view?: DataView;
  private _bytes?: Uint8Array;

  bind(memory: WebAssembly.Memory): void {
    this.memory = memory;
  }

  get view(): DataView {
    this.refresh();
    return this._view!;
  }

  get bytes(): Uint8Array {
    this.refresh();
    return this._bytes!;
  }

  /** `len` bytes at `ptr`, a view into guest memory (EFAULT when out of bounds). */
  slice(ptr: number, len: number): Uint8Array {
    const b = this.bytes;
    if (ptr < 0 || len < 0 || ptr + len > b.length) fail(ERRNO.FAULT);
    // A view made directly: cheaper than subarray(), which goes through the species lookup.
    return new Uint8Array(b.buffer, ptr, len);
  }

  /** A UTF-8 string argument (EILSEQ when it is not valid UTF-8). */
  string(ptr: number, len: number): string {
    const b = this.bytes;
    if (ptr < 0 || len < 0 || ptr + len > b.length) fail(ERRNO.FAULT);
    try {
      return decoder.decode(new Uint8Array(b.buffer, ptr, len));
    } catch {
      return fail(ERRNO.ILSEQ);
    }
  }

  /** The iovecs at `ptr` as views into guest memory. */
  iovecs(ptr: number, count: number): Uint8Array[] {
    const v = this.view;
    const out: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const base = v.getUint32(ptr + i * 8, true);
      const len = v.getUint32(ptr + i * 8 + 4, true);
      out.push(this.slice(base, len));
    }
    return out;
  }

  u32(ptr: number, value: number): void {
    this.view.setUint32(ptr, value, true);
  }

  u64(ptr: number, value: number | bigint): void {
    this.view.setBigUint64(ptr, typeof value === 'bigint' ? value : BigInt(value), true);
  }

  private refresh(): void {
    const m = this.memory;
    if (!m) throw new Error('WASI: memory is not bound (call start() or initialize() first)');
    if (m.buffer !== this.buffer) {
      this.buffer = m.buffer;
      this._view = new DataView(m.buffer);
      this._bytes = new Uint8Array(m.buffer);
    }
  }
}

export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}
