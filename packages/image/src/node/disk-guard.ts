import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ImageError } from '../image-store.js';
import { LocalGuard, type Lease, type StoreGuard } from '../store-guard.js';
import { ownStart, processAlive } from '@strata/store/node';

/** How long `exclusive` waits for another process's section before it gives up. */
const LOCK_WAIT_MS = 60_000;
/** A lock file with no process id yet is its maker's, between create and write, this long. */
const UNWRITTEN_GRACE_MS = 5_000;

/**
 * The guard of a store root on disk, shared by every process using it (see StoreGuard).
 *
 * `exclusive` holds `<root>/lock`, a file created with O_EXCL that names its process (its pid
 * and, on Linux, its start time: a pid alone would name another process once the number is
 * reused); a lock whose process is gone (killed in a section) is taken over. Node has no flock, and the
 * sections are short (a JSON file's read and replace, a collection), so waiting is a poll.
 * Taking over is itself exclusive (`breakStaleLock`): two waiters that both found the lock
 * stale would otherwise each remove it, the second removing the first's new lock.
 * Leases are files in `<root>/leases/`, one per lease, named by process: a collection sees
 * every process's leases, its own included, and ignores and removes those of processes that
 * are gone. The in-process queue only spares this process's sections the polling.
 */
export class DiskGuard implements StoreGuard {
  private readonly local = new LocalGuard();
  private readonly lockFile: string;
  private readonly leaseDir: string;
  private nextLease = 0;

  constructor(private readonly root: string) {
    this.lockFile = join(root, 'lock');
    this.leaseDir = join(root, 'leases');
  }

  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.local.exclusive(async () => {
      await this.lock();
      try {
        return await fn();
      } finally {
        unlinkSync(this.lockFile);
      }
    });
  }

  async lease(): Promise<Lease> {
    // `<pid>-<n>[-<start>]`: this process, and its start time where /proc has it.
    const start = ownStart();
    const file = join(this.leaseDir, `${process.pid}-${this.nextLease++}${start === undefined ? '' : `-${start}`}`);
    // Under the lock: no collection is running, and none starts without seeing this file
    // (this process's collections too: the file names a live process).
    await this.exclusive(async () => {
      mkdirSync(this.leaseDir, { recursive: true });
      closeSync(openSync(file, 'wx'));
    });
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        try {
          unlinkSync(file);
        } catch {
          // Removed already (a collection took it for a dead process's): nothing to do.
        }
      },
    };
  }

  /** The live lease files; those of processes that are gone are removed on the way. */
  async leases(): Promise<number> {
    let names: string[];
    try {
      names = readdirSync(this.leaseDir);
    } catch {
      return 0;
    }
    let held = 0;
    for (const name of names) {
      const [pidText, , start] = name.split('-');
      const pid = Number(pidText);
      if (Number.isInteger(pid) && pid > 0 && processAlive(pid, start)) {
        held++;
        continue;
      }
      try {
        unlinkSync(join(this.leaseDir, name));
      } catch {
        // Gone meanwhile.
      }
    }
    return held;
  }

  private async lock(): Promise<void> {
    mkdirSync(this.root, { recursive: true });
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
      if (createPidFile(this.lockFile)) return;
      const holder = lockHolder(this.lockFile);
      if (typeof holder === 'object' && breakStaleLock(this.lockFile, holder.stale)) continue;
      if (Date.now() > deadline) throw new ImageError(`the store at ${this.root} stays locked by ${holder === 'unknown' ? 'another process' : `process ${holder}`}`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/**
 * Who holds a lock file: a live process's pid, 'unknown' (released meanwhile, or its maker
 * is between create and write), or `{ stale }`: the text of a lock whose process is gone.
 */
export function lockHolder(file: string): number | 'unknown' | { stale: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return 'unknown'; // released meanwhile: the next try takes it
  }
  const named = /^(\d+)(?: (\d+))?$/.exec(text);
  const pid = Number(named?.[1]);
  if (named && pid > 0) return processAlive(pid, named[2]) ? pid : { stale: text };
  // Not written yet: its maker is between create and write, unless that was long ago.
  try {
    return Date.now() - statSync(file).mtimeMs > UNWRITTEN_GRACE_MS ? { stale: text } : 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Remove a lock found stale (`seen`: its text then), unless it has changed since: under
 * `<lock>.break`, itself taken with O_EXCL, the lock is judged again and removed only if it
 * is still stale with the same text. A waiter that took the lock over meanwhile wrote its
 * own pid, which another waiter that had also found it stale must not remove. False when
 * another waiter is breaking the lock; a `.break` whose process is gone (killed in these few
 * system calls) is removed for the next try.
 */
export function breakStaleLock(file: string, seen: string): boolean {
  const breaker = `${file}.break`;
  if (!createPidFile(breaker)) {
    // Another waiter is breaking it; or died doing so.
    if (typeof lockHolder(breaker) === 'object') removeIfPresent(breaker);
    return false;
  }
  try {
    const now = lockHolder(file);
    if (typeof now === 'object' && now.stale === seen) removeIfPresent(file);
    return true;
  } finally {
    removeIfPresent(breaker);
  }
}

/** Create `file` with O_EXCL and this process's id in it; false when it exists already. */
function createPidFile(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    const start = ownStart();
    writeSync(fd, start === undefined ? String(process.pid) : `${process.pid} ${start}`);
  } finally {
    closeSync(fd);
  }
  return true;
}

function removeIfPresent(file: string): void {
  try {
    unlinkSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
