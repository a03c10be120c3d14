/** Credentials for a registry host (from a docker config.json-style file or `strata login`). */
export interface Credentials {
  username: string;
  password: string;
}

export type CredentialLookup = (host: string) => Credentials | undefined;

/** A `WWW-Authenticate` challenge: `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^(\w+)\s*(.*)$/.exec(header.trim());
  if (!m) return undefined;
  const params: Record<string, string> = {};
  // RFC 7235: a value is a quoted string or a bare token.
  for (const p of m[2]!.matchAll(/(\w+)=(?:"([^"]*)"|([^\s,"]+))/g)) params[p[1]!.toLowerCase()] = p[2] ?? p[3]!;
  return { scheme: m[1]!.toLowerCase(), params };
}

export function basicHeader(c: Credentials): string {
  return `Basic ${btoa(`${c.username}:${c.password}`)}`;
}

/** `auths[host].auth` (base64 "user:password") of a docker config.json. */
export function credentialsFromDockerConfig(config: { auths?: Record<string, { auth?: string }> }): CredentialLookup {
  return (host) => {
    // docker login keeps Docker Hub's under its old index URL.
    const hub = host === 'docker.io' || host === 'registry-1.docker.io' || host === 'index.docker.io' ? config.auths?.['https://index.docker.io/v1/'] : undefined;
    const entry = config.auths?.[host] ?? config.auths?.[`https://${host}`] ?? config.auths?.[`http://${host}`] ?? hub;
    if (!entry?.auth) return undefined;
    const decoded = atob(entry.auth);
    const i = decoded.indexOf(':');
    if (i < 0) return undefined;
    return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
  };
}
