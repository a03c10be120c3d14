/**
 * `--memory`: cap a module's linear memory by rewriting the limits of its memories (defined in
 * the memory section or imported) before compilation. The maximum becomes the cap (or the
 * module's own smaller maximum), so `memory.grow` past it returns -1 exactly as the spec says
 * growth fails, and the program sees an ordinary out-of-memory. A module whose initial size
 * is already above the cap cannot run at all and is refused.
 *
 * Binary format: https://webassembly.github.io/spec/core/binary/modules.html (sections,
 * import descriptors, `limits`). Only the bytes of the sections that change are re-encoded.
 */
import { concatBytes } from '@strata/store';

export const PAGE = 65536;

export class MemoryLimitError extends Error {
  override readonly name = 'MemoryLimitError';
}

export class ModuleFormatError extends Error {
  override readonly name = 'ModuleFormatError';
}

const SECTION_IMPORT = 2;
const SECTION_MEMORY = 5;

export function capMemory(bytes: Uint8Array, capBytes: number): Uint8Array<ArrayBuffer> {
  // wasm32 memories stop at 65,536 pages (4 GiB): a larger cap is no cap.
  const capPages = Math.min(Math.floor(capBytes / PAGE), 65536);
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new ModuleFormatError('not a WebAssembly module (no \\0asm magic)');
  }
  const out: Uint8Array[] = [bytes.subarray(0, 8)];
  let pos = 8;
  while (pos < bytes.length) {
    const start = pos;
    const id = bytes[pos++]!;
    const [size, n] = readU32(bytes, pos);
    pos += n;
    const bodyStart = pos;
    const bodyEnd = pos + size;
    if (bodyEnd > bytes.length) throw new ModuleFormatError('section runs past the end of the module');
    if (id === SECTION_MEMORY || id === SECTION_IMPORT) {
      const body = bytes.subarray(bodyStart, bodyEnd);
      const rewritten = id === SECTION_MEMORY ? rewriteMemories(body, capPages) : rewriteImports(body, capPages);
      out.push(Uint8Array.of(id), encodeU32(rewritten.length), rewritten);
    } else {
      out.push(bytes.subarray(start, bodyEnd));
    }
    pos = bodyEnd;
  }
  return concatBytes(out);
}

function rewriteMemories(body: Uint8Array, capPages: number): Uint8Array {
  let pos = 0;
  const [count, n] = readU32(body, pos);
  pos += n;
  const out: Uint8Array[] = [encodeU32(count)];
  for (let i = 0; i < count; i++) {
    const [limits, used] = capLimits(body, pos, capPages);
    out.push(limits);
    pos += used;
  }
  return concatBytes(out);
}

function rewriteImports(body: Uint8Array, capPages: number): Uint8Array {
  let pos = 0;
  const [count, n] = readU32(body, pos);
  pos += n;
  const out: Uint8Array[] = [encodeU32(count)];
  for (let i = 0; i < count; i++) {
    const start = pos;
    for (let s = 0; s < 2; s++) {
      const [len, m] = readU32(body, pos);
      pos += m + len;
    }
    const kind = body[pos++]!;
    if (kind === 0x02) {
      out.push(body.subarray(start, pos));
      const [limits, used] = capLimits(body, pos, capPages);
      out.push(limits);
      pos += used;
      continue;
    }
    switch (kind) {
      case 0x00: pos += readU32(body, pos)[1]; break; // function: type index
      case 0x01: pos += 1; pos += skipLimits(body, pos); break; // table: reftype, limits
      case 0x03: pos += 2; break; // global: valtype, mutability
      case 0x04: pos += 1; pos += readU32(body, pos)[1]; break; // tag: attribute, type index
      default: throw new ModuleFormatError(`unknown import kind ${kind}`);
    }
    out.push(body.subarray(start, pos));
  }
  return concatBytes(out);
}

/** Memory limits with the maximum capped; returns the new bytes and the bytes consumed. */
function capLimits(b: Uint8Array, pos: number, capPages: number): [Uint8Array, number] {
  const flags = b[pos]!;
  if (flags & 0x04) throw new ModuleFormatError('memory64 is not supported');
  let p = pos + 1;
  const [min, n1] = readU32(b, p);
  p += n1;
  let max: number | undefined;
  if (flags & 0x01) {
    const [m, n2] = readU32(b, p);
    max = m;
    p += n2;
  }
  if (min > capPages) {
    throw new MemoryLimitError(`the module needs ${(min * PAGE) / 2 ** 20} MiB of memory at start, above the ${(capPages * PAGE) / 2 ** 20} MiB limit`);
  }
  const newMax = max === undefined ? capPages : Math.min(max, capPages);
  return [concatBytes([Uint8Array.of(flags | 0x01), encodeU32(min), encodeU32(newMax)]), p - pos];
}

function skipLimits(b: Uint8Array, pos: number): number {
  const flags = b[pos]!;
  let p = pos + 1;
  p += readU32(b, p)[1];
  if (flags & 0x01) p += readU32(b, p)[1];
  return p - pos;
}

function readU32(b: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let shift = 0;
  let i = 0;
  for (;;) {
    if (pos + i >= b.length) throw new ModuleFormatError('truncated LEB128');
    const byte = b[pos + i]!;
    result += (byte & 0x7f) * 2 ** shift;
    i++;
    if ((byte & 0x80) === 0) break;
    shift += 7;
    if (shift > 28) throw new ModuleFormatError('LEB128 too long');
  }
  return [result, i];
}

function encodeU32(v: number): Uint8Array {
  const out: number[] = [];
  do {
    let byte = v & 0x7f;
    v = Math.floor(v / 128);
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return Uint8Array.from(out);
}

