import { randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ownStart, processAlive, writeFileAtomic } from '@strata/store/node';
import { RuntimeError } from './exit-codes.js';
import type { BindMount } from './options.js';

/** What a container was created from and with: fixed for its life. */
export interface ContainerConfig {
  id: string;
  name: string;
  created: string;
  /** The image as the user named it, and what it resolved to. */
  image: { ref: string; id: string; diffIds: string[]; wasmModule?: string };
  /** argv: the entrypoint (a path in the container) and its arguments. */
  argv: string[];
  env: string[];
  workdir: string;
  mounts: BindMount[];
  memoryBytes?: number;
  timeoutSeconds?: number;
  /** Bytes of stdout + stderr after which the container is killed (`--output-limit`). */
  outputLimitBytes?: number;
  /** Keep stdin open (`-i`). */
  interactive: boolean;
  /** Remove the container when it exits (`--rm`). */
  autoRemove: boolean;
}

export type ContainerStatus = 'created' | 'running' | 'exited';

export interface ContainerState {
  status: ContainerStatus;
  exitCode?: number;
  startedAt?: string;
  finishedAt?: string;
  /** The process running it, while running (a stale pid after a crash reads as exited). */
  pid?: number;
  /** When that process started (clock ticks since boot, Linux): a reused pid is not it. */
  pidStart?: string;
  /** The process runs more than this container (a service using the library): no signal stops only it. */
  shared?: boolean;
  /** It runs on its process's own thread (an attached CLI run): only SIGKILL stops it. */
  inProcess?: boolean;
  error?: string;
}

/**
 * Containers under `<root>/containers/<id>/`: `config.json` (written once), `state.json`,
 * `upper.bin` (the saved overlay upper: what the container changed) and `log` (its output,
 * one JSON line per write). Every file is replaced atomically (temp + fsync + rename), so a
 * crash at any moment leaves the old or the new version; a container directory is created
 * under a temp name and renamed into place, so a half-created container is never listed.
 */
/** Bytes of output a log line holds at most (their base64 stays a young-generation string). */
const LOG_PIECE = 48 * 1024;

export class ContainerStore {
  readonly dir: string;
  /** Whether each container seen is `--rm` (a config never changes after create). */
  private readonly autoRemove = new Map<string, boolean>();

  constructor(root: string) {
    this.dir = join(root, 'containers');
    mkdirSync(this.dir, { recursive: true });
  }

