// Batch printing: poll the job's progress (kept in its row, so any server answers) until it has ended.
(function () {
  "use strict";
  const panel = document.getElementById("batch");
  if (!panel) return;
  const url = panel.dataset.progressUrl;
  const texts = document.getElementById("batch-texts").dataset;
  const bar = panel.querySelector(".progress");
  const fill = panel.querySelector(".progress-bar rect");
  const count = panel.querySelector(".progress-text");
  const status = document.getElementById("batch-status");
  const download = document.getElementById("batch-download");
  const errors = document.getElementById("batch-errors");
  const failure = document.getElementById("batch-failure");

  function statusText(state) {
    if (state.status === "running" && state.attempt > 1) {
      return texts.retrying.replace("{attempt}", state.attempt).replace("{max}", state.max_attempts);
    }
    return texts[state.status] || "";
  }

  function show(state) {
    const percent = state.total ? Math.round((100 * state.done) / state.total) : 100;
    fill.setAttribute("width", percent);
    count.textContent = state.done + " / " + state.total;
    bar.setAttribute("aria-valuenow", state.done);
    bar.setAttribute("aria-valuemax", state.total);
    if (state.errors.length) {
      const list = errors.querySelector("ul");
      list.replaceChildren(...state.errors.map(function (error) {
        const item = document.createElement("li");
        item.textContent = (error.number + " " + error.error).trim();
        return item;
      }));
      errors.hidden = false;
    }
    status.textContent = statusText(state);
    if (state.failure) {
      failure.textContent = state.failure;
      failure.hidden = false;
    }
    if (state.download) {
      download.querySelector("a").href = state.download;
      download.hidden = false;
    }
    return state.status === "finished" || state.status === "failed";
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (state) { if (!show(state)) setTimeout(poll, 700); })
      .catch(function () { setTimeout(poll, 3000); });
  }

  if (panel.dataset.status === "queued" || panel.dataset.status === "running") poll();
})();
