import { createHash } from 'node:crypto';
import { blake3 } from '@noble/hashes/blake3';
import { toHex, webBlake3, webSha256, type Digest } from '../src/index.js';
import { runWebHasherSuite } from './suite/web-hashers.js';

runWebHasherSuite('node', webSha256, async (data) => `sha256:${createHash('sha256').update(data).digest('hex')}` as Digest);
// @noble/hashes' JavaScript BLAKE3 (also what webBlake3 runs before its WebAssembly build).
runWebHasherSuite('node', webBlake3, async (data) => `blake3:${toHex(blake3(data))}` as Digest);
