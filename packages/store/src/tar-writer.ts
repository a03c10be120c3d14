/**
 * Tar headers for the layers and exports Strata writes (ustar, with a PAX header where ustar
 * cannot say it), as blocks a caller streams out between the entries' data:
 *
 * ```ts
 * yield tarHeader(entry);           // one block, or a PAX header and its records first
 * yield* data; yield tarPadding(entry.size);
 * ...
 * yield TAR_END;
 * ```
 *
 * Written here rather than through tar-stream: PAX values must be bytes (an xattr such as
 * `security.capability` is binary; tar-stream writes values as UTF-8 text and mangles it),
 * and a header is a pure function that needs no stream, no back-pressure and no `events`
 * package in a browser.
 */

import { concatBytes } from './bytes.js';

export type TarWriteType = 'file' | 'link' | 'symlink' | 'chardev' | 'blockdev' | 'dir' | 'fifo';

export interface TarWriteEntry {
  /** The path in the archive; a directory's gets its trailing `/` here. */
  name: string;
  type: TarWriteType;
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: bigint;
  /** Data bytes that follow (regular files only). */
  size?: number;
  /** Hard-link or symlink target. */
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** SCHILY.xattr records, values as raw bytes. */
  xattrs?: Iterable<readonly [string, Uint8Array]>;
}

const BLOCK = 512;
const enc = new TextEncoder();
const TYPEFLAG: Record<TarWriteType, number> = { file: 0x30, link: 0x31, symlink: 0x32, chardev: 0x33, blockdev: 0x34, dir: 0x35, fifo: 0x36 };

/** The two zero blocks that end an archive. */
export const TAR_END = new Uint8Array(2 * BLOCK);

/** Zeros up to the next block boundary after `size` data bytes. */
export function tarPadding(size: number): Uint8Array {
  return new Uint8Array((BLOCK - (size % BLOCK)) % BLOCK);
}

/** The header block of `e`, preceded by a PAX header when ustar cannot hold all of it. */
export function tarHeader(e: TarWriteEntry): Uint8Array {
  const size = e.type === 'file' ? e.size ?? 0 : 0;
  const records: Uint8Array[] = [];
  const seconds = floorDiv(e.mtimeNs, 1_000_000_000n);
  const name = ustarName(e.name);
  if (!name) records.push(paxRecord('path', enc.encode(e.name)));
  const linkname = e.linkname ?? '';
  const linkFits = isAscii(linkname) && linkname.length <= 100;
  if (!linkFits) records.push(paxRecord('linkpath', enc.encode(linkname)));
  if (e.mtimeNs % 1_000_000_000n !== 0n || seconds < 0n || seconds > OCTAL_12) records.push(paxRecord('mtime', enc.encode(formatNs(e.mtimeNs))));
  if (size > OCTAL_12) records.push(paxRecord('size', enc.encode(String(size))));
  if (e.uid > OCTAL_8) records.push(paxRecord('uid', enc.encode(String(e.uid))));
  if (e.gid > OCTAL_8) records.push(paxRecord('gid', enc.encode(String(e.gid))));
  for (const [k, v] of e.xattrs ?? []) records.push(paxRecord(`SCHILY.xattr.${k}`, v));

  const block = new Uint8Array(BLOCK);
  // What does not fit is in the PAX records; the ustar fields then carry placeholders.
  if (name) {
    block.set(name.name, 0);
    block.set(name.prefix, 345);
  } else {
    block.set(enc.encode(placeholder(e.name)), 0);
  }
  octal(block, 100, 8, e.mode & 0o7777);
  octal(block, 108, 8, e.uid > OCTAL_8 ? 0 : e.uid);
  octal(block, 116, 8, e.gid > OCTAL_8 ? 0 : e.gid);
  octal(block, 124, 12, size > OCTAL_12 ? 0 : size);
  octal(block, 136, 12, seconds < 0n || seconds > OCTAL_12 ? 0 : Number(seconds));
  block[156] = TYPEFLAG[e.type];
  if (linkname) block.set(enc.encode(linkFits ? linkname : placeholder(linkname)), 157);
  block.set(enc.encode('ustar\u000000'), 257);
  if (e.type === 'chardev' || e.type === 'blockdev') {
    // No PAX record holds device numbers: past 7 octal digits, GNU base-256 (as Go writes).
    numeric(block, 329, 8, e.devmajor ?? 0);
    numeric(block, 337, 8, e.devminor ?? 0);
  }
  checksum(block);
  if (records.length === 0) return block;

  const body = concatBytes(records);
  const pax = new Uint8Array(BLOCK);
  pax.set(enc.encode(placeholder(`PaxHeaders/${baseName(e.name)}`)), 0);
  octal(pax, 100, 8, 0o644);
  octal(pax, 108, 8, 0);
  octal(pax, 116, 8, 0);
  octal(pax, 124, 12, body.length);
  octal(pax, 136, 12, 0);
  pax[156] = 0x78; // 'x'
  pax.set(enc.encode('ustar\u000000'), 257);
  checksum(pax);
  return concatBytes([pax, body, tarPadding(body.length), block]);
}

