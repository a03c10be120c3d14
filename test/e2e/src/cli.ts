import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
/** The real `strata` binary: the built CLI (scripts/setup.sh builds it). */
export const CLI = join(repo, 'runtime', 'dist', 'bundle', 'strata.js');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** A scratch Strata root for one suite, and `strata` invocations against it. */
export class Strata {
  readonly root = mkdtempSync(join(tmpdir(), 'strata-e2e-'));

  run(args: string[], options: { input?: string; timeoutMs?: number } = {}): CliResult {
    const r = spawnSync(process.execPath, [CLI, '--root', this.root, ...args], {
      encoding: 'utf8', input: options.input ?? '', timeout: options.timeoutMs ?? 60_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** Start `strata` without waiting (for concurrent runs). */
  spawn(args: string[]): Promise<CliResult> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, '--root', this.root, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      // A process a signal ended: its status as a shell reports it, 128 + the signal number.
      child.on('close', (status, signal) => resolve({ status: status ?? (signal ? 128 + constants.signals[signal] : null), stdout, stderr }));
    });
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * An OCI image made with umoci from the e2e guest (test/e2e/guests/tool.wasm): layer 1 has
 * /etc/config, /tmp and /data; layer 2 /bin/tool.wasm; config os wasip1/arch wasm,
 * Entrypoint /bin/tool.wasm, Cmd env, Env FOO=bar and PATH=/bin.
 */
export function buildToolImage(): string {
  const work = mkdtempSync(join(tmpdir(), 'strata-e2e-image-'));
  const layout = join(work, 'layout');
  const base = join(work, 'base');
  const app = join(work, 'app');
  mkdirSync(join(base, 'etc'), { recursive: true });
  mkdirSync(join(base, 'tmp'));
  mkdirSync(join(base, 'data'));
  chmodSync(join(base, 'tmp'), 0o1777);
  writeFileSync(join(base, 'etc', 'config'), 'from the image\n');
  mkdirSync(join(app, 'bin'), { recursive: true });
  copyFileSync(fileURLToPath(new URL('../guests/tool.wasm', import.meta.url)), join(app, 'bin', 'tool.wasm'));
  const tar = (dir: string, out: string, ...paths: string[]) =>
    execFileSync('tar', ['--create', '--file', out, '--directory', dir, '--format=posix', '--owner=0', '--group=0', '--numeric-owner', ...paths]);
  tar(base, join(work, 'base.tar'), 'etc', 'tmp', 'data');
  tar(app, join(work, 'app.tar'), 'bin');
  umoci('init', '--layout', layout);
  umoci('new', '--image', `${layout}:1`);
  umoci('raw', 'add-layer', '--image', `${layout}:1`, join(work, 'base.tar'));
  umoci('raw', 'add-layer', '--image', `${layout}:1`, join(work, 'app.tar'));
  umoci('config', '--image', `${layout}:1`, '--os', 'wasip1', '--architecture', 'wasm',
    '--config.entrypoint', '/bin/tool.wasm', '--config.cmd', 'env', '--config.env', 'FOO=bar', '--config.env', 'PATH=/bin',
    '--config.workingdir', '/data');
  nameImage(layout, 'docker.io/library/tool:1');
  return layout;
}

/**
 * The tool image with umoci-made changeset layers on top (umoci writes `insert` layers
 * without the tar end marker): /data/keep.txt added, then /data replaced by an opaque
 * directory holding only new.txt, a whiteout for /etc/config, and /links/a and /links/b as
 * hard links of one file. Tag `1` of a new layout; returns the layout path.
 */
export function buildChangesImage(): string {
  const layout = buildToolImage();
  const work = join(layout, '..', 'changes-src');
  mkdirSync(join(work, 'olddata'), { recursive: true });
  mkdirSync(join(work, 'newdata'));
  mkdirSync(join(work, 'links'));
  writeFileSync(join(work, 'olddata', 'keep.txt'), 'hidden by the opaque dir\n');
  writeFileSync(join(work, 'newdata', 'new.txt'), 'only this in /data\n');
  writeFileSync(join(work, 'links', 'a'), 'one file, two names\n');
  linkSync(join(work, 'links', 'a'), join(work, 'links', 'b'));
  const image = `${layout}:1`;
  umoci('insert', '--image', image, join(work, 'olddata'), '/data');
  umoci('insert', '--image', image, '--opaque', join(work, 'newdata'), '/data');
  umoci('insert', '--image', image, '--whiteout', '/etc/config');
  umoci('insert', '--image', image, join(work, 'links'), '/links');
  return layout;
}

/**
 * An image with one layer of 9 MiB of random bytes (gzip cannot shrink it), so a push
 * uploads it in chunks (CHUNK_UPLOAD is 8 MiB). Tagged `1` in a new layout, named
 * docker.io/library/big:1 for `strata load`; returns the layout path.
 */
export function buildBigImage(): string {
  const work = mkdtempSync(join(tmpdir(), 'strata-e2e-big-'));
  const layout = join(work, 'layout');
  writeFileSync(join(work, 'blob.bin'), randomBytes(9 * 2 ** 20));
  umoci('init', '--layout', layout);
  umoci('new', '--image', `${layout}:1`);
  umoci('insert', '--image', `${layout}:1`, join(work, 'blob.bin'), '/blob.bin');
  umoci('config', '--image', `${layout}:1`, '--os', 'wasip1', '--architecture', 'wasm');
  nameImage(layout, 'docker.io/library/big:1');
  return layout;
}

function umoci(...args: string[]): void {
  execFileSync('umoci', args, { stdio: 'pipe' });
}

/** Name a layout's image as `docker save`/containerd would, so `strata load` tags it. */
function nameImage(layout: string, name: string): void {
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { annotations?: Record<string, string> }[] };
  index.manifests[0]!.annotations = { ...index.manifests[0]!.annotations, 'io.containerd.image.name': name };
  writeFileSync(join(layout, 'index.json'), JSON.stringify(index));
}
