import type { Command } from 'commander';
import { EXIT, RuntimeError } from '../exit-codes.js';
import { parseEnv, parseMount, parseSeconds, parseSize } from '../options.js';
import { canRunInProcess, type CreateOptions, type Runtime } from '../runtime.js';
import { prewarmWorker } from '../worker/host.js';
import { collect, runtimeOf, startDetached } from './context.js';
import { ago, table, write } from './output.js';

interface RunFlags {
  rm?: boolean;
  name?: string;
  detach?: boolean;
  interactive?: boolean;
  env?: string[];
  volume?: string[];
  workdir?: string;
  entrypoint?: string;
  memory?: string;
  timeout?: string;
  outputLimit?: string;
}

function createOptions(flags: RunFlags, args: string[]): CreateOptions {
  const env = (flags.env ?? []).map((e) => parseEnv(e));
  return {
    ...(flags.name !== undefined ? { name: flags.name } : {}),
    args,
    env,
    ...(flags.workdir !== undefined ? { workdir: flags.workdir } : {}),
    ...(flags.entrypoint !== undefined ? { entrypoint: flags.entrypoint } : {}),
    mounts: (flags.volume ?? []).map(parseMount),
    ...(flags.memory !== undefined ? { memory: parseSize(flags.memory) } : {}),
    ...(flags.timeout !== undefined ? { timeoutSeconds: parseSeconds(flags.timeout) } : {}),
    ...(flags.outputLimit !== undefined ? { outputLimit: parseSize(flags.outputLimit) } : {}),
    interactive: flags.interactive ?? false,
    autoRemove: flags.rm ?? false,
  };
}

function runFlags(cmd: Command): Command {
  return cmd
    .option('--rm', 'remove the container when it exits')
    .option('--name <name>', 'container name')
    .option('-i, --interactive', 'keep stdin open and pass it to the program')
    .option('-e, --env <KEY=VALUE>', 'set an environment variable (repeatable)', collect)
    .option('-v, --volume <HOST:GUEST[:ro]>', 'bind-mount a host directory (repeatable)', collect)
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('--entrypoint <path>', 'override the image entrypoint')
    .option('--memory <size>', 'linear memory limit, e.g. 64m')
    .option('--timeout <seconds>', 'kill the container after this many seconds (exit 137)')
    .option('--output-limit <size>', 'kill the container once its stdout + stderr pass this size, e.g. 10m (exit 137)')
    .argument('<image>')
    .argument('[args...]')
    .passThroughOptions();
}

/**
 * Run attached: stream output, pass stdin with -i, forward SIGINT/SIGTERM as a kill. Without
 * stdin or a time limit the program runs on this thread (no worker to boot); a signal then
 * ends the process, as it would end a program run directly.
 */
async function attach(rt: Runtime, id: string, interactive: boolean): Promise<number> {
  const started = rt.start(id, {
    ...(interactive ? { stdin: process.stdin as unknown as AsyncIterable<Uint8Array> } : {}),
    onOutput: (stream, bytes) => {
      const to = stream === 'stdout' ? process.stdout : process.stderr;
      // A full buffer (an asynchronous stdout) holds the program until it drains.
      return to.write(bytes) ? undefined : drained(to);
    },
    inProcess: true,
    ownsProcess: true,
  });
  const onSignal = () => started.kill();
  if (!started.inProcess) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  try {
    const r = await started.done;
    // A plain kill is silent, as docker's; a limit says which one stopped the program.
    if (r.error && r.error !== 'killed') process.stderr.write(`strata: ${r.error}\n`);
    return r.exitCode;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (interactive) process.stdin.destroy();
  }
}

