import { ConsoleStdout, File, OpenFile, PreopenDirectory, WASI } from '@bjorn3/browser_wasi_shim';

/** The peer: fsbench under @bjorn3/browser_wasi_shim's in-memory file system, in a worker. */
self.onmessage = async (e: MessageEvent<{ wasm: Uint8Array<ArrayBuffer>; args: string[] }>) => {
  try {
    const out: string[] = [];
    const err: string[] = [];
    const fds = [
      new OpenFile(new File([])),
      ConsoleStdout.lineBuffered((l) => out.push(l)),
      ConsoleStdout.lineBuffered((l) => err.push(l)),
      new PreopenDirectory('/scratch', new Map()),
    ];
    const wasi = new WASI(['fsbench', ...e.data.args], [], fds, { debug: false });
    const module = await WebAssembly.compile(e.data.wasm);
    const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi.wasiImport });
    const code = wasi.start(instance as { exports: { memory: WebAssembly.Memory; _start: () => unknown } });
    postMessage({ code, stdout: `${out.join('\n')}\n`, stderr: err.join('\n') });
  } catch (x) {
    postMessage({ code: 125, stdout: '', stderr: String(x) });
  }
};
