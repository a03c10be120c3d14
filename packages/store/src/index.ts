export * from './types.js';
export type { ContentStore, ContentWriter } from './content-store.js';
