import { createHash } from 'node:crypto';
import { webBlake3, webSha256, type Digest } from '../src/index.js';
import { nodeFileHasher } from '../src/node/index.js';
import { runWebHasherSuite } from './suite/web-hashers.js';

runWebHasherSuite('node', webSha256, async (data) => `sha256:${createHash('sha256').update(data).digest('hex')}` as Digest);
// The native build of the reference Rust crate.
runWebHasherSuite('node', webBlake3, async (data) => nodeFileHasher.once!(data));
