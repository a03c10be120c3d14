import { createStore, delMany, entries, get, set, type UseStore } from 'idb-keyval';
import { LocalGuard, type ImageMetaStore, type ImageState, type Lease, type StoreGuard } from '@strata/image';
import { guardQuota } from '@strata/store';

/**
 * The image list in IndexedDB: one record, replaced whole (a single put is atomic). Its
 * changes take turns across the tabs and workers of the origin under a Web Lock named after
 * the database (two tabs loading images at once each keep theirs).
 */
export class IdbImageMeta implements ImageMetaStore {
  private readonly store: UseStore;
  readonly guard: StoreGuard;

  constructor(dbName: string) {
    this.store = createStore(`${dbName}-images`, 'images');
    this.guard = new WebLockGuard(`strata:${dbName}:images`);
  }

  async load(): Promise<ImageState> {
    return (await get<ImageState>('state', this.store)) ?? { images: {}, tags: {} };
  }

  async save(state: ImageState): Promise<void> {
    await guardQuota(() => set('state', state, this.store));
  }
}

/**
 * LocalGuard over Web Locks, where the browser has them (they are the origin's, so every tab
 * and worker with the same database sees them): `exclusive` also holds the database's lock,
 * and a lease is a shared lock of its own name, held until released — a collection in one
 * tab defers while a pull in another holds one. Without Web Locks, the tab's own.
 */
class WebLockGuard extends LocalGuard {
  constructor(private readonly name: string) {
    super();
  }

  override exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const locks = webLocks();
    if (!locks) return super.exclusive(fn);
    return super.exclusive(() => locks.request(this.name, () => fn()) as Promise<T>);
  }

  override async lease(): Promise<Lease> {
    const locks = webLocks();
    if (!locks) return super.lease();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // Taken inside `exclusive`, as LocalGuard's: a collection running now finishes first.
    await this.exclusive(() => new Promise<void>((granted) => {
      void locks.request(`${this.name}:lease`, { mode: 'shared' }, () => {
        granted();
        return held;
      });
    }));
    let done = false;
    return {
      release: () => {
        if (done) return;
        done = true;
        release();
      },
    };
  }

  override async leases(): Promise<number> {
    const locks = webLocks();
    if (!locks) return super.leases();
    const { held = [] } = await locks.query();
    return held.filter((l) => l.name === `${this.name}:lease`).length;
  }
}

/** The origin's Web Locks, where the browser has them. */
export function webLocks(): LockManager | undefined {
  return typeof navigator !== 'undefined' ? navigator.locks : undefined;
}

export interface BrowserContainer {
  id: string;
  name: string;
  image: { ref: string; id: string; diffIds: string[] };
  argv: string[];
  env: string[];
  status: 'created' | 'running' | 'exited';
  exitCode?: number;
  created: string;
}

/**
 * Containers in IndexedDB: `container:<id>` → its record and `upper:<id>` → its saved upper
 * (OverlayFs.saveUpper), so a stopped container keeps its files across page reloads.
 */
export class IdbContainers {
  private readonly store: UseStore;

  constructor(dbName: string) {
    this.store = createStore(`${dbName}-containers`, 'containers');
  }

  async get(id: string): Promise<BrowserContainer | undefined> {
    return get<BrowserContainer>(`container:${id}`, this.store);
  }

  async put(c: BrowserContainer): Promise<void> {
    await guardQuota(() => set(`container:${c.id}`, c, this.store));
  }

  async list(): Promise<BrowserContainer[]> {
    const all = await entries<string, BrowserContainer>(this.store);
    return all.filter(([k]) => k.startsWith('container:')).map(([, c]) => c);
  }

  async remove(id: string): Promise<void> {
    await delMany([`container:${id}`, `upper:${id}`], this.store);
  }

  async upper(id: string): Promise<Uint8Array | undefined> {
    return get<Uint8Array>(`upper:${id}`, this.store);
  }

  async saveUpper(id: string, bytes: Uint8Array): Promise<void> {
    await guardQuota(() => set(`upper:${id}`, bytes, this.store));
  }
}
