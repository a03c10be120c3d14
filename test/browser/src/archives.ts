import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const hello = fileURLToPath(new URL('../../../examples/hello/image', import.meta.url));
const out = fileURLToPath(new URL('../.generated/', import.meta.url));

/**
 * vitest globalSetup: the hello image as an OCI archive and as a `docker save` tar, written by
 * skopeo, for the page to load as if the user had picked the file.
 */
export default function setup(): void {
  mkdirSync(out, { recursive: true });
  for (const [file, transport] of [['hello-oci.tar', 'oci-archive'], ['hello-docker.tar', 'docker-archive']] as const) {
    const tmp = `${out}${file}.${process.pid}`;
    rmSync(tmp, { force: true });
    execFileSync('skopeo', ['copy', '--quiet', `oci:${hello}:latest`, `${transport}:${tmp}:strata/hello-archive:1`], { stdio: 'pipe' });
    renameSync(tmp, `${out}${file}`);
  }
}
