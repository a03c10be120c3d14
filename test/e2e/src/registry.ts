import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/**
 * Debian's docker-registry (distribution 2.8) on 127.0.0.1, storage in a temp dir, no auth;
 * stopped and removed by `stop()`. `cors` makes it send CORS headers (its `http.headers`
 * setting; it answers preflight OPTIONS requests itself), so pages on another origin can pull.
 * `token` turns on the distribution token auth flow against an issuer (token-issuer.ts).
 */
export class LocalRegistry {
  private constructor(readonly port: number, private readonly proc: ChildProcess, private readonly dir: string) {}

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(options: { cors?: boolean; token?: { realm: string; service: string; issuer: string; certFile: string } } = {}): Promise<LocalRegistry> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'strata-registry-'));
    const config = join(dir, 'config.yml');
    writeFileSync(config, [
      'version: 0.1',
      'log:', '  level: error',
      'storage:', `  filesystem:`, `    rootdirectory: ${join(dir, 'data')}`, '  delete:', '    enabled: true',
      'http:', `  addr: 127.0.0.1:${port}`,
      ...(options.cors ? [
        '  headers:',
        "    Access-Control-Allow-Origin: ['*']",
        "    Access-Control-Allow-Methods: ['HEAD, GET, OPTIONS']",
        "    Access-Control-Allow-Headers: ['Accept, Authorization, Range']",
        "    Access-Control-Expose-Headers: ['Docker-Content-Digest, WWW-Authenticate, Content-Length, Content-Range']",
      ] : []),
      ...(options.token ? [
        'auth:', '  token:',
        `    realm: ${options.token.realm}`, `    service: ${options.token.service}`,
        `    issuer: ${options.token.issuer}`, `    rootcertbundle: ${options.token.certFile}`,
      ] : []),
    ].join('\n'));
    const proc = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/v2/`);
        if (r.ok || (options.token && r.status === 401)) return new LocalRegistry(port, proc, dir);
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    proc.kill();
    throw new Error('docker-registry did not start (is the docker-registry package installed?)');
  }

  stop(): void {
    this.proc.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
