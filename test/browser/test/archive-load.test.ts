/**
 * Loading an image archive the user picked, in Chromium: an OCI archive and a `docker save`
 * tar (both written by skopeo), streamed from a File into IndexedDB, then run. A corrupted
 * archive is refused and leaves no image.
 */
import { describe, expect, it } from 'vitest';
import { BrowserRuntime } from '@strata/runtime/browser';
import dockerUrl from '../.generated/hello-docker.tar?url';
import ociUrl from '../.generated/hello-oci.tar?url';
import { hashWorkerUrl, readerUrl, workerUrl } from './runtime-lifecycle.js';

async function picked(url: string, name: string): Promise<File> {
  return new File([await (await fetch(url)).blob()], name);
}

describe('image archives picked in a page', () => {
  for (const [kind, url] of [['an OCI archive', ociUrl], ['a docker save tar', dockerUrl]] as const) {
    it(`loads ${kind} and runs it`, async () => {
      const rt = BrowserRuntime.open({ dbName: `strata-archive-${Date.now()}-${kind.length}`, workerUrl, readerUrl, hashWorkerUrl });
      const loaded = await rt.loadArchive(await picked(url, 'hello.tar'));
      expect(loaded.length).toBe(1);
      expect(loaded[0]!.diffIds.length).toBe(2);
      const r = await rt.run('strata/hello-archive:1', { args: ['archive'] });
      expect(r.error).toBeUndefined();
      expect(r.stdout).toContain('argv: [/hello.wasm] [archive]');
    });
  }

  it('refuses an archive with a corrupted blob, and keeps no image', async () => {
    const rt = BrowserRuntime.open({ dbName: `strata-archive-bad-${Date.now()}`, workerUrl, readerUrl, hashWorkerUrl });
    const bytes = new Uint8Array(await (await picked(ociUrl, 'x')).arrayBuffer());
    // Flip a byte inside the largest blob's data (past its 512-byte tar header).
    const at = Math.floor(bytes.length / 2);
    bytes[at] = bytes[at]! ^ 0xff;
    await expect(rt.loadArchive(new File([bytes], 'corrupt.tar'))).rejects.toThrow(/digest|mismatch|tar|checksum/i);
    expect(await rt.images.list()).toEqual([]);
  });
});
