// Province -> canton -> district selects that narrow as the officer picks. Without JavaScript the form still
// works: the "update the lists" buttons re-render it on the server; this script hides them and asks the server
// for the options instead (JSON from records:cantons_for_province / records:districts_for_canton).
(function () {
  "use strict";
  var form = document.getElementById("application-form");
  if (!form) { return; }
  form.querySelectorAll(".js-hide").forEach(function (el) { el.hidden = true; });

  function fill(select, options) {
    var keep = select.value;
    select.innerHTML = "";
    var blank = document.createElement("option");
    blank.value = "";
    blank.textContent = "---------";
    select.appendChild(blank);
    var groups = {};
    options.forEach(function (o) {
      if (!o.value) { return; }
      var parent = select;
      if (o.group) {
        if (!groups[o.group]) {
          groups[o.group] = document.createElement("optgroup");
          groups[o.group].label = o.group;
          select.appendChild(groups[o.group]);
        }
        parent = groups[o.group];
      }
      var option = document.createElement("option");
      option.value = o.value;
      option.textContent = o.label;
      if (o.value === keep) { option.selected = true; }
      parent.appendChild(option);
    });
  }

  function load(url, params, select) {
    var query = new URLSearchParams(params).toString();
    return fetch(url + "?" + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { options: [] }; })
      .then(function (data) { fill(select, data.options); });
  }

  form.querySelectorAll("select[data-geo-province]").forEach(function (province) {
    var canton = document.getElementById("id_" + province.dataset.geoProvince);
    var district = document.getElementById("id_" + canton.dataset.geoTarget);
    province.addEventListener("change", function () {
      canton.value = "";
      load(form.dataset.cantonsUrl, { province: province.value }, canton);
      district.value = "";
      load(form.dataset.districtsUrl, { province: province.value }, district);
    });
    canton.addEventListener("change", function () {
      district.value = "";
      load(form.dataset.districtsUrl, { canton: canton.value, province: province.value }, district);
    });
  });
})();
