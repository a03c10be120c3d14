import { runHello } from './run-hello.js';

// A Web Worker: the place containers run in a browser tab.
self.onmessage = async (e: MessageEvent<Uint8Array>) => {
  try {
    self.postMessage(await runHello(e.data));
  } catch (err) {
    self.postMessage({ error: String(err) });
  }
};