  create(config: Omit<ContainerConfig, 'id' | 'name' | 'created'> & { name?: string }): ContainerConfig {
    const id = randomBytes(32).toString('hex');
    const name = config.name ?? generateName(new Set(this.list().map((c) => c.config.name)));
    if (config.name !== undefined) {
      if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(config.name)) throw new RuntimeError(`invalid container name "${config.name}"`);
      if (this.list().some((c) => c.config.name === config.name)) {
        throw new RuntimeError(`the container name "${config.name}" is already in use`);
      }
    }
    // The name is taken with O_EXCL before the container exists: two creates of one name at
    // once (two processes) both passed the check above.
    this.reserveName(name, id);
    const full: ContainerConfig = { ...config, id, name, created: new Date().toISOString() };
    this.autoRemove.set(id, full.autoRemove);
    const tmp = join(this.dir, `.tmp-${id}`);
    mkdirSync(tmp);
    const durable = { durable: !full.autoRemove };
    writeFileAtomic(join(tmp, 'config.json'), JSON.stringify(full, null, 2), durable);
    writeFileAtomic(join(tmp, 'state.json'), JSON.stringify({ status: 'created' } satisfies ContainerState), durable);
    renameSync(tmp, join(this.dir, id));
    return full;
  }

  /** `containers/.names/<name>` holds the id of the container named so; a stale one is replaced. */
  private reserveName(name: string, id: string): void {
    const names = join(this.dir, '.names');
    mkdirSync(names, { recursive: true });
    // Taken while its container exists or its creator still runs (it may be mid-create).
    const taken = claimFile(join(names, name), `${id} ${ownProcess()}`, ([other, pid, start]) =>
      existsSync(join(this.dir, other!, 'config.json')) || (pid !== undefined && alive(Number(pid), start || undefined)));
    if (!taken) throw new RuntimeError(`the container name "${name}" is already in use`);
  }

  /**
   * Run `fn` (a start's check of the state and its write) while holding the container's
   * `starting` file (O_EXCL, naming this process): two starts of one container at once (two
   * processes) both found it stopped, and both ran it. A holder that died is replaced.
   */
  whileStarting<T>(id: string, fn: () => T): T {
    const file = join(this.dir, id, 'starting');
    if (!claimFile(file, ownProcess(), ([pid, start]) => alive(Number(pid), start || undefined))) {
      throw new RuntimeError('the container is being started by another process');
    }
    try {
      return fn();
    } finally {
      rmSync(file, { force: true });
    }
  }

  list(): { config: ContainerConfig; state: ContainerState }[] {
    const out: { config: ContainerConfig; state: ContainerState }[] = [];
    for (const id of readdirSync(this.dir)) {
      if (id.startsWith('.')) continue;
      try {
        const config = this.config(id);
        const state = this.state(id);
        // A --rm container whose process died (a signal ended an attached run) is removed
        // the next time anyone looks, as its process would have done.
        if (config.autoRemove && diedRunning(state)) {
          this.remove(id);
          continue;
        }
        out.push({ config, state });
      } catch {
        // A container removed while listing.
      }
    }
    return out.sort((a, b) => (a.config.created < b.config.created ? 1 : -1));
  }

  /** Find by full id, unique id prefix, or name. */
  resolve(ref: string): ContainerConfig {
    const all = this.list().map((c) => c.config);
    const byName = all.find((c) => c.name === ref);
    if (byName) return byName;
    const byId = all.filter((c) => c.id.startsWith(ref));
    if (byId.length === 1 && ref.length > 0) return byId[0]!;
    if (byId.length > 1) throw new RuntimeError(`container id prefix "${ref}" is ambiguous`);
    throw new RuntimeError(`no such container: ${ref}`);
  }

  config(id: string): ContainerConfig {
    const config = JSON.parse(readFileSync(join(this.dir, id, 'config.json'), 'utf8')) as ContainerConfig;
    this.autoRemove.set(id, config.autoRemove);
    return config;
  }

  state(id: string): ContainerState {
    const s = JSON.parse(readFileSync(join(this.dir, id, 'state.json'), 'utf8')) as ContainerState;
    if (s.status === 'running' && s.pid !== undefined && !alive(s.pid, s.pidStart)) {
      return { ...s, status: 'exited', exitCode: s.exitCode ?? 137, error: DIED };
    }
    return s;
  }

  setState(id: string, state: ContainerState): void {
    writeFileAtomic(join(this.dir, id, 'state.json'), JSON.stringify(state), this.durability(id));
  }

  /**
   * A --rm container's records are written atomically but not synced to disk: it is removed
   * when it exits, so surviving a power cut is worth nothing, and a short run pays for every
   * fsync. Everything else is synced.
   */
  private durability(id: string): { durable: boolean } {
    return { durable: !(this.autoRemove.get(id) ?? this.config(id).autoRemove) };
  }

  upperPath(id: string): string {
    return join(this.dir, id, 'upper.bin');
  }

  loadUpper(id: string): Uint8Array | undefined {
    const p = this.upperPath(id);
    return existsSync(p) ? new Uint8Array(readFileSync(p)) : undefined;
  }

  saveUpper(id: string, bytes: Uint8Array): void {
    writeFileAtomic(this.upperPath(id), bytes, this.durability(id));
  }

  appendLog(id: string, stream: 'stdout' | 'stderr', bytes: Uint8Array): void {
    // A line per LOG_PIECE at most: a line for a whole 1 MiB write made two strings of
    // 1.4 MB each, which V8 keeps in its large-object space until a full collection — a
    // program writing fast took the process to gigabytes of such garbage.
    const path = join(this.dir, id, 'log');
    const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let at = 0; at < b.length || at === 0; at += LOG_PIECE) {
      appendFileSync(path, `{"s":"${stream}","d":"${b.subarray(at, at + LOG_PIECE).toString('base64')}"}\n`);
      if (b.length === 0) break;
    }
  }

  /** The log's writes in order, read a piece at a time (a log may be larger than a string can be). */
  *readLog(id: string): Generator<{ stream: 'stdout' | 'stderr'; bytes: Uint8Array }> {
    const p = join(this.dir, id, 'log');
    if (!existsSync(p)) return;
    const fd = openSync(p, 'r');
    try {
      const buf = Buffer.allocUnsafe(1 << 20);
      let rest: Buffer[] = [];
      let pos = 0;
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, pos);
        if (n === 0) break;
        pos += n;
        let start = 0;
        for (let nl = buf.indexOf(10, 0); nl >= 0 && nl < n; nl = buf.indexOf(10, start)) {
          const line = Buffer.concat([...rest, buf.subarray(start, nl)]);
          rest = [];
          start = nl + 1;
          const entry = parseLogLine(line);
          if (entry) yield entry;
        }
        if (start < n) rest.push(Buffer.from(buf.subarray(start, n)));
      }
      // A last line without its newline was cut by a crash: left out.
    } finally {
      closeSync(fd);
    }
  }

  remove(id: string): void {
    // Its exit status outlives it a while: a `wait` on a --rm container that polls just
    // after the removal still gets it, as docker's does.
    let exitCode: number | undefined;
    try {
      const s = this.state(id);
      if (s.status === 'exited') exitCode = s.exitCode;
    } catch {
      // No state to keep.
    }
    let name: string | undefined;
    try {
      name = this.config(id).name;
    } catch {
      // No config to name it.
    }
    // Rename first so a crash mid-removal leaves nothing that lists as a container.
    const tmp = join(this.dir, `.rm-${id}`);
    renameSync(join(this.dir, id), tmp);
    if (name !== undefined) {
      const file = join(this.dir, '.names', name);
      try {
        if (readFileSync(file, 'utf8').split(' ')[0] === id) rmSync(file, { force: true });
      } catch {
        // Not reserved (created before names were).
      }
    }
    rmSync(tmp, { recursive: true, force: true });
    this.autoRemove.delete(id);
    const exits = join(this.dir, '.exited');
    mkdirSync(exits, { recursive: true });
    if (exitCode !== undefined) writeFileSync(join(exits, id), String(exitCode));
    const before = Date.now() - EXIT_KEPT_MS;
    const kept = readdirSync(exits);
    // Swept once a few have gathered, not at every removal (a `run --rm` pays for each stat).
    for (const name of kept.length > 64 ? kept : []) {
      try {
        if (statSync(join(exits, name)).mtimeMs < before) rmSync(join(exits, name), { force: true });
      } catch {
        // Swept by another process meanwhile.
      }
    }
  }

  exists(id: string): boolean {
    return existsSync(join(this.dir, id, 'config.json'));
  }

  /** The exit status of a container removed in the last minutes (see remove). */
  exitedAndRemoved(id: string): number | undefined {
    if (!/^[0-9a-f]{64}$/.test(id)) return undefined;
    try {
      return Number(readFileSync(join(this.dir, '.exited', id), 'utf8'));
    } catch {
      return undefined;
    }
  }
}

