import { MAX_DEV_MAJOR, MAX_DEV_MINOR } from '../device.js';
import { LayerFormatError } from '../errors.js';
import { ByteReader } from './byte-reader.js';

export type TarEntryType = 'file' | 'link' | 'symlink' | 'chardev' | 'blockdev' | 'dir' | 'fifo';

export interface TarHeader {
  name: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: bigint;
  size: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** `SCHILY.xattr.*` PAX records, values as raw bytes. */
  xattrs: Record<string, Uint8Array>;
}

export interface TarEntry {
  header: TarHeader;
  /** Where the entry's data starts in the (uncompressed) tar stream. */
  offset: number;
  /**
   * The whole body, when the reader held it already (small files mostly): use it instead of
   * `body()`, which then yields just this.
   */
  data?: Uint8Array;
  /** The entry's data; must be consumed (or skipped with `skip`) before the next entry. */
  body(): AsyncGenerator<Uint8Array>;
}

const BLOCK = 512;
const dec = new TextDecoder();
/** The PAX records of an entry that has none (most): shared, never written to. */
const NO_RECORDS: Readonly<Record<string, Uint8Array>> = Object.freeze({});

function hasKeys(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

/**
 * A streaming tar reader (ustar, PAX per-file and global headers, GNU long names and link
 * names, base-256 sizes).
 *
 * Written here rather than taken from a library because layer import needs two behaviours
 * that tar-stream's extractor does not separate: it must accept what real producers write —
 * umoci's `insert` layers end without the two zero blocks, and may even leave the last data
 * block unpadded — while refusing a tar cut short inside a header or inside a file's data.
 * So: the end of input exactly at a block boundary, or inside the padding after complete
 * data, ends the archive; anywhere else it is a `LayerFormatError` ("truncated").
 */
export async function* readTar(source: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry> {
  const r = new ByteReader(source);
  let globalPax: Record<string, Uint8Array> = {};
  let pax: Record<string, Uint8Array> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const block = await r.readExact(BLOCK);
    if (block.length === 0) return; // no end marker: accepted
    if (block.length < BLOCK) throw new LayerFormatError('truncated tar: the input ends inside a header');
    if (isZero(block)) return; // end-of-archive marker (the second zero block is not required)
    verifyChecksum(block);
    const flag = String.fromCharCode(block[156]!);
    const size = readNumber(block, 124, 12, 'size');
    const readData = async (): Promise<Uint8Array> => {
      if (size > 16 * 2 ** 20) throw new LayerFormatError(`tar metadata entry of ${size} bytes is too large`);
      const data = await r.readExact(size);
      if (data.length < size) throw new LayerFormatError('truncated tar: the input ends inside an extended header');
      await skipPadding(r, size, false);
      return data;
    };
    if (flag === 'x' || flag === 'g') {
      const records = parsePax(await readData());
      if (flag === 'g') globalPax = { ...globalPax, ...records };
      else pax = { ...pax, ...records };
      continue;
    }
    if (flag === 'L' || flag === 'K') {
      const text = cString(await readData(), 0, size);
      if (flag === 'L') longName = text;
      else longLink = text;
      continue;
    }
    const records = hasKeys(globalPax) || hasKeys(pax) ? inForce({ ...globalPax, ...pax }) : NO_RECORDS;
    if (records !== NO_RECORDS) pax = {};
    const prefix = isUstar(block) ? cString(block, 345, 155) : '';
    let name = longName ?? (prefix ? `${prefix}/${cString(block, 0, 100)}` : cString(block, 0, 100));
    // Pre-POSIX tars mark a directory by a trailing slash on an old-style ('\0') entry, as
    // GNU tar, Python's tarfile and Go's archive/tar read it.
    const type = flag === '\0' && name.endsWith('/') ? 'dir' : typeOf(flag, block);
    let linkname = longLink ?? cString(block, 157, 100);
    longName = undefined;
    longLink = undefined;
    if (records.path) name = dec.decode(records.path);
    if (records.linkpath) linkname = dec.decode(records.linkpath);
    if (records !== NO_RECORDS && Object.keys(records).some((k) => k.startsWith('GNU.sparse.'))) {
      // The data is a sparse map and the file's pieces: stored as they stand, the file would be
      // wrong with no error (old-GNU 'S' entries are refused by type already).
      throw new LayerFormatError('sparse files (GNU.sparse PAX records) are not supported in layers', name);
    }
    let entrySize = type === 'file' ? size : 0;
    if (records.size && type === 'file') entrySize = paxNumber(records.size, 'size');
    const header: TarHeader = {
      name,
      type,
      mode: readNumber(block, 100, 8, 'mode') & 0o7777,
      uid: records.uid ? paxNumber(records.uid, 'uid') : readNumber(block, 108, 8, 'uid'),
      gid: records.gid ? paxNumber(records.gid, 'gid') : readNumber(block, 116, 8, 'gid'),
      mtimeNs: records.mtime ? parseTime(dec.decode(records.mtime)) : BigInt(readNumber(block, 136, 12, 'mtime', true)) * 1_000_000_000n,
      size: entrySize,
      linkname,
      devmajor: type === 'chardev' || type === 'blockdev' ? readNumber(block, 329, 8, 'devmajor') : 0,
      devminor: type === 'chardev' || type === 'blockdev' ? readNumber(block, 337, 8, 'devminor') : 0,
      xattrs: {},
    };
    if (header.devmajor >= MAX_DEV_MAJOR || header.devminor >= MAX_DEV_MINOR) {
      throw new LayerFormatError(`device number ${header.devmajor}:${header.devminor} out of range`, name);
    }
    if (records !== NO_RECORDS) {
      for (const [k, v] of Object.entries(records)) {
        if (k.startsWith('SCHILY.xattr.')) header.xattrs[k.slice('SCHILY.xattr.'.length)] = v;
      }
    }
    // Hard links may carry data (pax allows it): skipped. The other types have none, whatever
    // their size field says (POSIX; GNU tar, Python and Go read the next header at once).
    const dataSize = type === 'file' ? entrySize : type === 'link' ? size : 0;
    const offset = r.consumed;
    // A body the reader holds already (most small files) is handed over whole.
    const data = type === 'file' && entrySize > 0 ? r.takeBuffered(entrySize) : undefined;
    let consumed = data !== undefined;
    let handed = false;
    async function* body(): AsyncGenerator<Uint8Array> {
      if (data) {
        if (handed) throw new Error('tar entry body read twice');
        handed = true;
        yield data;
        return;
      }
      if (consumed) throw new Error('tar entry body read twice');
      consumed = true;
      let left = type === 'file' ? entrySize : 0;
      while (left > 0) {
        const chunk = await r.readSome(Math.min(left, 1 << 20));
        if (!chunk) throw new LayerFormatError('truncated tar: the input ends inside file data', name);
        left -= chunk.length;
        yield chunk;
      }
    }
    yield { header, body, offset, ...(data ? { data } : {}) };
    if (!consumed) for await (const _ of body()) { /* skip unread data */ }
    if (type !== 'file' && dataSize > 0) {
      const skipped = await r.readExact(dataSize);
      if (skipped.length < dataSize) throw new LayerFormatError('truncated tar: the input ends inside entry data', name);
    }
    if (!(await skipPadding(r, dataSize, true))) return;
  }
}

/** Skip the zero padding after `size` data bytes. False when the input ended inside it. */
async function skipPadding(r: ByteReader, size: number, tolerateEnd: boolean): Promise<boolean> {
  const pad = (BLOCK - (size % BLOCK)) % BLOCK;
  if (pad === 0) return true;
  const got = await r.readExact(pad);
  if (got.length < pad) {
    if (tolerateEnd) return false; // unpadded last block: the data was complete
    throw new LayerFormatError('truncated tar: the input ends inside padding');
  }
  return true;
}

function typeOf(flag: string, block: Uint8Array): TarEntryType {
  switch (flag) {
    case '0': case '\0': case '7': return 'file';
    case '1': return 'link';
    case '2': return 'symlink';
    case '3': return 'chardev';
    case '4': return 'blockdev';
    case '5': return 'dir';
    case '6': return 'fifo';
    default:
      throw new LayerFormatError(`unsupported tar entry type ${JSON.stringify(flag)}`, cString(block, 0, 100));
  }
}

function isZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

function isUstar(b: Uint8Array): boolean {
  return b[257] === 0x75 && b[258] === 0x73 && b[259] === 0x74 && b[260] === 0x61 && b[261] === 0x72 && b[262] === 0;
}

function verifyChecksum(b: Uint8Array): void {
  const stored = readNumber(b, 148, 8, 'checksum');
  // The sum of the header's bytes, the checksum field counted as blanks, both as unsigned
  // and (old producers) as signed bytes: one branch-free pass, then the field taken back out.
  let unsigned = 0;
  let high = 0;
  for (let i = 0; i < BLOCK; i++) {
    const v = b[i]!;
    unsigned += v;
    high += v >> 7;
  }
  for (let i = 148; i < 156; i++) {
    unsigned -= b[i]!;
    high -= b[i]! >> 7;
  }
  unsigned += 8 * 0x20;
  const signed = unsigned - 256 * high;
  if (stored !== unsigned && stored !== signed) throw new LayerFormatError('corrupt tar: header checksum mismatch', cString(b, 0, 100));
}

function cString(b: Uint8Array, off: number, len: number): string {
  let end = off;
  while (end < off + len && end < b.length && b[end] !== 0) end++;
  return dec.decode(b.subarray(off, end));
}

/**
 * An octal field, or GNU base-256 when the high bit of the first byte is set: the field's
 * other bits, the first byte's included, are a two's-complement number. Negative values only
 * where `signed` (an mtime before 1970, as GNU tar and Python write it).
 */
function readNumber(b: Uint8Array, off: number, len: number, what: string, signed = false): number {
  if (b[off]! & 0x80) {
    let v = BigInt(b[off]! & 0x7f);
    for (let i = off + 1; i < off + len; i++) v = (v << 8n) | BigInt(b[i]!);
    if (b[off]! & 0x40) v -= 1n << BigInt(8 * len - 1);
    if ((v < 0n && !signed) || v > MAX_SAFE || v < -MAX_SAFE) throw new LayerFormatError(`tar ${what} out of range`);
    return Number(v);
  }
  // Read from the bytes, not a decoded string: six fields a header, thousands of headers.
  // The field ends at its first NUL; blanks around the digits are allowed.
  let end = off;
  while (end < off + len && b[end] !== 0) end++;
  let start = off;
  while (start < end && isBlank(b[start]!)) start++;
  while (end > start && isBlank(b[end - 1]!)) end--;
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = b[i]! - 0x30;
    if (d < 0 || d > 7) throw new LayerFormatError(`corrupt tar: ${what} field is not octal`);
    v = v * 8 + d;
  }
  if (!Number.isSafeInteger(v)) throw new LayerFormatError(`tar ${what} out of range`);
  return v;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** What String#trim removes, in ASCII: space, tab, newline, vertical tab, form feed, return. */
function isBlank(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/**
 * The PAX records that apply: an empty value deletes its keyword (POSIX), which leaves the
 * ustar field in force — except an xattr's, whose value may be empty.
 */
function inForce(records: Record<string, Uint8Array>): Record<string, Uint8Array> {
  for (const [k, v] of Object.entries(records)) if (v.length === 0 && !k.startsWith('SCHILY.xattr.')) delete records[k];
  return records;
}

/** PAX records: "<len> <key>=<value>\n", values kept as bytes (xattrs may be binary). */
function parsePax(data: Uint8Array): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  let pos = 0;
  while (pos < data.length) {
    let sp = pos;
    while (sp < data.length && data[sp] !== 0x20) sp++;
    const len = Number(dec.decode(data.subarray(pos, sp)));
    if (!Number.isInteger(len) || len <= 0 || pos + len > data.length) {
      if (data.subarray(pos).every((x) => x === 0)) break; // zero padding
      throw new LayerFormatError('corrupt tar: bad PAX record');
    }
    const rec = data.subarray(sp + 1, pos + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq < 0) throw new LayerFormatError('corrupt tar: bad PAX record');
    out[dec.decode(rec.subarray(0, eq))] = rec.slice(eq + 1);
    pos += len;
  }
  return out;
}

/**
 * A PAX size, uid or gid: decimal digits only. Number() would take "5.5", "1e3", "-5" or
 * "" and put a fraction, a negative or NaN into the layer's index (or make the reader lose
 * its place in the stream).
 */
function paxNumber(value: Uint8Array, key: string): number {
  const text = dec.decode(value);
  const n = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) throw new LayerFormatError(`corrupt tar: PAX ${key} ${JSON.stringify(text.slice(0, 40))} is not a whole number in range`);
  return n;
}

/** A PAX time "seconds[.fraction]" in nanoseconds. */
function parseTime(s: string): bigint {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(s);
  if (!m) throw new LayerFormatError(`corrupt tar: PAX time ${JSON.stringify(s)}`);
  const ns = BigInt(m[2]!) * 1_000_000_000n + BigInt((m[3] ?? '').padEnd(9, '0').slice(0, 9) || '0');
  return m[1] ? -ns : ns;
}
