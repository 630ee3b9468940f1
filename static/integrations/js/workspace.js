// Workspace enhancements; every page works without this file.
(function () {
  "use strict";
  // On a phone the incident filters start folded, so the first incident
  // shows on the first screen; they stay open after a mistake in them.
  var panel = document.getElementById("incident-filter-panel");
  if (panel && !panel.hasAttribute("data-keep-open") && window.matchMedia &&
      window.matchMedia("(max-width: 640px)").matches) {
    panel.open = false;
  }
  var all = document.getElementById("select-all");
  if (!all) {
    return;
  }
  all.hidden = false;
  all.addEventListener("change", function () {
    // Read the boxes now: live updates may have added rows.
    document.querySelectorAll("#incident-table input[name=incident]").forEach(function (box) {
      box.checked = all.checked;
    });
  });
})();
