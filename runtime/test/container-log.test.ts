/** A container's log: what it wrote, in order, read back a piece at a time. */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ContainerStore } from '../src/container-store.js';

const root = mkdtempSync(join(tmpdir(), 'strata-log-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('container logs', () => {
  it('gives back every write, small, empty and larger than a read, in order, and leaves out a line cut by a crash', () => {
    const store = new ContainerStore(root);
    const id = 'c1';
    mkdirSync(join(root, 'containers', id), { recursive: true });
    const writes: ['stdout' | 'stderr', Uint8Array][] = [
      ['stdout', new TextEncoder().encode('hello\n')],
      ['stderr', new Uint8Array(0)],
      ['stdout', new Uint8Array(3 * 2 ** 20 + 7).map((_, i) => i % 251)],
      ['stderr', new Uint8Array([0, 10, 13, 255])],
    ];
    for (const [s, b] of writes) store.appendLog(id, s, b);
    // A line written whole in the old format (one line a write, however large).
    const old = new Uint8Array(1_500_000).fill(120);
    appendFileSync(join(root, 'containers', id, 'log'), `${JSON.stringify({ s: 'stdout', d: Buffer.from(old).toString('base64') })}\n`);
    appendFileSync(join(root, 'containers', id, 'log'), '{"s":"stdout","d":"AAA'); // cut
    const back = [...store.readLog(id)];
    const join2 = (s: 'stdout' | 'stderr') => Buffer.concat(back.filter((e) => e.stream === s).map((e) => e.bytes));
    expect(join2('stdout')).toEqual(Buffer.concat([writes[0]![1], writes[2]![1], old]));
    expect(join2('stderr')).toEqual(Buffer.from([0, 10, 13, 255]));
  });
});
