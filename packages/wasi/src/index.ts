export { WASI, ProcExit, type WasiOptions, type Preopen } from './wasi.js';
export type { Clock, OutputSink, StdinSource } from './context.js';
export { ERRNO, RIGHTS, FILETYPE } from './defs.js';
export { WasiError, errnoOf } from './errno.js';
