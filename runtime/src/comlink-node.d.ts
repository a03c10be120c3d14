// comlink ships the Node adapter as an ES module without a `.d.mts`; this maps its types.
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink';
  import type { NodeEndpoint } from 'comlink/dist/esm/node-adapter.js';
  export default function nodeEndpoint(nep: NodeEndpoint): Endpoint;
}
