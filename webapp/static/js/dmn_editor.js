/* The decision-table editor: dmn-js's modeler on the deployed DMN; the form posts the edited
 * XML. [data-dmn-editor] gets data-editor-ready="true" once the table is open. */
(function () {
  "use strict";

  async function open(root) {
    var form = root.querySelector("[data-dmn-form]");
    var canvas = root.querySelector("[data-dmn-canvas]");
    var message = root.querySelector("[data-dmn-message]");
    var xml = JSON.parse(root.querySelector("[data-dmn-xml]").textContent);
    var words = root.querySelector("[data-dmn-translations]");
    var dictionary = words ? JSON.parse(words.textContent) : {};
    // dmn-js's labels in the page's language: its translate service, given our dictionary
    function translate(template, replacements) {
      var text = dictionary[template] || template;
      return text.replace(/{([^}]+)}/g, function (whole, key) {
        return replacements && key in replacements ? replacements[key] : whole;
      });
    }
    var translated = { additionalModules: [{ translate: ["value", translate] }] };
    var editor = new window.DmnJS({
      container: canvas,
      common: translated,
      drd: translated,
      decisionTable: translated,
      literalExpression: translated,
      boxedExpression: translated,
    });
    try {
      await editor.importXML(xml);
    } catch (error) {
      message.textContent = (root.dataset.failedLabel || "") + " " + error.message;
      message.hidden = false;
      return;
    }
    var table = editor.getViews().find(function (view) { return view.type === "decisionTable"; });
    if (table) await editor.open(table);
    form.addEventListener("submit", function (event) {
      if (form.dataset.saved === "true") return;
      event.preventDefault();
      editor.saveXML({ format: true }).then(function (result) {
        form.querySelector("input[name=xml]").value = result.xml;
        form.dataset.saved = "true";
        form.submit();
      });
    });
    root.setAttribute("data-editor-ready", "true");
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-dmn-editor]").forEach(open);
  });
})();
