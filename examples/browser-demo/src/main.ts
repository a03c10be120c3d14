import { Terminal } from '@xterm/xterm';
import { OverlayFs } from '@strata/overlay';
import { BrowserRuntime } from '@strata/runtime/browser';
import type { Digest } from '@strata/store';
import { explore } from './explorer.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const term = new Terminal({ convertEol: true, rows: 12 });
term.open($('terminal'));

const rt = BrowserRuntime.open({
  dbName: 'strata-demo',
  workerUrl: new URL('../../../runtime/src/browser/container-worker.ts', import.meta.url),
  readerUrl: new URL('../../../runtime/src/browser/idb-reader-worker.ts', import.meta.url),
});
let current: string | undefined;

async function render(): Promise<void> {
  $('info').textContent = JSON.stringify(await rt.info(), null, 2);
  const box = $('explorer');
  if (!current) {
    box.textContent = 'run the image to get a container';
    return;
  }
  const c = (await rt.containers.get(current))!;
  $('container').textContent = `container ${c.name}`;
  const lowers = await Promise.all(c.image.diffIds.map((d) => rt.layers.get(d as Digest)));
  for (const l of lowers) for (const e of l.entries.values()) if (e.content) await rt.content.preload(e.content.digest);
  const view = explore(lowers, rt.content, await rt.containers.upper(current));
  const col = (title: string, lines: string[], id: string) =>
    `<div><h2>${title}</h2><pre id="${id}">${lines.map((l) => `<span class="${l.startsWith('whiteout') ? 'wh' : l.startsWith('copied up') ? 'cu' : ''}">${l}</span>`).join('\n')}</pre></div>`;
  box.innerHTML = col('merged view', view.merged, 'merged') + col('upper (this container)', view.upper, 'upper') +
    view.lowers.slice().reverse().map((l, i) => col(`lower ${view.lowers.length - i} ${l.diffId.slice(7, 19)}`, l.paths, `lower${view.lowers.length - i}`)).join('');
}

/** Change the container's files from the page, as a program in it would. */
async function change(fn: (fs: OverlayFs) => string): Promise<void> {
  if (!current) return;
  const c = (await rt.containers.get(current))!;
  const lowers = await Promise.all(c.image.diffIds.map((d) => rt.layers.get(d as Digest)));
  const upper = await rt.containers.upper(current);
  const fs = upper ? OverlayFs.restore({ lowers, content: rt.content }, upper) : new OverlayFs({ lowers, content: rt.content });
  term.writeln(fn(fs));
  await rt.containers.saveUpper(current, fs.saveUpper());
  await render();
}

const ready = (async () => {
  if ((await rt.images.list()).length === 0) await rt.loadLayout('/hello-image');
  await render();
})();

$('run').onclick = async () => {
  await ready;
  const args = ($('args') as HTMLInputElement).value.split(/\s+/).filter(Boolean);
  const c = await rt.create('strata-hello', { args });
  term.writeln(`$ strata run strata-hello ${args.join(' ')}`);
  const r = await rt.start(c.id);
  term.write(r.stdout + r.stderr);
  term.writeln(`[exit ${r.exitCode}]`);
  current = c.id;
  await render();
};

$('write').onclick = () => change((fs) => {
  const etc = fs.lookup(fs.root, 'etc');
  const h = fs.open(fs.lookup(etc, 'motd'), { read: true, write: true });
  h.append(new TextEncoder().encode('edited in the tab\n'));
  h.close();
  return '/etc/motd modified: copied up into the upper layer';
});
$('delete').onclick = () => change((fs) => {
  fs.unlinkAt(fs.lookup(fs.root, 'etc'), 'hostname');
  return '/etc/hostname deleted: a whiteout in the upper layer hides it';
});
$('read').onclick = () => change((fs) => {
  const h = fs.open(fs.lookup(fs.lookup(fs.root, 'etc'), 'motd'), { read: true, write: false });
  const buf = new Uint8Array(h.stat().size);
  h.read(buf, 0);
  h.close();
  return `/etc/motd (reading copies nothing up):\n${new TextDecoder().decode(buf)}`;
});

(window as unknown as { strataDemo: { ready: Promise<void> } }).strataDemo = { ready };

if ('serviceWorker' in navigator) void navigator.serviceWorker.register('/sw.js', { type: 'module' });
