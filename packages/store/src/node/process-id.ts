import { readFileSync } from 'node:fs';

/**
 * Processes as files on a shared root name them (lock, lease, ingest, container state): a
 * pid, and where /proc says it, when the process started — a pid alone names another
 * process once the number is reused.
 */

/**
 * When a process started, in clock ticks since boot (field 22 of /proc/<pid>/stat, which does
 * not move with the wall clock); undefined where there is no /proc (not Linux) or no such
 * process.
 */
export function startTicks(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields from the third on follow the command name, which is in parentheses and may
  // hold spaces and parentheses itself.
  const ticks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  return ticks !== undefined && /^\d+$/.test(ticks) ? ticks : undefined;
}

let own: { start: string | undefined } | undefined;

/** This process's start (see startTicks): read once. */
export function ownStart(): string | undefined {
  own ??= { start: startTicks(process.pid) };
  return own.start;
}

/**
 * Whether the process a file names still runs: a process has that pid (another user's
 * counts: EPERM) and, where the file has a start time and /proc can say, started then — not
 * a later one given the pid again.
 */
export function processAlive(pid: number, start?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (start === undefined) return true;
  const now = startTicks(pid);
  return now === undefined || now === start;
}
