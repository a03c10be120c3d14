import type { WasiContext } from '../context.js';
import { ERRNO, EVENT_SIZE, EVENTTYPE, RIGHTS, SUBCLOCK_ABSTIME, SUBSCRIPTION_SIZE } from '../defs.js';
import { errnoOf, fail } from '../errno.js';
import { clockNow } from './misc.js';

interface Sub {
  userdata: bigint;
  type: number;
  fd: number;
  /** Clock subscriptions: the deadline on the monotonic clock, in ns. */
  deadline: bigint;
}

interface Event {
  userdata: bigint;
  error: number;
  type: number;
  nbytes: bigint;
}

/**
 * poll_oneoff: clock subscriptions (relative or absolute, on any clock) and fd_read /
 * fd_write readiness. Files and stdout/stderr are always ready; stdin asks its source.
 * When nothing is ready the call blocks until the earliest deadline — through the stdin
 * source's `wait` if it has one (so input wakes it early), otherwise with Atomics.wait.
 */
export function pollSyscalls(ctx: WasiContext) {
  const { mem, fds } = ctx;
  return {
    poll_oneoff: (inPtr: number, outPtr: number, nsubs: number, neventsPtr: number) => {
      if (nsubs === 0) fail(ERRNO.INVAL);
      mem.slice(inPtr, nsubs * SUBSCRIPTION_SIZE);
      mem.slice(outPtr, nsubs * EVENT_SIZE);
      const v = mem.view;
      const subs: Sub[] = [];
      const mono = ctx.clock.monotonic();
      // A poll run again after suspending (see StdinSource.pending) keeps its first start.
      const started = ctx.pollStartedAt ?? mono;
      ctx.pollStartedAt = undefined;
      const immediate: Event[] = [];
      for (let i = 0; i < nsubs; i++) {
        const p = inPtr + i * SUBSCRIPTION_SIZE;
        const userdata = v.getBigUint64(p, true);
        const type = v.getUint8(p + 8);
        if (type === EVENTTYPE.CLOCK) {
          const id = v.getUint32(p + 16, true);
          const timeout = v.getBigUint64(p + 24, true);
          const flags = v.getUint16(p + 40, true);
          let now: bigint;
          try {
            now = clockNow(ctx, id);
          } catch (e) {
            immediate.push({ userdata, error: errnoOf(e) ?? ERRNO.INVAL, type, nbytes: 0n });
            continue;
          }
          // Every deadline is kept on the monotonic clock, so clocks can be mixed.
          const deadline = flags & SUBCLOCK_ABSTIME ? mono + (timeout > now ? timeout - now : 0n) : started + timeout;
          subs.push({ userdata, type, fd: -1, deadline });
        } else if (type === EVENTTYPE.FD_READ || type === EVENTTYPE.FD_WRITE) {
          subs.push({ userdata, type, fd: v.getUint32(p + 16, true), deadline: 0n });
        } else {
          immediate.push({ userdata, error: ERRNO.INVAL, type, nbytes: 0n });
        }
      }
      let events = immediate;
      for (;;) {
        const now = ctx.clock.monotonic();
        const ready: Event[] = [...events];
        let nextDeadline: bigint | undefined;
        let waitsOnStdin = false;
        for (const s of subs) {
          if (s.type === EVENTTYPE.CLOCK) {
            if (now >= s.deadline) ready.push({ userdata: s.userdata, error: 0, type: s.type, nbytes: 0n });
            else if (nextDeadline === undefined || s.deadline < nextDeadline) nextDeadline = s.deadline;
            continue;
          }
          const r = fdReadiness(ctx, s);
          if (r === 'stdin-wait') waitsOnStdin = true;
          else ready.push(r);
        }
        if (ready.length > 0) {
          events = ready;
          break;
        }
        const ms = nextDeadline === undefined ? Infinity : Number(nextDeadline - now) / 1e6;
        if (waitsOnStdin && !ctx.stdin.wait && ctx.stdin.pending) {
          // Input arrives on this thread's event loop, which a blocking wait would hold.
          ctx.pollStartedAt = started;
          throw ctx.stdin.pending(ms);
        }
        if (waitsOnStdin && ctx.stdin.wait) ctx.stdin.wait(Math.min(ms, 2 ** 31 - 1));
        else if (ms === Infinity) sleep(50); // only stdin without wait(): poll its ready()
        else sleep(ms);
        events = [];
      }
      events.forEach((e, i) => {
        const p = outPtr + i * EVENT_SIZE;
        mem.slice(p, EVENT_SIZE).fill(0);
        v.setBigUint64(p, e.userdata, true);
        v.setUint16(p + 8, e.error, true);
        v.setUint8(p + 10, e.type);
        v.setBigUint64(p + 16, e.nbytes, true);
      });
      mem.u32(neventsPtr, events.length);
    },
  };

  function fdReadiness(c: WasiContext, s: Sub): Event | 'stdin-wait' {
    const ev = (error: number, nbytes = 0n): Event => ({ userdata: s.userdata, error, type: s.type, nbytes });
    let e;
    try {
      e = fds.get(s.fd, RIGHTS.POLL_FD_READWRITE);
    } catch (err) {
      return ev(errnoOf(err) ?? ERRNO.BADF);
    }
    if (e.kind === 'stdio') {
      if (s.type === EVENTTYPE.FD_READ) {
        if (e.stream !== 0) return ev(ERRNO.BADF);
        const ready = c.stdin.ready ? c.stdin.ready() : true;
        // The exact count is unknown without reading; 1 says "at least one byte (or EOF)".
        return ready ? ev(0, 1n) : 'stdin-wait';
      }
      return e.stream === 0 ? ev(ERRNO.BADF) : ev(0);
    }
    if (e.kind === 'dir') return ev(ERRNO.BADF);
    if (s.type === EVENTTYPE.FD_READ) {
      const size = e.handle.stat().size;
      return ev(0, BigInt(Math.max(0, size - e.pos)));
    }
    return ev(0);
  }
}

let sleeper: Int32Array | undefined;

/** Block the thread for `ms` (a worker may block; a JS host has no other way to sleep). */
export function sleep(ms: number): void {
  if (ms <= 0) return;
  try {
    sleeper ??= new Int32Array(new SharedArrayBuffer(4));
    Atomics.wait(sleeper, 0, 0, ms);
  } catch {
    // No SharedArrayBuffer (a page without cross-origin isolation) or a thread that may
    // not block: spin, which is what is left.
    const end = performance.now() + ms;
    while (performance.now() < end) { /* spin */ }
  }
}
