/** What the page asks a browser container worker to run, and what comes back. */
export interface BrowserRunRequest {
  dbName: string;
  diffIds: string[];
  upper?: Uint8Array;
  argv: string[];
  env: string[];
  /**
   * stdin: all of it up front (`bytes`), or streamed while the program runs: through a
   * SharedArrayBuffer ring (`ring`, the SAB bridge; see stdin-ring.ts) or as StdinMessage
   * messages to the worker (`messages`, the JSPI bridge). Absent: empty.
   */
  stdin?: { kind: 'bytes'; bytes: Uint8Array } | { kind: 'ring'; ring: SharedArrayBuffer } | { kind: 'messages' };
  /**
   * How lower file bytes reach the synchronous overlay: the SharedArrayBuffer bridge (the
   * buffer and a port to the reader worker), JSPI, or a preload of every file of the image.
   */
  bridge: { kind: 'sab'; sab: SharedArrayBuffer; port: MessagePort } | { kind: 'jspi' } | { kind: 'preload' };
}

export type BrowserWorkerMessage =
  | { kind: 'output'; stream: 'stdout' | 'stderr'; bytes: Uint8Array }
  | { kind: 'done'; exitCode: number; upper?: Uint8Array; error?: string; bridgeRequests?: number };

/** Streamed stdin under the JSPI bridge: chunks as the page gets them, then the end. */
export type StdinMessage = { kind: 'stdin'; bytes: Uint8Array } | { kind: 'stdin-end' };
