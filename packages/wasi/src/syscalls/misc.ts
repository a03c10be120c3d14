import { CLOCK, ERRNO, RIGHTS } from '../defs.js';
import { fail } from '../errno.js';
import type { WasiContext } from '../context.js';
import { utf8 } from '../memory.js';

/** Thrown by proc_exit to unwind the guest; `start` turns it into the exit code. */
export class ProcExit extends Error {
  override readonly name = 'ProcExit';
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

function writeList(ctx: WasiContext, list: string[], ptrs: number, buf: number): void {
  let pos = buf;
  for (let i = 0; i < list.length; i++) {
    ctx.mem.u32(ptrs + i * 4, pos);
    const bytes = utf8(list[i]!);
    const dst = ctx.mem.slice(pos, bytes.length + 1);
    dst.set(bytes);
    dst[bytes.length] = 0;
    pos += bytes.length + 1;
  }
}

function sizes(ctx: WasiContext, list: string[], countPtr: number, sizePtr: number): void {
  ctx.mem.u32(countPtr, list.length);
  ctx.mem.u32(sizePtr, list.reduce((n, s) => n + utf8(s).length + 1, 0));
}

const PROCESS_START = performance.now();

function clockNow(ctx: WasiContext, id: number): bigint {
  switch (id) {
    case CLOCK.REALTIME: return ctx.clock.realtime();
    case CLOCK.MONOTONIC: return ctx.clock.monotonic();
    // CPU time is approximated by time since the process started: a JS host cannot measure
    // the guest's CPU time, and wasmtime too reports these from the host's clocks.
    case CLOCK.PROCESS_CPUTIME_ID:
    case CLOCK.THREAD_CPUTIME_ID:
      return BigInt(Math.round((performance.now() - PROCESS_START) * 1e6));
    default: return fail(ERRNO.INVAL);
  }
}

export { clockNow };

export function miscSyscalls(ctx: WasiContext) {
  return {
    args_get: (argv: number, buf: number) => writeList(ctx, ctx.args, argv, buf),
    args_sizes_get: (count: number, size: number) => sizes(ctx, ctx.args, count, size),
    environ_get: (env: number, buf: number) => writeList(ctx, ctx.env, env, buf),
    environ_sizes_get: (count: number, size: number) => sizes(ctx, ctx.env, count, size),

    clock_res_get: (id: number, out: number) => {
      clockNow(ctx, id);
      // Nanosecond resolution is what the clocks are read with (hrtime / performance.now
      // are coarser in browsers, but the value is honest about the unit, as wasmtime's 1ns).
      ctx.mem.u64(out, id === CLOCK.REALTIME ? 1000n : 1n);
    },
    clock_time_get: (id: number, _precision: bigint, out: number) => {
      ctx.mem.u64(out, clockNow(ctx, id));
    },

    random_get: (buf: number, len: number) => {
      const dst = ctx.mem.slice(buf, len);
      // getRandomValues fills at most 65536 bytes per call.
      for (let off = 0; off < len; off += 65536) ctx.random(dst.subarray(off, Math.min(len, off + 65536)));
    },

    proc_exit: (code: number): never => {
      throw new ProcExit(code >>> 0);
    },
    proc_raise: (_sig: number) => fail(ERRNO.NOSYS),
    sched_yield: () => {},

    // Preview1 sockets exist only as descriptors handed in by the host; Strata hands in none,
    // so every descriptor is a file, a directory or stdio: ENOTSOCK for those, EBADF else.
    sock_accept: (fd: number) => notSocket(ctx, fd, RIGHTS.SOCK_ACCEPT),
    sock_recv: (fd: number) => notSocket(ctx, fd, 0),
    sock_send: (fd: number) => notSocket(ctx, fd, 0),
    sock_shutdown: (fd: number) => notSocket(ctx, fd, 0),
  };
}

function notSocket(ctx: WasiContext, fd: number, _rights: number): never {
  ctx.fds.get(fd);
  return fail(ERRNO.NOTSOCK);
}
