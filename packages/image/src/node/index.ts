export { DiskImageMeta } from './disk-image-meta.js';
export { loadImages, saveImages } from './archives.js';
export type { Loaded } from '../archive-load.js';
export { loadCredentials, saveCredentials } from './credentials.js';
