// The device side of working offline, on every page of a logged-in user: registers the service worker, shows the
// outbox's counter and problems, takes an inspection offline ("Download for offline"), and keeps one user's copies
// from the next: logging out clears them (after a warning when changes are unsent), and a different user logging in
// on the same browser finds none of the previous user's kept inspections.
(function () {
  "use strict";
  const body = document.body;
  const user = body.dataset.user;
  const outbox = window.TryggaOutbox;
  if (!user || !outbox) return;
  // Named as in sw.js: one cache per inspection taken offline.
  const INSPECTION_PREFIX = "tryggahus-inspection-";
  const META = "/offline/__held__";
  const OWNER = "tryggahus:owner";

  const fill = (text, values) => text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? values[name] : whole));

  async function clearKeptPages() {
    if (!window.caches) return;
    for (const name of await caches.keys()) {
      if (name.startsWith(INSPECTION_PREFIX)) await caches.delete(name);
    }
  }

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
      const unsent = counts.answers + counts.photos + counts.conflicts + counts.refused;
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
    let offline = false;

    const show = async () => {
      const counts = await outbox.counts(user);
      const waiting = counts.answers + counts.photos;
      status.dataset.waiting = String(waiting);
      status.dataset.problems = String(counts.conflicts + counts.refused);
      count.textContent = waiting
        ? fill(msg("Waiting"), counts) + (offline ? " " + msg("Offline") : "")
        : msg("Empty");
      sendNow.hidden = waiting === 0;
      problems.replaceChildren();
      for (const entry of await outbox.entries(user)) {
        if (entry.state !== "refused" && entry.state !== "conflict") continue;
        const line = document.createElement("li");
        const link = document.createElement("a");
        link.href = "/inspections/" + entry.inspection + "/sections/" + entry.item.split("-")[0] + "#item-" + entry.item;
        link.textContent = entry.item;
        line.append(link, " " + (entry.state === "conflict" ? msg("Conflict") : entry.reason));
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
          inspection: entry.inspection, item: entry.item, kind: entry.kind, answer: entry.body || null,
          photo: entry.kind === "photo" ? entry.name : null, state: entry.state, reason: entry.reason || "",
          idempotency_key: entry.key, made_at: new Date(entry.at).toISOString(),
        }));
      if (exportLink.href) URL.revokeObjectURL(exportLink.href);
      exportLink.href = URL.createObjectURL(new Blob([JSON.stringify(kept, null, 2)], { type: "application/json" }));
      exportLink.dataset.ready = "true";
      exportLink.click();
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
    const download = panel.querySelector("[data-offline-download]");
    const remove = panel.querySelector("[data-offline-remove]");
    const size = (bytes) => (bytes < 1048576 ? Math.ceil(bytes / 1024) + " kB" : (bytes / 1048576).toFixed(1) + " MB");

    const showHeld = async () => {
      const name = INSPECTION_PREFIX + inspection;
      const meta = (await caches.has(name)) && (await (await caches.open(name)).match(META));
      const held = meta ? await meta.json() : null;
      panel.dataset.held = held ? "true" : "false";
      remove.hidden = !held;
      let text = held
        ? fill(msg("Held"), { pages: held.pages, size: size(held.bytes), time: new Date(held.at).toLocaleString(document.documentElement.lang) })
        : msg("NotHeld");
      if (navigator.storage && navigator.storage.estimate) {
        const estimate = await navigator.storage.estimate();
        text += " " + fill(msg("Storage"), { used: size(estimate.usage || 0) });
      }
      state.textContent = text;
    };

    const ask = (worker, message) => new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = (event) => resolve(event.data);
      worker.postMessage(message, [channel.port2]);
    });

    download.addEventListener("click", async () => {
      download.disabled = true;
      panel.dataset.busy = "true";
      state.textContent = msg("Downloading");
      try {
        await ready;
        const registration = await navigator.serviceWorker.ready;
        const urls = [location.pathname].concat(
          Array.from(document.querySelectorAll("a.section-link[href]"), (link) => new URL(link.href).pathname),
        );
        const reply = await ask(registration.active, { type: "download", inspection, user, urls });
        if (!reply.ok) throw new Error(reply.error);
        await showHeld();
      } catch (error) {
        state.textContent = msg("Failed") + " " + (error.message || error);
      } finally {
        download.disabled = false;
        panel.dataset.busy = "false";
      }
    });
    remove.addEventListener("click", async () => {
      await caches.delete(INSPECTION_PREFIX + inspection);
      await showHeld();
    });
    showHeld();
  }

  // Sent whenever a page opens (and by outbox.js when the connection returns).
  outbox.refreshToken();
  outbox.sync();
})();
