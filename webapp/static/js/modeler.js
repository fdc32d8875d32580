/* The BPMN modeler page (templates/definitions/modeler.html): bpmn-js's Modeler (the UMD global
 * window.BpmnJS) with a properties panel written here, docked beside the canvas.
 *
 * The element [data-modeler] holds JSON script tags:
 *   [data-modeler-source]      the BPMN file to edit
 *   [data-modeler-moddle]      the spiffworkflow moddle descriptor (static/js/spiffworkflow-moddle.json)
 *   [data-modeler-operations]  [{name, params: [..], description}] service-task operations
 *   [data-modeler-choices]     {decisions: [{id, name}], forms: [key], processes: [key]}
 * and every text the user reads as a data attribute (data-l-*: labels, data-h-*: hints,
 * data-m-*: messages), rendered translated by the template.
 *
 * Every change goes through bpmn-js's command stack (element.updateProperties and
 * element.updateModdleProperties, grouped into one "csm.multi" command per edit), so undo and
 * redo work; missing bpmn:ExtensionElements and spiffworkflow elements are created on the way.
 * A file without a diagram layout is laid out first (static/js/auto_layout.js, with the module
 * named by data-auto-layout-src; the element then gets data-modeler-laid-out="true"), so the
 * version deployed from here carries that layout.
 * Once the file is imported the element gets data-modeler-ready="true" and the modeler is
 * reachable as element.bpmnModeler (tests read its XML from there). */
