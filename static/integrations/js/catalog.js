// Filters the catalog's cards as the admin types; the form still works
// without JavaScript through ?q=.
(function () {
  "use strict";
  var form = document.querySelector("[data-live-filter]");
  if (!form) return;
  var input = form.querySelector("input[type=search]");
  var grid = document.getElementById(form.getAttribute("data-live-filter"));
  var empty = document.getElementById("integration-empty");
  input.addEventListener("input", function () {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    grid.querySelectorAll("[data-search]").forEach(function (card) {
      var text = card.getAttribute("data-search");
      var match = words.every(function (w) { return text.indexOf(w) !== -1; });
      card.hidden = !match;
      if (match) shown += 1;
    });
    if (empty) empty.hidden = shown > 0;
  });
})();
