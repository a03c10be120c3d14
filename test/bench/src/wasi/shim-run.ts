import { ConsoleStdout, File, OpenFile, PreopenDirectory, WASI } from '@bjorn3/browser_wasi_shim';

/**
 * fsbench under @bjorn3/browser_wasi_shim's in-memory file system, with an empty /scratch
 * preopen: the shim peer of `pnpm bench wasi` (Node) and of `pnpm bench browser` (a worker).
 * Browser-safe.
 */
export function runOnShim(instance: (imports: WebAssembly.Imports) => WebAssembly.Instance, args: string[]): { code: number; stdout: string; stderr: string } {
  const out: string[] = [];
  const err: string[] = [];
  const fds = [
    new OpenFile(new File([])),
    ConsoleStdout.lineBuffered((l) => out.push(l)),
    ConsoleStdout.lineBuffered((l) => err.push(l)),
    new PreopenDirectory('/scratch', new Map()),
  ];
  const wasi = new WASI(['fsbench', ...args], [], fds, { debug: false });
  const code = wasi.start(instance({ wasi_snapshot_preview1: wasi.wasiImport }) as { exports: { memory: WebAssembly.Memory; _start: () => unknown } });
  return { code, stdout: `${out.join('\n')}\n`, stderr: err.join('\n') };
}
