import type { EntrySpec } from './layers.js';
import type { TarOptions } from './tar-options.js';

/**
 * U01's layers. The catalog ships the listing of the five umoci 0.4.7 layer blobs of its
 * `demo:v3` image (umoci-layers-example.txt), not the blobs; this rebuilds them entry for
 * entry in the same order, with the same modes, owners, PAX xattrs, whiteout files (mode 0,
 * mtime 0) and the same defects: layers 2 and 3 end without the end-of-archive marker, and
 * layer 2's last data block is not padded. Contents come from the kernel's merged view where
 * it shows them, otherwise they are filler of the listed size.
 */
const T0 = 1_795_335_068;
const T4 = 1_795_335_069;
const wh: EntrySpec = { type: 'file', mode: '0000', mtime: 0, content: '' };
const f = (content: string, mode = '0644', extra: Partial<EntrySpec> = {}): EntrySpec => ({ type: 'file', content, mode, mtime: T0, ...extra });
/** The oracle's directories kept the catalog's default time. */
const d = (mode = '0755'): EntrySpec => ({ type: 'dir', mode, mtime: 1_700_000_000 });

export const U01_LAYERS: { entries: Record<string, EntrySpec>; tar?: TarOptions }[] = [
  {
    entries: {
      './': d(), 'bin/': d(), 'bin/busybox': f('ELF-busybox', '0755'), 'bin/ls': f('ELF-ls', '0755'),
      'bin/sh': f('#!/bin/sh\n', '0755'), 'bin/su': f('ELF-su', '4755'), 'etc/': d(), 'etc/conf.d/': d(),
      'etc/conf.d/a.conf': f('a=1\n'), 'etc/conf.d/b.conf': f('b=2\n'), 'etc/hosts': f('127.0.0.1 localhost\n'),
      'etc/passwd': f('root:x:0:0:root:/root:/bin/sh\n', '0644', { xattrs: { 'user.origin': 'base-layer' } }),
      'etc/shadow': f('root:*::0:::::\n', '0640', { gid: 42 }), 'opt/': d(), 'opt/app/': d(), 'opt/app/data/': d(),
      'opt/app/data/x': f('x\n'), 'opt/app/data/y': f('y\n'), 'tmp/': { type: 'dir', mode: '1777', mtime: T0 }, 'usr/': d(), 'usr/share/': d(),
      'usr/share/doc/': d(), 'usr/share/doc/pkg/': d(), 'usr/share/doc/pkg/README': f('readme\n'),
      'usr/share/doc/pkg/deep/': d(), 'usr/share/doc/pkg/deep/er/': d(), 'usr/share/doc/pkg/deep/er/file': f('deep\n'),
      'var/': d(), 'var/lib/': d(), 'var/lib/state/': d(),
    },
  },
  {
    entries: {
      'bin/bb-hardlink': f('ELF-busybox', '0755'), 'bin/bb-symlink': { type: 'symlink', target: 'busybox', mode: '0777', mtime: T0 },
      'bin/busybox': { type: 'hardlink', target: 'bin/bb-hardlink', mode: '0755', mtime: T0 },
      'etc/conf.d/.wh.a.conf': wh, 'etc/conf.d/.wh.b.conf': wh, 'etc/conf.d/c.conf': f('c=1\n'), 'etc/.wh.hosts': wh,
      'etc/passwd-abs-link': { type: 'symlink', target: '/etc/passwd', mode: '0777', mtime: T0 },
      'usr/share/doc/': { type: 'dir', mode: '0755', mtime: T0 }, 'usr/share/doc/.wh.pkg': wh,
    },
  },
  {
    entries: {
      'opt/app/data/.wh..wh..opq': wh, 'opt/app/data/': d(), 'opt/app/data/sub/': d(), 'opt/app/data/sub/s': f('s\n'),
      'opt/app/data/z': f('z\n'),
    },
    tar: { noEndMarker: true, unpaddedLastBlock: true },
  },
  { entries: { 'var/lib/.wh.state': wh }, tar: { noEndMarker: true } },
  {
    entries: {
      'etc/conf.d/c.conf': f('c=3\n', '0600'),
      'etc/passwd': f('root:x:0:0:root:/root:/bin/ash\n', '0644', { mtime: T4, xattrs: { 'user.origin': 'base-layer' } }),
    },
  },
];
