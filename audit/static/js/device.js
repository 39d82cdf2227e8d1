// The page "On this device": every inspection this device keeps for use without signal (when it was downloaded,
// its size, its changes not yet sent), their total, the browser's storage figures, and removing one. Removing
// never removes queued changes: with some unsent, the inspector is asked first, and they stay to be sent.
(function () {
  "use strict";
  const panel = document.getElementById("device");
  const device = window.TryggaDevice;
  if (!panel || !device) return;
  const msg = (name) => panel.dataset["msg" + name];
  const { fill, size } = device;
  const rows = panel.querySelector(".device-list tbody");
  const template = document.getElementById("device-row");
  const lang = document.documentElement.lang;

  async function show() {
    const kept = await device.held();
    const lines = [];
    for (const meta of kept) {
      const row = template.content.firstElementChild.cloneNode(true);
      row.dataset.inspection = meta.inspection;
      const link = row.querySelector(".device-inspection");
      link.href = "/inspections/" + meta.inspection;
      link.textContent = meta.title || "#" + meta.inspection;
      row.querySelector(".device-when").textContent = new Date(meta.at).toLocaleString(lang);
      row.querySelector(".device-size").textContent = size(meta.bytes);
      const unsent = await device.unsent(meta.inspection);
      row.dataset.unsent = String(unsent);
      row.querySelector(".device-unsent").textContent = unsent ? fill(msg("Unsent"), { count: unsent }) : msg("AllSent");
      row.querySelector(".device-remove").addEventListener("click", async () => {
        if (await device.removeHeld(meta.inspection, msg("RemoveUnsent"))) show();
      });
      lines.push(row);
    }
    rows.replaceChildren(...lines);
    panel.querySelector(".device-list").hidden = !kept.length;
    panel.querySelector(".device-empty").hidden = Boolean(kept.length);
    const bytes = kept.reduce((total, meta) => total + meta.bytes, 0);
    panel.querySelector(".device-total").textContent = kept.length ? fill(msg("Total"), { size: size(bytes) }) : "";
    const storage = await device.estimate();
    panel.querySelector(".device-storage").textContent = storage && storage.quota
      ? fill(msg("Storage"), { used: size(storage.usage), quota: size(storage.quota), percent: Math.round(100 * storage.full) })
      : msg("NoEstimate");
    panel.querySelector(".device-warning").hidden = !storage || storage.full <= device.NEARLY_FULL;
    panel.querySelector(".device-warning").textContent = msg("NearlyFull");
    panel.dataset.state = "ready";
  }

  window.TryggaOutbox.events.addEventListener("change", show);
  show();
})();
