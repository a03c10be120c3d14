export { OverlayFs, OVERLAY_DEV, type OverlayFsOptions } from './overlay-fs.js';
export type { Change } from './diff.js';
export { ChunkedFile, CHUNK_SIZE } from './chunked-file.js';
export { mergeLowers, findLower, type LowerNode, type MergedLower } from './merged-lower.js';
export { changeset, type ChangesetEntry } from './changeset.js';
export { commitTar } from './commit-tar.js';
export type { Inode } from './inode.js';
