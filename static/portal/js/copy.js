// Copy buttons: <button data-copy="ID" hidden> copies the value (inputs) or
// the text (code blocks) of element ID. Hidden until this script runs, so a
// page without JavaScript shows no dead button.
(function () {
  "use strict";

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) return;
    var label = button.textContent;
    var text = function () {
      return "value" in field ? field.value : field.textContent.trim();
    };
    var select = function () {
      if (field.select) {
        field.select();
      } else {
        var range = document.createRange();
        range.selectNodeContents(field);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
      }
    };
    button.hidden = false;
    button.addEventListener("click", function () {
      var done = function () {
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = label; }, 1600);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text()).then(done, select);
      } else {
        select();
        if (document.execCommand("copy")) done();
      }
    });
  });
})();
