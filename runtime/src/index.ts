export { Runtime, type CreateOptions, type RunOptions, type RunResult, type StartIo } from './runtime.js';
export { EXIT, RuntimeError } from './exit-codes.js';
export { parseMount, parseSize, type BindMount } from './options.js';
export type { ContainerConfig, ContainerState } from './container-store.js';
