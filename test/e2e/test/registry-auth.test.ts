/**
 * Token auth against a real registry: Debian's docker-registry configured for the
 * distribution token flow (`auth.token`), with a small token issuer in the test (RS256 JWTs,
 * a self-signed certificate the registry trusts). skopeo pushes with credentials; `strata`
 * must follow the `WWW-Authenticate: Bearer` challenge, with and without a login.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Strata } from '../src/cli.js';
import { LocalRegistry } from '../src/registry.js';
import { TokenIssuer } from '../src/token-issuer.js';

const hello = fileURLToPath(new URL('../../../examples/hello/image', import.meta.url));
let issuer: TokenIssuer;
let registry: LocalRegistry;
let s: Strata;

beforeAll(async () => {
  issuer = await TokenIssuer.start('alice', 'wonderland');
  registry = await LocalRegistry.start({ token: { realm: issuer.realm, service: issuer.service, issuer: issuer.issuer, certFile: issuer.certFile } });
  s = new Strata();
  execFileSync('skopeo', ['copy', '--dest-tls-verify=false', '--dest-creds', 'alice:wonderland', `oci:${hello}:latest`, `docker://${registry.host}/private/hello:1`], { stdio: 'pipe' });
}, 60_000);

afterAll(() => {
  registry?.stop();
  issuer?.stop();
  s?.cleanup();
});

describe('token auth (docker-registry with auth.token)', () => {
  it('refuses a pull without credentials: 401, one clear line, nothing stored', () => {
    const before = issuer.issued.anonymous;
    const r = s.run(['pull', '--plain-http', `${registry.host}/private/hello:1`]);
    expect(r.status).toBe(125);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/unauthorized|401|denied/i);
    expect(issuer.issued.anonymous).toBeGreaterThan(before);
    const images = s.run(['images', '--format', 'json']);
    expect(images.status).toBe(0);
    expect(images.stdout.trim()).toBe(''); // one JSON line per image, as docker's --format json
  });

  it('refuses a login with a wrong password and keeps no credentials', () => {
    const r = s.run(['login', '--plain-http', '-u', 'alice', '--password-stdin', registry.host], { input: 'nope\n' });
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/unauthorized|401|denied|credentials/i);
    expect(existsSync(`${s.root}/auth.json`)).toBe(false);
  });

  it('after login, pulls through the Bearer flow and runs the image', () => {
    const before = issuer.issued.granted;
    expect(s.run(['login', '--plain-http', '-u', 'alice', '--password-stdin', registry.host], { input: 'wonderland\n' }).stdout).toBe('Login Succeeded\n');
    const pulled = s.run(['pull', '--plain-http', `${registry.host}/private/hello:1`]);
    expect(pulled.stderr).toBe('');
    expect(pulled.status).toBe(0);
    expect(issuer.issued.granted).toBeGreaterThan(before);
    expect(s.run(['run', '--rm', `${registry.host}/private/hello:1`, 'token']).stdout).toContain('argv: [/hello.wasm] [token]');
  });

  it('pushes a committed image with the token flow; skopeo reads it back', () => {
    const c = s.run(['run', '--name', 'tok', `${registry.host}/private/hello:1`, 'pushed']);
    expect(c.status).toBe(0);
    expect(s.run(['commit', 'tok', `${registry.host}/private/hello:committed`]).status).toBe(0);
    const pushed = s.run(['push', '--plain-http', `${registry.host}/private/hello:committed`]);
    expect(pushed.stderr).toBe('');
    expect(pushed.status).toBe(0);
    const theirs = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', '--creds', 'alice:wonderland', '--config', `docker://${registry.host}/private/hello:committed`], { encoding: 'utf8' })) as { rootfs: { diff_ids: string[] } };
    expect(theirs.rootfs.diff_ids).toHaveLength(3);
  });

  it('mounts layers from another repository under the token flow instead of uploading them', () => {
    expect(s.run(['tag', `${registry.host}/private/hello:1`, `${registry.host}/mirror/hello:1`]).status).toBe(0);
    const pushed = s.run(['push', '--plain-http', `${registry.host}/mirror/hello:1`]);
    expect(pushed.stderr).toBe('');
    expect(pushed.status).toBe(0);
    const blobLines = pushed.stdout.split('\n').filter((l) => /^[0-9a-f]{12}: /.test(l));
    expect(blobLines.length).toBeGreaterThan(0);
    // Every blob came across by mount (the config too): nothing was uploaded again.
    expect(blobLines.every((l) => l.endsWith('Mounted from another repository'))).toBe(true);
    const theirs = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', '--creds', 'alice:wonderland', `docker://${registry.host}/mirror/hello:1`], { encoding: 'utf8' })) as { Layers: string[] };
    expect(theirs.Layers.length).toBeGreaterThan(0);
  });
});
