import { Terminal } from '@xterm/xterm';
import { OverlayFs } from '@strata/overlay';
import { BrowserRuntime, type BrowserContainer } from '@strata/runtime/browser';
import { explore } from './explorer.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const term = new Terminal({ convertEol: true, rows: 12 });
term.open($('terminal'));

const rt = BrowserRuntime.open({
  dbName: 'strata-demo',
  workerUrl: new URL('../../../runtime/src/browser/container-worker.ts', import.meta.url),
  readerUrl: new URL('../../../runtime/src/browser/idb-reader-worker.ts', import.meta.url),
  hashWorkerUrl: new URL('../../../runtime/src/browser/hash-worker.ts', import.meta.url),
});
/** The container the explorer shows: the last one run, or the one picked in the list. */
let current: string | undefined;
let running: string | undefined;

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

async function render(): Promise<void> {
  $('info').textContent = JSON.stringify(await rt.info(), null, 2);
  const images = await rt.images.list();
  const select = $<HTMLSelectElement>('image');
  const picked = select.value;
  select.innerHTML = images.flatMap((i) => i.names).map((n) => `<option>${escape(n)}</option>`).join('');
  if (picked) select.value = picked;
  $('images').textContent = images.map((i) => `${i.names.join(', ') || '<none>'}  ${i.record.id.slice(7, 19)}  ${i.record.diffIds.length} layers`).join('\n');
  await renderContainers(await rt.list());
  await renderExplorer();
}

async function renderContainers(list: BrowserContainer[]): Promise<void> {
  $('containers').innerHTML = list.map((c) => `<tr data-id="${c.id}" class="${c.id === current ? 'selected' : ''}">
    <td>${escape(c.name)}</td><td>${escape(c.image.ref)}</td>
    <td>${c.status}${c.exitCode !== undefined && c.status === 'exited' ? ` (${c.exitCode})` : ''}</td>
    <td><button data-act="explore">explore</button> <button data-act="start">start</button> <button data-act="diff">diff</button>
    <button data-act="commit">commit</button> <button data-act="export">export</button> <button data-act="rm">rm</button></td></tr>`).join('');
}

async function renderExplorer(): Promise<void> {
  const box = $('explorer');
  const c = current ? await rt.containers.get(current) : undefined;
  if (!c) {
    box.textContent = 'run an image to get a container';
    $('container').textContent = '';
    return;
  }
  $('container').textContent = `container ${c.name}`;
  // Names and types only: no file contents to load.
  const view = explore(await rt.overlay(c.id));
  const col = (title: string, lines: string[], id: string) =>
    `<div><h2>${title}</h2><pre id="${id}">${lines.map((l) => `<span class="${l.startsWith('whiteout') ? 'wh' : l.startsWith('copied up') ? 'cu' : ''}">${escape(l)}</span>`).join('\n')}</pre></div>`;
  box.innerHTML = col('merged view', view.merged, 'merged') + col('upper (this container)', view.upper, 'upper') +
    view.lowers.slice().reverse().map((l, i) => col(`lower ${view.lowers.length - i} ${l.diffId.slice(7, 19)}`, l.paths, `lower${view.lowers.length - i}`)).join('');
}

/**
 * What the user types into the terminal, as the running program's stdin (`-i`): echoed
 * locally, Enter sends a line ending, Ctrl-D ends the input.
 */
let typing: ReadableStreamDefaultController<Uint8Array> | undefined;
term.onData((data) => {
  if (!typing) return;
  if (data === '\x04') {
    typing.close();
    typing = undefined;
    return;
  }
  const text = data.replace(/\r/g, '\n');
  term.write(text);
  typing.enqueue(new TextEncoder().encode(text));
});

function typedInput(): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({ start: (c) => void (typing = c) });
}

/** Run or restart a container with its output streamed into the terminal. */
async function startIn(id: string, stdin?: string | ReadableStream<Uint8Array>): Promise<void> {
  running = id;
  current = id;
  $<HTMLButtonElement>('kill').disabled = false;
  await render();
  const r = await rt.start(id, { ...(stdin ? { stdin } : {}), onOutput: (_s, bytes) => term.write(bytes) });
  typing?.close();
  typing = undefined;
  if (r.error && r.error !== 'killed') term.writeln(`strata: ${r.error}`);
  term.writeln(`[exit ${r.exitCode}]`);
  running = undefined;
  $<HTMLButtonElement>('kill').disabled = true;
  await render();
}

/** Change the container's files from the page, as a program in it would. */
async function change(fn: (fs: OverlayFs) => string): Promise<void> {
  if (!current) return;
  const fs = await rt.overlay(current, { withContent: true });
  term.writeln(fn(fs));
  await rt.containers.saveUpper(current, fs.saveUpper());
  await render();
}

