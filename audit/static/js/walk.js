// The inspection walk's page: every change and photo goes into the outbox (outbox.js), which keeps it on this
// device until the server has acknowledged it; an item says "saved" only then. Works the same with no signal.
(function () {
  "use strict";
  const form = document.getElementById("walk");
  if (!form || form.dataset.editable !== "true") return;

  const outbox = window.TryggaOutbox;
  const user = outbox.currentUser();
  const inspection = Number(form.dataset.inspection);
  const msg = (name) => form.dataset["msg" + name];
  const timers = {};

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

  // The change goes into the outbox at once (it survives a reload and a closed browser); it is sent after `delay`,
  // so typing a comment sends one answer, not one per key.
  async function queue(article, delay) {
    const key = article.dataset.item;
    showState(article, "saving", msg("Saving"));
    try {
      await outbox.putAnswer(inspection, key, payload(article), Number(article.dataset.revision));
    } catch (error) {
      notKept(article, error); // what was typed stays on the page
      return;
    }
    clearTimeout(timers[key]);
    timers[key] = setTimeout(() => outbox.sync(), delay);
  }

  // Writing to the device failed (its storage is full, or IndexedDB refused): said at once, at the item and at the
  // top of the page (offline.js), so nobody walks on believing the change is kept.
  function notKept(article, error) {
    const reason = (error && (error.name === "QuotaExceededError" ? error.name : error.message)) || String(error);
    showState(article, "error", msg("NotKept") + " " + reason);
    outbox.events.dispatchEvent(new CustomEvent("notkept", { detail: { item: article.dataset.item, reason } }));
  }

  async function waitingFor(key) {
    return (await outbox.entries(user, inspection)).some((entry) => entry.kind === "answer" && entry.item === key && entry.state === "waiting");
  }

  // The server acknowledged an answer: "saved" only when no later change of the item still waits.
  outbox.events.addEventListener("ack", (event) => {
    const { entry, data } = event.detail;
    if (entry.inspection !== inspection) return;
    const article = document.getElementById("item-" + entry.item);
    if (entry.kind === "photo") { if (article) photoSent(article, entry, data); return; }
    if (!article) return;
    article.dataset.revision = data.answer.revision;
    if (!event.detail.waiting) showState(article, "saved", msg("Saved"));
  });
  outbox.events.addEventListener("conflict", (event) => {
    const entry = event.detail.entry;
    const article = entry.inspection === inspection && document.getElementById("item-" + entry.item);
    if (article) showConflict(article, entry, entry.current);
  });
  outbox.events.addEventListener("refused", (event) => {
    const entry = event.detail.entry;
    const article = entry.inspection === inspection && document.getElementById("item-" + entry.item);
    if (article) showState(article, "error", msg("Error") + ": " + entry.reason);
  });
  outbox.events.addEventListener("waiting", () => {
    form.querySelectorAll('.save-state[data-state="saving"]').forEach((badge) => { badge.dataset.state = "unsaved"; badge.textContent = msg("Offline"); });
  });

  function describe(answer) {
    return [answer.result, answer.value, answer.choice, answer.text, answer.comment]
      .filter((part) => part !== null && part !== undefined && part !== "").join(" · ") || "—";
  }

  function showConflict(article, entry, current) {
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
      box.textContent = "";
      article.dataset.revision = current.revision;
      showState(article, "saving", msg("Saving"));
      outbox.keepMine(entry, current.revision);
    });
    theirs.addEventListener("click", async () => {
      await outbox.remove(entry.seq);
      location.reload();
    });
  }

  // Progress counted on the device by the server's rule (progress.js): the bars move without signal too.
  const rules = JSON.parse(form.dataset.progress || "[]");

  async function deviceProgress() {
    const progress = await window.TryggaProgress.count(inspection, { sections: rules });
    progress.sections.forEach((section) => {
      const option = document.querySelector('.section-jump option[data-section="' + section.key + '"]');
      if (option) option.textContent = option.dataset.title + " (" + section.answered + "/" + section.total + ")";
    });
    const here = progress.sections.find((s) => location.pathname.endsWith("/sections/" + s.key));
    document.querySelectorAll(".progress-pair .progress").forEach((bar, index) => {
      const pair = index === 0 && here ? [here.answered, here.total] : [progress.answered, progress.total];
      window.TryggaProgress.draw(bar, pair[0], pair[1]);
    });
  }
  outbox.events.addEventListener("change", () => { deviceProgress(); });

  // A photo is kept as it is (a Blob) in the outbox and shown from there until the server has it.
  async function queuePhoto(article, input) {
    const file = input.files && input.files[0];
    if (!file) return;
    try {
      const entry = await outbox.addPhoto(inspection, article.dataset.item, file, file.name);
      showPendingPhoto(article, entry);
      showState(article, "saving", msg("Uploading"));
      input.value = "";
      outbox.sync();
    } catch (error) {
      // Not kept: the chosen photo stays in its field, and the inspector is told at once.
      notKept(article, error);
    }
  }

  function showPendingPhoto(article, entry) {
    const link = document.createElement("a");
    link.dataset.pending = entry.key;
    link.className = "pending-photo";
    const img = document.createElement("img");
    outbox.photo(entry).then((blob) => { if (blob) img.src = URL.createObjectURL(blob); });
    img.alt = article.dataset.item;
    link.append(img);
    article.querySelector(".photo-button").before(link);
  }

  function photoSent(article, entry, photo) {
    const link = article.querySelector('a[data-pending="' + entry.key + '"]');
    if (link) {
      link.removeAttribute("data-pending");
      link.className = "";
      link.href = photo.url; link.target = "_blank";
      const img = link.querySelector("img");
      URL.revokeObjectURL(img.src);
      img.src = photo.thumbnail_url;
    }
    waitingFor(entry.item).then((waiting) => { if (!waiting) showState(article, "saved", msg("Saved")); });
  }

  form.querySelectorAll("article.item[data-item]").forEach((article) => {
    article.addEventListener("change", (event) => {
      if (event.target.matches("[data-photo-input]")) { queuePhoto(article, event.target); return; }
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

  // What this device knows beyond the page: answers acknowledged since the page was kept for offline use, then
  // every change still in the outbox, put back on screen; then the outbox is sent.
  async function restoreKept() {
    for (const answer of await outbox.known(inspection)) {
      const article = document.getElementById("item-" + answer.item);
      if (!article || answer.revision <= Number(article.dataset.revision)) continue;
      restore(article, answer.body);
      article.dataset.revision = answer.revision;
      showState(article, "saved", msg("Saved"));
    }
    for (const entry of await outbox.entries(user, inspection)) {
      const article = document.getElementById("item-" + entry.item);
      if (!article) continue;
      if (entry.kind === "photo") showPendingPhoto(article, entry);
      else restore(article, entry.body);
      if (entry.state === "conflict") showConflict(article, entry, entry.current);
      else if (entry.state === "refused") showState(article, "error", msg("Error") + ": " + entry.reason);
      else showState(article, "saving", msg("Saving"));
    }
  }
  restoreKept().then(() => { deviceProgress(); outbox.sync(); });

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
