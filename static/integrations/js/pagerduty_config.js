// Enhancements for the PagerDuty page; every form works without them.
(function () {
  "use strict";

  // Selected Permission Scope: space-separated, in PagerDuty's order.
  var output = document.getElementById("selected-scope");
  var boxes = Array.prototype.slice.call(
    document.querySelectorAll("input[type=checkbox][name=scopes]")
  );
  function refresh() {
    if (!output) return;
    var chosen = {};
    boxes.forEach(function (box) { if (box.checked) chosen[box.value] = true; });
    output.value = output.getAttribute("data-scope-order").split(" ")
      .filter(function (scope) { return chosen[scope]; }).join(" ");
  }
  boxes.forEach(function (box) { box.addEventListener("change", refresh); });
  document.querySelectorAll("[data-presets]").forEach(function (group) {
    group.hidden = false;
  });
  document.querySelectorAll("[data-preset]").forEach(function (button) {
    button.addEventListener("click", function () {
      var wanted = button.getAttribute("data-preset").split(" ");
      boxes.forEach(function (box) { box.checked = wanted.indexOf(box.value) !== -1; });
      refresh();
    });
  });
  refresh();

  // The Client ID confirmation shows only once the Client ID is edited.
  var confirm = document.getElementById("client-id-confirm");
  var clientId = document.getElementById("id_client_id");
  if (confirm && clientId && !confirm.classList.contains("field-invalid")) {
    var original = confirm.getAttribute("data-original-client-id");
    var toggle = function () { confirm.hidden = clientId.value.trim() === original; };
    clientId.addEventListener("input", toggle);
    toggle();
  }
  // Save with a new Client ID waits for the confirmation, so nothing typed
  // (the new secret included) is sent back unconfirmed and lost.
  var box = confirm && confirm.querySelector("input[type=checkbox]");
  var needed = document.getElementById("client-id-confirm-needed");
  if (box && clientId && clientId.form) {
    clientId.form.addEventListener("submit", function (event) {
      var original = confirm.getAttribute("data-original-client-id");
      if (clientId.value.trim() !== original && !box.checked) {
        event.preventDefault();
        confirm.hidden = false;
        confirm.classList.add("field-invalid");
        if (needed) needed.hidden = false;
        box.focus();
      }
    });
    box.addEventListener("change", function () {
      if (box.checked && needed) needed.hidden = true;
    });
  }
})();

// Scoped or Classic: show only the chosen type's permission fields.
(function () {
  "use strict";
  var types = document.querySelectorAll("input[name=app_type]");
  function show() {
    var chosen = document.querySelector("input[name=app_type]:checked");
    if (!chosen) return;
    document.querySelectorAll("[data-app-type]").forEach(function (part) {
      part.hidden = part.getAttribute("data-app-type") !== chosen.value;
    });
  }
  types.forEach(function (radio) { radio.addEventListener("change", show); });
  show();
})();
