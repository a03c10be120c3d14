import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { Runtime } from '../runtime.js';

/** The Runtime on the root the global `--root` names (default: $STRATA_ROOT, ~/.local/share/strata). */
export async function runtimeOf(cmd: Command): Promise<Runtime> {
  const root = (cmd.optsWithGlobals() as { root?: string }).root;
  return Runtime.open(root ? { root } : {});
}

/**
 * Run `strata start -a ID` in a detached background process (`run -d`, `start` without
 * `-a`): the container outlives this command, its output goes to its log, and `kill`
 * reaches it through its pid.
 */
export function startDetached(rt: Runtime, id: string): void {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, '--root', rt.root, 'start', '-a', id], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
