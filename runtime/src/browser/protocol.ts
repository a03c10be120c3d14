/** What the page asks a browser container worker to run, and what comes back. */
export interface BrowserRunRequest {
  dbName: string;
  diffIds: string[];
  upper?: Uint8Array;
  argv: string[];
  env: string[];
  stdin?: Uint8Array;
  /**
   * How lower file bytes reach the synchronous overlay: the SharedArrayBuffer bridge (the
   * buffer and a port to the reader worker), JSPI, or a preload of every file of the image.
   */
  bridge: { kind: 'sab'; sab: SharedArrayBuffer; port: MessagePort } | { kind: 'jspi' } | { kind: 'preload' };
}

export type BrowserWorkerMessage =
  | { kind: 'output'; stream: 'stdout' | 'stderr'; bytes: Uint8Array }
  | { kind: 'done'; exitCode: number; upper?: Uint8Array; error?: string; bridgeRequests?: number };
