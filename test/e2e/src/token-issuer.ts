import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * A small token issuer for the distribution token auth flow (the docker-registry side is
 * `auth.token` in its config): it checks Basic credentials against one user and answers with
 * an RS256 JWT whose `x5c` header carries a self-signed certificate (made with openssl) that
 * the registry trusts through `rootcertbundle`. Anonymous callers get a token with no access,
 * so the registry refuses them, as Docker Hub does for private repositories. The server runs
 * in a worker thread (token-issuer-server.mjs) so synchronous CLI calls do not starve it.
 */
export class TokenIssuer {
  readonly service = 'strata-test-registry';
  readonly issuer = 'strata-test-issuer';

  private constructor(
    readonly port: number,
    readonly certFile: string,
    private readonly dir: string,
    private readonly worker: Worker,
    private readonly counters: Int32Array,
  ) {}

  get realm(): string {
    return `http://127.0.0.1:${this.port}/token`;
  }

  /** Token requests so far, by outcome: tests use them to prove the flow ran. */
  get issued(): { granted: number; anonymous: number; refused: number } {
    return { granted: Atomics.load(this.counters, 0), anonymous: Atomics.load(this.counters, 1), refused: Atomics.load(this.counters, 2) };
  }

  static async start(user: string, password: string): Promise<TokenIssuer> {
    const dir = mkdtempSync(join(tmpdir(), 'strata-issuer-'));
    const keyFile = join(dir, 'key.pem');
    const certFile = join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile,
      '-days', '1', '-subj', '/CN=strata-test-issuer'], { stdio: 'pipe' });
    const counters = new SharedArrayBuffer(12);
    const worker = new Worker(new URL('./token-issuer-server.mjs', import.meta.url), {
      workerData: { keyFile, certFile, user, password, service: 'strata-test-registry', issuer: 'strata-test-issuer', counters },
    });
    const port = await new Promise<number>((resolve, reject) => {
      worker.once('message', (m: { port: number }) => resolve(m.port));
      worker.once('error', reject);
    });
    return new TokenIssuer(port, certFile, dir, worker, new Int32Array(counters));
  }

  stop(): void {
    this.worker.postMessage('stop');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
