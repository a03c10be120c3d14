export { BrowserRuntime, type BrowserRunResult } from './browser-runtime.js';
export type { BrowserContainer } from './idb-state.js';
