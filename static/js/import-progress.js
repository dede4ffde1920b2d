// Progress of an import running in the background: polls the job's progress URL, so a reloaded page picks up
// where the task is. Reloads when the job stops running, to show its counts or errors.
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box) { return; }
  var url = box.dataset.progressUrl;
  var bar = document.getElementById("import-progress-bar");
  var text = document.getElementById("import-progress-text");
  var label = document.getElementById("import-progress-label");
  var wrapper = bar.parentElement;
  var phase = document.getElementById("import-progress-phase");

  // A step with no rows to count (waiting, saving, recomputing) is a full, moving bar: the job is alive.
  function show(done, total, uncounted) {
    var percent = total > 0 ? Math.min(100, Math.round((100 * done) / total)) : 0;
    bar.style.width = (uncounted ? 100 : percent) + "%";
    bar.classList.toggle("progress-bar-striped", uncounted);
    bar.classList.toggle("progress-bar-animated", uncounted);
    wrapper.setAttribute("aria-valuenow", String(done));
    wrapper.setAttribute("aria-valuemax", String(total));
    if (label) {
      text.textContent = label.innerHTML.replace("__done__", done).replace("__total__", total);
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        show(data.done, data.total, Boolean(data.uncounted));
        if (phase && data.phase_label) {
          phase.textContent = data.phase_label;
          phase.dataset.phase = data.phase;
        }
        document.getElementById("import-status").textContent = data.status_label;
        if (data.running) { window.setTimeout(poll, 1500); } else { window.location.reload(); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }

  show(Number(bar.dataset.done || 0), Number(bar.dataset.total || 0), Boolean(bar.dataset.uncounted));
  poll();
})();
