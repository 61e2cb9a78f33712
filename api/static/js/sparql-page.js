// The query page: YASGUI on this server's /sparql, with the query catalogue as example tabs.
// Nothing here talks to any other host: external autocompleters (LOV, prefix.cc) are switched off
// and the endpoint chooser only knows this server.
(function () {
  "use strict";
  var endpoint = window.location.origin + "/sparql";
  var examples = JSON.parse(document.getElementById("examples").textContent || "[]");
  // A link from the editor's share button (/sparql#query=…) opened the examples, its query lost: it opens in a tab
  // of its own now, ahead of the examples, on this server's endpoint whatever the link names (YASGUI reads and
  // then clears the address's #, so it is read here first).
  var shared = /(^#|&)query=/.test(window.location.hash);

  // Only the local, offline autocompleter (variable names).
  Yasgui.Yasqe.defaults.autocompleters = ["variables"];
  Yasgui.defaults.requestConfig.endpoint = endpoint;

  var yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } },
    persistenceId: null,
    populateFromUrl: function (config) { config.requestConfig.endpoint = endpoint; return config; },
    yasr: { pluginOrder: ["table", "response"], defaultPlugin: "table" },
  });

  examples.forEach(function (ex, i) {
    var config = { name: ex.title || ex.name, yasqe: { value: ex.text }, requestConfig: { endpoint: endpoint } };
    if (i === 0 && !shared) {
      var tab = yasgui.getTab();
      if (tab) {
        tab.setName(config.name);
        tab.setQuery(ex.text);
        return;
      }
    }
    yasgui.addTab(false, config);
  });

  // YASGUI leaves its editor and its endpoint box without a name, and the editor keeps Tab (it indents): each
  // editor is named and described by the page's note on the keys (Esc leaves it), whichever tab draws it.
  var box = document.getElementById("yasgui");
  function nameFields() {
    Array.prototype.forEach.call(box.querySelectorAll(".yasqe .CodeMirror textarea"), function (e) {
      e.setAttribute("aria-label", box.getAttribute("data-editor-label") || "");
      e.setAttribute("aria-describedby", "dcpa-editor-keys");
    });
    Array.prototype.forEach.call(box.querySelectorAll("input.autocomplete"), function (e) {
      e.setAttribute("aria-label", box.getAttribute("data-endpoint-label") || "");
    });
  }
  nameFields();
  yasgui.on("tabChange", function () { setTimeout(nameFields, 0); });
  yasgui.on("tabSelect", function () { setTimeout(nameFields, 0); });
  box.addEventListener("focusin", nameFields);

  // "Download": the current tab's query through the endpoint, as CSV for a spreadsheet (BOM, formulas escaped); a
  // CONSTRUCT or DESCRIBE, which has no table, as Turtle (it downloaded the endpoint's 406, as JSON, named .csv).
  document.getElementById("csv-download").addEventListener("click", function (ev) {
    var tab = yasgui.getTab();
    var query = tab ? tab.getQuery() : "";
    if (!query) { ev.preventDefault(); return; }
    var yasqe = tab.getYasqe ? tab.getYasqe() : null;
    var form = yasqe && yasqe.getQueryType ? String(yasqe.getQueryType() || "").toUpperCase() : "";
    var graph = form === "CONSTRUCT" || form === "DESCRIBE";
    var params = new URLSearchParams({ format: graph ? "ttl" : "spreadsheet", query: query });
    this.href = "/sparql?" + params.toString();
    this.setAttribute("download", graph ? "sparql-results.ttl" : "sparql-results.csv");
  });
})();
