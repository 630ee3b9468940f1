// Workspace enhancements; every page works without this file.
(function () {
  "use strict";
  var all = document.getElementById("select-all");
  if (!all) {
    return;
  }
  var boxes = document.querySelectorAll("#incident-table input[name=incident]");
  all.hidden = false;
  all.addEventListener("change", function () {
    boxes.forEach(function (box) {
      box.checked = all.checked;
    });
  });
})();
