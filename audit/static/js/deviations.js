// The report form, made for a phone and for no signal. The building and place lists show only what lies in the
// chosen area; a fresh form says "seen" now (also when the page is a copy kept by the service worker), the area is
// the one last reported in on this device, and choosing a category shows its urgency. Sending checks on the device
// what the server would refuse (a category, an area, a description, no personal identity number: the rule of
// audit/deviations/identity.py; the server stays the authority) and puts the report, with its photo as a Blob, into
// the outbox (outbox.js), which sends it to POST /api/v1/deviations now or when the connection returns. Without the
// outbox (no script, no IndexedDB) the form posts as it is.
(function () {
  "use strict";
  const area = document.querySelector("[data-area-select]");
  if (!area) return;
  const lists = document.querySelectorAll("[data-filter-by-area]");
  function filter() {
    lists.forEach(function (select) {
      select.querySelectorAll("option[data-area]").forEach(function (option) {
        const hidden = area.value !== "" && option.dataset.area !== area.value;
        option.hidden = hidden;
        option.disabled = hidden;
        if (hidden && option.selected) select.value = "";
      });
    });
  }
  area.addEventListener("change", filter);
  filter();

  const form = document.querySelector("form[data-report-form]");
  const user = document.body.dataset.user;
  if (!form || !user) return;
  const fields = form.elements;
  const queued = document.querySelector("[data-report-queued]");
  const problem = document.querySelector("[data-report-problem]");
  const AREA = "tryggahus:report-area:" + user;

  // A personal identity or co-ordination number: a date (day + 60 for a co-ordination number) and four digits, the
  // last a Luhn check digit. As find_identity_numbers in audit/deviations/identity.py.
  // Written without a lookbehind (older phone browsers have none): the character before is matched instead.
  const CANDIDATE = /(^|[^\d-])((?:\d{2})?\d{6})[-+ ]?(\d{4})(?!\d)/g;
  function luhn(digits) {
    let total = 0;
    for (let index = 0; index < digits.length; index += 1) {
      const product = Number(digits[index]) * (index % 2 === 0 ? 2 : 1);
      total += product > 9 ? product - 9 : product;
    }
    return total % 10 === 0;
  }
  function dateExists(birth) {
    const year = Number(birth.slice(0, -4));
    const month = Number(birth.slice(-4, -2));
    let day = Number(birth.slice(-2));
    if (day > 60) day -= 60;
    const years = birth.length === 8 ? [year] : [1900 + year, 2000 + year];
    return years.some(function (candidate) {
      if (candidate < 1 || month < 1 || month > 12 || day < 1) return false;
      const date = new Date(0);
      date.setUTCFullYear(candidate, month - 1, day);
      return date.getUTCFullYear() === candidate && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
    });
  }
  function identityNumbers(text) {
    return Array.from(text.matchAll(CANDIDATE))
      .filter(function (match) { return dateExists(match[2]) && luhn(match[2].slice(-6) + match[3]); })
      .map(function (match) { return match[0].slice(match[1].length); });
  }
  window.TryggaIdentity = { identityNumbers: identityNumbers };

  function localNow() {
    const now = new Date();
    now.setMinutes(now.getMinutes() - now.getTimezoneOffset());
    return now.toISOString().slice(0, 16);
  }

  function fresh() {
    fields.seen_at.value = localNow();
    let remembered = null;
    try { remembered = localStorage.getItem(AREA); } catch (error) { /* storage off */ }
    if (remembered && area.querySelector('option[value="' + CSS.escape(remembered) + '"]')) area.value = remembered;
    filter();
  }
  if (form.hasAttribute("data-fresh")) fresh();

  form.querySelectorAll('input[name="category"]').forEach(function (choice) {
    choice.addEventListener("change", function () {
      if (choice.checked && choice.dataset.urgency) fields.urgency.value = choice.dataset.urgency;
    });
  });

  // What the server would refuse, as it would say it (the first problem of each field).
  function problems() {
    const found = [];
    if (!form.querySelector('input[name="category"]:checked')) found.push(form.dataset.msgCategory);
    if (!area.value) found.push(form.dataset.msgArea);
    const text = fields.description.value.trim();
    if (!text) found.push(form.dataset.msgDescription);
    else if (identityNumbers(text).length) found.push(form.dataset.msgIdentity);
    if (identityNumbers(fields.place_name.value).length && found.indexOf(form.dataset.msgIdentity) < 0) {
      found.push(form.dataset.msgIdentity);
    }
    return found;
  }

  // The report as the API takes it: every field given, "seen" as an instant.
  function report() {
    const body = {};
    for (const name of ["category", "area_id", "building_id", "place_id", "place_name", "description", "urgency"]) {
      const value = (fields[name].value || "").trim();
      if (value) body[name] = value;
    }
    if (fields.seen_at.value) body.seen_at = new Date(fields.seen_at.value).toISOString();
    return body;
  }

  function say(element, text) {
    element.textContent = text;
    element.hidden = !text;
  }

  const outbox = window.TryggaOutbox;
  if (!outbox || !window.indexedDB) return;
  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    say(queued, "");
    const found = problems();
    say(problem, found.join(" "));
    if (found.length) {
      problem.scrollIntoView({ block: "center" });
      return;
    }
    const photo = fields.photo.files[0] || null;
    let entry;
    try {
      entry = await outbox.addReport(report(), photo, photo ? photo.name : null);
    } catch (error) {
      say(problem, problem.dataset.msgNotKept + " " + (error.message || error));
      return;
    }
    try { localStorage.setItem(AREA, area.value); } catch (error) { /* storage off */ }
    form.reset();
    fresh();
    form.dataset.queued = entry.key;
    say(queued, queued.dataset.msgQueued);
    queued.scrollIntoView({ block: "center" });
    outbox.sync();
  });

  outbox.events.addEventListener("ack", function (event) {
    const entry = event.detail.entry;
    if (entry.kind !== "report" || entry.key !== form.dataset.queued || !event.detail.data.url) return;
    const link = document.createElement("a");
    link.href = event.detail.data.url;
    link.textContent = queued.dataset.msgSent.replace("{number}", event.detail.data.id);
    queued.replaceChildren(link);
    queued.hidden = false;
  });

  // The page is kept for use without signal by the service worker, which sees it pass once it controls the page;
  // opened before the worker took over, the page asks it to keep a copy.
  if ("serviceWorker" in navigator && !navigator.serviceWorker.controller) {
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.active) {
        registration.active.postMessage({ type: "keep", url: location.pathname });
      }
    }).catch(function () { /* no worker: the form works online */ });
  }
})();
