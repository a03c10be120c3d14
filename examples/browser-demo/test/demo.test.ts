/**
 * The demo page, driven by clicks in Debian's Chromium (playwright-core, never a downloaded
 * browser): run the image, watch the Layer Stack Explorer show a copy-up after a write and a
 * whiteout after a delete, read the info panel and the container's diff; then cut the
 * network, reload, and start the same container again: the page comes from the service
 * worker's cache and the container's files from IndexedDB. A screenshot is kept in
 * test/artifacts/. Then an image archive picked in the file input, run with `-i`, and text
 * typed into the terminal as the program's stdin.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildToolImage } from '../../../test/e2e/src/cli.js';

const here = fileURLToPath(new URL('..', import.meta.url));
let server: ViteDevServer;
let browser: Browser;
let url: string;

beforeAll(async () => {
  server = await createServer({ configFile: `${here}/vite.config.ts`, server: { port: 0, host: '127.0.0.1' }, logLevel: 'error' });
  await server.listen();
  url = server.resolvedUrls!.local[0]!;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('browser demo page', () => {
  it('runs the image and shows copy-up and whiteouts in the Layer Stack Explorer', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForFunction(() => (window as unknown as { strataDemo?: unknown }).strataDemo !== undefined);
    await page.evaluate(() => (window as unknown as { strataDemo: { ready: Promise<void> } }).strataDemo.ready);
    await page.fill('#args', 'clicks');
    await page.click('#run');
    await page.waitForFunction(() => document.querySelector('.xterm-rows')?.textContent?.includes('[exit 0]'), undefined, { timeout: 30_000 });
    expect(await page.locator('.xterm-rows').innerText()).toContain('argv: [/hello.wasm] [clicks]');
    await expect.poll(() => page.locator('#upper').innerText()).toContain('new /data/hello.txt');

    await page.click('#write');
    await expect.poll(() => page.locator('#upper').innerText()).toContain('copied up /etc/motd');
    await page.click('#delete');
    await expect.poll(() => page.locator('#upper').innerText()).toContain('whiteout /etc/hostname');
    expect(await page.locator('#merged').innerText()).not.toContain('/etc/hostname');
    expect(await page.locator('#lower1').innerText()).toContain('/etc/hostname');

    const info = JSON.parse(await page.locator('#info').innerText()) as { Driver: string; BackingStore: string; BridgesAvailable: { sharedArrayBuffer: boolean } };
    expect(info).toMatchObject({ Driver: 'overlay', BackingStore: 'indexeddb' });
    expect(info.BridgesAvailable.sharedArrayBuffer).toBe(true);
    mkdirSync(`${here}/test/artifacts`, { recursive: true });
    await page.screenshot({ path: `${here}/test/artifacts/demo.png`, fullPage: true });
    const term = () => page.locator('.xterm-rows').innerText();
    await page.click('#containers button[data-act="diff"]');
    await expect.poll(term).toContain('A /data/hello.txt');
    expect(await term()).toContain('D /etc/hostname');
    expect(errors).toEqual([]);

    // Offline, reloaded: the page, its workers and the image come from the cache; the
    // container and its upper (the write, the whiteout, hello.txt) from IndexedDB.
    await page.evaluate(() => (window as unknown as { strataDemo: { offline: Promise<void> } }).strataDemo.offline);
    await context.setOffline(true);
    await page.reload();
    await page.waitForFunction(() => (window as unknown as { strataDemo?: unknown }).strataDemo !== undefined);
    await page.evaluate(() => (window as unknown as { strataDemo: { ready: Promise<void> } }).strataDemo.ready);
    expect(await page.locator('#containers tr').count()).toBe(1);
    await page.click('#containers button[data-act="explore"]');
    await expect.poll(() => page.locator('#upper').innerText()).toContain('whiteout /etc/hostname');
    await page.click('#containers button[data-act="start"]');
    await page.waitForFunction(() => document.querySelector('.xterm-rows')?.textContent?.includes('[exit 0]'), undefined, { timeout: 30_000 });
    const out = await page.locator('.xterm-rows').innerText();
    expect(out).toContain('edited in the tab');
    await page.click('#containers button[data-act="export"]');
    await expect.poll(term).toMatch(/strata export \S+ > \S+\.tar {2}\(\d+ bytes\)/);
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);

  it('loads an archive from the file input and feeds what is typed to a program run with -i', async () => {
    const archive = toolArchive();
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(url);
      await page.waitForFunction(() => (window as unknown as { strataDemo?: unknown }).strataDemo !== undefined);
      await page.evaluate(() => (window as unknown as { strataDemo: { ready: Promise<void> } }).strataDemo.ready);
      await page.setInputFiles('#archive', archive.file);
      await expect.poll(() => page.locator('#images').innerText()).toContain('tool');
      const name = (await page.locator('#image option').allInnerTexts()).find((n) => n.includes('tool'))!;
      await page.selectOption('#image', name);
      await page.fill('#args', 'cat');
      await page.check('#interactive');
      await page.click('#run');
      const term = () => page.locator('.xterm-rows').innerText();
      await expect.poll(term).toContain('$ strata run -i');
      // The demo focuses the terminal for -i; the keys go to xterm, Ctrl-D ends the input.
      await page.keyboard.type('typed into the tab');
      await page.keyboard.press('Enter');
      await page.keyboard.press('Control+D');
      await page.waitForFunction(() => document.querySelector('.xterm-rows')?.textContent?.includes('[exit 0]'), undefined, { timeout: 30_000 });
      // Once as the terminal's echo, once as what `cat` wrote back.
      expect((await term()).split('typed into the tab').length - 1).toBe(2);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      archive.remove();
    }
  }, 120_000);
});

/** The e2e tool image (umoci) as an OCI archive (skopeo): Entrypoint /bin/tool.wasm. */
function toolArchive(): { file: string; remove: () => void } {
  const layout = buildToolImage();
  const file = join(layout, '..', 'tool.tar');
  execFileSync('skopeo', ['copy', '--quiet', `oci:${layout}:1`, `oci-archive:${file}:demo/tool:1`], { stdio: 'pipe' });
  return { file, remove: () => rmSync(join(layout, '..'), { recursive: true, force: true }) };
}