/** How long the exit status of a removed container is kept for a late `wait`. */
const EXIT_KEPT_MS = 10 * 60 * 1000;

/** The error of a state that said running while its process was gone (see `state`). */
const DIED = 'the process running it died';

/** `state` found the process that ran it gone: the record still says running. */
function diedRunning(s: ContainerState): boolean {
  return s.status === 'exited' && s.error === DIED;
}

/** A container's runner still runs: its process (see processAlive), and not a zombie. */
function alive(pid: number, start?: string): boolean {
  if (!processAlive(pid, start)) return false;
  // A killed process nobody has reaped yet (a zombie) still answers signal 0.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** This process as a claim file names it: `<pid> <start>` (the start empty without /proc). */
function ownProcess(): string {
  return `${process.pid} ${ownStart() ?? ''}`;
}

/**
 * Create `file` with O_EXCL holding `text`; false when another holds it. A file there already
 * is replaced once if `held` says its fields (space-separated) name no live holder — or if
 * it is empty (its maker between create and write) and was left long ago.
 */
function claimFile(file: string, text: string, held: (fields: string[]) => boolean): boolean {
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, text, { flag: 'wx' });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (attempt > 0) return false;
    }
    let found = '';
    try {
      found = readFileSync(file, 'utf8');
    } catch {
      // Released meanwhile.
    }
    const still = found === ''
      ? Date.now() - (statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0) < UNWRITTEN_GRACE_MS
      : held(found.split(' '));
    if (still) return false;
    rmSync(file, { force: true });
  }
}

/** A claim file with nothing in it yet is its maker's, between create and write, this long. */
const UNWRITTEN_GRACE_MS = 5000;

const ADJECTIVES = ['brave', 'calm', 'eager', 'fancy', 'gentle', 'happy', 'jolly', 'keen', 'lucid', 'merry', 'nifty', 'proud', 'quiet', 'sharp', 'tender', 'vivid', 'witty', 'zen'];
const NOUNS = ['lovelace', 'turing', 'hopper', 'knuth', 'ritchie', 'thompson', 'liskov', 'dijkstra', 'hamilton', 'torvalds', 'wozniak', 'shannon', 'babbage', 'curie', 'noether', 'goldberg'];

/** docker-style `adjective_name`, unique among `taken`. */
function generateName(taken: Set<string>): string {
  for (let i = 0; ; i++) {
    const a = ADJECTIVES[randomBytes(1)[0]! % ADJECTIVES.length]!;
    const n = NOUNS[randomBytes(1)[0]! % NOUNS.length]!;
    const name = i < 20 ? `${a}_${n}` : `${a}_${n}${i}`;
    if (!taken.has(name)) return name;
  }
}

function parseLogLine(line: Buffer): { stream: 'stdout' | 'stderr'; bytes: Uint8Array } | undefined {
  if (line.length === 0) return undefined;
  try {
    const { s, d } = JSON.parse(line.toString('utf8')) as { s: 'stdout' | 'stderr'; d: string };
    return { stream: s, bytes: new Uint8Array(Buffer.from(d, 'base64')) };
  } catch {
    return undefined; // a line cut by a crash
  }
}
