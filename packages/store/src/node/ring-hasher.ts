import type { Hash } from 'node:crypto';

/** A file's incremental hash, as `ringHasher` is given it. */
export interface FileHash {
  update(chunk: Uint8Array): void;
  /** `<algorithm>:<hex>`. */
  digest(): string;
}

/** A message from a session to whoever hashes its ring (see `ringHasher`). */
export type RingMessage =
  | { id: number; open: SharedArrayBuffer; diffId: boolean; files: 'sha256' | 'blake3' }
  | { id: number; close: true }
  | { id: number; start: number; end: number; files: [fid: number, start: number, size: number][]; finish: boolean };

/** The answer to a RingMessage that carries bytes. */
export interface RingReply {
  id: number;
  /** The stream position below which the session may overwrite its ring. */
  released: number;
  /** Files finished with this message: [fid, digest]. */
  files: [number, string][];
  /** The answer to the last message: every named file is settled. */
  finished?: true;
  diffId?: string;
}

/**
 * The hashing of session rings: per session a ring (a SharedArrayBuffer the importing thread
 * copies the tar stream into) and, for each message, the new bytes hashed into the diffID
 * (unless the stream's digest is known already) and into the named files as far as their
 * bytes have arrived. The reply names the files it finished and `released`: the start of the
 * last chunk the message covers, as no file named later can start before it (the session's
 * ordering rule).
 *
 * It runs in the hashing worker, and on the importing thread when that worker could not
 * start. The worker gets it as source (`String(ringHasher)`), so it must stay one
 * self-contained function: no imports, no outer names, its hashes passed in — node:crypto's
 * for the diffID, `fileHash` for the files (`<algorithm>:<hex>` digests; the session's
 * algorithm and the file's size, which nodeFileHasher's rule for small files needs).
 */
export function ringHasher(
  createHash: (algorithm: 'sha256') => Hash,
  fileHash: (algorithm: 'sha256' | 'blake3', size: number) => FileHash,
): { handle(m: RingMessage): RingReply | undefined } {
  interface Task { fid: number; pos: number; end: number; h: FileHash }
  interface Session { ring: Uint8Array; end: number; diff: Hash | null; files: 'sha256' | 'blake3'; tasks: Task[] }
  const sessions = new Map<number, Session>();
  const update = (s: Session, h: Hash | FileHash, from: number, to: number): void => {
    while (from < to) {
      const off = from % s.ring.length;
      const n = Math.min(to - from, s.ring.length - off);
      h.update(s.ring.subarray(off, off + n));
      from += n;
    }
  };
  return {
    handle(m) {
      if ('open' in m) {
        sessions.set(m.id, { ring: new Uint8Array(m.open), end: 0, diff: m.diffId ? createHash('sha256') : null, files: m.files, tasks: [] });
        return undefined;
      }
      const s = sessions.get(m.id);
      if (!s) return undefined;
      if ('close' in m) {
        sessions.delete(m.id);
        return undefined;
      }
      for (const [fid, start, size] of m.files) s.tasks.push({ fid, pos: start, end: start + size, h: fileHash(s.files, size) });
      if (s.diff) update(s, s.diff, s.end, m.end);
      s.end = m.end;
      const files: [number, string][] = [];
      let keep = 0;
      for (const t of s.tasks) {
        const to = Math.min(t.end, s.end);
        if (to > t.pos) {
          update(s, t.h, t.pos, to);
          t.pos = to;
        }
        if (t.pos === t.end) files.push([t.fid, t.h.digest()]);
        else s.tasks[keep++] = t;
      }
      s.tasks.length = keep;
      // Every byte up to m.end is hashed, into the diffID and into each named file it
      // belongs to; only files not named yet may still need bytes from the last chunk on.
      const reply: RingReply = { id: m.id, released: m.start, files };
      if (m.finish) {
        reply.finished = true;
        if (s.diff) reply.diffId = s.diff.digest('hex');
        sessions.delete(m.id);
      }
      return reply;
    },
  };
}
