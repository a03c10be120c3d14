import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Runtime } from '@strata/runtime';

const pluginsDir = fileURLToPath(new URL('../plugins/', import.meta.url));
const baseImage = fileURLToPath(new URL('../../hello/image', import.meta.url));

export interface PluginResult {
  exitCode: number;
  output: string;
  /** What the plugin left in its work directory (result.txt), if anything. */
  result?: string;
  error?: string;
}

/**
 * A host for untrusted plugins: each call runs one plugin module as a container on a shared
 * base image, with the plugins directory mounted read-only, a fresh work directory mounted
 * read-write for input and results, a memory cap and a time limit. A plugin sees nothing of
 * the host but those two directories, and cannot outlive its time.
 */
export class PluginSandbox {
  private constructor(private readonly rt: Runtime, private readonly root: string) {}

  static async open(): Promise<PluginSandbox> {
    const root = mkdtempSync(join(tmpdir(), 'strata-plugins-'));
    const rt = await Runtime.open({ root });
    await rt.load(baseImage);
    return new PluginSandbox(rt, root);
  }

  async run(plugin: string, options: { stdin?: string; input?: string; timeoutSeconds?: number } = {}): Promise<PluginResult> {
    const work = mkdtempSync(join(tmpdir(), 'strata-plugin-work-'));
    try {
      if (options.input !== undefined) writeFileSync(join(work, 'input.txt'), options.input);
      const r = await this.rt.run('strata-hello', {
        entrypoint: `/plugins/${plugin}.wasm`,
        mounts: [
          { host: pluginsDir, guest: '/plugins', readOnly: true },
          { host: work, guest: '/io', readOnly: false },
        ],
        memory: 32 * 2 ** 20,
        timeoutSeconds: options.timeoutSeconds ?? 5,
        // A plugin that floods its output is stopped before it fills this process's memory.
        outputLimit: 1 * 2 ** 20,
        autoRemove: true,
        ...(options.stdin !== undefined ? { stdin: options.stdin } : {}),
      });
      let result: string | undefined;
      try {
        result = readFileSync(join(work, 'result.txt'), 'utf8');
      } catch {
        result = undefined;
      }
      return {
        exitCode: r.exitCode,
        output: new TextDecoder().decode(r.stdout),
        ...(result !== undefined ? { result } : {}),
        ...(r.error ? { error: r.error } : {}),
      };
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  close(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
