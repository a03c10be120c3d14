import type { BrowserRuntime } from '@strata/runtime/browser';
import toolUrl from '../../e2e/guests/tool.wasm?url';
import { addImage } from '../src/test-image.js';

/** A file bigger than several IndexedDB chunks, with a pattern that shows any misplaced byte. */
export function bigFile(size = 1_100_000): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = 97 + ((i * 7 + (i >> 12)) % 26);
  return out;
}

/** The e2e tool image: /tool.wasm (read, write, cat, loop, exit), /big.bin (bigFile()), /data. */
export async function addToolImage(rt: BrowserRuntime, ref = 'strata-tool:latest'): Promise<void> {
  const tool = new Uint8Array(await (await fetch(toolUrl)).arrayBuffer());
  await addImage(rt, ref, ['/tool.wasm'], [
    { name: 'data/', mode: 0o755 },
    { name: 'big.bin', mode: 0o644, data: bigFile() },
    { name: 'tool.wasm', mode: 0o755, data: tool },
  ]);
}
