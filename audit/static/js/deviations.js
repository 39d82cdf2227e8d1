// The report form: the building and place lists show only what lies in the chosen area.
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
})();
