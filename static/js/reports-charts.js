/* Draws the report charts from the portal's chart-data views (JSON, already under disclosure control).
 *
 * A chart is a <canvas data-chart-url="..." data-chart-kind="bar|line|matrix|sankey|choropleth"> placed by
 * the template; this file fetches its data and draws it with Chart.js 4 and the matrix, sankey and geo plugins
 * served from static/vendor (no CDN, no inline script: CSP script-src 'self').
 * Hidden values arrive as null with their display text ("<5", "x"), which the tooltips show as they are.
 * A button with data-download-chart="<canvas id>" saves that canvas as a PNG.
 */
(function () {
  "use strict";

  if (typeof Chart === "undefined") {
    return;
  }
  if (typeof ChartGeo !== "undefined") {
    Chart.register(ChartGeo.ChoroplethController, ChartGeo.GeoFeature, ChartGeo.ColorScale, ChartGeo.ProjectionScale);
  }

  // Colour-blind-safe palette (Okabe-Ito), in a fixed order so a category keeps its colour across pages.
  var PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"];
  var HIDDEN_COLOUR = "#d9d9d9";

  // A white background under every chart, so a downloaded PNG is not transparent.
  var whiteBackground = {
    id: "whiteBackground",
    beforeDraw: function (chart) {
      var ctx = chart.canvas.getContext("2d");
      ctx.save();
      ctx.globalCompositeOperation = "destination-over";
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(0, 0, chart.width, chart.height);
      ctx.restore();
    },
  };

  function text(canvas, name, fallback) {
    return canvas.getAttribute("data-" + name) || fallback;
  }

  function showMessage(canvas, message) {
    var note = document.createElement("p");
    note.className = "text-muted small chart-message";
    note.textContent = message;
    canvas.parentNode.insertBefore(note, canvas.nextSibling);
  }

  function displayOf(dataset, index) {
    var shown = dataset.display && dataset.display[index];
    if (shown !== undefined && shown !== null) {
      return shown;
    }
    var value = dataset.data[index];
    return value === null || value === undefined ? "—" : String(value);
  }

  function barOrLine(canvas, payload, kind) {
    var horizontal = canvas.getAttribute("data-horizontal") === "true";
    var stacked = canvas.getAttribute("data-stacked") === "true";
    var datasets = payload.datasets.map(function (dataset, i) {
      var colour = PALETTE[i % PALETTE.length];
      return {
        label: dataset.label,
        data: dataset.data,
        display: dataset.display,
        backgroundColor: colour,
        borderColor: colour,
        spanGaps: false,
        tension: 0.2,
      };
    });
    return new Chart(canvas, {
      type: kind,
      data: { labels: payload.labels, datasets: datasets },
      plugins: [whiteBackground],
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: {
          x: { stacked: stacked, beginAtZero: true, ticks: { precision: 0 } },
          y: { stacked: stacked, beginAtZero: true, ticks: { precision: 0 } },
        },
        plugins: {
          legend: { display: datasets.length > 1 },
          tooltip: {
            callbacks: {
              label: function (item) {
                return item.dataset.label + ": " + displayOf(item.dataset, item.dataIndex);
              },
            },
          },
        },
      },
    });
  }

  function matrix(canvas, payload) {
    var max = 0;
    payload.cells.forEach(function (cell) {
      if (cell.v !== null && cell.v > max) {
        max = cell.v;
      }
    });
    var nx = payload.x_labels.length;
    var ny = payload.y_labels.length;
    return new Chart(canvas, {
      type: "matrix",
      data: {
        datasets: [
          {
            label: payload.title || "",
            data: payload.cells,
            backgroundColor: function (context) {
              var cell = context.dataset.data[context.dataIndex];
              if (!cell || cell.v === null) {
                return HIDDEN_COLOUR;
              }
              var alpha = max ? 0.12 + 0.88 * (cell.v / max) : 0.12;
              return "rgba(0, 114, 178, " + alpha.toFixed(3) + ")";
            },
            borderColor: "#ffffff",
            borderWidth: 1,
            width: function (context) {
              var area = context.chart.chartArea;
              return area ? area.width / nx - 1 : 10;
            },
            height: function (context) {
              var area = context.chart.chartArea;
              return area ? area.height / ny - 1 : 10;
            },
          },
        ],
      },
      plugins: [whiteBackground],
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: function () {
                return "";
              },
              label: function (item) {
                var cell = item.dataset.data[item.dataIndex];
                return cell.y + " × " + cell.x + ": " + cell.display;
              },
            },
          },
        },
        scales: {
          x: { type: "category", labels: payload.x_labels, offset: true, grid: { display: false }, ticks: { autoSkip: false, maxRotation: 60 } },
          y: { type: "category", labels: payload.y_labels, offset: true, grid: { display: false }, ticks: { autoSkip: false } },
        },
      },
    });
  }

  function sankey(canvas, payload) {
    var colours = {};
    var next = 0;
    payload.flows.forEach(function (flow) {
      if (!(flow.from in colours)) {
        colours[flow.from] = PALETTE[next++ % PALETTE.length];
      }
    });
    return new Chart(canvas, {
      type: "sankey",
      data: {
        datasets: [
          {
            label: payload.title || "",
            data: payload.flows,
            colorFrom: function (context) {
              var flow = context.dataset.data[context.dataIndex];
              return flow ? colours[flow.from] : PALETTE[0];
            },
            colorTo: function (context) {
              var flow = context.dataset.data[context.dataIndex];
              return flow ? colours[flow.from] : PALETTE[0];
            },
            colorMode: "from",
            labels: payload.labels || {},
          },
        ],
      },
      plugins: [whiteBackground],
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (item) {
                var flow = item.dataset.data[item.dataIndex];
                var labels = payload.labels || {};
                return (labels[flow.from] || flow.from) + " → " + (labels[flow.to] || flow.to) + ": " + flow.display;
              },
            },
          },
        },
      },
    });
  }

  function choropleth(canvas, payload) {
    return fetch(payload.geojson_url, { credentials: "same-origin" })
      .then(function (response) {
        return response.json();
      })
      .then(function (geojson) {
        var features = geojson.features;
        var data = features.map(function (feature) {
          var code = String(feature.properties[payload.code_property]);
          var area = payload.areas[code] || { value: null, display: "—", label: code };
          return { feature: feature, value: area.value, display: area.display, name: area.label };
        });
        return new Chart(canvas, {
          type: "choropleth",
          data: {
            labels: data.map(function (d) {
              return d.name;
            }),
            datasets: [{ label: payload.title || "", outline: features, data: data, borderColor: "#6c757d", borderWidth: 0.5 }],
          },
          plugins: [whiteBackground],
          options: {
            responsive: true,
            maintainAspectRatio: false,
            animation: false,
            showOutline: true,
            plugins: {
              legend: { display: false },
              tooltip: {
                callbacks: {
                  label: function (item) {
                    var d = item.dataset.data[item.dataIndex];
                    return d.name + ": " + d.display;
                  },
                },
              },
            },
            scales: {
              projection: { axis: "x", projection: "mercator" },
              color: {
                axis: "x",
                interpolate: "blues",
                missing: HIDDEN_COLOUR,
                legend: { position: "bottom-right", align: "right" },
              },
            },
          },
        });
      });
  }

  function draw(canvas) {
    var url = canvas.getAttribute("data-chart-url");
    var kind = text(canvas, "chart-kind", "bar");
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (payload) {
        var empty =
          (payload.datasets && payload.labels && payload.labels.length === 0) ||
          (payload.cells && payload.cells.length === 0) ||
          (payload.flows && payload.flows.length === 0);
        if (empty) {
          showMessage(canvas, text(canvas, "empty-message", "No data"));
          canvas.classList.add("d-none");
          return null;
        }
        if (kind === "matrix") {
          return matrix(canvas, payload);
        }
        if (kind === "sankey") {
          return sankey(canvas, payload);
        }
        if (kind === "choropleth") {
          return choropleth(canvas, payload);
        }
        return barOrLine(canvas, payload, kind);
      })
      .then(function () {
        canvas.setAttribute("data-chart-ready", "true");
      })
      .catch(function () {
        showMessage(canvas, text(canvas, "error-message", "The chart could not be loaded."));
        canvas.setAttribute("data-chart-ready", "error");
      });
  }

  function downloadPng(button) {
    var canvas = document.getElementById(button.getAttribute("data-download-chart"));
    if (!canvas) {
      return;
    }
    var link = document.createElement("a");
    link.href = canvas.toDataURL("image/png");
    link.download = (button.getAttribute("data-filename") || canvas.id) + ".png";
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  // One chart at a time, top to bottom: the first charts appear first and the server gets one request per
  // page at a time rather than a burst.
  Array.prototype.reduce.call(
    document.querySelectorAll("canvas[data-chart-url]"),
    function (previous, canvas) {
      return previous.then(function () {
        return draw(canvas);
      });
    },
    Promise.resolve()
  );
  document.querySelectorAll("[data-download-chart]").forEach(function (button) {
    button.addEventListener("click", function () {
      downloadPng(button);
    });
  });
})();
