// Keep "Selected Permission Scope" in step with the Read/Write checkboxes,
// in the table's order, as PagerDuty's registration page does, and show
// only the permission fields of the chosen authorization type.
(function () {
  "use strict";
  var form = document.getElementById("configure-form");
  var field = document.getElementById("selected-scope");
  if (!form || !field) {
    return;
  }
  function update() {
    var boxes = form.querySelectorAll("input[name=scope]");
    var chosen = [];
    boxes.forEach(function (box) {
      if (box.checked) {
        chosen.push(box.value);
      }
    });
    field.value = chosen.join(" ");
    var type = form.querySelector("input[name=oauth_type]:checked");
    form.querySelectorAll("[data-oauth-type]").forEach(function (set) {
      set.hidden = type !== null && set.getAttribute("data-oauth-type") !== type.value;
    });
  }
  form.addEventListener("change", update);
  update();
})();
