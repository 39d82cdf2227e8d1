// The service worker: keeps the walk's files and the inspections taken offline, so every section of a downloaded
// inspection opens without signal. Served at /sw.js (root scope) by audit/offline/views.py, which puts
// `self.TRYGGAHUS = {version, assets}` in front of this file. Written by hand: see the README on why not Workbox.
//
// - Static files: from the cache made at install (one per version), else the network.
// - Pages and photo thumbnails of a downloaded inspection: the network first (and the copy kept up to date), the
//   kept copy when there is no answer. The page "On this device" likewise, kept with the first download.
//   The deviation report form likewise, kept when a logged-in user opens it (its categories and the user's areas,
//   buildings and places are in the page), so a report can be made without signal (deviations.js).
//   Pages of other inspections and everything else are not touched.
// - Kept pages carry no CSRF token: the page asks for a fresh one before it sends anything (outbox.js).
// - Answers and photos are not sent from here: the page's outbox sends them (there is no Background Sync in every
//   browser, nor under the test driver), and API requests pass straight through.
"use strict";

const SETTINGS = self.TRYGGAHUS;
const STATIC_CACHE = "tryggahus-static-" + SETTINGS.version;
// One cache per inspection taken offline; the page's logout clears every cache with this prefix.
const INSPECTION_PREFIX = "tryggahus-inspection-";
// What a kept inspection is (who downloaded it, when, how large), stored beside its pages.
const META = "/offline/__held__";
// Other pages kept for use without signal: "On this device" (the page's logout clears this cache too).
const PAGES = "tryggahus-pages";
const DEVICE = "/offline/device";
const REPORT_FORM = "/deviations/new";
// The pages kept in PAGES, network first.
const KEPT_PAGES = new Set([DEVICE, REPORT_FORM]);
const NETWORK_WAIT_MS = 6000;
const PAGE = /^\/inspections\/(\d+)(?:\/sections\/[A-Za-z0-9_-]+)?\/?$/;
const THUMB = /^\/inspections\/(\d+)\/photos\/\d+\/thumb$/;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(STATIC_CACHE).then((cache) => cache.addAll(SETTINGS.assets)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("tryggahus-static-") && name !== STATIC_CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(cacheFirst(request));
    return;
  }
  const page = PAGE.exec(url.pathname) || THUMB.exec(url.pathname);
  if (page) event.respondWith(kept(event, request, page[1], THUMB.test(url.pathname)));
  else if (KEPT_PAGES.has(url.pathname)) event.respondWith(keptPage(event, request));
});

async function cacheFirst(request) {
  const cached = await caches.match(request, { cacheName: STATIC_CACHE, ignoreSearch: true });
  return cached || fetch(request);
}

// A page or thumbnail of an inspection: the network first while it answers (keeping a held inspection's copy
// fresh), the kept copy when it does not. Thumbnails never change, so a kept one is used at once.
async function kept(event, request, inspection, immutable) {
  const name = INSPECTION_PREFIX + inspection;
  const held = await caches.has(name);
  if (!held) return fetch(request);
  return fresh(event, request, await caches.open(name), immutable);
}

function keptPage(event, request) {
  return caches.open(PAGES).then((cache) => fresh(event, request, cache, false));
}

// The network first while it answers (keeping the copy in `cache` fresh), the kept copy when it does not.
async function fresh(event, request, cache, immutable) {
  const copy = await cache.match(request.url, { ignoreVary: true, ignoreSearch: true });
  if (copy && immutable) return copy;
  try {
    const response = await withTimeout(fetch(request), NETWORK_WAIT_MS);
    if (response.ok && response.type === "basic" && !response.redirected) {
      event.waitUntil(keep(cache, request.url, response.clone(), immutable));
    }
    return response;
  } catch (error) {
    if (copy) return copy;
    throw error;
  }
}

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then((value) => { clearTimeout(timer); resolve(value); }, (error) => { clearTimeout(timer); reject(error); });
  });
}

