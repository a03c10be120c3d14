import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { LocalRegistry } from '../../e2e/src/registry.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** host:port of a docker-registry that sends CORS headers, holding strata/hello:1 (gzip) and :zstd. */
    corsRegistry: string;
  }
}

const hello = fileURLToPath(new URL('../../../examples/hello/image', import.meta.url));

/**
 * vitest globalSetup: Debian's docker-registry with CORS headers on 127.0.0.1 (another origin
 * than the test page), with the hello image pushed by skopeo, gzip and zstd.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const registry = await LocalRegistry.start({ cors: true });
  const skopeo = (...args: string[]) => execFileSync('skopeo', args, { stdio: 'pipe' });
  skopeo('copy', '--dest-tls-verify=false', `oci:${hello}:latest`, `docker://${registry.host}/strata/hello:1`);
  skopeo('copy', '--dest-tls-verify=false', '--dest-compress-format', 'zstd', '--dest-compress', `oci:${hello}:latest`, `docker://${registry.host}/strata/hello:zstd`);
  project.provide('corsRegistry', registry.host);
  return () => registry.stop();
}