export function registerContainerCommands(program: Command): void {
  runFlags(program.command('run').description('create and start a container from an image'))
    .option('-d, --detach', 'run in the background and print the container id')
    .action(async (image: string, args: string[], flags: RunFlags, cmd: Command) => {
      const options = createOptions(flags, args);
      if (!flags.detach && !canRunInProcess({ stdin: options.interactive ?? false, timeoutSeconds: options.timeoutSeconds, outputLimit: options.outputLimit })) prewarmWorker();
      const rt = await runtimeOf(cmd);
      const c = await rt.create(image, options);
      if (flags.detach) {
        await startDetached(rt, c.id);
        write(c.id);
        return;
      }
      process.exitCode = await attach(rt, c.id, flags.interactive ?? false);
    });

  runFlags(program.command('create').description('create a container without starting it'))
    .action(async (image: string, args: string[], flags: RunFlags, cmd: Command) => {
      const rt = await runtimeOf(cmd);
      write((await rt.create(image, createOptions(flags, args))).id);
    });

  program.command('start').description('start a stopped container')
    .option('-a, --attach', 'attach stdout/stderr and exit with the container status')
    .option('-i, --interactive', 'attach stdin')
    .argument('<container>')
    .action(async (ref: string, flags: { attach?: boolean; interactive?: boolean }, cmd: Command) => {
      if (flags.attach && flags.interactive) prewarmWorker();
      const rt = await runtimeOf(cmd);
      const c = rt.containers.resolve(ref);
      if (!flags.attach) {
        if (rt.containers.state(c.id).status === 'running') throw new RuntimeError(`container ${c.name} is already running`);
        await startDetached(rt, c.id);
        write(ref);
        return;
      }
      process.exitCode = await attach(rt, c.id, flags.interactive ?? c.interactive);
    });

  program.command('wait').description('wait for a container to stop and print its exit code')
    .argument('<container...>')
    .action(async (refs: string[], _f: unknown, cmd: Command) => {
      const rt = await runtimeOf(cmd);
      for (const ref of refs) write(String(await rt.wait(ref)));
    });

  program.command('kill').description('kill a running container')
    .argument('<container...>')
    .action(async (refs: string[], _f: unknown, cmd: Command) => {
      const rt = await runtimeOf(cmd);
      for (const ref of refs) {
        await rt.kill(ref);
        write(ref);
      }
    });

  program.command('rm').description('remove containers')
    .option('-f, --force', 'kill a running container first')
    .argument('<container...>')
    .action(async (refs: string[], flags: { force?: boolean }, cmd: Command) => {
      const rt = await runtimeOf(cmd);
      for (const ref of refs) {
        await rt.remove(ref, flags.force ?? false);
        write(ref);
      }
    });

  program.command('ps').description('list containers')
    .option('-a, --all', 'show all containers (default: running only)')
    .option('--format <format>', "'json' for one JSON object per line")
    .action(async (flags: { all?: boolean; format?: string }, cmd: Command) => {
      const rt = await runtimeOf(cmd);
      const list = rt.containers.list().filter((c) => flags.all || c.state.status === 'running');
      const rows = list.map(({ config: c, state: s }) => ({
        ID: c.id.slice(0, 12), Image: c.image.ref, Command: JSON.stringify(c.argv.join(' ')), CreatedAt: c.created,
        Status: s.status === 'running' ? `Up since ${s.startedAt}` : s.status === 'exited' ? `Exited (${s.exitCode})${s.finishedAt ? ` ${ago(s.finishedAt)}` : ''}` : 'Created',
        State: s.status, Names: c.name, ExitCode: s.exitCode ?? null,
      }));
      if (flags.format === 'json') {
        for (const r of rows) write(JSON.stringify(r));
        return;
      }
      write(table([['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'NAMES'],
        ...rows.map((r) => [r.ID, r.Image, r.Command, ago(r.CreatedAt), r.Status, r.Names])]));
    });

  program.command('logs').description("print a container's output")
    .argument('<container>')
    .action(async (ref: string, _f: unknown, cmd: Command) => {
      const rt = await runtimeOf(cmd);
      for (const { stream, bytes } of rt.containers.readLog(rt.containers.resolve(ref).id)) {
        (stream === 'stdout' ? process.stdout : process.stderr).write(bytes);
      }
    });

  program.command('diff').description("list what a container changed: A added, C changed, D deleted")
    .argument('<container>')
    .action(async (ref: string, _f: unknown, cmd: Command) => {
      const rt = await runtimeOf(cmd);
      const changes = (await rt.diff(ref)).sort((a, b) => (a.path < b.path ? -1 : 1));
      for (const c of changes) write(`${c.kind} ${c.path}`);
    });

  program.command('commit').description("create an image from a container's changes")
    .argument('<container>')
    .argument('<image>')
    .action(async (ref: string, image: string, _f: unknown, cmd: Command) => {
      const rt = await runtimeOf(cmd);
      write((await rt.commit(ref, image)).id);
    });

  program.command('export').description("write a container's file system as a tar")
    .requiredOption('-o, --output <file>', 'the tar file to write')
    .argument('<container>')
    .action(async (ref: string, flags: { output: string }, cmd: Command) => {
      const rt = await runtimeOf(cmd);
      await rt.export(ref, flags.output);
    });
}

const draining = new Map<NodeJS.WriteStream, Promise<void>>();

/** When `to` has room again (or is gone): one wait a stream, however many writes wait on it. */
function drained(to: NodeJS.WriteStream): Promise<void> {
  let p = draining.get(to);
  if (!p) {
    p = new Promise<void>((resolve) => {
      const done = () => {
        for (const e of ['drain', 'error', 'close']) to.off(e, done);
        draining.delete(to);
        resolve();
      };
      for (const e of ['drain', 'error', 'close']) to.on(e, done);
    });
    draining.set(to, p);
  }
  return p;
}
