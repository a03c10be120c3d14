/**
 * Pull bytes from an async stream of chunks without copying more than needed: exact reads
 * for headers, partial reads for streamed bodies.
 */
export class ByteReader {
  private readonly it: AsyncIterator<Uint8Array>;
  private buf: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private eof = false;
  /** Total bytes handed out. */
  consumed = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** Exactly `n` bytes, or fewer only at the end of the stream. */
  async readExact(n: number): Promise<Uint8Array> {
    if (this.buf.length - this.pos >= n) {
      const out = this.buf.subarray(this.pos, this.pos + n);
      this.pos += n;
      this.consumed += n;
      return out;
    }
    const out = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      if (this.pos >= this.buf.length && !(await this.fill())) break;
      const take = Math.min(n - got, this.buf.length - this.pos);
      out.set(this.buf.subarray(this.pos, this.pos + take), got);
      this.pos += take;
      got += take;
    }
    this.consumed += got;
    return got === n ? out : out.subarray(0, got);
  }

  /** `n` bytes if the current chunk holds them, without waiting; undefined otherwise. */
  takeBuffered(n: number): Uint8Array | undefined {
    if (this.buf.length - this.pos < n) return undefined;
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    this.consumed += n;
    return out;
  }

  /** Up to `max` bytes (at least one), or undefined at the end of the stream. */
  async readSome(max: number): Promise<Uint8Array | undefined> {
    if (this.pos >= this.buf.length && !(await this.fill())) return undefined;
    const take = Math.min(max, this.buf.length - this.pos);
    const out = this.buf.subarray(this.pos, this.pos + take);
    this.pos += take;
    this.consumed += take;
    return out;
  }

  private async fill(): Promise<boolean> {
    while (!this.eof) {
      const r = await this.it.next();
      if (r.done) {
        this.eof = true;
        break;
      }
      if (r.value.length === 0) continue;
      // A plain view: subarrays of a Node Buffer are Buffers, several times dearer to make,
      // and a header takes a few.
      const v = r.value;
      this.buf = v.constructor === Uint8Array ? v : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      this.pos = 0;
      return true;
    }
    return false;
  }
}
