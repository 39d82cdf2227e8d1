// Batch printing: poll the job's progress until it has finished, then offer the download.
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
    if (state.status === "finished") status.textContent = texts.finished;
    if (state.status === "failed") status.textContent = texts.failed;
    if (state.status === "stalled") status.textContent = texts.stalled;
    if (state.download) {
      download.querySelector("a").href = state.download;
      download.hidden = false;
    }
    return state.status === "finished" || state.status === "failed" || state.status === "stalled";
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (state) { if (!show(state)) setTimeout(poll, 700); })
      .catch(function () { setTimeout(poll, 3000); });
  }

  if (panel.dataset.status === "queued" || panel.dataset.status === "running") poll();
})();
