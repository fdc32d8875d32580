/* The staff UI's own script: small progressive enhancements only; pages work without it. */
(function () {
  "use strict";

  // Styles that need this script (the collapsed menu) apply only once it runs.
  document.documentElement.classList.add("js");

  // Collapsed top-bar menu on narrow screens.
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-nav-toggle]");
    if (!toggle) return;
    var bar = toggle.closest("[data-topbar]");
    var open = bar.classList.toggle("is-open");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("[data-topbar].is-open").forEach(function (bar) {
      bar.classList.remove("is-open");
      var toggle = bar.querySelector("[data-nav-toggle]");
      if (toggle) {
        toggle.setAttribute("aria-expanded", "false");
        toggle.focus();
      }
    });
  });
})();

/* Form widgets: table rows and the signature pad. */
(function () {
  "use strict";

  // "Add a row" clones the last row of a table field with the next index in its names.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-add-row]");
    if (!button) return;
    var name = button.getAttribute("data-add-row");
    var body = document.querySelector('table[data-rows="' + name + '"] tbody');
    if (!body || !body.lastElementChild) return;
    var index = body.children.length;
    var row = body.lastElementChild.cloneNode(true);
    row.querySelectorAll("input, select, textarea, datalist").forEach(function (input) {
      var pattern = new RegExp("^" + name + "-\\d+-");
      ["name", "id", "list"].forEach(function (attr) {
        var value = input.getAttribute(attr);
        if (value) input.setAttribute(attr, value.replace(pattern, name + "-" + index + "-"));
      });
      if (input.tagName === "DATALIST") input.innerHTML = "";
      else input.value = "";
    });
    row.querySelectorAll(".field-error").forEach(function (node) { node.remove(); });
    body.appendChild(row);
    // a picker in the new row searches as it is typed into, like the ones drawn by the server
    if (window.htmx) window.htmx.process(row);
  });

  // A signature pad writes its drawing as a PNG data URL into the hidden input beside it.
  function initSignatures() {
    if (typeof SignaturePad === "undefined") return;
    document.querySelectorAll("[data-signature]").forEach(function (box) {
      var canvas = box.querySelector("canvas");
      var input = box.querySelector("input[type=hidden]");
      var pad = new SignaturePad(canvas);
      if (input.value) pad.fromDataURL(input.value);
      pad.addEventListener("endStroke", function () { input.value = pad.toDataURL("image/png"); });
      var clear = box.querySelector("[data-signature-clear]");
      if (clear) clear.addEventListener("click", function () { pad.clear(); input.value = ""; });
    });
  }
  document.addEventListener("DOMContentLoaded", initSignatures);
})();

/* On a task form with latitude and longitude fields (the check-in), the phone's position fills
   them when they are empty and the person allows it; a refusal or no GPS leaves them as they are. */
(function () {
  "use strict";

  function fillPosition() {
    if (!("geolocation" in navigator)) return;
    document.querySelectorAll("form[data-task-form]").forEach(function (form) {
      var lat = form.querySelector('input[name="latitude"]');
      var lon = form.querySelector('input[name="longitude"]');
      if (!lat || !lon || lat.value || lon.value) return;
      try {
        navigator.geolocation.getCurrentPosition(
          function (position) {
            if (lat.value || lon.value) return; // typed in meanwhile
            lat.value = position.coords.latitude.toFixed(6);
            lon.value = position.coords.longitude.toFixed(6);
          },
          function () { /* refused or unavailable: the fields stay for typing */ },
          { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
        );
      } catch (error) { /* insecure context or blocked: nothing to do */ }
    });
  }
  document.addEventListener("DOMContentLoaded", fillPosition);
})();

/* Behaviour the markup asks for by data- attributes (the Content-Security-Policy runs no
   inline handlers): a select that submits its form when changed, and the product model that
   the knowledge-base suggestions of a request form are asked for. */
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var field = event.target.closest ? event.target.closest("[data-autosubmit]") : null;
    if (!field || !field.form) return;
    if (field.form.requestSubmit) field.form.requestSubmit();
    else field.form.submit();
  });

  // The model of the chosen registered product, else the model code typed in.
  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt;
    if (!form || !form.matches || !form.matches("form[data-kb-model]")) return;
    var serial = form.elements.serial;
    var option = serial && serial.selectedOptions ? serial.selectedOptions[0] : null;
    var typed = form.elements.model ? form.elements.model.value : "";
    event.detail.parameters.model = (option && option.dataset.model) || typed || "";
  });
})();

// A new request: the chosen service type's start form shows (the others are hidden and
// disabled, so they are not posted), and the product rows only where the type asks for one.
(function () {
  "use strict";

  function showType(form) {
    var choice = form.querySelector("[data-type-choice]");
    if (!choice) return;
    var product = "optional";
    form.querySelectorAll("[data-start-form]").forEach(function (block) {
      var mine = block.getAttribute("data-start-form") === choice.value;
      block.hidden = !mine;
      block.disabled = !mine;
      if (mine) product = block.getAttribute("data-product") || "optional";
    });
    form.querySelectorAll("[data-product-field]").forEach(function (row) {
      row.hidden = product === "none";
    });
  }

  document.addEventListener("change", function (event) {
    var choice = event.target.closest ? event.target.closest("[data-type-choice]") : null;
    if (choice && choice.form) showType(choice.form);
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-type-switch]").forEach(showType);
  });
})();
