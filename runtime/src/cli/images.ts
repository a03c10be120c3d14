import { join } from 'node:path';
import type { Command } from 'commander';
import { ImageError, normalizeReference, parseReference } from '@strata/image';
import { RuntimeError } from '../exit-codes.js';
import type { Runtime } from '../runtime.js';
import { runtimeOf } from './context.js';
import { ago, humanSize, table, write } from './output.js';

/** docker inspect's shape for an image, with the overlay driver's directories. */
async function inspectImage(rt: Runtime, ref: string) {
  const img = await rt.images.resolve(ref);
  const names = await rt.images.names(img.id);
  const layerDir = (d: string) => join(rt.root, 'layers', `${d.slice(7)}.json`);
  return {
    Id: img.id,
    RepoTags: names,
    RepoDigests: names.map((n) => `${n.split(':')[0]}@${img.id}`),
    Created: img.config.created ?? '',
    Architecture: img.config.architecture ?? '',
    Os: img.config.os ?? '',
    Size: img.layers.reduce((n, l) => n + l.size, 0),
    Config: img.config.config ?? {},
    RootFS: { Type: 'layers', Layers: img.diffIds },
    GraphDriver: {
      Name: 'overlay',
      Data: {
        LowerDir: img.diffIds.slice().reverse().map(layerDir).join(':'),
        UpperDir: '',
        MergedDir: '',
        WorkDir: '',
      },
    },
  };
}

async function inspectContainer(rt: Runtime, ref: string) {
  const c = rt.containers.resolve(ref);
  const s = rt.containers.state(c.id);
  const dir = join(rt.containers.dir, c.id);
  return {
    Id: c.id, Name: `/${c.name}`, Created: c.created, Image: c.image.id,
    Path: c.argv[0], Args: c.argv.slice(1),
    State: { Status: s.status, Running: s.status === 'running', ExitCode: s.exitCode ?? 0, StartedAt: s.startedAt ?? '', FinishedAt: s.finishedAt ?? '', Error: s.error ?? '' },
    Config: { Image: c.image.ref, Env: c.env, WorkingDir: c.workdir, Entrypoint: [c.argv[0]], Cmd: c.argv.slice(1) },
    Mounts: c.mounts.map((m) => ({ Type: 'bind', Source: m.host, Destination: m.guest, RW: !m.readOnly })),
    GraphDriver: {
      Name: 'overlay',
      Data: {
        LowerDir: c.image.diffIds.slice().reverse().map((d) => join(rt.root, 'layers', `${d.slice(7)}.json`)).join(':'),
        UpperDir: rt.containers.upperPath(c.id),
        MergedDir: `${dir} (merged in memory while running)`,
        WorkDir: dir,
      },
    },
  };
}

/** Pull with docker-like progress: a bar per layer on a terminal, plain lines otherwise. */
async function pullWithProgress(rt: Runtime, ref: string, plainHttp: boolean): Promise<void> {
  const { pull } = await import('@strata/image');
  const short = (d: string) => d.slice(7, 19);
  const tty = process.stdout.isTTY === true;
  let bars: { stop(): void; create(total: number, start: number, payload: object): { update(n: number, p?: object): void } } | undefined;
  const perLayer = new Map<string, { update(n: number, p?: object): void }>();
  if (tty) {
    const { MultiBar, Presets } = await import('cli-progress');
    bars = new MultiBar({ format: '{id}: {status} [{bar}] {value}/{total}', hideCursor: true, clearOnComplete: false }, Presets.shades_classic) as never;
  }
  const { loadCredentials } = await import('@strata/image/node');
  const img = await pull(rt.images, ref, {
    plainHttp,
    credentials: loadCredentials(rt.root),
    onEvent: (e) => {
      if (e.kind === 'resolved') {
        for (const l of e.layers) {
          if (bars) perLayer.set(l.digest, bars.create(l.size, 0, { id: short(l.digest), status: 'Downloading' }));
          else write(`${short(l.digest)}: Pulling fs layer`);
        }
      } else if (e.kind === 'progress') {
        perLayer.get(e.digest)?.update(e.bytes, { status: 'Downloading' });
      } else if (e.kind === 'done') {
        perLayer.get(e.digest)?.update(Number.MAX_SAFE_INTEGER, { status: 'Pull complete' });
        if (!bars) write(`${short(e.digest)}: Pull complete`);
      }
    },
  });
  bars?.stop();
  write(`Digest: ${img.id}`);
  write(`Status: Downloaded image for ${ref}`);
}

