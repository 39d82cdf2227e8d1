// Autosave for the inspection walk: every change is sent at once to the JSON API, one item at a time.
// A change that cannot be sent (no signal in the basement) is kept in this device's storage and sent again
// until the server has it, so nothing an inspector enters is lost across reloads.
(function () {
  "use strict";
  const form = document.getElementById("walk");
  if (!form || form.dataset.editable !== "true") return;

  const api = form.dataset.api;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const pendingKey = "tryggahus:pending:" + form.dataset.inspection;
  const msg = (name) => form.dataset["msg" + name];
  const timers = {};
  const busy = {};
  const again = {};

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function loadPending() {
    try { return JSON.parse(localStorage.getItem(pendingKey) || "{}"); } catch (e) { return {}; }
  }
  function storePending(pending) {
    try { localStorage.setItem(pendingKey, JSON.stringify(pending)); } catch (e) { /* storage full: keep in memory */ }
  }

  function showState(article, state, text) {
    const badge = article.querySelector(".save-state");
    badge.dataset.state = state;
    badge.textContent = text || "";
  }

  function field(article, name) {
    return article.querySelector('[name="' + name + "-" + article.dataset.item + '"]');
  }
  function checked(article, name) {
    const input = article.querySelector('[name="' + name + "-" + article.dataset.item + '"]:checked');
    return input ? input.value : null;
  }

  // What the item's inputs say now, as the API's answer body.
  function payload(article) {
    const type = article.dataset.type;
    const body = { comment: field(article, "comment").value || null };
    const na = checked(article, "result") === "na";
    if (type === "pass_fail" || na) body.result = checked(article, "result");
    if (!na) {
      if (type === "measurement") body.value = (field(article, "value").value || "").trim() || null;
      if (type === "scale") body.value = checked(article, "value");
      if (type === "choice") body.choice = checked(article, "choice");
      if (type === "text") body.text = field(article, "text").value || null;
    }
    return body;
  }

  function showVerdict(article) {
    if (article.dataset.type !== "measurement") return;
    const output = article.querySelector(".verdict");
    const raw = (field(article, "value").value || "").replace(",", ".").trim();
    const value = Number(raw);
    if (raw === "" || Number.isNaN(value)) { output.textContent = ""; output.dataset.state = ""; return; }
    const min = article.dataset.min === "" ? null : Number(article.dataset.min);
    const max = article.dataset.max === "" ? null : Number(article.dataset.max);
    const ok = (min === null || value >= min) && (max === null || value <= max);
    output.textContent = ok ? output.dataset.pass : output.dataset.fail;
    output.dataset.state = ok ? "pass" : "fail";
  }

  function queue(article, delay) {
    const key = article.dataset.item;
    const pending = loadPending();
    pending[key] = { body: payload(article), id: newId(), base: Number(article.dataset.revision) };
    storePending(pending);
    showState(article, "saving", msg("Saving"));
    clearTimeout(timers[key]);
    timers[key] = setTimeout(() => send(key), delay);
  }

  async function send(key) {
    if (busy[key]) { again[key] = true; return; }
    const entry = loadPending()[key];
    if (!entry) return;
    const article = document.getElementById("item-" + key);
    busy[key] = true;
    try {
      const response = await fetch(api + "/answers/" + encodeURIComponent(key), {
        method: "PUT",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Idempotency-Key": entry.id },
        body: JSON.stringify(Object.assign({}, entry.body, { base_revision: entry.base })),
      });
      const data = await response.json().catch(() => ({}));
      if (response.ok) {
        finish(key, entry, article, data.answer.revision);
        updateProgress(data.progress);
      } else if (response.status === 409 && data.current) {
        showConflict(article, entry, data.current);
      } else if (response.status >= 500) {
        retryLater(key, article, msg("Unsaved"));
      } else {
        dropPending(key, entry);
        showState(article, "error", msg("Error") + ": " + (data.message || response.status));
      }
    } catch (e) {
      retryLater(key, article, msg("Offline"));
    } finally {
      busy[key] = false;
      if (again[key]) { again[key] = false; send(key); }
    }
  }

  function finish(key, entry, article, revision) {
    article.dataset.revision = revision;
    const pending = loadPending();
    if (pending[key] && pending[key].id === entry.id) {
      delete pending[key];
      storePending(pending);
      showState(article, "saved", msg("Saved"));
    } else if (pending[key]) {
      pending[key].base = revision; // a newer change waits: base it on what was just stored
      storePending(pending);
    }
  }

  function dropPending(key, entry) {
    const pending = loadPending();
    if (pending[key] && pending[key].id === entry.id) { delete pending[key]; storePending(pending); }
  }

  function retryLater(key, article, text) {
    showState(article, "unsaved", text);
    clearTimeout(timers[key]);
    timers[key] = setTimeout(() => send(key), 5000);
  }

  function describe(answer) {
    return [answer.result, answer.value, answer.choice, answer.text, answer.comment]
      .filter((part) => part !== null && part !== undefined && part !== "").join(" · ") || "—";
  }

  function showConflict(article, entry, current) {
    const key = article.dataset.item;
    const box = article.querySelector(".conflict");
    box.hidden = false;
    box.textContent = msg("Conflict") + " " + describe(current) + " ";
    const mine = document.createElement("button");
    mine.type = "button"; mine.className = "button"; mine.textContent = msg("KeepMine");
    const theirs = document.createElement("button");
    theirs.type = "button"; theirs.className = "button"; theirs.textContent = msg("TakeTheirs");
    box.append(mine, theirs);
    showState(article, "conflict", msg("Error"));
    mine.addEventListener("click", () => {
      box.hidden = true;
      article.dataset.revision = current.revision;
      const pending = loadPending();
      pending[key] = { body: entry.body, id: newId(), base: current.revision };
      storePending(pending);
      send(key);
    });
    theirs.addEventListener("click", () => {
      dropPending(key, entry);
      location.reload();
    });
  }

  function updateProgress(progress) {
    if (!progress) return;
    progress.sections.forEach((section) => {
      const option = document.querySelector('.section-jump option[data-section="' + section.key + '"]');
      if (option) option.textContent = option.dataset.title + " (" + section.answered + "/" + section.total + ")";
    });
    document.querySelectorAll(".progress-pair .progress").forEach((bar, index) => {
      const section = progress.sections.find((s) => location.pathname.endsWith("/sections/" + s.key));
      const pair = index === 0 && section ? [section.answered, section.total] : [progress.answered, progress.total];
      bar.setAttribute("aria-valuenow", pair[0]);
      bar.querySelector(".progress-bar rect").setAttribute("width", pair[1] ? (100 * pair[0]) / pair[1] : 100);
      bar.querySelector(".progress-text").textContent = pair[0] + " / " + pair[1];
    });
  }

  async function uploadPhoto(article, input) {
    const file = input.files && input.files[0];
    if (!file) return;
    const data = new FormData();
    data.append("item_key", article.dataset.item);
    data.append("file", file);
    showState(article, "saving", msg("Uploading"));
    try {
      const response = await fetch(api + "/photos", {
        method: "POST", credentials: "same-origin", body: data,
        headers: { "X-CSRFToken": csrf, "Idempotency-Key": newId() },
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(body.message || response.status);
      const link = document.createElement("a");
      link.href = body.url; link.target = "_blank";
      const img = document.createElement("img");
      img.src = body.thumbnail_url; img.alt = article.dataset.item;
      link.append(img);
      input.closest(".photo-button").before(link);
      showState(article, "saved", msg("Saved"));
    } catch (e) {
      showState(article, "error", msg("PhotoFailed") + " " + e.message);
    } finally {
      input.value = "";
    }
  }

  form.querySelectorAll("article.item[data-item]").forEach((article) => {
    article.addEventListener("change", (event) => {
      if (event.target.matches("[data-photo-input]")) { uploadPhoto(article, event.target); return; }
      // N/A and an answer exclude each other.
      if (event.target.name && event.target.name.startsWith("result-") && event.target.value === "na" && event.target.checked) {
        article.querySelectorAll('input[name^="value-"], input[name^="choice-"]').forEach((input) => {
          if (input.type === "radio") input.checked = false; else input.value = "";
        });
      } else if (event.target.matches('input[name^="value-"], input[name^="choice-"]')) {
        const na = article.querySelector('input[name^="result-"][value="na"]');
        if (na) na.checked = false;
      }
      showVerdict(article);
      queue(article, 0);
    });
    article.addEventListener("input", (event) => {
      if (event.target.matches("textarea, .measure-input")) { showVerdict(article); queue(article, 800); }
    });
  });
  form.addEventListener("submit", (event) => event.preventDefault());

  // Changes kept on this device from an earlier visit are put back on screen and sent again.
  const pending = loadPending();
  Object.keys(pending).forEach((key) => {
    const article = document.getElementById("item-" + key);
    if (!article) return;
    restore(article, pending[key].body);
    showState(article, "saving", msg("Saving"));
    send(key);
  });
  window.addEventListener("online", () => Object.keys(loadPending()).forEach(send));

  function restore(article, body) {
    const key = article.dataset.item;
    const set = (name, value) => {
      article.querySelectorAll('[name="' + name + "-" + key + '"]').forEach((input) => {
        if (input.type === "radio" || input.type === "checkbox") input.checked = input.value === String(value);
        else input.value = value === null || value === undefined ? "" : value;
      });
    };
    ["result", "value", "choice", "text", "comment"].forEach((name) => { if (name in body) set(name, body[name]); });
    showVerdict(article);
  }
})();