const OCTAL_8 = 0o7777777;
const OCTAL_12 = 0o77777777777;

/** The ustar name and prefix fields for `path`, or undefined when they cannot hold it. */
function ustarName(path: string): { name: Uint8Array; prefix: Uint8Array } | undefined {
  if (!isAscii(path)) return undefined;
  if (path.length <= 100) return { name: enc.encode(path), prefix: new Uint8Array(0) };
  // Split at a slash: prefix (up to 155) + '/' + name (up to 100), the directory part of a
  // trailing-slash name included in the name.
  const body = path.endsWith('/') ? path.slice(0, -1) : path;
  for (let i = body.lastIndexOf('/'); i > 0; i = body.lastIndexOf('/', i - 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (name.length > 100) return undefined;
    if (prefix.length <= 155) return { name: enc.encode(name), prefix: enc.encode(prefix) };
  }
  return undefined;
}

/** A stand-in for a field whose real value is in a PAX record: ASCII, cut to fit. */
function placeholder(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '_').slice(-99);
}

function baseName(path: string): string {
  const p = path.endsWith('/') ? path.slice(0, -1) : path;
  return p.slice(p.lastIndexOf('/') + 1);
}

function isAscii(s: string): boolean {
  return /^[\x01-\x7f]*$/.test(s);
}

/** Octal where it fits (`octal`), else GNU base-256: a marker bit, then big-endian bytes. */
function numeric(block: Uint8Array, off: number, width: number, value: number): void {
  if (value < 8 ** (width - 1)) return octal(block, off, width, value);
  let v = value;
  for (let i = off + width - 1; i > off; i--) {
    block[i] = v % 256;
    v = Math.floor(v / 256);
  }
  block[off] = 0x80;
}

/** `width - 1` octal digits and a NUL, as GNU tar and Go write them. */
function octal(block: Uint8Array, off: number, width: number, value: number): void {
  block.set(enc.encode(`${value.toString(8).padStart(width - 1, '0')}\0`), off);
}

function checksum(block: Uint8Array): void {
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += block[i]!;
  block.set(enc.encode(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
}

/** One PAX record, "<length> <key>=<value>\n", its length counting its own digits. */
function paxRecord(key: string, value: Uint8Array): Uint8Array {
  const rest = enc.encode(` ${key}=`).length + value.length + 1;
  let len = rest + String(rest).length;
  if (String(len).length !== String(rest).length) len = rest + String(len).length;
  const head = enc.encode(`${len} ${key}=`);
  const out = new Uint8Array(len);
  out.set(head, 0);
  out.set(value, head.length);
  out[len - 1] = 0x0a;
  return out;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && (a < 0n) !== (b < 0n) ? q - 1n : q;
}

/** Nanoseconds as PAX time, "seconds.fraction". */
function formatNs(ns: bigint): string {
  const neg = ns < 0n;
  const abs = neg ? -ns : ns;
  const frac = (abs % 1_000_000_000n).toString().padStart(9, '0');
  return `${neg ? '-' : ''}${abs / 1_000_000_000n}.${frac}`;
}