(function () {
  "use strict";

  var PARAMETER_TYPES = ["any", "str", "int", "float", "bool", "list", "dict"];
  var fieldCount = 0;

  function readJson(root, selector) {
    var node = root.querySelector(selector);
    return node ? JSON.parse(node.textContent) : null;
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === undefined || value === null || value === false) return;
      if (name === "text") node.textContent = value;
      else if (name === "value") node.value = value;
      else node.setAttribute(name, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function is(bo, type) {
    return !!(bo && bo.$instanceOf && bo.$instanceOf(type));
  }

  function Modeler(root) {
    this.root = root;
    this.text = root.dataset;
    this.xml = readJson(root, "[data-modeler-source]") || "";
    this.operations = readJson(root, "[data-modeler-operations]") || [];
    this.choices = readJson(root, "[data-modeler-choices]") || {};
    this.moddleDescriptor = readJson(root, "[data-modeler-moddle]");
    this.panel = root.querySelector("[data-modeler-fields]");
    this.element = null;
    this.renderPending = false;
  }

  Modeler.prototype.say = function (message, kind, details) {
    var note = this.root.querySelector("[data-modeler-message]");
    if (!note) return;
    note.textContent = message;
    note.className = "flash flash-" + (kind || "info");
    if (details && details.length) {
      note.appendChild(
        el("ul", {}, details.map(function (d) { return el("li", { text: d }); }))
      );
    }
    note.hidden = false;
  };

  Modeler.prototype.showSource = function () {
    var source = this.root.querySelector("[data-modeler-raw]");
    if (source) {
      source.hidden = false;
      source.open = true;
    }
  };

  Modeler.prototype.start = async function () {
    var text = this.text;
    var canvas = this.root.querySelector("[data-modeler-canvas]");
    this.wireButtons();
    if (!window.BpmnJS || !window.csmLayout || !canvas || !this.moddleDescriptor) {
      this.showSource();
      return this.say(text.mMissing || "", "error");
    }
    var drawn;
    try {
      drawn = await window.csmLayout.withLayout(this.xml, this.root.dataset.autoLayoutSrc);
    } catch (error) {
      this.showSource();
      return this.say((text.mNoDiagram || "") + " " + error.message, "warning");
    }
    var modeler = new window.BpmnJS({
      container: canvas,
      moddleExtensions: { spiffworkflow: this.moddleDescriptor },
    });
    this.root.bpmnModeler = modeler;
    var result;
    try {
      result = await modeler.importXML(drawn.xml);
    } catch (error) {
      this.showSource();
      return this.say((text.mImportFailed || "") + " " + error.message, "error");
    }
    this.modeler = modeler;
    this.laidOut = drawn.laidOut;
    if (drawn.laidOut) {
      this.root.setAttribute("data-modeler-laid-out", "true");
      this.say(text.mLaidOut || "", "info");
    }
    if (result.warnings && result.warnings.length) {
      this.say(
        text.mWarnings || "",
        "warning",
        result.warnings.slice(0, 8).map(function (w) { return w.message; })
      );
    }
    this.moddle = modeler.get("moddle");
    this.commandStack = modeler.get("commandStack");
    this.elementRegistry = modeler.get("elementRegistry");
    this.canvas = modeler.get("canvas");
    var commandStack = this.commandStack;
    commandStack.register("csm.multi", {
      preExecute: function (context) {
        context.commands.forEach(function (c) { commandStack.execute(c.cmd, c.context); });
      },
    });
    this.fit(canvas);
    var self = this;
    modeler.on("selection.changed", function (event) {
      self.select(event.newSelection.length === 1 ? event.newSelection[0] : null);
    });
    modeler.on("commandStack.changed", function () {
      self.updateButtons();
      self.scheduleRender();
    });
    this.select(null);
    this.updateButtons();
    this.root.querySelectorAll("[data-modeler-needs-diagram]").forEach(function (b) {
      b.disabled = false;
    });
    this.root.setAttribute("data-modeler-ready", "true");
  };

  /* The whole diagram in view, right of the palette and no larger than life. */
  Modeler.prototype.fit = function (container) {
    var canvas = this.canvas;
    canvas.zoom("fit-viewport", "auto");
    var box = canvas.viewbox();
    var inner = box.inner;
    var outer = box.outer;
    if (!inner.width || !inner.height || !outer.width || !outer.height) return;
    var pad = 16;
    var palette = container.querySelector(".djs-palette");
    var left = palette
      ? palette.getBoundingClientRect().right - container.getBoundingClientRect().left + pad
      : pad;
    var scale = Math.min(
      (outer.width - left - pad) / inner.width,
      (outer.height - 2 * pad) / inner.height,
      1
    );
    if (scale <= 0) return;
    canvas.viewbox({
      x: inner.x - left / scale,
      y: inner.y - (outer.height / scale - inner.height) / 2,
      width: outer.width / scale,
      height: outer.height / scale,
    });
  };

  /* ---- toolbar: undo, redo, download, deploy ---- */

  Modeler.prototype.wireButtons = function () {
    var self = this;
    var root = this.root;
    var undo = root.querySelector("[data-modeler-undo]");
    var redo = root.querySelector("[data-modeler-redo]");
    if (undo) undo.addEventListener("click", function () { if (self.commandStack) self.commandStack.undo(); });
    if (redo) redo.addEventListener("click", function () { if (self.commandStack) self.commandStack.redo(); });
    var download = root.querySelector("[data-modeler-download]");
    if (download) {
      download.addEventListener("click", async function () {
        var xml = await self.currentXml();
        var url = URL.createObjectURL(new Blob([xml], { type: "application/xml" }));
        var link = el("a", { href: url, download: root.dataset.fileName || "process.bpmn" });
        document.body.appendChild(link);
        link.click();
        link.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
      });
    }
    var form = root.querySelector("form[data-modeler-deploy]");
    if (form) {
      form.addEventListener("submit", async function (event) {
        event.preventDefault();
        if (!self.modeler || form.dataset.sending) return;
        var active = document.activeElement;
        if (active && self.panel && self.panel.contains(active)) active.blur(); // apply the edit
        form.dataset.sending = "true";
        form.querySelector("[name=xml]").value = await self.currentXml();
        form.submit();
      });
    }
  };

  /* The file as it stands: the edited diagram, or the file as loaded while nothing was changed
   * (so deploying an untouched diagram is "unchanged", not a reformatted new version); a file
   * laid out here is changed by its new layout, which deploying keeps. */
  Modeler.prototype.currentXml = async function () {
    if (!this.modeler || (!this.laidOut && !this.commandStack.canUndo())) return this.xml;
    var saved = await this.modeler.saveXML({ format: true });
    return saved.xml;
  };

  Modeler.prototype.updateButtons = function () {
    var undo = this.root.querySelector("[data-modeler-undo]");
    var redo = this.root.querySelector("[data-modeler-redo]");
    if (undo) undo.disabled = !this.commandStack.canUndo();
    if (redo) redo.disabled = !this.commandStack.canRedo();
  };

  /* ---- commands ---- */

  Modeler.prototype.run = function (commands) {
    if (commands.length) this.commandStack.execute("csm.multi", { commands: commands });
  };

  function update(element, properties) {
    return { cmd: "element.updateProperties", context: { element: element, properties: properties } };
  }

  function updateModdle(element, moddleElement, properties) {
    return {
      cmd: "element.updateModdleProperties",
      context: { element: element, moddleElement: moddleElement, properties: properties },
    };
  }

  function extension(bo, type) {
    var ext = bo.extensionElements;
    return (ext && (ext.values || []).find(function (v) { return is(v, type); })) || null;
  }

  /* Commands that add a new spiffworkflow element to the element's extensions (created when
   * missing). */
  Modeler.prototype.addExtension = function (element, child) {
    var bo = element.businessObject;
    var ext = bo.extensionElements;
    if (ext) {
      child.$parent = ext;
      return [updateModdle(element, ext, { values: (ext.values || []).concat(child) })];
    }
    ext = this.moddle.create("bpmn:ExtensionElements", { values: [child] });
    child.$parent = ext;
    ext.$parent = bo;
    return [update(element, { extensionElements: ext })];
  };

  /* Commands that remove a spiffworkflow element (and the extensions when left empty). */
  Modeler.prototype.removeExtension = function (element, child) {
    var ext = element.businessObject.extensionElements;
    var rest = (ext.values || []).filter(function (v) { return v !== child; });
    if (!rest.length) return [update(element, { extensionElements: undefined })];
    return [updateModdle(element, ext, { values: rest })];
  };

  Modeler.prototype.property = function (element, name) {
    var props = extension(element.businessObject, "spiffworkflow:properties");
    var prop = props && (props.properties || []).find(function (p) { return p.name === name; });
    return prop ? prop.value || "" : "";
  };

  Modeler.prototype.setProperty = function (element, name, value) {
    var props = extension(element.businessObject, "spiffworkflow:properties");
    var list = (props && props.properties) || [];
    var prop = list.find(function (p) { return p.name === name; });
    if (prop) {
      if (value !== "") return this.run([updateModdle(element, prop, { value: value })]);
      var rest = list.filter(function (p) { return p !== prop; });
      return this.run(
        rest.length
          ? [updateModdle(element, props, { properties: rest })]
          : this.removeExtension(element, props)
      );
    }
    if (value === "") return;
    var created = this.moddle.create("spiffworkflow:property", { name: name, value: value });
    if (props) {
      created.$parent = props;
      return this.run([updateModdle(element, props, { properties: list.concat(created) })]);
    }
    props = this.moddle.create("spiffworkflow:properties", { properties: [created] });
    created.$parent = props;
    this.run(this.addExtension(element, props));
  };

  Modeler.prototype.setOperator = function (element, name) {
    var operator = extension(element.businessObject, "spiffworkflow:serviceTaskOperator");
    var wanted = this.operations.find(function (o) { return o.name === name; });
    if (!operator) {
      if (!name) return;
      var parameters = this.moddle.create("spiffworkflow:parameters", { parameters: [] });
      operator = this.moddle.create("spiffworkflow:serviceTaskOperator", {
        id: name,
        parameterList: parameters,
      });
      parameters.$parent = operator;
      return this.run(this.addExtension(element, operator));
    }
    if (!name) return this.run(this.removeExtension(element, operator));
    var commands = [updateModdle(element, operator, { id: name })];
    var list = operator.parameterList;
    if (!list) {
      list = this.moddle.create("spiffworkflow:parameters", { parameters: [] });
      list.$parent = operator;
      commands.push(updateModdle(element, operator, { parameterList: list }));
    } else if (wanted) {
      // the new operation is called with its own parameters only
      var all = list.parameters || [];
      var kept = all.filter(function (p) { return wanted.params.indexOf(p.id) !== -1; });
      if (kept.length !== all.length) commands.push(updateModdle(element, list, { parameters: kept }));
    }
    this.run(commands);
  };

  Modeler.prototype.setOperatorAttribute = function (element, name, value) {
    var operator = extension(element.businessObject, "spiffworkflow:serviceTaskOperator");
    if (!operator) return;
    var properties = {};
    properties[name] = value === "" ? undefined : value;
    this.run([updateModdle(element, operator, properties)]);
  };

  /* A parameter's value (an expression) or type; an empty value removes the parameter. */
  Modeler.prototype.setParameter = function (element, id, field, value) {
    var operator = extension(element.businessObject, "spiffworkflow:serviceTaskOperator");
    if (!operator) return;
    var list = operator.parameterList;
    var all = (list && list.parameters) || [];
    var param = all.find(function (p) { return p.id === id; });
    if (param) {
      if (field === "value" && value === "") {
        return this.run([updateModdle(element, list, { parameters: all.filter(function (p) { return p !== param; }) })]);
      }
      var properties = {};
      properties[field] = value;
      return this.run([updateModdle(element, param, properties)]);
    }
    if (field !== "value" || value === "") return;
    var created = this.moddle.create("spiffworkflow:parameter", { id: id, type: "any", value: value });
    var commands = [];
    if (!list) {
      list = this.moddle.create("spiffworkflow:parameters", { parameters: [created] });
      list.$parent = operator;
      commands.push(updateModdle(element, operator, { parameterList: list }));
    } else {
      commands.push(updateModdle(element, list, { parameters: all.concat(created) }));
    }
    created.$parent = list;
    this.run(commands);
  };

  Modeler.prototype.setDecision = function (element, id) {
    var ref = extension(element.businessObject, "spiffworkflow:calledDecisionId");
    if (ref) {
      return this.run(id ? [updateModdle(element, ref, { value: id })] : this.removeExtension(element, ref));
    }
    if (id) this.run(this.addExtension(element, this.moddle.create("spiffworkflow:calledDecisionId", { value: id })));
  };

  Modeler.prototype.expression = function (body) {
    return body === "" ? undefined : this.moddle.create("bpmn:FormalExpression", { body: body });
  };

  function timerOf(bo) {
    return (bo.eventDefinitions || []).find(function (d) { return is(d, "bpmn:TimerEventDefinition"); });
  }

  var TIMER_KINDS = ["timeDuration", "timeDate", "timeCycle"];

  function timerKind(timer) {
    return TIMER_KINDS.find(function (k) { return timer[k]; }) || "timeDuration";
  }

  Modeler.prototype.setTimer = function (element, kind, body) {
    var timer = timerOf(element.businessObject);
    var properties = {};
    var self = this;
    TIMER_KINDS.forEach(function (k) { properties[k] = k === kind ? self.expression(body) : undefined; });
    if (properties[kind]) properties[kind].$parent = timer;
    this.run([updateModdle(element, timer, properties)]);
  };

  /* ---- the panel ---- */

  Modeler.prototype.scheduleRender = function () {
    if (this.renderPending) return;
    this.renderPending = true;
    var self = this;
    setTimeout(function () {
      self.renderPending = false;
      if (self.element && !self.elementRegistry.get(self.element.id)) self.element = null;
      self.render();
    }, 0);
  };

  Modeler.prototype.select = function (element) {
    if (element && element.type === "label") element = element.labelTarget;
    this.element = element;
    this.render();
  };

  Modeler.prototype.render = function () {
    var panel = this.panel;
    if (!panel) return;
    var active = document.activeElement;
    var focused = active && panel.contains(active) ? active.getAttribute("data-field") : null;
    var element = this.element || this.canvas.getRootElement();
    panel.replaceChildren();
    panel.setAttribute("data-element-id", element.id);
    this.fields(element).forEach(function (node) { panel.appendChild(node); });
    if (!this.element) panel.appendChild(el("p", { class: "help", text: this.text.mSelect }));
    if (focused) {
      var again = panel.querySelector('[data-field="' + CSS.escape(focused) + '"]');
      if (again) again.focus();
    }
  };

  function row(label, control, hint) {
    var id = "modeler-field-" + ++fieldCount;
    control.id = id;
    return el("div", { class: "modeler-field" }, [
      el("label", { for: id, text: label }),
      control,
      hint ? el("p", { class: "help", text: hint }) : null,
    ]);
  }

  function heading(text) {
    return el("h3", { class: "modeler-section", text: text });
  }

  /* An input (or textarea) that applies its value on change. */
  function input(field, value, apply, attrs) {
    attrs = Object.assign({}, attrs || {});
    var tag = attrs.multiline ? "textarea" : "input";
    delete attrs.multiline;
    var node = el(tag, Object.assign({ "data-field": field, value: value || "" }, attrs));
    if (tag === "input" && !node.getAttribute("type")) node.type = "text";
    node.addEventListener("change", function () {
      if (node.type === "number" && !node.checkValidity()) {
        node.classList.add("is-invalid");
        node.reportValidity();
        return;
      }
      node.classList.remove("is-invalid");
      apply(tag === "textarea" ? node.value : node.value.trim());
    });
    return node;
  }

  function select(field, value, options, apply) {
    var node = el(
      "select",
      { "data-field": field },
      options.map(function (o) { return el("option", { value: o.value, text: o.label }); })
    );
    node.value = value || "";
    node.addEventListener("change", function () { apply(node.value); });
    return node;
  }

  function datalist(id, values) {
    return el("datalist", { id: id }, values.map(function (v) { return el("option", { value: v }); }));
  }

  /* Options with the current value kept (marked) when it is not among the choices. */
  function withCurrent(options, value, mark) {
    if (value && !options.some(function (o) { return o.value === value; })) {
      options.push({ value: value, label: mark ? value + " " + mark : value });
    }
    return options;
  }

  Modeler.prototype.fields = function (element) {
    var t = this.text;
    var self = this;
    var bo = element.businessObject;
    var nodes = [
      heading(bo.$type.replace(/^bpmn:/, "")),
      row(t.lId, el("input", { type: "text", value: bo.id || "", readonly: true, "data-field": "id" })),
    ];
    nodes.push(
      row(t.lName, input("name", bo.name, function (v) {
        self.run([update(element, { name: v === "" ? undefined : v })]);
      }))
    );
    if (is(bo, "bpmn:Participant") && bo.processRef) {
      var process = bo.processRef;
      nodes.push(
        row(t.lProcessName, input("processName", process.name, function (v) {
          self.run([updateModdle(element, process, { name: v === "" ? undefined : v })]);
        }), t.hProcessName)
      );
    }
    if (is(bo, "bpmn:UserTask") || is(bo, "bpmn:ManualTask")) {
      nodes = nodes.concat(this.taskFields(element));
    } else if (is(bo, "bpmn:StartEvent") && !(bo.eventDefinitions || []).length) {
      nodes.push(heading(t.lHandling));
      nodes.push(this.formKeyRow(element));
    } else if (is(bo, "bpmn:ScriptTask")) {
      nodes.push(
        row(t.lScript, input("script", bo.script, function (v) {
          self.run([update(element, { script: v === "" ? undefined : v })]);
        }, { multiline: true, rows: 12, spellcheck: "false", class: "mono" }), t.hScript)
      );
    } else if (is(bo, "bpmn:ServiceTask")) {
      nodes = nodes.concat(this.serviceFields(element));
    } else if (is(bo, "bpmn:BusinessRuleTask")) {
      var ref = extension(bo, "spiffworkflow:calledDecisionId");
      var decision = ref ? ref.value || "" : "";
      var options = [{ value: "", label: t.lNone }].concat(
        (this.choices.decisions || []).map(function (d) {
          return { value: d.id, label: d.name ? d.id + " — " + d.name : d.id };
        })
      );
      nodes.push(
        row(t.lDecision, select("calledDecisionId", decision, withCurrent(options, decision, t.lNotDeployed), function (v) {
          self.setDecision(element, v);
        }))
      );
    } else if (is(bo, "bpmn:SequenceFlow")) {
      var condition = bo.conditionExpression ? bo.conditionExpression.body || "" : "";
      nodes.push(
        row(t.lCondition, input("condition", condition, function (v) {
          self.run([update(element, { conditionExpression: self.expression(v) })]);
        }, { class: "mono", spellcheck: "false" }), t.hCondition)
      );
    } else if (is(bo, "bpmn:CallActivity")) {
      var listId = "modeler-processes-" + ++fieldCount;
      nodes.push(
        row(t.lCalledElement, input("calledElement", bo.calledElement, function (v) {
          self.run([update(element, { calledElement: v === "" ? undefined : v })]);
        }, { list: listId, class: "mono" })),
        datalist(listId, this.choices.processes || [])
      );
    }
    var timer = is(bo, "bpmn:Event") ? timerOf(bo) : null;
    if (timer) nodes = nodes.concat(this.timerFields(element, timer));
    return nodes;
  };

  Modeler.prototype.formKeyRow = function (element) {
    var self = this;
    var listId = "modeler-forms-" + ++fieldCount;
    var wrap = row(this.text.lFormKey, input("formKey", this.property(element, "formKey"), function (v) {
      self.setProperty(element, "formKey", v);
    }, { list: listId, class: "mono" }), this.text.hFormKey);
    wrap.appendChild(datalist(listId, this.choices.forms || []));
    return wrap;
  };

  Modeler.prototype.taskFields = function (element) {
    var t = this.text;
    var self = this;
    function prop(name, label, hint, attrs) {
      return row(label, input(name, self.property(element, name), function (v) {
        self.setProperty(element, name, v);
      }, attrs), hint);
    }
    return [
      heading(t.lHandling),
      this.formKeyRow(element),
      prop("candidateGroups", t.lCandidateGroups, t.hCandidateGroups),
      prop("dueIn", t.lDueIn, t.hDueIn, { class: "mono" }),
      prop("priority", t.lPriority, t.hPriority, { type: "number", min: 0, max: 100, step: 1 }),
      prop("title", t.lTitle, t.hTitle, { class: "mono", spellcheck: "false" }),
    ];
  };

  Modeler.prototype.serviceFields = function (element) {
    var t = this.text;
    var self = this;
    var operator = extension(element.businessObject, "spiffworkflow:serviceTaskOperator");
    var name = operator ? operator.id || "" : "";
    var operation = this.operations.find(function (o) { return o.name === name; });
    var options = [{ value: "", label: t.lNone }].concat(
      this.operations.map(function (o) { return { value: o.name, label: o.name }; })
    );
    var nodes = [
      heading(t.lServiceCall),
      row(t.lOperation, select("operator", name, withCurrent(options, name, t.lUnknownOperation), function (v) {
        self.setOperator(element, v);
      }), operation ? operation.description : null),
    ];
    if (!operator) return nodes;
    nodes.push(
      row(t.lResultVariable, input("resultVariable", operator.resultVariable, function (v) {
        self.setOperatorAttribute(element, "resultVariable", v);
      }, { class: "mono" }), t.hResultVariable)
    );
    var existing = (operator.parameterList && operator.parameterList.parameters) || [];
    var ids = operation ? operation.params.slice() : [];
    existing.forEach(function (p) { if (ids.indexOf(p.id) === -1) ids.push(p.id); });
    nodes.push(heading(t.lParameters));
    if (!ids.length) {
      nodes.push(el("p", { class: "help", text: t.mNoParameters }));
      return nodes;
    }
    var table = el("div", { class: "modeler-params", "data-modeler-params": true });
    ids.forEach(function (id) {
      var param = existing.find(function (p) { return p.id === id; });
      var value = input("param:" + id, param ? param.value : "", function (v) {
        self.setParameter(element, id, "value", v);
      }, { class: "mono", spellcheck: "false", placeholder: t.hParameter });
      var types = PARAMETER_TYPES.map(function (k) { return { value: k, label: k }; });
      var type = select("paramType:" + id, param ? param.type || "" : "any", withCurrent(types, param && param.type, ""), function (v) {
        self.setParameter(element, id, "type", v);
      });
      type.disabled = !param;
      type.setAttribute("aria-label", t.lType + " " + id);
      var label = row(id, value);
      label.classList.add("modeler-param");
      label.setAttribute("data-param", id);
      label.appendChild(type);
      table.appendChild(label);
    });
    nodes.push(table);
    return nodes;
  };

  Modeler.prototype.timerFields = function (element, timer) {
    var t = this.text;
    var self = this;
    var kind = timerKind(timer);
    var body = timer[kind] ? timer[kind].body || "" : "";
    var kinds = [
      { value: "timeDuration", label: t.lDuration },
      { value: "timeDate", label: t.lDate },
      { value: "timeCycle", label: t.lCycle },
    ];
    var expression = input("timerValue", body, function (v) {
      self.setTimer(element, kindSelect.value, v);
    }, { class: "mono", spellcheck: "false" });
    var kindSelect = select("timerKind", kind, kinds, function (v) {
      self.setTimer(element, v, expression.value.trim());
    });
    return [heading(t.lTimer), row(t.lTimerKind, kindSelect), row(t.lExpression, expression, t.hTimer)];
  };

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-modeler]").forEach(function (root) {
      new Modeler(root).start();
    });
  });
})();
