/* Report filters: keep the address short (empty fields are left out of the query string, so a bookmarked
 * view reads well) and, on the intersections page, let no more than three dimensions be ticked; the server
 * refuses a fourth with an explanation either way. */
(function () {
  "use strict";

  document.querySelectorAll("form[method='get']").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("input, select").forEach(function (field) {
        if (field.name && !field.value && field.type !== "checkbox") {
          field.disabled = true;
        }
      });
    });
  });

  var picker = document.querySelector("[data-max-dimensions]");
  if (!picker) {
    return;
  }
  var max = parseInt(picker.getAttribute("data-max-dimensions"), 10);
  var boxes = picker.querySelectorAll("input[type='checkbox']");
  var hint = document.getElementById(picker.getAttribute("data-hint"));

  function update() {
    var ticked = Array.prototype.filter.call(boxes, function (box) {
      return box.checked;
    }).length;
    boxes.forEach(function (box) {
      box.disabled = !box.checked && ticked >= max;
    });
    if (hint) {
      hint.classList.toggle("d-none", ticked < max);
    }
  }

  boxes.forEach(function (box) {
    box.addEventListener("change", update);
  });
  update();
})();
