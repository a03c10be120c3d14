/**
 * The runtimes `pnpm bench wasi` compares. Each peer runs the fsbench guest once with the
 * given arguments (`DIR` stands for the peer's scratch directory) and returns its stdout;
 * a non-zero exit or a trap throws, and the harness prints the error in the peer's cell.
 *
 * Peers: Strata (OverlayFs, in-memory upper), node:wasi on a tmpfs preopen (/dev/shm),
 * @bjorn3/browser_wasi_shim (in-memory), @wasmer/wasi (in-memory), and the native build of
 * the same C source on tmpfs.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { WASI as NodeWasi } from 'node:wasi';
import { init as wasmerInit, WASI as WasmerWasi } from '@wasmer/wasi';
import { runOnShim } from './shim-run.js';
import { createStrataRunner } from './strata.js';

export interface Peer {
  readonly name: string;
  /** Run fsbench with `args` (DIR = the scratch directory); resolves to its stdout. */
  run(args: string[]): Promise<string>;
}

/** tmpfs, so node:wasi and native pay for syscalls, not for a disk. */
export const SHM = '/dev/shm';

const scratchArgs = (args: string[], dir: string) => args.map((a) => (a === 'DIR' ? dir : a));

class ExitError extends Error {
  constructor(peer: string, code: number | null, stderr: string) {
    super(`${peer}: exit ${code}${stderr ? `: ${stderr.trim().split('\n').pop()}` : ''}`);
  }
}

export function nodeWasiPeer(module: WebAssembly.Module): Peer {
  return {
    name: 'node:wasi (tmpfs)',
    async run(args) {
      const scratch = mkdtempSync(join(SHM, 'strata-bench-'));
      const out = join(scratch, '.stdout');
      const fd = openSync(out, 'w');
      try {
        const wasi = new NodeWasi({
          version: 'preview1',
          args: ['fsbench', ...scratchArgs(args, '/scratch')],
          env: {},
          preopens: { '/scratch': scratch },
          stdout: fd,
          returnOnExit: true,
        });
        const instance = new WebAssembly.Instance(module, wasi.getImportObject() as WebAssembly.Imports);
        const code = wasi.start(instance);
        closeSync(fd);
        const stdout = readFileSync(out, 'utf8');
        if (code !== 0) throw new ExitError('node:wasi (tmpfs)', code, '');
        return stdout;
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    },
  };
}

export function shimPeer(module: WebAssembly.Module): Peer {
  return {
    name: 'browser_wasi_shim',
    async run(args) {
      const r = runOnShim((imports) => new WebAssembly.Instance(module, imports), scratchArgs(args, '/scratch'));
      if (r.code !== 0) throw new ExitError('browser_wasi_shim', r.code, r.stderr);
      return r.stdout;
    },
  };
}

export async function wasmerPeer(module: WebAssembly.Module): Promise<Peer> {
  await wasmerInit();
  return {
    name: '@wasmer/wasi',
    async run(args) {
      const wasi = new WasmerWasi({ args: ['fsbench', ...scratchArgs(args, '/scratch')], env: {} });
      wasi.fs.createDir('/scratch');
      wasi.instantiate(module, {});
      const code = wasi.start();
      if (code !== 0) throw new ExitError('@wasmer/wasi', code, wasi.getStderrString());
      return wasi.getStdoutString();
    },
  };
}

export function nativePeer(binary: string): Peer {
  return {
    name: 'native (tmpfs)',
    async run(args) {
      const scratch = mkdtempSync(join(SHM, 'strata-bench-'));
      try {
        const r = spawnSync(binary, scratchArgs(args, scratch), { encoding: 'utf8' });
        if (r.error) throw r.error;
        if (r.status !== 0) throw new ExitError('native (tmpfs)', r.status, r.stderr);
        return r.stdout;
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    },
  };
}

export async function strataPeer(module: WebAssembly.Module): Promise<Peer> {
  const run = await createStrataRunner(module);
  return { name: 'Strata (overlay)', run };
}
