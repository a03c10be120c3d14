/**
 * What keeps concurrent work on one image store from losing what another stored: async
 * operations interleave within a process (a pull awaits its downloads while an `rmi` runs),
 * and on disk several processes share a root (two `strata` commands, several services).
 *
 * Two rules, as containerd has them for its metadata and its garbage collector:
 *
 * - Changes to the image list and garbage collection run one at a time (`exclusive`): two
 *   loads finishing together each keep their image.
 * - Work that stores content before an image record names it — pull, load, commit — holds a
 *   lease from its first write to its record (`lease`). A collection that finds a lease held
 *   leaves everything in place: it cannot tell that work's fresh blobs and layers, or the
 *   stored ones it found and means to share, from garbage. A later collection takes them.
 *
 * Lifecycle: `exclusive(fn)` runs `fn` alone and releases on return or throw. `lease()`
 * waits out a running `exclusive` section (a collection) and returns a lease; `release` it
 * once the work is over, failed or not. A collection asks `leases()` inside `exclusive`.
 */
export interface StoreGuard {
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  lease(): Promise<Lease>;
  /** How many leases are held now, by this process and, where the guard sees them, others. */
  leases(): Promise<number>;
}

export interface Lease {
  release(): void;
}

/** The guard of a store only this process uses (memory; a browser tab's IndexedDB). */
export class LocalGuard implements StoreGuard {
  private tail: Promise<unknown> = Promise.resolve();
  private held = 0;

  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    // The next section waits for this one to settle, whatever its outcome.
    this.tail = run.then(() => undefined, () => undefined);
    return run;
  }

  async lease(): Promise<Lease> {
    await this.exclusive(async () => {
      this.held++;
    });
    let held = true;
    return {
      release: () => {
        if (held) this.held--;
        held = false;
      },
    };
  }

  async leases(): Promise<number> {
    return this.held;
  }
}
