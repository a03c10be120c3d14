/**
 * The output limit of a container (`--output-limit`, `outputLimit`), counted over stdout and
 * stderr together, for the Node host and the browser runtime alike: `take` passes on what
 * fits, and says when the program must be stopped.
 */
export class OutputLimit {
  private used = 0;

  constructor(readonly limit: number | undefined) {}

  /** The part of `bytes` within the limit, and whether the limit was passed with them. */
  take(bytes: Uint8Array): { pass: Uint8Array; exceeded: boolean } {
    if (this.limit === undefined || this.used + bytes.length <= this.limit) {
      this.used += bytes.length;
      return { pass: bytes, exceeded: false };
    }
    const pass = bytes.subarray(0, Math.max(0, this.limit - this.used));
    this.used = this.limit;
    return { pass, exceeded: true };
  }

  /** The error a run stopped by the limit reports. */
  get message(): string {
    return `killed: the output limit (${this.limit} bytes) was reached`;
  }
}
