// Offline after the first load: every same-origin GET is answered from the cache when the
// network is gone, and cached when it succeeds (the page, the code, the image layout). The
// page posts the URLs it loaded before this worker took control ({cache: [...]}); they are
// fetched and cached too, and the port is answered when that is done.
const CACHE = 'strata-demo-v1';
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));
self.addEventListener('message', (e) => {
  const urls = e.data?.cache;
  if (!Array.isArray(urls)) return;
  e.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await Promise.all(urls.map(async (u) => {
      if (await cache.match(u)) return;
      try {
        const res = await fetch(u);
        if (res.ok) await cache.put(u, res);
      } catch {
        // gone already; the next online load caches it
      }
    }));
    e.ports[0]?.postMessage('cached');
  })());
});
self.addEventListener('fetch', (e) => {
  const req = e.request;
  if (req.method !== 'GET' || new URL(req.url).origin !== self.location.origin) return;
  e.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const res = await fetch(req);
      if (res.ok) await cache.put(req, res.clone());
      return res;
    } catch (err) {
      const hit = await cache.match(req, { ignoreVary: true });
      if (hit) return hit;
      throw err;
    }
  })());
});
