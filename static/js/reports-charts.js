/* Draws the report charts from the portal's chart-data views (JSON, already under disclosure control).
 *
 * A chart is a <canvas data-chart-url="..." data-chart-kind="bar|line|matrix|sankey|choropleth"> placed by
 * the template; this file fetches its data and draws it with Chart.js 4 and the matrix, sankey and geo plugins
 * served from static/vendor (no CDN, no inline script: CSP script-src 'self').
 * Hidden values arrive as null with their display text ("<5"), which the tooltips show as they are; bar and
 * line charts draw them as hatched marks labelled "<5", with a legend entry, never as a bar or point at 0.
 * A button with data-download-chart="<canvas id>" saves that canvas as a PNG, with the chart's title, measure,
 * years, filters, protection, data date and source (the payload's "about") written above and below it.
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
  var ROLLED_UP_BORDER = "#212529";

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

  // Drill-down: a value with an address (built by the server, indicators/drilldown.py) opens it on click; the
  // table beside the chart holds the same addresses as links, for the keyboard.
  function follow(url) {
    if (url) {
      window.location.assign(url);
    }
  }

  function pointerWhen(chart, url) {
    chart.canvas.classList.toggle("chart-pointer", Boolean(url));
  }

  function linkAt(chart, event, linkOf) {
    var elements = chart.getElementsAtEventForMode(event, "nearest", { intersect: true }, false);
    if (elements.length) {
      return linkOf(elements[0].datasetIndex, elements[0].index);
    }
    // A hidden value has no bar of its own: its hatched mark stands in for it.
    var x = event.x;
    var y = event.y;
    var marks = chart.hiddenMarks || [];
    for (var i = 0; i < marks.length; i++) {
      var m = marks[i];
      if (x >= m.left && x <= m.left + m.width && y >= m.top && y <= m.top + m.height) {
        return linkOf(m.datasetIndex, m.index);
      }
    }
    return null;
  }

  function displayOf(dataset, index) {
    var shown = dataset.display && dataset.display[index];
    if (shown !== undefined && shown !== null) {
      return shown;
    }
    var value = dataset.data[index];
    return value === null || value === undefined ? "—" : String(value);
  }

  // A value shown as "<k" arrives as null with its display text. It is never drawn as 0: a hatched mark
  // reaching up to k-1 stands in its place, labelled "<k", with a legend entry that says what it means.
  function isHidden(dataset, index) {
    var value = dataset.data[index];
    var shown = dataset.display && dataset.display[index];
    return (value === null || value === undefined) && typeof shown === "string" && shown.charAt(0) === "<";
  }

  function anyHidden(datasets) {
    return datasets.some(function (dataset) {
      return dataset.data.some(function (_value, index) {
        return isHidden(dataset, index);
      });
    });
  }

  function hatch(ctx, colour) {
    var tile = document.createElement("canvas");
    tile.width = 8;
    tile.height = 8;
    var t = tile.getContext("2d");
    t.fillStyle = "#ffffff";
    t.fillRect(0, 0, 8, 8);
    t.strokeStyle = colour;
    t.lineWidth = 1.5;
    t.beginPath();
    t.moveTo(0, 8);
    t.lineTo(8, 0);
    t.moveTo(-2, 2);
    t.lineTo(2, -2);
    t.moveTo(6, 10);
    t.lineTo(10, 6);
    t.stroke();
    return ctx.createPattern(tile, "repeat");
  }

  var MIN_MARK = 10;

  function hiddenMarks(k) {
    return {
      id: "hiddenMarks",
      afterDatasetsDraw: function (chart) {
        var ctx = chart.ctx;
        var horizontal = chart.options.indexAxis === "y";
        var valueScale = horizontal ? chart.scales.x : chart.scales.y;
        var zero = valueScale.getPixelForValue(0);
        var upTo = Math.abs(valueScale.getPixelForValue(k - 1) - zero);
        var length = Math.max(upTo, MIN_MARK);
        var visible = chart.data.datasets.filter(function (_d, i) {
          return chart.isDatasetVisible(i);
        }).length;
        // What was drawn, for the browser tests: [{dataset label, index}].
        chart.hiddenMarks = [];
        ctx.save();
        chart.data.datasets.forEach(function (dataset, datasetIndex) {
          if (!chart.isDatasetVisible(datasetIndex)) {
            return;
          }
          var meta = chart.getDatasetMeta(datasetIndex);
          dataset.data.forEach(function (_value, index) {
            if (!isHidden(dataset, index)) {
              return;
            }
            var element = meta.data[index];
            var colour = dataset.borderColor;
            var across, thickness, base;
            if (meta.type === "bar" && element) {
              across = horizontal ? element.y : element.x;
              thickness = Math.max(horizontal ? element.height : element.width, 6);
              base = zero;
              if (chart.options.scales[horizontal ? "x" : "y"].stacked) {
                // On top of the stack the other datasets draw at this index.
                chart.data.datasets.forEach(function (other, otherIndex) {
                  var end = chart.getDatasetMeta(otherIndex).data[index];
                  if (otherIndex !== datasetIndex && chart.isDatasetVisible(otherIndex) && other.data[index]) {
                    var at = horizontal ? end.x : end.y;
                    base = horizontal ? Math.max(base, at) : Math.min(base, at);
                  }
                });
              }
            } else {
              var indexScale = horizontal ? chart.scales.y : chart.scales.x;
              // Side by side when several lines hide a value in the same year.
              across = indexScale.getPixelForValue(index) + (datasetIndex - (visible - 1) / 2) * 7;
              thickness = 12;
              base = zero;
            }
            var rect = horizontal
              ? { left: base, top: across - thickness / 2, width: length, height: thickness }
              : { left: across - thickness / 2, top: base - length, width: thickness, height: length };
            chart.hiddenMarks.push({
              label: dataset.label,
              index: index,
              datasetIndex: datasetIndex,
              left: rect.left,
              top: rect.top,
              width: rect.width,
              height: rect.height,
            });
            ctx.fillStyle = hatch(ctx, colour);
            ctx.strokeStyle = colour;
            ctx.lineWidth = 1;
            if (horizontal) {
              ctx.fillRect(base, across - thickness / 2, length, thickness);
              ctx.strokeRect(base, across - thickness / 2, length, thickness);
            } else {
              ctx.fillRect(across - thickness / 2, base - length, thickness, length);
              ctx.strokeRect(across - thickness / 2, base - length, thickness, length);
            }
            ctx.fillStyle = "#333333";
            ctx.font = "11px system-ui, sans-serif";
            ctx.textBaseline = "middle";
            if (horizontal) {
              ctx.textAlign = "left";
              ctx.fillText(dataset.display[index], base + length + 4, across);
            } else {
              ctx.textAlign = "center";
              ctx.fillText(dataset.display[index], across, base - length - 8);
            }
          });
        });
        ctx.restore();
      },
    };
  }

  function markedMax(datasets, stacked, k) {
    var max = 0;
    var length = datasets.reduce(function (n, d) {
      return Math.max(n, d.data.length);
    }, 0);
    for (var index = 0; index < length; index++) {
      var sum = 0;
      var marked = false;
      datasets.forEach(function (dataset) {
        var value = dataset.data[index];
        if (isHidden(dataset, index)) {
          marked = true;
          max = Math.max(max, k - 1);
        } else if (value) {
          sum = stacked ? sum + value : Math.max(sum, value);
        }
      });
      max = Math.max(max, sum + (stacked && marked ? k - 1 : 0));
    }
    return max;
  }

  function legendLabels(canvas, hidden) {
    var defaults = Chart.defaults.plugins.legend.labels.generateLabels;
    return function (chart) {
      var items = defaults(chart);
      if (hidden) {
        items.push({
          text: text(canvas, "hidden-legend", "<k"),
          fillStyle: hatch(chart.ctx, "#555555"),
          strokeStyle: "#555555",
          lineWidth: 1,
          hidden: false,
          datasetIndex: -1,
          hiddenValues: true,
        });
      }
      return items;
    };
  }

  function barOrLine(canvas, payload, kind) {
    var horizontal = canvas.getAttribute("data-horizontal") === "true";
    var stacked = canvas.getAttribute("data-stacked") === "true";
    var k = parseInt(text(canvas, "k", "5"), 10);
    var changeLabel = text(canvas, "change-label", "");
    var datasets = payload.datasets.map(function (dataset, i) {
      var colour = PALETTE[i % PALETTE.length];
      return {
        label: dataset.label,
        data: dataset.data,
        display: dataset.display,
        links: dataset.links || [],
        change: dataset.change,
        backgroundColor: colour,
        borderColor: colour,
        spanGaps: false,
        // Straight segments: a curve between two years would show values that were never published.
        tension: 0,
      };
    });
    var hidden = anyHidden(datasets);
    function barLink(datasetIndex, index) {
      var links = datasets[datasetIndex] && datasets[datasetIndex].links;
      return (links && links[index]) || null;
    }
    var valueAxis = { stacked: stacked, beginAtZero: true, ticks: { precision: 0 } };
    if (hidden) {
      // Room for the marks (up to k-1, on top of a stack) and their "<k" labels inside the chart.
      valueAxis.suggestedMax = markedMax(datasets, stacked, k);
      valueAxis.grace = "6%";
    }
    var indexAxis = { stacked: stacked, offset: true, ticks: { precision: 0 } };
    return new Chart(canvas, {
      type: kind,
      data: { labels: payload.labels, datasets: datasets },
      plugins: [whiteBackground, hiddenMarks(k)],
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        // The first and last categories (years) sit half a step in from the edges, where their marks fit.
        scales: horizontal ? { x: valueAxis, y: indexAxis } : { x: indexAxis, y: valueAxis },
        onClick: function (event, _elements, chart) {
          follow(linkAt(chart, event, barLink));
        },
        onHover: function (event, _elements, chart) {
          pointerWhen(chart, linkAt(chart, event, barLink));
        },
        plugins: {
          legend: {
            display: datasets.length > 1 || hidden,
            labels: { generateLabels: legendLabels(canvas, hidden) },
            onClick: function (event, item, legend) {
              if (!item.hiddenValues) {
                Chart.defaults.plugins.legend.onClick.call(this, event, item, legend);
              }
            },
          },
          tooltip: {
            callbacks: {
              label: function (item) {
                var line = item.dataset.label + ": " + displayOf(item.dataset, item.dataIndex);
                var change = item.dataset.change && item.dataset.change[item.dataIndex];
                return change && changeLabel ? line + " (" + changeLabel + ": " + change + ")" : line;
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
    function cellLink(_datasetIndex, index) {
      var cell = payload.cells[index];
      return (cell && cell.url) || null;
    }
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
        onClick: function (event, _elements, chart) {
          follow(linkAt(chart, event, cellLink));
        },
        onHover: function (event, _elements, chart) {
          pointerWhen(chart, linkAt(chart, event, cellLink));
        },
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

  function geojsonOf(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      return response.json();
    });
  }

  // A frame with the rolled-up provinces' border and what it means, drawn on the canvas so that a downloaded
  // PNG says it too.
  function rolledUpLegend(text) {
    return {
      id: "rolledUpLegend",
      afterDraw: function (chart) {
        if (!text) {
          return;
        }
        var ctx = chart.ctx;
        var area = chart.chartArea;
        ctx.save();
        ctx.strokeStyle = ROLLED_UP_BORDER;
        ctx.lineWidth = 2.5;
        ctx.fillStyle = "#ffffff";
        ctx.fillRect(area.left + 6, area.top + 6, 18, 12);
        ctx.strokeRect(area.left + 6, area.top + 6, 18, 12);
        ctx.fillStyle = "#333333";
        ctx.font = "12px system-ui, sans-serif";
        ctx.textBaseline = "middle";
        ctx.textAlign = "left";
        ctx.fillText(text, area.left + 30, area.top + 12);
        ctx.restore();
      },
    };
  }

  // Cantons of the provinces drawn canton by canton, and each rolled-up province as one area with its own
  // figure (never its figure painted on each canton). With a zoom, that province alone. The colour scale is
  // chartjs-chart-geo's, from the values of the areas drawn.
  function choropleth(canvas, payload) {
    var rolledUp = payload.rolled_up || {};
    var rolledCodes = Object.keys(rolledUp);
    var zoom = payload.zoom ? String(payload.zoom) : null;
    var sources = [geojsonOf(payload.geojson_url)];
    if (rolledCodes.length) {
      sources.push(geojsonOf(payload.rolled_up_geojson_url));
    }
    return Promise.all(sources).then(function (loaded) {
      var data = [];
      loaded[0].features.forEach(function (feature) {
        var parent = payload.parent_property ? String(feature.properties[payload.parent_property]) : null;
        if (parent !== null && (rolledUp[parent] || (zoom && parent !== zoom))) {
          return;
        }
        var code = String(feature.properties[payload.code_property]);
        var area = payload.areas[code] || { value: null, display: "—", label: code };
        data.push({ feature: feature, value: area.value, display: area.display, name: area.label, url: area.url || null });
      });
      if (loaded[1]) {
        loaded[1].features.forEach(function (feature) {
          var code = String(feature.properties[payload.rolled_up_code_property]);
          var area = rolledUp[code];
          if (area && (!zoom || code === zoom)) {
            data.push({
              feature: feature,
              value: area.value,
              display: area.display,
              name: area.label,
              url: area.url || null,
              rolledUp: true,
            });
          }
        });
      }
      var features = data.map(function (d) {
        return d.feature;
      });
      // What was drawn, for the browser tests: [{name, value, rolledUp}].
      canvas.drawnAreas = data.map(function (d) {
        return { name: d.name, value: d.value, display: d.display, rolledUp: Boolean(d.rolledUp) };
      });
      function areaLink(_datasetIndex, index) {
        return (data[index] && data[index].url) || null;
      }
      return new Chart(canvas, {
        type: "choropleth",
        data: {
          labels: data.map(function (d) {
            return d.name;
          }),
          datasets: [
            {
              label: payload.title || "",
              outline: features,
              data: data,
              borderColor: function (context) {
                var d = context.dataset.data[context.dataIndex];
                return d && d.rolledUp ? ROLLED_UP_BORDER : "#6c757d";
              },
              borderWidth: function (context) {
                var d = context.dataset.data[context.dataIndex];
                return d && d.rolledUp ? 2.5 : 0.5;
              },
            },
          ],
        },
        plugins: [whiteBackground, rolledUpLegend(rolledCodes.length ? payload.rolled_up_legend : "")],
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          showOutline: true,
          onClick: function (event, _elements, chart) {
            follow(linkAt(chart, event, areaLink));
          },
          onHover: function (event, _elements, chart) {
            pointerWhen(chart, linkAt(chart, event, areaLink));
          },
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
        canvas.chartAbout = payload.about || null;
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

  // Lines of text that fit in maxWidth (at the context's current font), broken at spaces.
  function wrap(ctx, line, maxWidth) {
    var words = String(line).split(" ");
    var lines = [];
    var current = "";
    words.forEach(function (word) {
      var next = current ? current + " " + word : word;
      if (current && ctx.measureText(next).width > maxWidth) {
        lines.push(current);
        current = word;
      } else {
        current = next;
      }
    });
    if (current) {
      lines.push(current);
    }
    return lines;
  }

  // The image a person downloads says what it shows, as the CSV and XLSX files do: the title, the measure,
  // years and filters above the chart; the protection, the data date and the source below it. The chart on
  // the page is left as it is: the text is composed with it on a canvas of its own.
  function chartImage(canvas, about) {
    var scale = canvas.clientWidth ? canvas.width / canvas.clientWidth : 1;
    var pad = 12 * scale;
    var width = canvas.width;
    var measure = document.createElement("canvas").getContext("2d");
    var blocks = [];
    function add(lines, size, weight, colour) {
      measure.font = weight + " " + size * scale + "px system-ui, sans-serif";
      var wrapped = [];
      lines.forEach(function (line) {
        wrapped = wrapped.concat(wrap(measure, line, width - 2 * pad));
      });
      blocks.push({ lines: wrapped, size: size * scale, font: measure.font, colour: colour });
    }
    add([about.title], 16, "bold", "#212529");
    add(about.summary || [], 12, "normal", "#212529");
    var headerBlocks = blocks.length;
    add([about.protection, about.source], 11, "normal", "#495057");
    function height(list) {
      return list.reduce(function (sum, block) {
        return sum + block.lines.length * block.size * 1.35;
      }, 0);
    }
    var top = pad + height(blocks.slice(0, headerBlocks)) + pad / 2;
    var bottom = pad / 2 + height(blocks.slice(headerBlocks)) + pad;
    var image = document.createElement("canvas");
    image.width = width;
    image.height = Math.ceil(top + canvas.height + bottom);
    var ctx = image.getContext("2d");
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, image.width, image.height);
    ctx.drawImage(canvas, 0, top);
    var drawn = [];
    function drawBlocks(list, y) {
      list.forEach(function (block) {
        ctx.font = block.font;
        ctx.fillStyle = block.colour;
        ctx.textBaseline = "top";
        ctx.textAlign = "left";
        block.lines.forEach(function (line) {
          ctx.fillText(line, pad, y);
          drawn.push(line);
          y += block.size * 1.35;
        });
      });
    }
    drawBlocks(blocks.slice(0, headerBlocks), pad);
    drawBlocks(blocks.slice(headerBlocks), top + canvas.height + pad / 2);
    // What was written on the image, for the browser tests.
    image.textLines = drawn;
    return image;
  }

  function downloadPng(button) {
    var canvas = document.getElementById(button.getAttribute("data-download-chart"));
    if (!canvas) {
      return;
    }
    var image = canvas.chartAbout ? chartImage(canvas, canvas.chartAbout) : canvas;
    button.imageLines = image.textLines || [];
    var link = document.createElement("a");
    link.href = image.toDataURL("image/png");
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
