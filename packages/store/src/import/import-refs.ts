import type { ContentStore } from '../content-store.js';
import type { Digest } from '../types.js';

/** One blob's imports in flight, in a store without batches. */
interface Ref {
  /** Imports in flight that refer to the blob (stored it, or found it stored). */
  count: number;
  /** Added by an import that failed. */
  orphan: boolean;
  /** Referred to by an import that succeeded: its layer needs it. */
  kept: boolean;
  /** Its deletion, under way: an import that wants the blob waits, then stores it again. */
  deleting?: Promise<void>;
}

const stores = new WeakMap<ContentStore, Map<Digest, Ref>>();

/**
 * The blobs one layer import refers to, among those of every import in flight into the same
 * store object. A failed import deletes the blobs it added — but another import in flight
 * may have found one of them stored and pointed its layer at it (a pull imports three layers
 * at once, and layers share files). Such a blob is left to the last import referring to it:
 * kept if that one succeeds, deleted if it fails too. Stores with batches (disk) need none of
 * this: a batch's blobs are its own until its flush.
 *
 * Lifecycle: `refer` each blob before looking it up or committing it (awaiting what it
 * returns), then `finish` once, with whether the import succeeded and what it added.
 */
export class ImportRefs {
  private readonly refs: Map<Digest, Ref>;
  private readonly mine = new Set<Digest>();

  constructor(private readonly content: ContentStore) {
    let refs = stores.get(content);
    if (!refs) stores.set(content, (refs = new Map()));
    this.refs = refs;
  }

  /**
   * Count this import among the blob's: before the store is asked whether it holds the blob,
   * so a failed import's cleanup cannot delete it between the answer and its use. A promise
   * when the blob is being deleted: after it, the blob is not there.
   */
  refer(digest: Digest): Promise<void> | undefined {
    if (this.mine.has(digest)) return undefined;
    const r = this.refs.get(digest);
    if (r?.deleting) return r.deleting.then(() => this.refer(digest));
    this.mine.add(digest);
    if (r) r.count++;
    else this.refs.set(digest, { count: 1, orphan: false, kept: false });
    return undefined;
  }

  /** The import is over: drop its references, deleting what it added that no one else keeps. */
  async finish(ok: boolean, added: ReadonlySet<Digest>): Promise<void> {
    const deletions: Promise<void>[] = [];
    for (const digest of this.mine) {
      const r = this.refs.get(digest)!;
      r.count--;
      if (ok) r.kept = true;
      else if (added.has(digest)) r.orphan = true;
      if (r.count > 0) continue;
      // Deleted when a failed import added it and none that succeeded needs it.
      if (!r.orphan || r.kept) {
        this.refs.delete(digest);
        continue;
      }
      r.deleting = this.content.delete(digest).catch(() => {}).finally(() => {
        if (this.refs.get(digest) === r) this.refs.delete(digest);
      });
      deletions.push(r.deleting);
    }
    this.mine.clear();
    await Promise.all(deletions);
  }
}
