/* Process diagrams drawn with bpmn-js (NavigatedViewer: pan and zoom), with what monitoring
 * lays over them. Each element [data-bpmn-diagram] holds two JSON script tags:
 *   [data-diagram-xml]      the BPMN file as deployed
 *   [data-diagram-overlay]  {tokens: {id: n}, incidents: {id: n}, heat: {id: 1..5},
 *                            completed: [id], current: [id], failed: [id]}
 * A file without a diagram layout is laid out first (static/js/auto_layout.js, with the module
 * named by data-auto-layout-src) and the element gets data-diagram-laid-out="true".
 * When drawn the element gets data-diagram-ready="true"; each marked activity's shape gets the
 * classes csm-current, csm-done, csm-failed or csm-heat-N (tests and CSS read these). */
(function () {
  "use strict";

  function readJson(root, selector) {
    var node = root.querySelector(selector);
    return node ? JSON.parse(node.textContent) : null;
  }

  function badge(kind, count, title) {
    var span = document.createElement("span");
    span.className = "diagram-badge diagram-badge-" + kind;
    span.textContent = String(count);
    span.title = title;
    span.setAttribute("data-badge", kind);
    return span;
  }

  function say(root, message) {
    var note = root.querySelector("[data-diagram-message]");
    if (note) {
      note.textContent = message;
      note.hidden = false;
    }
  }

  function show(root, message) {
    say(root, message);
    root.setAttribute("data-diagram-ready", "false");
  }

  function mark(viewer, overlay, root) {
    var canvas = viewer.get("canvas");
    var overlays = viewer.get("overlays");
    var registry = viewer.get("elementRegistry");
    var labels = root.dataset;
    function each(ids, fn) {
      (ids || []).forEach(function (id) {
        if (registry.get(id)) fn(id);
      });
    }
    function eachCount(counts, fn) {
      Object.keys(counts || {}).forEach(function (id) {
        if (registry.get(id) && counts[id]) fn(id, counts[id]);
      });
    }
    each(overlay.completed, function (id) { canvas.addMarker(id, "csm-done"); });
    each(overlay.current, function (id) { canvas.addMarker(id, "csm-current"); });
    each(overlay.failed, function (id) { canvas.addMarker(id, "csm-failed"); });
    eachCount(overlay.heat, function (id, level) { canvas.addMarker(id, "csm-heat-" + level); });
    eachCount(overlay.tokens, function (id, n) {
      overlays.add(id, "tokens", {
        position: { bottom: 8, left: -8 },
        html: badge("tokens", n, labels.tokensLabel || "active"),
      });
    });
    eachCount(overlay.incidents, function (id, n) {
      overlays.add(id, "incidents", {
        position: { bottom: 8, right: 8 },
        html: badge("incidents", n, labels.incidentsLabel || "incidents"),
      });
    });
  }

  async function draw(root) {
    var xml = readJson(root, "[data-diagram-xml]");
    var overlay = readJson(root, "[data-diagram-overlay]") || {};
    var canvas = root.querySelector("[data-diagram-canvas]");
    if (!window.BpmnJS || !window.csmLayout || !canvas) {
      return show(root, root.dataset.missingLabel || "");
    }
    if (!xml) return show(root, root.dataset.noLayoutLabel || "");
    var drawn;
    try {
      drawn = await window.csmLayout.withLayout(xml, root.dataset.autoLayoutSrc);
    } catch (error) {
      return show(root, (root.dataset.noLayoutLabel || "") + " " + error.message);
    }
    var viewer = new window.BpmnJS({ container: canvas });
    try {
      await viewer.importXML(drawn.xml);
    } catch (error) {
      return show(root, (root.dataset.failedLabel || "") + " " + error.message);
    }
    viewer.get("canvas").zoom("fit-viewport", "auto");
    mark(viewer, overlay, root);
    if (drawn.laidOut) {
      root.setAttribute("data-diagram-laid-out", "true");
      say(root, root.dataset.laidOutLabel || "");
    }
    root.setAttribute("data-diagram-ready", "true");
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-bpmn-diagram]").forEach(draw);
  });
})();
