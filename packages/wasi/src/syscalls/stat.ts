import type { FileType, Stat } from '@strata/syncfs';
import { FILESTAT_SIZE, FILETYPE } from '../defs.js';
import type { GuestMemory } from '../memory.js';

export function filetypeOf(t: FileType): number {
  switch (t) {
    case 'file': return FILETYPE.REGULAR_FILE;
    case 'dir': return FILETYPE.DIRECTORY;
    case 'symlink': return FILETYPE.SYMBOLIC_LINK;
    case 'chardev': return FILETYPE.CHARACTER_DEVICE;
    case 'blockdev': return FILETYPE.BLOCK_DEVICE;
    // WASI has no fifo type; wasmtime reports fifos (and sockets it did not open) as unknown.
    default: return FILETYPE.UNKNOWN;
  }
}

export function writeFilestat(mem: GuestMemory, ptr: number, st: Stat): void {
  const v = mem.view;
  if (ptr + FILESTAT_SIZE > v.byteLength) mem.slice(ptr, FILESTAT_SIZE);
  v.setBigUint64(ptr, BigInt(st.dev), true);
  v.setBigUint64(ptr + 8, BigInt(st.ino), true);
  v.setUint8(ptr + 16, filetypeOf(st.type));
  v.setBigUint64(ptr + 24, BigInt(st.nlink), true);
  v.setBigUint64(ptr + 32, BigInt(st.size), true);
  v.setBigUint64(ptr + 40, st.atimeNs < 0n ? 0n : st.atimeNs, true);
  v.setBigUint64(ptr + 48, st.mtimeNs < 0n ? 0n : st.mtimeNs, true);
  v.setBigUint64(ptr + 56, st.ctimeNs < 0n ? 0n : st.ctimeNs, true);
}

/** A filestat for stdio (a character device with no identity). */
export function writeStdioFilestat(mem: GuestMemory, ptr: number): void {
  mem.slice(ptr, FILESTAT_SIZE).fill(0);
  mem.view.setUint8(ptr + 16, FILETYPE.CHARACTER_DEVICE);
}
