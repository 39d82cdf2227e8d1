// The inspection's overview for its inspector: progress and what is missing counted on the device (progress.js),
// so they are right without signal too, and "Submit for review" that works offline.
//
// With a connection and nothing of the inspection waiting on the device, the form is posted as it always was (the
// server decides and answers with its page). Otherwise the submission is queued in the outbox after every change
// and photo already there, with its own Idempotency-Key, and sent once each of them has been acknowledged
// (outbox.js); a submission the device already knows to be incomplete is not queued. The server stays the
// authority: a submission it refuses is kept and shown with its reason.
(function () {
  "use strict";
  const panel = document.getElementById("missing");
  const outbox = window.TryggaOutbox;
  if (!panel || !outbox || !panel.dataset.rules) return;
  const inspection = Number(panel.dataset.inspection);
  const rules = JSON.parse(panel.dataset.rules);
  const msg = (name) => panel.dataset["msg" + name];
  const fill = (text, values) => text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? values[name] : whole));
  const form = document.getElementById("submit-form");
  const state = panel.querySelector(".submit-state");
  // The texts of the items the server listed as missing, to name them again when the device lists them.
  const texts = new Map(Array.from(panel.querySelectorAll("li[data-item]"), (line) => [line.dataset.item, line.cloneNode(true)]));
  const listed = (kind) => Array.from(panel.querySelectorAll('[data-missing="' + kind + '"] li[data-item]'), (line) => line.dataset.item).join(" ");
  const fromServer = listed("unanswered");
  let missing = { unanswered: [], photosMissing: [] };

  function say(kind, text) {
    state.dataset.state = kind;
    state.className = "submit-state alert " + (kind === "refused" || kind === "incomplete" || kind === "error" ? "alert-error" : kind === "submitted" ? "alert-success" : "alert-warning");
    state.textContent = text;
    state.hidden = !text;
  }

  function list(block, keys, heading) {
    block.hidden = !keys.length;
    let ul = block.querySelector("ul.missing");
    if (!keys.length) { if (ul) ul.remove(); return; }
    if (!ul) { ul = document.createElement("ul"); ul.className = "missing"; block.append(ul); }
    if (heading) block.querySelector("p").textContent = heading;
    ul.replaceChildren(...keys.map((key) => {
      if (texts.has(key)) return texts.get(key).cloneNode(true);
      const line = document.createElement("li");
      line.dataset.item = key;
      const link = document.createElement("a");
      link.href = "/inspections/" + inspection + "/sections/" + key.split("-")[0] + "#item-" + key;
      link.textContent = key;
      line.append(link);
      return line;
    }));
  }

  async function recount() {
    const progress = await window.TryggaProgress.count(inspection, rules);
    const whole = document.querySelector(".overview-progress .progress");
    if (whole) window.TryggaProgress.draw(whole, progress.answered, progress.total);
    progress.sections.forEach((section) => {
      const bar = document.querySelector('a.section-link[data-section="' + section.key + '"] .progress');
      if (bar) window.TryggaProgress.draw(bar, section.answered, section.total);
    });
    missing = progress;
    const unanswered = panel.querySelector('[data-missing="unanswered"]');
    // The server's heading while the device knows no better; the device's own (with the count) otherwise.
    const same = progress.unanswered.join(" ") === fromServer;
    list(unanswered, progress.unanswered, same ? null : fill(msg("Unanswered"), { count: progress.unanswered.length }));
    list(panel.querySelector('[data-missing="photos"]'), progress.photosMissing);
    panel.querySelector('[data-missing="none"]').hidden = Boolean(progress.unanswered.length || progress.photosMissing.length);
    await showQueued();
  }

  // What became of a submission queued on this device.
  async function showQueued() {
    const all = await outbox.entries(outbox.currentUser());
    const entry = all.find((candidate) => candidate.kind === "submit" && candidate.inspection === inspection);
    form.hidden = Boolean(entry && entry.state === "waiting");
    if (!entry) { if (state.dataset.state !== "submitted" && state.dataset.state !== "incomplete") say("", ""); return; }
    if (entry.state === "refused" || entry.state === "conflict") say("refused", msg("Refused") + " " + (entry.reason || ""));
    else if (outbox.heldBack(entry, all) && all.some((other) => other.inspection === inspection && other.state !== "waiting")) say("held", msg("Held"));
    else if (state.dataset.state !== "queued") say("queued", msg("Waiting")); // keeps "queued after N changes"
  }

  function submitted() {
    form.hidden = true;
    say("submitted", msg("Submitted"));
    const badge = document.querySelector(".page-head h1 .badge");
    if (badge) { badge.className = "badge badge-submitted"; badge.textContent = panel.dataset.statusSubmitted; }
    // The copy kept for offline use is drawn anew from the server (sw.js keeps what the network answers).
    fetch(location.pathname, { credentials: "same-origin" }).catch(() => null);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const queued = (await outbox.entries(outbox.currentUser(), inspection)).length;
      // The online path as it always was: the server's page answers (with a fresh CSRF token in the form).
      if (!queued && (await outbox.reachable())) { form.submit(); return; }
      await recount();
      if (missing.unanswered.length || missing.photosMissing.length) {
        say("incomplete", msg("Incomplete"));
        panel.scrollIntoView();
        return;
      }
      try {
        await outbox.addSubmit(inspection);
      } catch (error) {
        say("error", msg("NotKept") + " " + ((error && error.message) || error));
        return;
      }
      say("queued", fill(msg("Queued"), { count: queued }));
      outbox.sync(true);
    } finally {
      button.disabled = false;
    }
  });

  outbox.events.addEventListener("ack", (event) => {
    const entry = event.detail.entry;
    if (entry.kind === "submit" && entry.inspection === inspection) submitted();
  });
  outbox.events.addEventListener("change", () => { if (state.dataset.state !== "submitted") recount(); });
  recount();
})();