async function guarded(what: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    term.writeln(`strata ${what}: ${(e as Error).message}`);
    await render();
  }
}

const ready = (async () => {
  if ((await rt.images.list()).length === 0) await rt.loadLayout('/hello-image');
  await render();
})();

$('run').onclick = () => guarded('run', async () => {
  await ready;
  const image = $<HTMLSelectElement>('image').value || 'strata-hello';
  const args = $<HTMLInputElement>('args').value.split(/\s+/).filter(Boolean);
  const stdin = $<HTMLInputElement>('stdin').value;
  const interactive = $<HTMLInputElement>('interactive').checked;
  const c = await rt.create(image, { args });
  term.writeln(`$ strata run ${stdin || interactive ? '-i ' : ''}${image} ${args.join(' ')}`);
  if (interactive) term.focus();
  await startIn(c.id, interactive ? typedInput() : stdin ? `${stdin}\n` : undefined);
});
$('kill').onclick = () => guarded('kill', async () => {
  if (running) await rt.kill(running);
});

$('containers').onclick = (e) => guarded('', async () => {
  const button = (e.target as HTMLElement).closest('button');
  const id = button?.closest('tr')?.dataset.id;
  if (!button || !id) return;
  const c = await rt.get(id);
  switch (button.dataset.act) {
    case 'explore':
      current = id;
      return render();
    case 'start':
      term.writeln(`$ strata start -a ${c.name}`);
      return startIn(id);
    case 'diff': {
      term.writeln(`$ strata diff ${c.name}`);
      for (const ch of await rt.diff(id)) term.writeln(`${ch.kind} ${ch.path}`);
      return;
    }
    case 'commit': {
      const ref = `${c.name}-snapshot:${Date.now().toString(36)}`;
      const img = await rt.commit(id, ref);
      term.writeln(`$ strata commit ${c.name} ${ref}\n${img.id}`);
      return render();
    }
    case 'export': {
      const blob = await rt.export(id);
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = `${c.name}.tar`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
      term.writeln(`$ strata export ${c.name} > ${a.download}  (${blob.size} bytes)`);
      return;
    }
    case 'rm':
      await rt.remove(id);
      if (current === id) current = undefined;
      return render();
  }
});

$('archive').onchange = () => guarded('load', async () => {
  const file = $<HTMLInputElement>('archive').files?.[0];
  if (!file) return;
  for (const img of await rt.loadArchive(file)) term.writeln(`Loaded image ID: ${img.id}`);
  await render();
});
$('pull').onclick = () => guarded('pull', async () => {
  const ref = $<HTMLInputElement>('pull-ref').value.trim();
  if (!ref) return;
  term.writeln(`$ strata pull ${ref}`);
  const img = await rt.pullImage(ref, {
    plainHttp: $<HTMLInputElement>('pull-http').checked,
    onEvent: (ev) => {
      if (ev.kind === 'resolved') term.writeln(`${ev.layers.length} layers`);
    },
  });
  term.writeln(`Digest: ${img.id}`);
  await render();
});

$('write').onclick = () => guarded('write', () => change((fs) => {
  const etc = fs.lookup(fs.root, 'etc');
  const h = fs.open(fs.lookup(etc, 'motd'), { read: true, write: true });
  h.append(new TextEncoder().encode('edited in the tab\n'));
  h.close();
  return '/etc/motd modified: copied up into the upper layer';
}));
$('delete').onclick = () => guarded('delete', () => change((fs) => {
  fs.unlinkAt(fs.lookup(fs.root, 'etc'), 'hostname');
  return '/etc/hostname deleted: a whiteout in the upper layer hides it';
}));
$('read').onclick = () => guarded('read', () => change((fs) => {
  const h = fs.open(fs.lookup(fs.lookup(fs.root, 'etc'), 'motd'), { read: true, write: false });
  const buf = new Uint8Array(h.stat().size);
  h.read(buf, 0);
  h.close();
  return `/etc/motd (reading copies nothing up):\n${new TextDecoder().decode(buf)}`;
}));

/**
 * Offline after the first load: the service worker caches what it serves, but the page's own
 * first requests went out before it was in control; hand it their URLs to cache as well.
 */
const offline = (async () => {
  if (!('serviceWorker' in navigator)) return;
  await navigator.serviceWorker.register('/sw.js', { type: 'module' });
  const reg = await navigator.serviceWorker.ready;
  const urls = [location.href, ...performance.getEntriesByType('resource').map((e) => e.name)]
    .filter((u) => new URL(u).origin === location.origin);
  await new Promise<void>((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    reg.active!.postMessage({ cache: urls }, [channel.port2]);
  });
})();

(window as unknown as { strataDemo: { ready: Promise<void>; offline: Promise<void> } }).strataDemo = { ready, offline };
