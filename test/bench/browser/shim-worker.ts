import { runOnShim } from '../src/wasi/shim-run.js';

/** The peer: fsbench under @bjorn3/browser_wasi_shim's in-memory file system, in a worker. */
self.onmessage = async (e: MessageEvent<{ wasm: Uint8Array<ArrayBuffer>; args: string[] }>) => {
  try {
    const module = await WebAssembly.compile(e.data.wasm);
    postMessage(runOnShim((imports) => new WebAssembly.Instance(module, imports), e.data.args));
  } catch (x) {
    postMessage({ code: 125, stdout: '', stderr: String(x) });
  }
};
