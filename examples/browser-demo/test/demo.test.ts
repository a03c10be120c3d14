/**
 * The demo page, driven by clicks in Debian's Chromium (playwright-core, never a downloaded
 * browser): run the image, watch the Layer Stack Explorer show a copy-up after a write and a
 * whiteout after a delete, read the info panel; a screenshot is kept in test/artifacts/.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

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
    const page = await browser.newPage();
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
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
