// The device side of working offline, on every page of a logged-in user: registers the service worker, shows the
// outbox's counter and problems, takes an inspection offline ("Download for offline"), and keeps one user's copies
// from the next: logging out clears them (after a warning when changes are unsent), and a different user logging in
// on the same browser finds none of the previous user's kept inspections. Before a download it checks that the
// inspection fits in the storage the browser grants (and asks for that storage to be kept), and warns when it is
// nearly full. `window.TryggaDevice` lists what the device holds, for the page "On this device" (device.js).
(function () {
  "use strict";
  const body = document.body;
  const user = body.dataset.user;
  const outbox = window.TryggaOutbox;
  if (!user || !outbox) return;
  // Named as in sw.js: one cache per inspection taken offline.
  const INSPECTION_PREFIX = "tryggahus-inspection-";
  const META = "/offline/__held__";
  // Other pages kept for use without signal (the page "On this device"), as in sw.js.
  const PAGES = "tryggahus-pages";
  const OWNER = "tryggahus:owner";
  // What one kept page and one photo thumbnail take, roughly, with the browser's overhead: for the check before a
  // download (a section page of the Trygga hus checklist is about 40 kB).
  const PAGE_BYTES = 80 * 1024;
  const THUMB_BYTES = 40 * 1024;
  // Above this share of its quota the device warns before more is downloaded.
  const NEARLY_FULL = 0.8;

  const fill = (text, values) => text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? values[name] : whole));

  async function clearKeptPages() {
    if (!window.caches) return;
    for (const name of await caches.keys()) {
      if (name.startsWith(INSPECTION_PREFIX) || name === PAGES) await caches.delete(name);
    }
  }

  const size = (bytes) => (bytes < 1048576 ? Math.ceil(bytes / 1024) + " kB" : (bytes / 1048576).toFixed(1) + " MB");

  // Every inspection kept on this device: what the worker stored beside its pages (sw.js `download`).
  async function held() {
    if (!window.caches) return [];
    const found = [];
    for (const name of await caches.keys()) {
      if (!name.startsWith(INSPECTION_PREFIX) || name.endsWith("-new")) continue;
      const meta = await (await caches.open(name)).match(META);
      if (meta) found.push(await meta.json());
    }
    return found.sort((a, b) => (a.at < b.at ? 1 : -1));
  }

  async function heldOne(inspection) {
    const name = INSPECTION_PREFIX + inspection;
    const meta = (await caches.has(name)) && (await (await caches.open(name)).match(META));
    return meta ? meta.json() : null;
  }

  // The browser's own figures, or null where it gives none.
  async function estimate() {
    if (!navigator.storage || !navigator.storage.estimate) return null;
    try {
      const { usage, quota } = await navigator.storage.estimate();
      return { usage: usage || 0, quota: quota || 0, full: quota ? (usage || 0) / quota : 0 };
    } catch (error) {
      return null;
    }
  }

  // Changes and photos of the inspection that the server has not acknowledged, in whatever state.
  async function unsent(inspection) {
    return (await outbox.entries(user, inspection)).length;
  }

  // Removes the kept pages of an inspection; its queued changes are never removed with them: with some waiting the
  // inspector is asked first (`warning` names {count}), and they stay in the queue to be sent.
  async function removeHeld(inspection, warning) {
    const count = await unsent(inspection);
    if (count && !window.confirm(fill(warning, { count }))) return false;
    await caches.delete(INSPECTION_PREFIX + inspection);
    return true;
  }

  window.TryggaDevice = { held, estimate, unsent, removeHeld, size, fill, NEARLY_FULL };

  // --- the service worker, and whose copies this browser holds ----------------------------------------------------
  const ready = (async () => {
    let owner = null;
    try { owner = localStorage.getItem(OWNER); } catch (error) { /* storage off: nothing is kept either */ }
    if (owner !== user) {
      if (owner) await clearKeptPages();
      try { localStorage.setItem(OWNER, user); } catch (error) { /* see above */ }
    }
    if ("serviceWorker" in navigator && body.dataset.sw) {
      await navigator.serviceWorker.register(body.dataset.sw, { scope: "/" });
    }
  })();
  ready.catch(() => { /* no worker (old browser, private mode): the app still works online */ });

  // --- logging out ----------------------------------------------------------------------------------------------
  document.querySelectorAll('form[action$="/logout"]').forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const counts = await outbox.counts(user);
      const unsent = counts.answers + counts.photos + counts.submits + counts.reports + counts.conflicts + counts.refused;
      if (unsent && !window.confirm(fill(form.dataset.msgUnsent, { count: unsent }))) {
        outbox.sync(true); // "send them first": stay, and try now
        return;
      }
      await outbox.clearUser(user);
      await clearKeptPages();
      try { localStorage.removeItem(OWNER); } catch (error) { /* nothing kept */ }
      form.submit();
    });
  });

  // --- the counter ----------------------------------------------------------------------------------------------
  const status = document.getElementById("outbox-status");
  if (status) {
    const msg = (name) => status.dataset["msg" + name];
    const count = status.querySelector(".outbox-count");
    const login = status.querySelector(".outbox-login");
    const problems = status.querySelector(".outbox-problems");
    const sendNow = status.querySelector(".outbox-send");
    const failed = status.querySelector(".outbox-failed");
    let offline = false;

    const show = async () => {
      const counts = await outbox.counts(user);
      const walk = counts.answers + counts.photos + counts.submits;
      const waiting = walk + counts.reports;
      status.dataset.waiting = String(waiting);
      status.dataset.problems = String(counts.conflicts + counts.refused);
      const parts = [];
      if (walk) parts.push(fill(msg("Waiting"), counts) + (counts.submits ? " " + msg("Submit") : ""));
      if (counts.reports) parts.push(fill(msg("Reports"), counts));
      if (waiting && offline) parts.push(msg("Offline"));
      count.textContent = waiting ? parts.join(" ") : msg("Empty");
      sendNow.hidden = waiting === 0;
      problems.replaceChildren();
      const all = await outbox.entries(user);
      for (const entry of all) {
        const held = entry.state === "waiting" && outbox.heldBack(entry, all) && all.some((other) => other.inspection === entry.inspection && other.state !== "waiting");
        if (entry.state !== "refused" && entry.state !== "conflict" && !held) continue;
        const line = document.createElement("li");
        const link = document.createElement("a");
        if (entry.kind === "submit") {
          link.href = "/inspections/" + entry.inspection + "#missing";
          link.textContent = msg("SubmitName");
        } else if (entry.kind === "report") {
          link.href = status.dataset.reportForm;
          link.textContent = fill(msg("ReportName"), { description: entry.body.description.slice(0, 40) });
        } else {
          link.href = "/inspections/" + entry.inspection + "/sections/" + entry.item.split("-")[0] + "#item-" + entry.item;
          link.textContent = entry.item;
        }
        line.append(link, " " + (held ? msg("Held") : entry.state === "conflict" ? msg("Conflict") : entry.reason));
        problems.append(line);
      }
      problems.hidden = !problems.children.length;
      exportLink.hidden = problems.hidden;
    };
    // What the server did not accept, as a file the inspector can keep or send on (answers and photo names; the
    // entries stay in the outbox).
    const exportLink = status.querySelector(".outbox-export");
    exportLink.addEventListener("click", async (event) => {
      if (exportLink.dataset.ready) { delete exportLink.dataset.ready; return; }
      event.preventDefault();
      const kept = (await outbox.entries(user))
        .filter((entry) => entry.state === "refused" || entry.state === "conflict")
        .map((entry) => ({
          inspection: entry.inspection || null, item: entry.item || null, kind: entry.kind,
          answer: entry.kind === "report" ? null : entry.body || null, report: entry.kind === "report" ? entry.body : null,
          photo: entry.kind === "photo" || entry.kind === "report" ? entry.name : null, state: entry.state, reason: entry.reason || "",
          idempotency_key: entry.key, made_at: new Date(entry.at).toISOString(),
        }));
      if (exportLink.href) URL.revokeObjectURL(exportLink.href);
      exportLink.href = URL.createObjectURL(new Blob([JSON.stringify(kept, null, 2)], { type: "application/json" }));
      exportLink.dataset.ready = "true";
      exportLink.click();
    });
    // A change that could not be written to the device: said at once, above everything else on the page.
    outbox.events.addEventListener("notkept", (event) => {
      failed.textContent = fill(msg("NotKept"), event.detail) + " " + event.detail.reason;
      failed.hidden = false;
    });
    outbox.events.addEventListener("change", show);
    outbox.events.addEventListener("waiting", (event) => { offline = event.detail.why === "offline"; show(); });
    outbox.events.addEventListener("ack", () => { offline = false; });
    outbox.events.addEventListener("login", () => { login.hidden = false; status.dataset.state = "login"; });
    outbox.events.addEventListener("resumed", () => { login.hidden = true; status.dataset.state = ""; offline = false; });
    sendNow.addEventListener("click", () => outbox.sync(true));
    login.querySelector("a").href = "/login?next=" + encodeURIComponent(location.pathname);
    show();
  }

  // --- taking an inspection offline -------------------------------------------------------------------------------
  const panel = document.getElementById("offline-panel");
  if (panel && window.caches) {
    const msg = (name) => panel.dataset["msg" + name];
    const inspection = panel.dataset.inspection;
    const state = panel.querySelector(".offline-state");
    const warning = panel.querySelector(".offline-warning");
    const download = panel.querySelector("[data-offline-download]");
    const remove = panel.querySelector("[data-offline-remove]");

    const showHeld = async () => {
      const kept = await heldOne(inspection);
      panel.dataset.held = kept ? "true" : "false";
      remove.hidden = !kept;
      let text = kept
        ? fill(msg("Held"), { pages: kept.pages, size: size(kept.bytes), time: new Date(kept.at).toLocaleString(document.documentElement.lang) })
        : msg("NotHeld");
      const storage = await estimate();
      if (storage) text += " " + fill(msg("Storage"), { used: size(storage.usage) });
      state.textContent = text;
      warning.hidden = !storage || storage.full <= NEARLY_FULL;
      if (!warning.hidden) warning.textContent = fill(msg("NearlyFull"), { percent: Math.round(100 * storage.full) });
    };

    const ask = (worker, message) => new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = (event) => resolve(event.data);
      worker.postMessage(message, [channel.port2]);
    });

    // Refused before anything is fetched when the pages would not fit: a download cut off by a full device would
    // leave less room for the outbox, where the answers are.
    const noRoom = async (urls) => {
      const storage = await estimate();
      if (!storage || !storage.quota) return null;
      const need = urls.length * PAGE_BYTES + Number(panel.dataset.photos || 0) * THUMB_BYTES;
      const free = Math.max(0, storage.quota - storage.usage);
      return free < need ? fill(msg("NoRoom"), { free: size(free), need: size(need) }) : null;
    };

    download.addEventListener("click", async () => {
      download.disabled = true;
      panel.dataset.busy = "true";
      try {
        const urls = [location.pathname].concat(
          Array.from(document.querySelectorAll("a.section-link[href]"), (link) => new URL(link.href).pathname),
        );
        const refused = await noRoom(urls);
        if (refused) {
          state.textContent = refused;
          panel.dataset.refused = "true";
          return;
        }
        state.textContent = msg("Downloading");
        await ready;
        const registration = await navigator.serviceWorker.ready;
        const reply = await ask(registration.active, { type: "download", inspection, user, urls, title: panel.dataset.title });
        if (!reply.ok) throw new Error(reply.error);
        // Asked once the inspector keeps something that matters: the browser then does not evict it to make room.
        if (navigator.storage && navigator.storage.persist && !(await navigator.storage.persisted())) {
          await navigator.storage.persist().catch(() => false);
        }
        await showHeld();
      } catch (error) {
        state.textContent = msg("Failed") + " " + (error.message || error);
      } finally {
        download.disabled = false;
        panel.dataset.busy = "false";
      }
    });
    remove.addEventListener("click", async () => {
      if (await removeHeld(inspection, msg("RemoveUnsent"))) await showHeld();
    });
    showHeld();
  }

  // Sent whenever a page opens (and by outbox.js when the connection returns).
  outbox.refreshToken();
  outbox.sync();
})();
