/**
 * The real `strata` binary, as a user drives it, on an image built with umoci: run and its
 * exit codes, args/env from the image and the command line, stdin, bind mounts (read-only
 * ones refuse writes), diff, commit and run the result, export, many containers at once,
 * state across separate processes, and hostile programs (an endless loop under --timeout,
 * a memory hog under --memory) that must not take the runtime down.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildToolImage, CLI, Strata } from '../src/cli.js';

let s: Strata;
let layout: string;
let host: string;

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`the strata CLI is not built (${CLI}): run pnpm build (scripts/setup.sh does)`);
  s = new Strata();
  layout = buildToolImage();
  host = mkdtempSync(join(tmpdir(), 'strata-e2e-host-'));
  writeFileSync(join(host, 'input.txt'), 'host data\n');
  const r = s.run(['load', '-i', layout]);
  expect(r.stdout).toBe('Loaded image: tool:1\n');
}, 60_000);

afterAll(() => {
  s?.cleanup();
  rmSync(host, { recursive: true, force: true });
  rmSync(layout, { recursive: true, force: true });
});

describe('strata run', () => {
  it('runs Entrypoint + Cmd with exactly the image Env plus -e', () => {
    const r = s.run(['run', '--rm', '-e', 'EXTRA=1', '-e', 'FOO=override', 'tool:1']);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual(['arg /bin/tool.wasm', 'arg env', 'env EXTRA=1', 'env FOO=override', 'env PATH=/bin'].sort());
  });

  it('exits with the program\'s status, 125/126/127 for Strata\'s own failures', () => {
    expect(s.run(['run', '--rm', 'tool:1', 'exit', '42']).status).toBe(42);
    expect(s.run(['run', '--rm', 'no-such-image']).status).toBe(125);
    const notModule = s.run(['run', '--rm', '--entrypoint', '/etc/config', 'tool:1']);
    expect(notModule.status).toBe(126);
    expect(notModule.stderr).toMatch(/^strata: .*not a WebAssembly module\n$/);
    expect(s.run(['run', '--rm', '--entrypoint', '/bin/missing.wasm', 'tool:1']).status).toBe(127);
  });

  it('passes stdin with -i', () => {
    const r = s.run(['run', '--rm', '-i', 'tool:1', 'cat'], { input: 'line one\nline two\n' });
    expect(r.stdout).toBe('line one\nline two\n');
  });

  it('bind-mounts a host directory; :ro refuses writes and the host file stays', () => {
    expect(s.run(['run', '--rm', '-v', `${host}:/mnt`, 'tool:1', 'read', '/mnt/input.txt']).stdout).toBe('host data\n');
    expect(s.run(['run', '--rm', '-v', `${host}:/mnt`, 'tool:1', 'write', '/mnt/out.txt', 'from the container']).stdout).toBe('ok\n');
    expect(readFileSync(join(host, 'out.txt'), 'utf8')).toBe('from the container');
    const ro = s.run(['run', '--rm', '-v', `${host}:/mnt:ro`, 'tool:1', 'write', '/mnt/input.txt', 'clobbered']);
    expect(ro.status).toBe(1);
    expect(ro.stdout).toMatch(/^error .*read-only/i);
    expect(readFileSync(join(host, 'input.txt'), 'utf8')).toBe('host data\n');
  });
});

describe('container state', () => {
  it('diff, then start again in another process: the container keeps its files', () => {
    expect(s.run(['run', '--name', 'keeper', 'tool:1', 'write', '/data/note', 'v1']).status).toBe(0);
    expect(s.run(['diff', 'keeper']).stdout).toBe('C /data\nA /data/note\n');
    const id = s.run(['create', '--name', 'reader', 'tool:1', 'read', '/data/note']);
    expect(id.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    expect(s.run(['start', '-a', 'keeper']).status).toBe(0);
    const ps = s.run(['ps', '-a', '--format', 'json']).stdout.trim().split('\n').map((l) => JSON.parse(l) as { Names: string; State: string; ExitCode: number });
    expect(ps.find((c) => c.Names === 'keeper')).toMatchObject({ State: 'exited', ExitCode: 0 });
    expect(ps.find((c) => c.Names === 'reader')).toMatchObject({ State: 'created' });
  });

  it('commit makes an image that runs with the change; export matches the merged view', () => {
    expect(s.run(['commit', 'keeper', 'tool:committed']).status).toBe(0);
    expect(s.run(['run', '--rm', 'tool:committed', 'read', '/data/note']).stdout).toBe('v1');
    const inspect = JSON.parse(s.run(['inspect', 'tool:committed']).stdout) as [{ RootFS: { Layers: string[] }; GraphDriver: { Name: string } }];
    expect(inspect[0].RootFS.Layers.length).toBe(3);
    expect(inspect[0].GraphDriver.Name).toBe('overlay');
    const out = join(host, 'export.tar');
    expect(s.run(['export', 'keeper', '-o', out]).status).toBe(0);
    const listing = execFileSync('tar', ['tf', out], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
    expect(listing).toEqual(['bin/', 'bin/tool.wasm', 'data/', 'data/note', 'etc/', 'etc/config', 'tmp/']);
    expect(execFileSync('tar', ['xOf', out, 'data/note'], { encoding: 'utf8' })).toBe('v1');
  });

  it('runs 20 containers at once on one image without cross-talk', async () => {
    const runs = await Promise.all(Array.from({ length: 20 }, (_, i) => s.spawn(['run', '--name', `par${i}`, 'tool:1', 'write', '/data/who', `c${i}`])));
    expect(runs.map((r) => r.status)).toEqual(Array(20).fill(0));
    for (let i = 0; i < 20; i += 7) {
      expect(s.run(['diff', `par${i}`]).stdout).toBe('C /data\nA /data/who\n');
      expect(s.run(['commit', `par${i}`, `tool:par${i}`]).status).toBe(0);
      expect(s.run(['run', '--rm', `tool:par${i}`, 'read', '/data/who']).stdout).toBe(`c${i}`);
    }
  }, 120_000);
});

describe('hostile programs', () => {
  it('kills a program whose output passes --output-limit, with what came before it delivered', () => {
    const input = 'x'.repeat(1023) + '\n';
    const r = s.run(['run', '--rm', '-i', '--output-limit', '64k', 'tool:1', 'cat'], { input: input.repeat(3 * 1024) });
    expect(r.status).toBe(137);
    expect(r.stdout.length).toBe(64 * 1024);
    expect(r.stderr).toBe('strata: killed: the output limit (65536 bytes) was reached\n');
    expect(s.run(['run', '--rm', 'tool:1', 'exit', '0']).status).toBe(0);
  });

  it('kills an endless loop at --timeout with 137, and the next run works', () => {
    const t0 = Date.now();
    const r = s.run(['run', '--rm', '--timeout', '2', 'tool:1', 'loop']);
    const took = Date.now() - t0;
    expect(r.status).toBe(137);
    expect(took).toBeLessThan(5000);
    expect(s.run(['run', '--rm', 'tool:1', 'exit', '0']).status).toBe(0);
  });

  it('stops a memory hog at --memory: allocation fails inside the program', () => {
    const r = s.run(['run', '--rm', '--memory', '64m', 'tool:1', 'grow']);
    expect(r.status).toBe(3);
    const mib = Number(/allocated (\d+) MiB/.exec(r.stdout)?.[1]);
    expect(mib).toBeGreaterThan(30);
    expect(mib).toBeLessThanOrEqual(64);
    expect(s.run(['run', '--rm', 'tool:1', 'exit', '5']).status).toBe(5);
  });

  it('kill ends an attached run on the CLI\'s own thread with 137, as docker\'s does', async () => {
    // No -i, no --timeout: the program runs on the attached CLI's own thread.
    const attached = s.spawn(['run', '--name', 'fg', 'tool:1', 'loop']);
    let killed = false;
    for (let i = 0; i < 100 && !killed; i++) {
      await new Promise((r) => setTimeout(r, 50));
      killed = s.run(['kill', 'fg']).status === 0;
    }
    expect(killed).toBe(true);
    const r = await attached;
    // What a shell sees: 128 + the signal (SIGKILL, 9), not 143 (SIGTERM).
    expect(r.status).toBe(137);
    const ps = s.run(['ps', '-a', '--format', 'json']).stdout.trim().split('\n').map((l) => JSON.parse(l) as { Names: string; Status: string; ExitCode: number });
    expect(ps.find((x) => x.Names === 'fg')).toMatchObject({ ExitCode: 137, Status: 'Exited (137)' });
    expect(s.run(['rm', 'fg']).status).toBe(0);
  });

  it('lets one of two processes take a name, and one of two starts of a container run it', async () => {
    for (let round = 0; round < 3; round++) {
      const creates = await Promise.all([0, 1].map(() => s.spawn(['create', '--name', `dup${round}`, 'tool:1', 'exit', '0'])));
      expect(creates.map((r) => r.status).sort(), JSON.stringify(creates)).toEqual([0, 125]);
      expect(creates.find((r) => r.status === 125)!.stderr).toMatch(/already in use/);
    }
    const id = s.run(['create', '--name', 'once', 'tool:1', 'write', '/data/runs', 'x']).stdout.trim();
    for (let round = 0; round < 3; round++) {
      const starts = await Promise.all([0, 1].map(() => s.spawn(['start', '-a', id])));
      const ran = starts.filter((r) => r.status === 0 && r.stdout === 'ok\n').length;
      const refused = starts.filter((r) => r.status === 125 && /already running|being started/.test(r.stderr)).length;
      // Both may run one after the other; never both at once.
      expect(ran + refused, JSON.stringify(starts)).toBe(2);
      expect(ran).toBeGreaterThanOrEqual(1);
    }
  });

  it('kill and wait across processes: a detached container is stopped with 137', async () => {
    const id = s.run(['run', '-d', '--name', 'bg', 'tool:1', 'loop']).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    // run -d returns once the container runs: a kill at once finds it.
    expect(s.run(['kill', 'bg']).status).toBe(0);
    expect(s.run(['wait', 'bg']).stdout).toBe('137\n');
    expect(s.run(['rm', 'bg']).status).toBe(0);
    // And a wait at once gets the status of a program that ends at once.
    const quick = s.run(['run', '-d', 'tool:1', 'exit', '9']).stdout.trim();
    expect(s.run(['wait', quick]).stdout).toBe('9\n');
    // A --rm container removes itself as it ends: wait still gets its status, rm -f succeeds.
    const gone = s.run(['run', '-d', '--rm', 'tool:1', 'exit', '7']).stdout.trim();
    await new Promise((r) => setTimeout(r, 500));
    expect(s.run(['wait', gone])).toMatchObject({ status: 0, stdout: '7\n' });
    const spinning = s.run(['run', '-d', '--rm', 'tool:1', 'loop']).stdout.trim();
    expect(s.run(['rm', '-f', spinning])).toMatchObject({ status: 0 });
  });
});

describe('attached runs on the CLI thread', () => {
  it('a signal ends an attached --rm run; the container is gone at the next look', async () => {
    const running = s.spawn(['run', '--rm', '--name', 'rmme', 'tool:1', 'loop']);
    for (let i = 0; i < 100 && !s.run(['ps', '--format', 'json']).stdout.includes('"rmme"'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(s.run(['kill', 'rmme']).status).toBe(0);
    const r = await running;
    expect(r.status).not.toBe(0);
    expect(s.run(['ps', '-a', '--format', 'json']).stdout).not.toContain('"rmme"');
    expect(s.run(['run', '--rm', 'tool:1', 'exit', '4']).status).toBe(4);
  });
});

describe('crash safety', () => {
  it('a runtime process killed mid-run leaves the records whole: the container reads as exited (137) and can be removed', async () => {
    expect(s.run(['run', '--name', 'crashy', 'tool:1', 'write', '/data/before', 'kept']).status).toBe(0);
    const c = s.run(['create', '--name', 'victim', 'tool:1', 'loop']).stdout.trim();
    // Start it detached, then SIGKILL the process that runs it: no handler runs, nothing is
    // saved; the records on disk must still be whole.
    expect(s.run(['start', 'victim']).status).toBe(0);
    let pid: number | undefined;
    for (let i = 0; i < 100 && pid === undefined; i++) {
      const state = JSON.parse(readFileSync(join(s.root, 'containers', c, 'state.json'), 'utf8')) as { status: string; pid?: number };
      if (state.status === 'running') pid = state.pid;
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(pid).toBeDefined();
    process.kill(pid!, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    const ps = s.run(['ps', '-a', '--format', 'json']).stdout.trim().split('\n').map((l) => JSON.parse(l) as { Names: string; State: string; ExitCode: number });
    expect(ps.find((x) => x.Names === 'victim')).toMatchObject({ State: 'exited', ExitCode: 137 });
    // The other container's saved state is untouched, and the killed one can be removed.
    expect(s.run(['diff', 'crashy']).stdout).toBe('C /data\nA /data/before\n');
    expect(s.run(['rm', 'victim']).status).toBe(0);
  });
});

describe('strata info', () => {
  it('counts images, layers, blobs and the leases of work in progress', async () => {
    const own = new Strata();
    try {
      expect(own.run(['load', '-i', layout]).status).toBe(0);
      const stored = (dir: string) => (existsSync(join(own.root, dir)) ? readdirSync(join(own.root, dir)).length : 0);
      const info = () => JSON.parse(own.run(['info', '--format', 'json']).stdout) as Record<string, unknown>;
      expect(info()).toMatchObject({
        Driver: 'overlay', Images: 1, Containers: 0, Layers: stored('layers'),
        Blobs: stored('blobs/sha256') + stored('blobs/blake3'), Leases: 0,
      });
      expect(stored('blobs/blake3')).toBeGreaterThan(0);
      // Another process in the middle of a pull: its lease file, named by its pid.
      const other = spawn('sleep', ['60']);
      mkdirSync(join(own.root, 'leases'), { recursive: true });
      writeFileSync(join(own.root, 'leases', `${other.pid}-1`), '');
      expect(info().Leases).toBe(1);
      expect(own.run(['info']).stdout).toContain('Leases: 1 (pulls, loads and commits in progress)');
      other.kill('SIGKILL');
      await new Promise((resolve) => other.on('exit', resolve));
      expect(info().Leases).toBe(0);
      expect(stored('leases')).toBe(0);
    } finally {
      own.cleanup();
    }
  });
});