export function registerImageCommands(program: Command): void {
  program.command('push').description('push an image to a registry')
    .option('--plain-http', 'use HTTP instead of HTTPS (a local registry)')
    .argument('<image>')
    .action(async (ref: string, flags: { plainHttp?: boolean }, cmd: Command) => {
      const rt = await runtimeOf(cmd);
      const { push } = await import('@strata/image');
      const { loadCredentials } = await import('@strata/image/node');
      // Cross-repository mount, as docker does for layers it knows a registry already has:
      // another name of the same image in another repository of the same registry.
      const target = parseReference(normalizeReference(ref));
      const img = await rt.images.resolve(ref);
      const sibling = (await rt.images.list()).find((i) => i.record.id === img.id)?.names
        .map((n) => parseReference(n))
        .find((r) => r.registry === target.registry && r.repository !== target.repository);
      const digest = await push(rt.images, ref, ref, {
        ...(sibling ? { mountFrom: sibling.repository } : {}),
        plainHttp: flags.plainHttp ?? false,
        credentials: loadCredentials(rt.root),
        onEvent: (e) => {
          if (e.kind === 'blob') write(`${e.digest.slice(7, 19)}: ${e.how === 'exists' ? 'Layer already exists' : e.how === 'mounted' ? 'Mounted from another repository' : e.chunks ? `Pushed (${e.chunks} chunks)` : 'Pushed'}`);
        },
      });
      write(`digest: ${digest}`);
    });

  program.command('login').description('log in to a registry (credentials kept in the root, mode 0600)')
    .option('-u, --username <user>')
    .option('-p, --password <password>')
    .option('--password-stdin', 'read the password from stdin')
    .option('--plain-http', 'use HTTP instead of HTTPS')
    .argument('<server>')
    .action(async (server: string, flags: { username?: string; password?: string; passwordStdin?: boolean; plainHttp?: boolean }, cmd: Command) => {
      const rt = await runtimeOf(cmd);
      const { RegistryClient, parseReference } = await import('@strata/image');
      const { saveCredentials } = await import('@strata/image/node');
      let password = flags.password;
      if (flags.passwordStdin) {
        const parts: Buffer[] = [];
        for await (const c of process.stdin) parts.push(c as Buffer);
        password = Buffer.concat(parts).toString('utf8').replace(/\r?\n$/, '');
      }
      if (!flags.username || password === undefined) throw new RuntimeError('login needs -u USER and -p PASSWORD (or --password-stdin)');
      const creds = { username: flags.username, password };
      const ref = parseReference(`${server}/strata-login-check`);
      const client = new RegistryClient({ plainHttp: flags.plainHttp ?? false, credentials: () => creds });
      const scheme = flags.plainHttp ? 'http' : 'https';
      const res = await client.request(ref, `${scheme}://${ref.registry}/v2/`, {}, 'registry:catalog:*');
      if (res.status !== 200) throw new RuntimeError(`login to ${server} failed (${res.status})`);
      saveCredentials(rt.root, ref.registry, creds);
      write('Login Succeeded');
    });

  program.command('pull').description('pull an image from a registry')
    .option('--plain-http', 'use HTTP instead of HTTPS (a local registry)')
    .argument('<image>')
    .action(async (ref: string, flags: { plainHttp?: boolean }, cmd: Command) => {
      const rt = await runtimeOf(cmd);
      await pullWithProgress(rt, ref, flags.plainHttp ?? false);
    });

  program.command('load').description('load images from an OCI layout, OCI archive or docker save tar')
    .requiredOption('-i, --input <path>', 'the archive or layout directory')
    .action(async (flags: { input: string }, cmd: Command) => {
      const rt = await runtimeOf(cmd);
      for (const l of await rt.load(flags.input)) {
        if (l.names.length === 0) write(`Loaded image ID: ${l.id}`);
        for (const n of l.names) write(`Loaded image: ${n}`);
      }
    });

  program.command('save').description('write images to an OCI archive')
    .requiredOption('-o, --output <file>', 'the archive to write')
    .argument('<image...>')
    .action(async (refs: string[], flags: { output: string }, cmd: Command) => {
      const rt = await runtimeOf(cmd);
      const { saveImages } = await import('@strata/image/node');
      await saveImages(rt.images, refs, flags.output);
    });

  program.command('images').description('list images')
    .option('--format <format>', "'json' for one JSON object per line")
    .action(async (flags: { format?: string }, cmd: Command) => {
      const rt = await runtimeOf(cmd);
      const rows: Record<string, string>[] = [];
      for (const { record, names } of await rt.images.list()) {
        const size = record.layers.reduce((n, l) => n + l.size, 0);
        const tags = names.length ? await rt.images.names(record.id) : ['<none>:<none>'];
        for (const t of tags) {
          const i = t.lastIndexOf(':');
          rows.push({ Repository: t.slice(0, i), Tag: t.slice(i + 1), ID: record.id.slice(7, 19), CreatedAt: record.config.created ?? '', Size: humanSize(size), Digest: record.id });
        }
      }
      if (flags.format === 'json') {
        for (const r of rows) write(JSON.stringify(r));
        return;
      }
      write(table([['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], ...rows.map((r) => [r.Repository!, r.Tag!, r.ID!, ago(r.CreatedAt), r.Size!])]));
    });

  program.command('inspect').description('show an image or a container as JSON')
    .argument('<name...>')
    .action(async (refs: string[], _f: unknown, cmd: Command) => {
      const rt = await runtimeOf(cmd);
      const out = [];
      for (const ref of refs) {
        try {
          out.push(await inspectContainer(rt, ref));
        } catch (e) {
          if (!(e instanceof RuntimeError)) throw e;
          try {
            out.push(await inspectImage(rt, ref));
          } catch (e2) {
            if (e2 instanceof ImageError) throw new RuntimeError(`no such object: ${ref}`);
            throw e2;
          }
        }
      }
      write(JSON.stringify(out, null, 4));
    });

  program.command('rmi').description('remove images')
    .argument('<image...>')
    .action(async (refs: string[], _f: unknown, cmd: Command) => {
      const rt = await runtimeOf(cmd);
      for (const ref of refs) {
        const r = await rt.removeImage(ref);
        for (const u of r.untagged) write(`Untagged: ${u}`);
        if (r.deleted) write(`Deleted: ${r.deleted}`);
        if (r.collectionDeferred) process.stderr.write('strata: its layers and blobs stay until a later rmi: a pull, load or commit is in progress\n');
      }
    });

  program.command('tag').description('give an image another name')
    .argument('<source>')
    .argument('<target>')
    .action(async (source: string, target: string, _f: unknown, cmd: Command) => {
      const rt = await runtimeOf(cmd);
      await rt.images.tag(source, target);
    });

  program.command('info').description('storage driver, root and counts')
    .option('--format <format>', "'json' for JSON")
    .action(async (flags: { format?: string }, cmd: Command) => {
      const rt = await runtimeOf(cmd);
      const info = await rt.info();
      if (flags.format === 'json') {
        write(JSON.stringify(info));
        return;
      }
      write([
        `Containers: ${info.Containers}`, ` Running: ${info.ContainersRunning}`, ` Stopped: ${info.ContainersStopped}`,
        `Images: ${info.Images}`, `Storage Driver: ${info.Driver}`, ` Layers: ${info.Layers}`, ` Blobs: ${info.Blobs}`,
        ` Leases: ${info.Leases} (pulls, loads and commits in progress)`,
        `Backing Store: ${info.BackingStore}`, `Strata Root Dir: ${info.StrataRoot}`,
      ].join('\n'));
    });
}
