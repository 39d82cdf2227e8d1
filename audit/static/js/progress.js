// Progress and what is missing, counted on the device by the server's rules, from what the page was drawn with and
// every answer and photo this device holds for the inspection: the section pages (walk.js) and the overview
// (submit.js) show them without signal too. The server stays the authority when the inspection is submitted.
//
// `rules` is drawn by the server: {sections: [[key, required item keys, answered item keys]], photos: [[key, test,
// failed, has a photo]]} (audit/inspections/walk.py `progress_rules` and `photo_rules`).
(function () {
  "use strict";
  const outbox = window.TryggaOutbox;
  const given = (part) => part !== null && part !== undefined && part !== "";

  // An applicable, scored item counts once its answer has a judgement (the server then stores a result for it).
  function judged(body) {
    return [body.result, body.value, body.choice].some(given);
  }

  // Whether an answer is not met, by the item's test (fail_test in audit/inspections/scoring.py).
  function fails(test, body) {
    if (body.result === "na") return false;
    if (test[0] === "result") return body.result === "fail";
    if (test[0] === "choices") return test[1].includes(body.choice);
    const raw = given(body.value) ? String(body.value).replace(",", ".").trim() : "";
    if (raw === "" || Number.isNaN(Number(raw))) return false;
    const value = Number(raw);
    return (test[1] !== null && value < test[1]) || (test[2] !== null && value > test[2]);
  }

  async function count(inspection, rules) {
    const answered = new Set(rules.sections.flatMap((rule) => rule[2]));
    const latest = new Map();
    for (const answer of await outbox.known(inspection)) latest.set(answer.item, answer.body);
    const photographed = new Set(await outbox.knownPhotos(inspection));
    for (const entry of await outbox.entries(outbox.currentUser(), inspection)) {
      if (entry.state === "refused") continue;
      if (entry.kind === "answer") latest.set(entry.item, entry.body);
      else if (entry.kind === "photo") photographed.add(entry.item);
    }
    latest.forEach((body, item) => { if (judged(body)) answered.add(item); else answered.delete(item); });
    const sections = rules.sections.map(([key, required]) => ({
      key,
      answered: required.filter((item) => answered.has(item)).length,
      total: required.length,
      unanswered: required.filter((item) => !answered.has(item)),
    }));
    const photosMissing = (rules.photos || [])
      .filter(([key, test, failed, photo]) => (latest.has(key) ? fails(test, latest.get(key)) : failed) && !photo && !photographed.has(key))
      .map((rule) => rule[0]);
    const sum = (name) => sections.reduce((total, section) => total + section[name], 0);
    return {
      sections, answered: sum("answered"), total: sum("total"),
      unanswered: sections.flatMap((section) => section.unanswered), photosMissing,
    };
  }

  // One progress bar (templates/macros.html `progress`).
  function draw(bar, done, total) {
    bar.setAttribute("aria-valuenow", done);
    bar.querySelector(".progress-bar rect").setAttribute("width", total ? (100 * done) / total : 100);
    bar.querySelector(".progress-text").textContent = done + " / " + total;
  }

  window.TryggaProgress = { count, draw };
})();
