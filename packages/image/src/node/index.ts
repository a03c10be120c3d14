export { DiskImageMeta } from './disk-image-meta.js';
export { loadImages, saveImages, type Loaded } from './archives.js';
export { loadCredentials, saveCredentials } from './credentials.js';
