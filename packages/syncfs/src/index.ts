export * from './errors.js';
export * from './types.js';
export { nodeType, type SyncFs, type FileHandle } from './sync-fs.js';
export { validateName, NAME_MAX } from './names.js';
export { MountFs, type Mount } from './mount-fs.js';
