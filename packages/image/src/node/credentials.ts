import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '@strata/store/node';
import { credentialsFromDockerConfig, type CredentialLookup, type Credentials } from '../registry/auth.js';

/**
 * Registry credentials: `<root>/auth.json` (written by `strata login`, mode 0600, in docker's
 * config.json format), then docker's own `$DOCKER_CONFIG/config.json` or
 * `~/.docker/config.json`.
 */
export function loadCredentials(root: string): CredentialLookup {
  const files = [join(root, 'auth.json'), join(process.env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json')];
  const lookups = files.filter(existsSync).map((f) => credentialsFromDockerConfig(JSON.parse(readFileSync(f, 'utf8'))));
  return (host) => {
    for (const l of lookups) {
      const c = l(host);
      if (c) return c;
    }
    return undefined;
  };
}

export function saveCredentials(root: string, host: string, c: Credentials): void {
  const file = join(root, 'auth.json');
  const config = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { auths?: Record<string, { auth: string }> }) : {};
  config.auths = { ...config.auths, [host]: { auth: Buffer.from(`${c.username}:${c.password}`).toString('base64') } };
  writeFileAtomic(file, JSON.stringify(config, null, 2));
  chmodSync(file, 0o600);
}
