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
 * reaches it through its pid. Returns once that process has started the container (or has
 * ended): a `kill` or `wait` right after must find it running, as docker's would.
 */
export async function startDetached(rt: Runtime, id: string): Promise<void> {
  const before = rt.containers.state(id).startedAt;
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, '--root', rt.root, 'start', '-a', id], {
    detached: true,
    stdio: 'ignore',
  });
  let ended = false;
  child.once('exit', () => (ended = true));
  const deadline = Date.now() + START_WAIT_MS;
  // Until it has started — or already ended and, run with --rm, removed itself.
  const started = () => !rt.containers.exists(id) || rt.containers.state(id).startedAt !== before;
  while (!ended && Date.now() < deadline && !started()) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  child.unref();
}

/** How long `run -d` waits for its background process to start the container. */
const START_WAIT_MS = 30_000;

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
