import { describe, expect, it } from 'vitest';
import { familiarName, normalizeReference, parseReference, ReferenceError } from '../src/index.js';

describe('image references (docker defaults)', () => {
  it.each([
    ['hello', 'docker.io/library/hello:latest', 'hello:latest'],
    ['user/app:1.2', 'docker.io/user/app:1.2', 'user/app:1.2'],
    ['localhost/app', 'localhost/app:latest', 'localhost/app:latest'],
    ['localhost:5000/team/app:v1', 'localhost:5000/team/app:v1', 'localhost:5000/team/app:v1'],
    ['ghcr.io/o/r', 'ghcr.io/o/r:latest', 'ghcr.io/o/r:latest'],
    ['index.docker.io/library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    [`app@sha256:${'a'.repeat(64)}`, `docker.io/library/app@sha256:${'a'.repeat(64)}`, `app@sha256:${'a'.repeat(64)}`],
    [`127.0.0.1:5000/x:t@sha256:${'b'.repeat(64)}`, `127.0.0.1:5000/x:t@sha256:${'b'.repeat(64)}`, `127.0.0.1:5000/x:t@sha256:${'b'.repeat(64)}`],
  ])('%s', (input, full, familiar) => {
    expect(normalizeReference(input)).toBe(full);
    expect(familiarName(parseReference(input))).toBe(familiar);
  });

  it.each(['', 'UPPER/case', 'app@sha256:short', 'a:b:c', 'bad tag:/x'])('refuses %j', (input) => {
    expect(() => parseReference(input)).toThrow(ReferenceError);
  });
});
