/**
 * Pulling from a real registry: Debian's docker-registry on 127.0.0.1, images put there with
 * skopeo (gzip and zstd layers, and a multi-platform index whose only runnable entry is
 * wasip1/wasm), pulled with the `strata` binary and run. Bad answers go through a small
 * proxy that injects them: a 500 before the 200 (retried), a corrupted blob, a connection
 * dropped mid-blob (resumed with a Range request, or refused when it keeps happening), a
 * wrong media type, a 100 MB manifest (with and without Content-Length), a 404; and an index
 * with no wasm platform.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBigImage, buildChangesImage, Strata } from '../src/cli.js';
import { freePort, LocalRegistry } from '../src/registry.js';

const hello = fileURLToPath(new URL('../../../examples/hello/image', import.meta.url));
let registry: LocalRegistry;
let s: Strata;
let proxy: Server;
let proxyHost: string;
/** What the proxy does to the next requests (consumed in order). */
type Fault = '500' | 'corrupt' | 'truncate' | 'truncate-blob' | 'wrong-type' | 'huge' | 'huge-chunked';
const faults: Fault[] = [];
/** Range requests the proxy saw (a resumed download sends one). */
let ranges = 0;

beforeAll(async () => {
  registry = await LocalRegistry.start();
  s = new Strata();
  const skopeo = (...args: string[]) => execFileSync('skopeo', args, { stdio: 'pipe' });
  skopeo('copy', '--dest-tls-verify=false', `oci:${hello}:latest`, `docker://${registry.host}/hello:1`);
  skopeo('copy', '--dest-tls-verify=false', '--dest-compress-format', 'zstd', '--dest-compress', `oci:${hello}:latest`, `docker://${registry.host}/hello:zstd`);
  const port = await freePort();
  proxyHost = `127.0.0.1:${port}`;
  proxy = createServer(async (req, res) => {
    const blob = req.url?.includes('/blobs/') ?? false;
    // A `truncate-blob` waits at the head of the queue for a blob request.
    const fault = blob || req.url?.includes('/manifests/') ? (faults[0] === 'truncate-blob' && !blob ? undefined : faults.shift()) : undefined;
    if (fault === '500') {
      res.writeHead(500).end('injected');
      return;
    }
    if (req.headers.range) ranges++;
    if (fault === 'huge' || fault === 'huge-chunked') {
      // 100 MB of manifest: the client must stop reading long before the end.
      const total = 100 * 2 ** 20;
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', ...(fault === 'huge' ? { 'content-length': String(total) } : {}) });
      const chunk = Buffer.alloc(2 ** 20, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('error', () => {});
      pump();
      return;
    }
    const upstream = await fetch(`http://${registry.host}${req.url}`, { headers: req.headers as Record<string, string>, method: req.method });
    let body = new Uint8Array(await upstream.arrayBuffer());
    const headers = Object.fromEntries(upstream.headers);
    if (fault === 'corrupt' && body.length > 0) body[body.length - 1] ^= 0xff;
    if (fault === 'wrong-type') {
      const m = JSON.parse(new TextDecoder().decode(body)) as { mediaType?: string };
      m.mediaType = 'application/vnd.example.not-an-image+json';
      body = new TextEncoder().encode(JSON.stringify(m));
      headers['content-type'] = m.mediaType;
      headers['content-length'] = String(body.length);
      headers['docker-content-digest'] = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    }
    res.writeHead(upstream.status, headers);
    if ((fault === 'truncate' || fault === 'truncate-blob') && body.length > 1) {
      // Half the bytes, then the connection drops (the Content-Length promised them all).
      res.write(body.subarray(0, body.length >> 1), () => res.socket?.destroy());
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => proxy.listen(port, '127.0.0.1', () => r()));
}, 60_000);

afterAll(() => {
  proxy?.close();
  registry?.stop();
  s?.cleanup();
});

/** Push `hello:<tag>`, an image index listing hello:1's manifest once per platform; the PUT's status. */
async function pushIndex(tag: string, platforms: { os: string; architecture: string }[]): Promise<number> {
  const manifest = await fetch(`http://${registry.host}/v2/hello/manifests/1`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
  const digest = manifest.headers.get('docker-content-digest')!;
  const size = (await manifest.arrayBuffer()).byteLength;
  const index = {
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: platforms.map((platform) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size, platform })),
  };
  const put = await fetch(`http://${registry.host}/v2/hello/manifests/${tag}`, {
    method: 'PUT', headers: { 'Content-Type': 'application/vnd.oci.image.index.v1+json' }, body: JSON.stringify(index),
  });
  return put.status;
}

describe('strata pull', () => {
  it('pulls a gzip image pushed by skopeo, with the diffIDs skopeo reports, and runs it', () => {
    const r = s.run(['pull', '--plain-http', `${registry.host}/hello:1`]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Pull complete/);
    const theirs = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', '--config', `docker://${registry.host}/hello:1`], { encoding: 'utf8' })) as { rootfs: { diff_ids: string[] } };
    const ours = JSON.parse(s.run(['inspect', `${registry.host}/hello:1`]).stdout) as [{ RootFS: { Layers: string[] } }];
    expect(ours[0].RootFS.Layers).toEqual(theirs.rootfs.diff_ids);
    expect(s.run(['run', '--rm', `${registry.host}/hello:1`, 'registry']).stdout).toContain('argv: [/hello.wasm] [registry]');
  });

  it('pulls umoci changeset layers (opaque dir, whiteout, hard links) and applies them', () => {
    const layout = buildChangesImage();
    execFileSync('skopeo', ['copy', '--dest-tls-verify=false', `oci:${layout}:1`, `docker://${registry.host}/changes:1`], { stdio: 'pipe' });
    expect(s.run(['pull', '--plain-http', `${registry.host}/changes:1`]).status).toBe(0);
    const read = (path: string) => s.run(['run', '--rm', `${registry.host}/changes:1`, 'read', path]);
    expect(read('/data/new.txt').stdout).toBe('only this in /data\n');
    expect(read('/data/keep.txt')).toMatchObject({ status: 1, stdout: expect.stringMatching(/^error .*no such file/i) });
    expect(read('/etc/config')).toMatchObject({ status: 1, stdout: expect.stringMatching(/^error .*no such file/i) });
    expect(read('/links/b').stdout).toBe('one file, two names\n');
    // The hard link survives into the container's view: export writes it as a link entry.
    expect(s.run(['create', '--name', 'changes', `${registry.host}/changes:1`]).status).toBe(0);
    const tar = `${s.root}/changes.tar`;
    expect(s.run(['export', 'changes', '-o', tar]).status).toBe(0);
    const listing = execFileSync('tar', ['--list', '--verbose', '--file', tar], { encoding: 'utf8' });
    expect(listing).toMatch(/^h.* links\/b link to links\/a$/m);
    expect(listing).not.toMatch(/ data\/keep\.txt$/m);
  });

  it('pulls zstd layers', () => {
    expect(s.run(['pull', '--plain-http', `${registry.host}/hello:zstd`]).status).toBe(0);
    expect(s.run(['run', '--rm', `${registry.host}/hello:zstd`]).status).toBe(0);
  });

  it('picks the wasip1/wasm entry of a multi-platform index', async () => {
    expect(await pushIndex('multi', [{ os: 'linux', architecture: 'amd64' }, { os: 'wasip1', architecture: 'wasm' }])).toBe(201);
    expect(s.run(['pull', '--plain-http', `${registry.host}/hello:multi`]).status).toBe(0);
    expect(s.run(['run', '--rm', `${registry.host}/hello:multi`]).status).toBe(0);
  });

  // The proxy lives in this process: the CLI must run asynchronously (spawn, not spawnSync).
  it('retries a 500 and succeeds', async () => {
    faults.push('500', '500');
    const r = await s.spawn(['pull', '--plain-http', `${proxyHost}/hello:1`]);
    expect(r.status).toBe(0);
    expect(faults).toEqual([]);
  });

  it('refuses a corrupted blob with one clear line, and stores no image', async () => {
    const fresh = new Strata();
    try {
      faults.push('500', 'corrupt', 'corrupt', 'corrupt', 'corrupt', 'corrupt', 'corrupt');
      const r = await fresh.spawn(['pull', '--plain-http', `${proxyHost}/hello:1`]);
      faults.length = 0;
      expect(r.status).toBe(125);
      expect(r.stderr).toMatch(/^strata: .*(digest|mismatch)/m);
      expect(r.stderr.trim().split('\n').length).toBe(1);
      expect(fresh.run(['images', '--format', 'json']).stdout).toBe('');
    } finally {
      fresh.cleanup();
    }
  });

  it('resumes a blob download whose connection dropped, with a Range request', async () => {
    const fresh = new Strata();
    try {
      // Two blob responses cut in half: the streaming unpack gives up on the first and the
      // plain download resumes the second from where it broke off.
      faults.push('truncate-blob', 'truncate-blob');
      const before = ranges;
      const r = await fresh.spawn(['pull', '--plain-http', `${proxyHost}/hello:1`]);
      faults.length = 0;
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(ranges).toBeGreaterThan(before);
      expect((await fresh.spawn(['run', '--rm', `${proxyHost}/hello:1`])).status).toBe(0);
    } finally {
      fresh.cleanup();
    }
  });

  /** A pull through the proxy with `fault` on every request: one clear line, no image kept. */
  async function refused(fault: Fault, pattern: RegExp, ref = `${proxyHost}/hello:1`): Promise<void> {
    const fresh = new Strata();
    try {
      faults.push(...Array<Fault>(12).fill(fault));
      const r = await fresh.spawn(['pull', '--plain-http', ref]);
      faults.length = 0;
      expect(r.status).toBe(125);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr.trim().split('\n').length).toBe(1);
      const images = fresh.run(['images', '--format', 'json']);
      expect(images.status).toBe(0);
      expect(images.stdout).toBe('');
    } finally {
      fresh.cleanup();
    }
  }

  it('refuses a download that keeps breaking off', () => refused('truncate', /^strata: .*(terminated|closed|incomplete|short|socket|fetch failed|premature|truncated)/im));

  it('refuses a manifest with a media type it does not know', () => refused('wrong-type', /^strata: .*media type/m));

  it('refuses a 100 MB manifest, announced or not, without reading it all', async () => {
    const t0 = Date.now();
    await refused('huge', /^strata: .*(limit|too large)/m);
    await refused('huge-chunked', /^strata: .*(limit|too large)/m);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it('refuses an index with no wasip1/wasm platform', async () => {
    expect(await pushIndex('linux-only', [{ os: 'linux', architecture: 'amd64' }])).toBe(201);
    const r = s.run(['pull', '--plain-http', `${registry.host}/hello:linux-only`]);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/^strata: .*no wasip1\/wasm.*platform\n$/);
  });

  it('answers 404 and a missing registry with 125 and one line', async () => {
    const r = s.run(['pull', '--plain-http', `${registry.host}/nothing:1`]);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/^strata: .*not found\n$/);
    // A port nothing listens on: the line says why, not only that the fetch failed.
    const closed = await freePort();
    const gone = s.run(['pull', '--plain-http', `127.0.0.1:${closed}/hello:1`]);
    expect(gone.status).toBe(125);
    expect(gone.stderr).toMatch(/^strata: .*ECONNREFUSED.*\n$/);
    expect(gone.stderr.trim().split('\n').length).toBe(1);
  });
});

describe('strata push and login', () => {
  it('pushes a loaded image and a committed one; skopeo reads both back intact', () => {
    const p = new Strata();
    try {
      expect(p.run(['load', '-i', hello]).status).toBe(0);
      expect(p.run(['tag', 'strata-hello', `${registry.host}/pushed:1`]).status).toBe(0);
      const r = p.run(['push', '--plain-http', `${registry.host}/pushed:1`]);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/digest: sha256:[0-9a-f]{64}/);
      const inspect = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${registry.host}/pushed:1`], { encoding: 'utf8' })) as { Layers: string[]; Os: string };
      expect(inspect.Os).toBe('wasip1');
      const ours = JSON.parse(p.run(['inspect', 'strata-hello']).stdout) as [{ Id: string }];
      expect(r.stdout).toContain(ours[0].Id);
      const out = `${p.root}/copied`;
      execFileSync('skopeo', ['copy', '--src-tls-verify=false', `docker://${registry.host}/pushed:1`, `oci:${out}:x`], { stdio: 'pipe' });

      expect(p.run(['run', '--name', 'w', 'strata-hello', 'pushed']).status).toBe(0);
      expect(p.run(['commit', 'w', `${registry.host}/pushed:committed`]).status).toBe(0);
      const again = p.run(['push', '--plain-http', `${registry.host}/pushed:committed`]);
      expect(again.status).toBe(0);
      expect(again.stdout).toMatch(/Layer already exists/);
      const committed = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', '--config', `docker://${registry.host}/pushed:committed`], { encoding: 'utf8' })) as { rootfs: { diff_ids: string[] } };
      expect(committed.rootfs.diff_ids.length).toBe(3);
      const fresh = new Strata();
      try {
        expect(fresh.run(['pull', '--plain-http', `${registry.host}/pushed:committed`]).status).toBe(0);
        expect(fresh.run(['run', '--rm', '--entrypoint', '/hello.wasm', `${registry.host}/pushed:committed`]).stdout).toContain('wrote /data/hello.txt');
      } finally {
        fresh.cleanup();
      }
    } finally {
      p.cleanup();
    }
  });

  it('pushes an image pulled as a Docker schema 2 manifest as one, which the registry takes', () => {
    execFileSync('skopeo', ['copy', '--dest-tls-verify=false', '--format', 'v2s2', `oci:${hello}:latest`, `docker://${registry.host}/hello:v2s2`], { stdio: 'pipe' });
    const p = new Strata();
    try {
      expect(p.run(['pull', '--plain-http', `${registry.host}/hello:v2s2`]).status).toBe(0);
      expect(p.run(['tag', `${registry.host}/hello:v2s2`, `${registry.host}/pushed:v2s2`]).status).toBe(0);
      const r = p.run(['push', '--plain-http', `${registry.host}/pushed:v2s2`]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const raw = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/pushed:v2s2`], { encoding: 'utf8' })) as { mediaType: string };
      expect(raw.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    } finally {
      p.cleanup();
    }
  });

  it('pushes a 9 MiB layer in chunks, then mounts it into another repository; skopeo copies both intact', () => {
    const p = new Strata();
    try {
      expect(p.run(['load', '-i', buildBigImage()]).status).toBe(0);
      expect(p.run(['tag', 'big:1', `${registry.host}/big/one:1`]).status).toBe(0);
      const first = p.run(['push', '--plain-http', `${registry.host}/big/one:1`]);
      expect(first.stderr).toBe('');
      expect(first.stdout).toMatch(/: Pushed \(2 chunks\)$/m);
      expect(p.run(['tag', 'big:1', `${registry.host}/big/two:1`]).status).toBe(0);
      const second = p.run(['push', '--plain-http', `${registry.host}/big/two:1`]);
      expect(second.stdout).toMatch(/: Mounted from another repository$/m);
      const ours = JSON.parse(p.run(['inspect', 'big:1']).stdout) as [{ RootFS: { Layers: string[] } }];
      for (const repo of ['big/one', 'big/two']) {
        const out = `${p.root}/copy-${repo.replace('/', '-')}`;
        // skopeo verifies every blob's digest as it copies.
        execFileSync('skopeo', ['copy', '--src-tls-verify=false', `docker://${registry.host}/${repo}:1`, `oci:${out}:x`], { stdio: 'pipe' });
        const config = JSON.parse(execFileSync('skopeo', ['inspect', '--config', `oci:${out}:x`], { encoding: 'utf8' })) as { rootfs: { diff_ids: string[] } };
        expect(config.rootfs.diff_ids).toEqual(ours[0].RootFS.Layers);
      }
    } finally {
      p.cleanup();
    }
  });

  it('login checks the registry and keeps the credentials in the root, mode 0600', async () => {
    const r = s.run(['login', '--plain-http', '-u', 'someone', '--password-stdin', registry.host], { input: 'secret\n' });
    expect(r.stdout).toBe('Login Succeeded\n');
    const { statSync, readFileSync } = await import('node:fs');
    const file = `${s.root}/auth.json`;
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const auth = JSON.parse(readFileSync(file, 'utf8')) as { auths: Record<string, { auth: string }> };
    expect(Buffer.from(auth.auths[registry.host]!.auth, 'base64').toString()).toBe('someone:secret');
  });
});
