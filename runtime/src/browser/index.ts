export { BrowserRuntime, type Bridge, type BrowserRunResult, type BrowserStartOptions } from './browser-runtime.js';
export type { BrowserContainer } from './idb-state.js';
export { jspiAvailable } from './jspi-bridge.js';
