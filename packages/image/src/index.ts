export * from './reference.js';
export * from './media-types.js';
export { ImageStore, ImageError, MemoryImageMeta, MAX_MANIFEST_BYTES, type ImageRecord, type ImageState, type ImageMetaStore } from './image-store.js';
