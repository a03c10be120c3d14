// The token issuer's HTTP server, in a worker thread of the test process: the tests call
// `strata` and skopeo synchronously, which blocks the main thread's event loop, so the
// server must live elsewhere. See token-issuer.ts.
import { createPrivateKey, randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

const { keyFile, certFile, user, password, service, issuer, counters } = workerData;
/** [granted, anonymous, refused] */
const issued = new Int32Array(counters);
const key = createPrivateKey(readFileSync(keyFile));
const certDer = readFileSync(certFile, 'utf8').replace(/-----[^-]+-----|\s/g, '');
const b64url = (b) => Buffer.from(b).toString('base64url');

function token(access) {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5c: [certDer] }));
  const claims = b64url(JSON.stringify({ iss: issuer, sub: 'strata-test', aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access }));
  return `${header}.${claims}.${b64url(sign('sha256', Buffer.from(`${header}.${claims}`), key))}`;
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const auth = req.headers.authorization;
  let granted = false;
  if (auth) {
    const [u, p] = Buffer.from(auth.replace(/^Basic /, ''), 'base64').toString().split(':');
    if (u !== user || p !== password) {
      Atomics.add(issued, 2, 1);
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}');
      return;
    }
    granted = true;
  }
  // Anonymous callers get a token with no access: the registry then refuses them.
  const access = granted
    ? url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean).map((s) => {
      const [type, ...rest] = s.split(':');
      const actions = rest.pop().split(',');
      return { type, name: rest.join(':'), actions };
    })
    : [];
  Atomics.add(issued, granted ? 0 : 1, 1);
  const t = token(access);
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: t, access_token: t, expires_in: 300 }));
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (m) => {
  if (m === 'stop') server.close(() => process.exit(0));
});
