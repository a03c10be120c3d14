import { createHash } from 'node:crypto';
import type { Digest } from '../src/index.js';
import { runWebSha256Suite } from './suite/web-sha256.js';

runWebSha256Suite('node', async (data) => `sha256:${createHash('sha256').update(data).digest('hex')}` as Digest);
