import { describe, expect, it } from 'vitest';
import { OverlayFs } from '@strata/overlay';
import { MemoryContentStore, readTar, type LayerEntry, type TarHeader } from '@strata/store';
import { nodeSha256 } from '@strata/store/node';
import { exportTar } from '../src/export-tar.js';

const enc = new TextEncoder();
const T = 1_700_000_000n * 1_000_000_000n;

describe('export', () => {
  it('writes the merged view with hard links, long names and xattrs byte for byte', async () => {
    const content = new MemoryContentStore(nodeSha256);
    const data = enc.encode('lower bytes');
    const dir: LayerEntry = { type: 'dir', mode: 0o755, uid: 0, gid: 0, mtimeNs: T, size: 0 };
    const cap = new Uint8Array([0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0xff, 0xfe]);
    const lower = {
      diffId: `sha256:${'a'.repeat(64)}` as const,
      entries: new Map<string, LayerEntry>([
        ['', dir], ['bin', dir],
        ['bin/ping', { type: 'file', mode: 0o755, uid: 0, gid: 0, mtimeNs: T, size: data.length, content: { digest: await content.put(data), size: data.length }, xattrs: { 'security.capability': cap } }],
      ]),
    };
    const fs = new OverlayFs({ lowers: [lower], content });
    const bin = fs.lookup(fs.root, 'bin');
    fs.linkAt(fs.lookup(bin, 'ping'), bin, 'ping2');
    let deep = fs.root;
    for (const part of ['x'.repeat(90), 'y'.repeat(90)]) deep = fs.mkdirAt(deep, part, 0o700);
    fs.setXattr(deep, 'user.raw', new Uint8Array([0x80, 0x00, 0xc3]));

    const chunks: Uint8Array[] = [];
    for await (const c of exportTar(fs)) chunks.push(c);
    const got: { header: TarHeader; body: string }[] = [];
    for await (const e of readTar((async function* () { yield* chunks; })())) {
      let body = '';
      for await (const c of e.body()) body += new TextDecoder().decode(c);
      got.push({ header: e.header, body });
    }
    const by = new Map(got.map((g) => [g.header.name, g]));
    expect(by.get('bin/ping')?.body).toBe('lower bytes');
    expect(by.get('bin/ping')?.header.xattrs['security.capability']).toEqual(cap);
    expect(by.get('bin/ping2')?.header).toMatchObject({ type: 'link', linkname: 'bin/ping' });
    expect(by.get(`${'x'.repeat(90)}/${'y'.repeat(90)}/`)?.header.xattrs['user.raw']).toEqual(new Uint8Array([0x80, 0x00, 0xc3]));
  });
});
