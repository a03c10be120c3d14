import type { ModuleCacheApi } from './worker/protocol.js';

/**
 * Compiled WebAssembly modules by key (the module's sha256 and its memory cap), kept by the
 * process that hosts the workers. A WebAssembly.Module posted to another worker of the same
 * process shares its compiled code, so a second start of the same image compiles nothing.
 *
 * What it does not do: survive the process. Node 20 cannot serialise a compiled module to
 * disk (V8's wasm serializer needs fully tiered-up code and is not exposed), so each new
 * `strata` CLI process compiles again — with V8's Liftoff baseline compiler, which is fast
 * and lazy. Long-lived hosts (the library API, plugin sandboxes) get the full benefit.
 */
export class ModuleCache implements ModuleCacheApi {
  private readonly modules = new Map<string, WebAssembly.Module>();
  hits = 0;
  misses = 0;

  constructor(private readonly limit = 64) {}

  get(key: string): WebAssembly.Module | undefined {
    const m = this.modules.get(key);
    if (m) {
      this.hits++;
      // Refresh its place for LRU eviction.
      this.modules.delete(key);
      this.modules.set(key, m);
    } else {
      this.misses++;
    }
    return m;
  }

  put(key: string, module: WebAssembly.Module): void {
    this.modules.set(key, module);
    while (this.modules.size > this.limit) this.modules.delete(this.modules.keys().next().value!);
  }
}
