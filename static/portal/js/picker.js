// Searchable pickers: every <select data-picker> gets a box above it that
// narrows its options to those whose name contains what is typed. The
// select stays the form's field, so without this file it still works.
(function () {
  "use strict";

  function labelOf(select) {
    var label = select.id && document.querySelector("label[for='" + select.id + "']");
    return label ? label.textContent.trim() : select.name;
  }

  function enhance(select, index) {
    var box = document.createElement("input");
    box.type = "search";
    box.className = "picker-filter";
    box.autocomplete = "off";
    box.id = (select.id || "picker-" + index) + "-filter";
    box.placeholder = select.dataset.pickerPlaceholder || "Type to filter";
    box.setAttribute("aria-label", (select.dataset.pickerLabel || "Filter") + " " + labelOf(select));
    if (select.id) {
      box.setAttribute("aria-controls", select.id);
    }
    select.parentNode.insertBefore(box, select);
    select.classList.add("picker-select");
    box.addEventListener("input", function () {
      var words = box.value.trim().toLowerCase();
      var matches = [];
      Array.prototype.forEach.call(select.options, function (option) {
        var blank = option.value === "";
        var show = !words || blank || option.textContent.toLowerCase().indexOf(words) !== -1;
        option.hidden = !show;
        if (show && !blank) {
          matches.push(option);
        }
      });
      // One name left in a single choice: pick it, as a combobox would.
      if (!select.multiple && words && matches.length === 1 && !matches[0].selected) {
        matches[0].selected = true;
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("select[data-picker]"), enhance);
})();
