/* A diagram for a BPMN file that has none. Hand-written and generated files often carry no
 * bpmndi section (no BPMNShape), and bpmn-js then draws an empty canvas: such a file is laid
 * out here, in the browser, by bpmn-auto-layout (an ES module vendored under
 * static/vendor/bpmn-auto-layout/, loaded only when a file needs it) before bpmn-js imports
 * it. The ids of the elements stay, so what monitoring marks on them still lands.
 *
 *   window.csmLayout.hasLayout(xml)              true when the file has a shape to draw
 *   window.csmLayout.withLayout(xml, moduleUrl)  Promise of {xml, laidOut}: the file itself,
 *                                                or, without a layout, the file laid out */
(function () {
  "use strict";

  var DI_NS = "http://www.omg.org/spec/BPMN/20100524/DI";
  var MODEL_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL";

  function hasLayout(xml) {
    var doc = new DOMParser().parseFromString(xml || "", "application/xml");
    if (doc.getElementsByTagName("parsererror").length) return true; // importXML says why
    return doc.getElementsByTagNameNS(DI_NS, "BPMNShape").length > 0;
  }

  function children(node, name) {
    return Array.prototype.filter.call(node.children, function (child) {
      return child.namespaceURI === MODEL_NS && child.localName === name;
    });
  }

  /* bpmn-auto-layout follows each node's bpmn:incoming and bpmn:outgoing, which BPMN makes
   * optional and hand-written files leave out (the flows' sourceRef and targetRef say it
   * all): without them it draws no flow and stacks every node on its own. Add the missing
   * ones; moddle writes them back in the schema's order. */
  function withFlowRefs(xml) {
    var doc = new DOMParser().parseFromString(xml, "application/xml");
    var byId = {};
    Array.prototype.forEach.call(doc.getElementsByTagNameNS(MODEL_NS, "*"), function (node) {
      if (node.getAttribute("id")) byId[node.getAttribute("id")] = node;
    });
    var added = 0;
    Array.prototype.forEach.call(doc.getElementsByTagNameNS(MODEL_NS, "sequenceFlow"), function (flow) {
      var id = flow.getAttribute("id");
      [["sourceRef", "outgoing"], ["targetRef", "incoming"]].forEach(function (end) {
        var node = byId[flow.getAttribute(end[0])];
        if (!id || !node) return;
        var listed = children(node, end[1]).some(function (ref) {
          return ref.textContent.trim() === id;
        });
        if (listed) return;
        var ref = doc.createElementNS(MODEL_NS, (node.prefix ? node.prefix + ":" : "") + end[1]);
        ref.textContent = id;
        node.appendChild(ref);
        added += 1;
      });
    });
    return added ? new XMLSerializer().serializeToString(doc) : xml;
  }

  async function withLayout(xml, moduleUrl) {
    if (hasLayout(xml)) return { xml: xml, laidOut: false };
    if (!moduleUrl) throw new Error("bpmn-auto-layout is not installed");
    var layout = await import(moduleUrl);
    return { xml: await layout.layoutProcess(withFlowRefs(xml)), laidOut: true };
  }

  window.csmLayout = { hasLayout: hasLayout, withLayout: withLayout };
})();