// The page's CSRF tokens are left out: a kept copy can outlive the login that the token belongs to.
function withoutTokens(html) {
  return html
    .replace(/(<meta name="csrf-token" content=")[^"]*(")/g, "$1$2")
    .replace(/(<input[^>]*name="csrf_token"[^>]*value=")[^"]*(")/g, "$1$2");
}

// Stores the response; returns its size in bytes.
async function keep(cache, url, response, binary) {
  const headers = new Headers(response.headers);
  headers.delete("Content-Length");
  headers.delete("Set-Cookie");
  if (binary) {
    const blob = await response.blob();
    await cache.put(url, new Response(blob, { status: 200, headers }));
    return blob.size;
  }
  const html = withoutTokens(await response.text());
  await cache.put(url, new Response(html, { status: 200, headers }));
  return new Blob([html]).size;
}

function thumbnails(html, base) {
  const found = new Set();
  for (const match of html.matchAll(/<img src="([^"]+\/thumb)"/g)) {
    const url = new URL(match[1], base);
    if (url.origin === self.location.origin && THUMB.test(url.pathname)) found.add(url.href);
  }
  return [...found];
}

async function fetchOk(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
  if (!response.ok || response.redirected) throw new Error(new URL(url).pathname + ": HTTP " + response.status);
  return response;
}

// Takes an inspection offline: its pages (those the page names, all of the same inspection), their photo
// thumbnails and the static files. A failure leaves no half-held inspection.
async function download(inspection, user, urls, title) {
  const name = INSPECTION_PREFIX + inspection;
  const fresh = await caches.open(name + "-new");
  let bytes = 0;
  let pages = 0;
  try {
    const assets = await caches.open(STATIC_CACHE);
    await assets.addAll(SETTINGS.assets);
    for (const url of urls) {
      const address = new URL(url, self.location.origin);
      const match = PAGE.exec(address.pathname);
      if (address.origin !== self.location.origin || !match || match[1] !== String(inspection)) continue;
      const response = await fetchOk(address.href);
      const html = await response.clone().text();
      bytes += await keep(fresh, address.href, response, false);
      pages += 1;
      for (const thumb of thumbnails(html, address.href)) {
        if (!(await fresh.match(thumb))) bytes += await keep(fresh, thumb, await fetchOk(thumb), true);
      }
    }
    const meta = { inspection: Number(inspection), user: String(user), title: String(title || ""), pages, bytes, at: new Date().toISOString() };
    // The page listing what the device holds opens without signal too.
    const device = new URL(DEVICE, self.location.origin).href;
    await keep(await caches.open(PAGES), device, await fetchOk(device), false);
    await fresh.put(META, new Response(JSON.stringify(meta), { headers: { "Content-Type": "application/json" } }));
    await copyCache(fresh, await caches.open(name));
    return meta;
  } finally {
    await caches.delete(name + "-new");
  }
}

async function copyCache(from, to) {
  for (const key of await to.keys()) await to.delete(key);
  for (const key of await from.keys()) await to.put(key, await from.match(key));
}

self.addEventListener("message", (event) => {
  const message = event.data || {};
  const reply = (body) => event.ports[0] && event.ports[0].postMessage(body);
  const work = (async () => {
    try {
      if (message.type === "download") reply({ ok: true, held: await download(message.inspection, message.user, message.urls, message.title) });
      else if (message.type === "keep" && KEPT_PAGES.has(new URL(message.url, self.location.origin).pathname)) {
        const address = new URL(message.url, self.location.origin).href;
        await keep(await caches.open(PAGES), address, await fetchOk(address), false);
        reply({ ok: true });
      }
      else reply({ ok: false, error: "unknown message" });
    } catch (error) {
      reply({ ok: false, error: String(error && error.message ? error.message : error) });
    }
  })();
  event.waitUntil(work);
});
