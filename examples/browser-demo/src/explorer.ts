import { changeset, type OverlayFs } from '@strata/overlay';

/** The columns of the Layer Stack Explorer: the merged view, the upper, each lower. */
export interface ExplorerView {
  merged: string[];
  upper: string[];
  lowers: { diffId: string; paths: string[] }[];
}

/** A container's merged view (`BrowserRuntime.overlay`) taken apart into its layers. */
export function explore(fs: OverlayFs): ExplorerView {
  const merged: string[] = [];
  const walk = (node: number, prefix: string): void => {
    for (const e of fs.readdir(node)) {
      const p = `${prefix}/${e.name}`;
      merged.push(e.type === 'dir' ? `${p}/` : p);
      if (e.type === 'dir') walk(fs.lookup(node, e.name), p);
    }
  };
  walk(fs.root, '');
  const up = changeset(fs).map((c) => {
    if (c.kind === 'whiteout') return `whiteout /${c.path}`;
    if (c.kind === 'opaque') return `opaque /${c.path}/`;
    if (c.kind === 'hardlink') return `link /${c.path}`;
    return `${c.node.origin ? 'copied up' : 'new'} /${c.path}${c.type === 'dir' ? '/' : ''}`;
  });
  return {
    merged,
    upper: up,
    lowers: fs.lowers.map((l) => ({
      diffId: l.diffId,
      paths: [...l.entries].filter(([p]) => p !== '').map(([p, e]) => (e.type === 'dir' ? `/${p}/` : `/${p}`)),
    })),
  };
}
