export { DiskContentStore } from './disk-content-store.js';
export { DiskLayerStore } from './disk-layer-store.js';
export { importDirectory } from './import-directory.js';
export { nodeFileHasher, nodeSha256, nodeSha256Once, SMALL_FILE } from './hash.js';
export { writeFileAtomic } from './atomic-file.js';
export { nodeGunzip } from './gunzip.js';
export { HashWorkerError, nodeHashOffload, type NodeHashOffload } from './hash-worker.js';
export { layerFile } from './layer-file.js';
export { ownStart, processAlive, startTicks } from './process-id.js';
