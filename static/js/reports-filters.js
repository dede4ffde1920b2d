/* Report filters: keep the address short (empty fields are left out of the query string, so a bookmarked
 * view reads well), grey out the filters that cannot be combined with those chosen and, on the intersections
 * page, let no more than three dimensions be ticked; the server refuses either with an explanation anyway. */
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

  // Filters that cannot be combined (indicators/forms.py, ReportFilterForm.grey_out_incompatible; the rule is
  // the selectors', sent as the combinations allowed): when a filter changes, grey out the choices of every
  // other filter that could not be added, with the reason next to it. The server refuses such a combination
  // anyway; this only says so before it is chosen.
  var filterForm = document.querySelector("form[data-combinations]");
  if (filterForm) {
    var rule = JSON.parse(filterForm.getAttribute("data-combinations"));
    var allowed = {};
    rule.allowed.forEach(function (key) {
      allowed[key] = true;
    });
    var fields = {};
    rule.filters.forEach(function (name) {
      var select = filterForm.querySelector("select[name='" + name + "']");
      if (select) {
        fields[name] = select;
      }
    });
    var keyOf = function (names) {
      return names.slice().sort().join("|");
    };
    var labelOf = function (name) {
      var label = filterForm.querySelector("label[for='" + fields[name].id + "']");
      return label ? label.textContent.trim() : name;
    };
    var reasonFor = function (name, chosen) {
      var others = chosen.filter(function (c) {
        return c !== name;
      });
      if (!others.length || allowed[keyOf(others.concat([name]))]) {
        return "";
      }
      if (others.length >= rule.max) {
        return rule.too_many;
      }
      var blocking = others.filter(function (c) {
        return !allowed[keyOf([c, name])];
      });
      return rule["with"].replace("%(filters)s", (blocking.length ? blocking : others).map(labelOf).join(", "));
    };
    var reasonElement = function (select) {
      var id = select.id + "_helptext";
      var element = document.getElementById(id);
      if (!element) {
        element = document.createElement("div");
        element.id = id;
        element.className = "form-text";
        select.parentNode.appendChild(element);
      }
      return element;
    };
    var regrey = function () {
      var chosen = Object.keys(fields).filter(function (name) {
        return fields[name].value;
      });
      Object.keys(fields).forEach(function (name) {
        var select = fields[name];
        var reason = chosen.indexOf(name) >= 0 ? "" : reasonFor(name, chosen);
        Array.prototype.forEach.call(select.options, function (option) {
          option.disabled = Boolean(reason) && option.value !== "";
        });
        var element = document.getElementById(select.id + "_helptext");
        if (reason) {
          element = reasonElement(select);
          element.textContent = reason;
          element.classList.remove("d-none");
          select.setAttribute("aria-describedby", element.id);
          select.setAttribute("data-greyed", "true");
        } else {
          if (element) {
            element.textContent = "";
            element.classList.add("d-none");
          }
          if (select.getAttribute("aria-describedby") === select.id + "_helptext") {
            select.removeAttribute("aria-describedby");
          }
          select.removeAttribute("data-greyed");
        }
      });
    };
    Object.keys(fields).forEach(function (name) {
      fields[name].addEventListener("change", regrey);
    });
    regrey();
  }

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
