/* The estimation page: draws the chart of detected persons and estimated totals (Chart.js 4 from static/vendor,
 * data in the canvas's data-estimation-chart attribute, already reduced to what the user may see), and polls a
 * running estimation's progress, reloading the page when it has finished. No inline script (CSP). */
(function () {
  "use strict";

  var COLOURS = { detected: "#0072B2", interval: "rgba(230, 159, 0, 0.45)", estimate: "#D55E00" };

  function drawChart(canvas) {
    if (typeof Chart === "undefined") {
      return;
    }
    var data = JSON.parse(canvas.getAttribute("data-estimation-chart"));
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: data.names.detected, data: data.detected, backgroundColor: COLOURS.detected, order: 3 },
          {
            label: data.names.interval,
            data: data.interval,
            backgroundColor: COLOURS.interval,
            borderColor: "#E69F00",
            borderWidth: 1,
            order: 2,
          },
          {
            type: "line",
            label: data.names.estimate,
            data: data.estimate,
            showLine: false,
            pointRadius: 6,
            pointStyle: "circle",
            backgroundColor: COLOURS.estimate,
            borderColor: COLOURS.estimate,
            order: 1,
          },
        ],
      },
      options: {
        locale: document.documentElement.lang || "es",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: { x: { stacked: false }, y: { beginAtZero: true } },
        plugins: {
          legend: { position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (context) {
                var raw = context.raw;
                if (Array.isArray(raw)) {
                  return context.dataset.label + ": " + raw[0] + " – " + raw[1];
                }
                return context.dataset.label + ": " + (raw === null ? "—" : raw);
              },
            },
          },
        },
      },
    });
  }

  function pollProgress(box) {
    var url = box.getAttribute("data-progress-url");
    var bar = box.querySelector(".progress-bar");
    var holder = box.querySelector(".progress");
    function show(percent) {
      bar.style.width = percent + "%";
      bar.textContent = percent + "%";
      holder.setAttribute("aria-valuenow", String(percent));
    }
    show(parseInt(bar.getAttribute("data-progress") || "0", 10));
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(function (state) {
          if (!state) {
            return;
          }
          show(state.progress);
          if (state.finished) {
            window.location.reload();
          } else {
            window.setTimeout(tick, 2000);
          }
        })
        .catch(function () {
          window.setTimeout(tick, 5000);
        });
    }
    window.setTimeout(tick, 2000);
  }

  document.querySelectorAll("canvas[data-estimation-chart]").forEach(drawChart);
  document.querySelectorAll("[data-progress-url]").forEach(pollProgress);
})();
