// The walk's section menu: choosing a section opens it (without script, the section links below the form do).
(function () {
  "use strict";
  document.querySelectorAll(".section-jump select").forEach((select) => {
    select.addEventListener("change", () => {
      if (select.value) location.href = select.value;
    });
  });
})();
