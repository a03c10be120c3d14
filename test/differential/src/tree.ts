import { createHash } from 'node:crypto';

/** One node of a merged tree, as both sides report it for comparison. */
export interface Node {
  path: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size?: number;
  sha256?: string;
  target?: string;
  /** Regular files: link count (directories differ by design: merged dirs report 1). */
  nlink?: number;
}

export function sha(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Paths of non-directories that share an inode, as sorted groups. */
export function groups(inodes: Map<string, string>): string[][] {
  const by = new Map<string, string[]>();
  for (const [path, key] of inodes) by.set(key, [...(by.get(key) ?? []), path]);
  return [...by.values()].filter((g) => g.length > 1).map((g) => g.sort()).sort();
}
