// The outbox: every answer and photo an inspector gives is kept in IndexedDB (the photo itself as a Blob, in a store
// of its own) with the Idempotency-Key made when the inspector acted, until the server has acknowledged that key.
// It is sent in order (the answers between two photos in one request) when a page opens, when the connection
// returns and on demand, with retries and backoff. Nothing is dropped on a refusal: an ended login (401) or a stale
// CSRF token pauses the queue until the inspector has logged in again, a conflict (409) waits for "keep mine / use
// theirs", and any other refusal is kept and shown with its reason.
// A deviation report (deviations.js) is an entry of its own kind, its photo in the photo store, sent to
// POST /api/v1/deviations in the same order and under the same rules.
// A submission made without signal is an entry too: it is sent only once every earlier entry of its inspection has
// been acknowledged (a conflict or a refusal before it holds it back).
// Uses idb (audit/static/vendor/idb), a thin promise wrapper around IndexedDB.
(function () {
  "use strict";
  const DB_NAME = "tryggahus";
  const OUTBOX = "outbox";
  // The last answer the server acknowledged per item, so a page kept from before shows what was sent since.
  const KNOWN = "answers";
  // The photos, by their entry's seq: apart from the entries, which are read whole many times a sync (Chromium takes
  // about 7 ms a Blob to read an entry that holds one).
  const PHOTOS = "photos";
  const LOCK = "tryggahus-outbox";
  const MAX_BACKOFF_MS = 60000;
  // Most answers in one request (the server's limit, audit/api/schemas.py MAX_BATCH).
  const BATCH = 200;
  const body = document.body;
  const api = body.dataset.api;
  const sessionUrl = body.dataset.session;
  const events = new EventTarget();
  let database = null;
  let running = null;
  let again = false;
  let timer = null;
  let token = null;

  function open() {
    if (!database) {
      database = idb.openDB(DB_NAME, 2, {
        async upgrade(db, oldVersion, _newVersion, tx) {
          if (oldVersion < 1) {
            db.createObjectStore(OUTBOX, { keyPath: "seq", autoIncrement: true }).createIndex("user", "user");
            db.createObjectStore(KNOWN, { keyPath: ["user", "inspection", "item"] }).createIndex("user", "user");
          }
          if (oldVersion < 2) {
            db.createObjectStore(PHOTOS);
            for (const entry of await tx.objectStore(OUTBOX).getAll()) { // version 1 kept a photo in its entry
              if (!entry.photo) continue;
              await tx.objectStore(PHOTOS).put(entry.photo, entry.seq);
              delete entry.photo;
              await tx.objectStore(OUTBOX).put(entry);
            }
          }
        },
      });
    }
    return database;
  }

  function emit(type, detail) {
    events.dispatchEvent(new CustomEvent(type, { detail: detail || {} }));
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
  }

  function currentUser() {
    return body.dataset.user || null;
  }

  // Every entry of this user, oldest first (the order the inspector acted in).
  async function entries(user, inspection) {
    const all = await (await open()).getAllFromIndex(OUTBOX, "user", String(user || currentUser()));
    return inspection === undefined ? all : all.filter((entry) => entry.inspection === Number(inspection));
  }

  async function counts(user) {
    const result = { answers: 0, photos: 0, submits: 0, reports: 0, conflicts: 0, refused: 0 };
    for (const entry of await entries(user)) {
      if (entry.state === "conflict") result.conflicts += 1;
      else if (entry.state === "refused") result.refused += 1;
      else if (entry.kind === "photo") result.photos += 1;
      else if (entry.kind === "submit") result.submits += 1;
      else if (entry.kind === "report") result.reports += 1;
      else result.answers += 1;
    }
    return result;
  }

  // An answer to one item. A waiting answer to the same item that was never handed to the network is replaced (so
  // typing a comment makes one entry, not one per pause); otherwise the answer goes after every earlier entry.
  async function putAnswer(inspection, item, answer, base) {
    const user = currentUser();
    const tx = (await open()).transaction([OUTBOX, KNOWN], "readwrite");
    const outbox = tx.objectStore(OUTBOX);
    // Read in the same transaction as the acknowledgement writes it: a change made while an earlier one of the item
    // was on its way builds on the revision that one got, whichever finishes first.
    const stored = await tx.objectStore(KNOWN).get([user, inspection, item]);
    if (stored && stored.revision > base) base = stored.revision;
    const same = (await outbox.index("user").getAll(user)).filter(
      (entry) => entry.kind === "answer" && entry.inspection === inspection && entry.item === item,
    );
    // A refused answer to the item is replaced by the inspector's newer one (it was kept to be corrected).
    for (const refused of same.filter((entry) => entry.state === "refused")) await outbox.delete(refused.seq);
    const last = same[same.length - 1];
    let entry;
    if (last && last.state === "waiting" && !last.attempts) {
      entry = Object.assign(last, { body: answer, at: Date.now() });
      await outbox.put(entry);
    } else {
      entry = { user, inspection, kind: "answer", item, body: answer, base, key: newKey(), state: "waiting", attempts: 0, nextTry: 0, at: Date.now() };
      entry.seq = await outbox.add(entry);
      await submitLast(outbox, user, inspection);
    }
    await tx.done;
    emit("change");
    return entry;
  }

  async function addPhoto(inspection, item, blob, name) {
    const entry = { user: currentUser(), inspection, kind: "photo", item, name: name || "photo.jpg", key: newKey(), state: "waiting", attempts: 0, nextTry: 0, at: Date.now() };
    const tx = (await open()).transaction([OUTBOX, PHOTOS], "readwrite");
    entry.seq = await tx.objectStore(OUTBOX).add(entry);
    await tx.objectStore(PHOTOS).put(blob, entry.seq);
    await submitLast(tx.objectStore(OUTBOX), entry.user, inspection);
    await tx.done;
    emit("change");
    return entry;
  }

  // A deviation report: the fields as POST /api/v1/deviations takes them, and its photo (a Blob) or null. It belongs
  // to no inspection, so it never holds a submission back.
  async function addReport(report, blob, name) {
    const entry = { user: currentUser(), kind: "report", body: report, name: blob ? name || "photo.jpg" : null, key: newKey(), state: "waiting", attempts: 0, nextTry: 0, at: Date.now() };
    const tx = (await open()).transaction([OUTBOX, PHOTOS], "readwrite");
    entry.seq = await tx.objectStore(OUTBOX).add(entry);
    if (blob) await tx.objectStore(PHOTOS).put(blob, entry.seq);
    await tx.done;
    emit("change");
    return entry;
  }

  // The Blob of a photo entry (or of a report that has one).
  async function photo(entry) {
    return (await open()).get(PHOTOS, entry.seq);
  }

  // A change made after the inspection's submission was queued goes before it: the submission is moved to the end
  // (same key), so what is submitted is everything the inspector did.
  async function submitLast(store, user, inspection) {
    for (const entry of await store.index("user").getAll(user)) {
      if (entry.kind !== "submit" || entry.inspection !== inspection || entry.state !== "waiting") continue;
      await store.delete(entry.seq);
      delete entry.seq;
      entry.seq = await store.add(entry);
    }
  }

  // The inspection's submission, after every entry already queued. A refused one is replaced by the inspector's
  // newer try; one that still waits is kept as it is (one submission per inspection).
  async function addSubmit(inspection) {
    const user = currentUser();
    const tx = (await open()).transaction(OUTBOX, "readwrite");
    const mine = (await tx.store.index("user").getAll(user)).filter((entry) => entry.kind === "submit" && entry.inspection === inspection);
    for (const refused of mine.filter((entry) => entry.state === "refused")) await tx.store.delete(refused.seq);
    let entry = mine.find((candidate) => candidate.state === "waiting");
    if (!entry) {
      entry = { user, inspection, kind: "submit", key: newKey(), state: "waiting", attempts: 0, nextTry: 0, at: Date.now() };
      entry.seq = await tx.store.add(entry);
    }
    await tx.done;
    emit("change");
    return entry;
  }

  // A submission waits while any earlier entry of its inspection is still on the device, in whatever state.
  function heldBack(entry, all) {
    return entry.kind === "submit" && all.some((other) => other.inspection === entry.inspection && other.seq < entry.seq);
  }

  function nextToSend(all) {
    return all.find((entry) => entry.state === "waiting" && !heldBack(entry, all));
  }

  // Acknowledged answers, and (as `photo` records) the items that got a photo since the page was drawn.
  async function knownRecords(inspection) {
    const all = await (await open()).getAllFromIndex(KNOWN, "user", currentUser());
    return all.filter((record) => record.inspection === Number(inspection));
  }

  async function known(inspection) {
    return (await knownRecords(inspection)).filter((record) => !record.photo);
  }

  async function knownPhotos(inspection) {
    return (await knownRecords(inspection)).filter((record) => record.photo).map((record) => record.photo);
  }

  async function remove(seq) {
    const tx = (await open()).transaction([OUTBOX, PHOTOS], "readwrite");
    await Promise.all([tx.objectStore(OUTBOX).delete(seq), tx.objectStore(PHOTOS).delete(seq), tx.done]);
    emit("change");
  }

  // "Keep mine" after a conflict: the same answer again, based on the revision the other one has, with a new key.
  async function keepMine(entry, revision) {
    const again = Object.assign({}, entry, { base: revision, key: newKey(), state: "waiting", attempts: 0, nextTry: 0, current: undefined });
    await (await open()).put(OUTBOX, again);
    emit("change");
    return sync();
  }

  async function clearUser(user) {
    const tx = (await open()).transaction([OUTBOX, KNOWN, PHOTOS], "readwrite");
    for (const store of [OUTBOX, KNOWN]) {
      for (const key of await tx.objectStore(store).index("user").getAllKeys(String(user))) {
        await tx.objectStore(store).delete(key);
        if (store === OUTBOX) await tx.objectStore(PHOTOS).delete(key);
      }
    }
    await tx.done;
    emit("change");
  }

  // A fresh CSRF token for this login, also put into the page (a page kept for offline use carries none).
  async function session() {
    const response = await fetch(sessionUrl, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } });
    if (response.status === 401) return null;
    if (!response.ok) throw new Error("HTTP " + response.status);
    const who = await response.json();
    token = who.csrf_token;
    document.querySelector('meta[name="csrf-token"]').content = token;
    document.querySelectorAll('input[name="csrf_token"]').forEach((input) => { input.value = token; });
    return who;
  }

  function headers(extra) {
    return Object.assign({ Accept: "application/json", "X-CSRFToken": token }, extra);
  }

  // One request for one entry: a photo, a submission or a report (answers go in batches, postAnswers).
  async function request(entry) {
    const base = api + "/inspections/" + entry.inspection;
    const keyed = headers({ "Idempotency-Key": entry.key });
    if (entry.kind === "report") {
      // Always multipart/form-data (the fields as text, the photo as a file): one way, with or without a photo.
      const form = new FormData();
      for (const [name, value] of Object.entries(entry.body)) form.append(name, value);
      if (entry.name) form.append("photo", await photo(entry), entry.name);
      return fetch(api + "/deviations", { method: "POST", credentials: "same-origin", headers: keyed, body: form });
    }
    if (entry.kind === "submit") return fetch(base + "/submit", { method: "POST", credentials: "same-origin", headers: keyed });
    const form = new FormData();
    form.append("item_key", entry.item);
    form.append("file", await photo(entry), entry.name);
    return fetch(base + "/photos", { method: "POST", credentials: "same-origin", headers: keyed, body: form });
  }

  // Answers go in batches: the waiting answers after `first` of its inspection, in the inspector's order, up to
  // a photo or another inspection's entry, at most BATCH of them and each item once (a later change of an item
  // builds on the revision the earlier one gets).
  function batchFrom(all, first, force) {
    const batch = [];
    const items = new Set();
    for (const entry of all.slice(all.indexOf(first))) {
      if (entry.state !== "waiting") continue; // kept aside (a conflict, a refusal): not in the way
      if (entry.kind !== "answer" || entry.inspection !== first.inspection || items.has(entry.item)) break;
      if (batch.length === BATCH || (!force && entry.nextTry > Date.now())) break;
      batch.push(entry);
      items.add(entry.item);
    }
    return batch;
  }

  // Counted before the request, in one transaction with reading them: from now on an entry is not rewritten under
  // the same key (putAnswer starts a new entry instead). The entries still waiting, as stored.
  async function counted(db, seqs) {
    const tx = db.transaction(OUTBOX, "readwrite");
    const sending = [];
    for (const seq of seqs) {
      const entry = await tx.store.get(seq);
      if (!entry || entry.state !== "waiting") continue;
      entry.attempts += 1;
      await tx.store.put(entry);
      sending.push(entry);
    }
    await tx.done;
    return sending;
  }

  function postAnswers(batch) {
    const answers = batch.map((entry) => Object.assign({ key: entry.key, item_key: entry.item }, entry.body, { base_revision: entry.base }));
    return fetch(api + "/inspections/" + batch[0].inspection + "/answers", {
      method: "POST", credentials: "same-origin", headers: headers({ "Content-Type": "application/json" }), body: JSON.stringify({ answers }),
    });
  }

  // Sends entries (a photo, or a batch of answers) and settles each: "sent", "next" (kept aside, go on), "stop"
  // (try again later), "login" or "csrf".
  async function send(db, seqs) {
    const sending = await counted(db, seqs);
    if (!sending.length) return "next";
    let response;
    try {
      response = await (sending[0].kind === "answer" ? postAnswers(sending) : request(sending[0]));
    } catch (error) {
      return later(db, sending, "offline");
    }
    const data = await response.json().catch(() => ({}));
    const batched = response.ok && Array.isArray(data.results);
    const outcomes = [];
    const acks = [];
    for (const [index, entry] of sending.entries()) {
      // A batch answers each answer as its single request would have been answered; any other response (a photo's,
      // or a batch refused as a whole) is every entry's.
      const result = batched ? data.results[index] : null;
      const [status, reply] = !batched ? [response.status, data] : result && result.key === entry.key ? [result.status, result] : [502, {}];
      outcomes.push(await settle(db, entry, status, reply));
      if (outcomes[index] === "sent") acks.push({ entry, data: reply });
    }
    if (acks.length) await acknowledged(db, acks);
    const retry = sending.filter((_entry, index) => outcomes[index] === "retry");
    if (retry.length) return later(db, retry, "error");
    return outcomes.find((outcome) => outcome === "login" || outcome === "csrf") || "sent";
  }

  // What becomes of one entry the server answered with `status` and `data`: "sent" (to be acknowledged), "next",
  // "login", "csrf" or "retry" (a server error or an overload: after a backoff).
  async function settle(db, entry, status, data) {
    if (status >= 200 && status < 300) return "sent";
    if (status === 401) return "login";
    if (status === 400 && data.error === "csrf_failed") return "csrf";
    if (status === 409 && data.error === "conflict" && data.current) {
      Object.assign(entry, { state: "conflict", current: data.current, reason: data.message || "" });
      await db.put(OUTBOX, entry);
      emit("conflict", { entry });
      return "next";
    }
    if (status >= 500 || status === 429 || status === 408) return "retry";
    Object.assign(entry, { state: "refused", reason: data.message || "HTTP " + status, status });
    await db.put(OUTBOX, entry);
    emit("refused", { entry });
    return "next";
  }

  // What the server acknowledged, in one transaction: out of the outbox; an answer into KNOWN, and later changes of
  // its item (not yet sent) based on the revision it got; a photo's item into KNOWN as having a photo. Each "ack"
  // event says whether a later change of the item still waits.
  async function acknowledged(db, acks) {
    const tx = db.transaction([OUTBOX, KNOWN, PHOTOS], "readwrite");
    const outbox = tx.objectStore(OUTBOX);
    const revisions = new Map();
    for (const { entry, data } of acks) {
      await outbox.delete(entry.seq);
      if (entry.kind === "report") await tx.objectStore(PHOTOS).delete(entry.seq);
      if (entry.kind === "photo") {
        await tx.objectStore(PHOTOS).delete(entry.seq);
        await tx.objectStore(KNOWN).put({ user: entry.user, inspection: entry.inspection, item: "photo:" + entry.item, photo: entry.item });
      }
      if (entry.kind !== "answer") continue;
      revisions.set(entry.inspection + " " + entry.item, data.answer.revision);
      await tx.objectStore(KNOWN).put({ user: entry.user, inspection: entry.inspection, item: entry.item, revision: data.answer.revision, body: entry.body });
    }
    const waiting = new Set(); // items with a later change still to send: not "saved" yet
    if (revisions.size) {
      for (const later of await outbox.index("user").getAll(acks[0].entry.user)) {
        const item = later.inspection + " " + later.item;
        if (later.kind !== "answer" || !revisions.has(item)) continue;
        if (later.state === "waiting") waiting.add(item);
        if (!later.attempts) {
          later.base = revisions.get(item);
          await outbox.put(later);
        }
      }
    }
    await tx.done;
    for (const ack of acks) emit("ack", Object.assign({ waiting: waiting.has(ack.entry.inspection + " " + ack.entry.item) }, ack));
  }

  async function later(db, batch, why) {
    const attempts = Math.max(...batch.map((entry) => entry.attempts));
    const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(attempts - 1, 10)) * (0.75 + Math.random() / 2);
    const tx = db.transaction(OUTBOX, "readwrite");
    for (const entry of batch) {
      entry.nextTry = Date.now() + delay;
      await tx.store.put(entry);
    }
    await tx.done;
    schedule(delay);
    emit("waiting", { why });
    return "stop";
  }

  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(sync, delay);
  }

  async function drain(force) {
    const user = currentUser();
    if (!user) return;
    const db = await open();
    const first = nextToSend(await entries(user));
    if (!first) { emit("change"); return; }
    try {
      const who = await session();
      // Not logged in, or someone else is: this user's queue waits for this user's login.
      if (!who || String(who.user) !== user) { emit("login"); return; }
    } catch (error) {
      emit("waiting", { why: "offline" });
      schedule(5000);
      return;
    }
    emit("resumed");
    let csrfRetried = false;
    for (;;) {
      const all = await entries(user);
      const entry = nextToSend(all);
      if (!entry) break;
      if (!force && entry.nextTry > Date.now()) { schedule(entry.nextTry - Date.now()); break; }
      const batch = entry.kind === "answer" ? batchFrom(all, entry, force) : [entry];
      const outcome = await send(db, batch.map((waiting) => waiting.seq));
      emit("change");
      if (outcome === "stop") break;
      if (outcome === "login" || (outcome === "csrf" && (csrfRetried || !(await session())))) { emit("login"); break; }
      csrfRetried = outcome === "csrf"; // a stale token: once more with a fresh one
    }
    emit("change");
  }

  // One sender at a time, also across tabs (a Web Lock); `force` ignores the backoff ("Send now", back online).
  function sync(force) {
    if (running) { again = true; return running; }
    const work = () => drain(force === true);
    running = (navigator.locks ? navigator.locks.request(LOCK, work) : work())
      .catch((error) => { emit("waiting", { why: String(error) }); })
      .finally(() => {
        running = null;
        if (again) { again = false; sync(force); } // something was added while the last round was ending
      });
    return running;
  }

  // A page kept for offline use has no CSRF token for its own forms (log out, submit): one is fetched when there
  // is signal, also when nothing waits to be sent.
  function refreshToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    if (!meta || meta.content) return Promise.resolve();
    return session().catch(() => null);
  }

  window.addEventListener("online", () => { refreshToken(); sync(true); });

  // Whether the server answers for this login now (a fresh CSRF token is put into the page on the way).
  async function reachable() {
    const timeout = new Promise((resolve) => { setTimeout(() => resolve(null), 8000); });
    try { return Boolean(await Promise.race([session(), timeout])); } catch (error) { return false; }
  }

  window.TryggaOutbox = {
    events, entries, counts, putAnswer, addPhoto, photo, addSubmit, addReport, heldBack, known, knownPhotos, remove, keepMine,
    clearUser, sync, currentUser, refreshToken, reachable,
  };
})();
