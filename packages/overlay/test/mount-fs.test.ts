import { FsError, MountFs } from '@strata/syncfs';
import { describe, expect, it } from 'vitest';
import { OverlayFs } from '../src/index.js';
import { dirLayer, TestContent } from './catalog/layers.js';
import { readAll } from './catalog/ops.js';
import { nodeAt } from './catalog/paths.js';

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof FsError) return e.code;
    throw e;
  }
  return 'ok';
}

describe('MountFs over OverlayFs (a bind mount inside the container root)', () => {
  const content = new TestContent();
  const make = () => {
    const root = new OverlayFs({ lowers: [dirLayer({ '/data/hidden': 'under the mount', '/etc/motd': 'hi' }, content, 1)], content });
    const vol = new OverlayFs({ lowers: [dirLayer({ '/in.txt': 'input' }, content, 2)], content });
    const fs = new MountFs(root, [{ at: nodeAt(root, '/data'), fs: vol }]);
    return { root, vol, fs };
  };

  it('shows the mounted fs at the mount point and hides what was under it', () => {
    const { fs } = make();
    const data = nodeAt(fs, '/data');
    expect(fs.readdir(data).map((e) => e.name)).toEqual(['in.txt']);
    const h = fs.open(nodeAt(fs, '/data/in.txt'), { read: true, write: false });
    expect(new TextDecoder().decode(readAll(h))).toBe('input');
    h.close();
    expect(fs.readdir(fs.root).find((e) => e.name === 'data')?.ino).toBe(data);
  });

  it('writes land in the mounted fs, not in the root fs', () => {
    const { fs, root, vol } = make();
    fs.createAt(nodeAt(fs, '/data'), 'out.txt', 0o644);
    expect(vol.readdir(vol.root).map((e) => e.name).sort()).toEqual(['in.txt', 'out.txt']);
    expect(root.diff()).toEqual([]);
  });

  it('keeps ids apart and refuses cross-mount renames and links with EXDEV', () => {
    const { fs } = make();
    const motd = nodeAt(fs, '/etc/motd');
    const inTxt = nodeAt(fs, '/data/in.txt');
    expect(motd).not.toBe(inTxt);
    expect(fs.stat(motd).ino).toBe(motd);
    expect(code(() => fs.renameAt(nodeAt(fs, '/etc'), 'motd', nodeAt(fs, '/data'), 'motd'))).toBe('EXDEV');
    expect(code(() => fs.linkAt(motd, nodeAt(fs, '/data'), 'l'))).toBe('EXDEV');
    expect(code(() => fs.rmdirAt(fs.root, 'data'))).toBe('EBUSY');
  });
});
