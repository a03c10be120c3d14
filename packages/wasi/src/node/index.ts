export { HostDirFs, type HostDirOptions } from './host-dir-fs.js';
