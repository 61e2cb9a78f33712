/* DCPA graph views: draws the network JSON embedded in the page with vis-network.
 *
 * Every label is data: it is only ever set with textContent or given to vis-network as a
 * plain-text title, never parsed as HTML. Works from the server and from a file on disk.
 */
(function () {
  "use strict";

  var I18N = {
    zh: {
      found: "找到 {n} 个节点", all: "共 {n} 个节点", none: "没有找到", kind: "类型", iri: "IRI", json: "节点 JSON",
      village_json: "村 JSON", open: "打开它的页面", neighbours: "相连节点", synthetic: "示例数据（非真实数据）",
      pick: "点击节点查看详情", offline: "离线文件：没有 JSON 链接", yes: "是", no: "否",
      hidden: "（另有 {n} 个被筛选隐藏）",
      no_vis: "关系图没有载入（网络慢或中断）。请刷新页面；本页其余内容不受影响。",
    },
    en: {
      found: "{n} node(s) found", all: "{n} node(s) in all", none: "nothing found", kind: "kind", iri: "IRI", json: "node JSON",
      village_json: "village JSON", open: "open its page", neighbours: "connected nodes", synthetic: "example data (not real)",
      pick: "Click a node to see its details", offline: "offline file: no JSON links", yes: "yes", no: "no",
      hidden: " ({n} more hidden by the filter)",
      no_vis: "The graph did not load (a slow or broken connection). Reload the page; the rest of it is unaffected.",
    },
  };
  var FADED = "rgba(200,200,200,0.35)";

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  // A name or value from the data, each part in another language than the page's marked with its lang (the
  // rule of kg.answers.labels.language_runs, its pattern from the page's data): a screen reader read 朱碌科镇
  // on an English page with its English voice.
  function said(e, text, lang, chineseRun) {
    text = text === undefined || text === null ? "" : String(text);
    if (lang === "zh") {
      if (/[A-Za-z]/.test(text) && !new RegExp(chineseRun).test(text)) e.lang = "en";
      e.appendChild(document.createTextNode(text));
      return e;
    }
    var re = new RegExp(chineseRun, "g"), at = 0, m;
    while ((m = re.exec(text)) !== null) {
      if (m.index > at) e.appendChild(document.createTextNode(text.slice(at, m.index)));
      var span = el("span", m[0]);
      span.lang = "zh-CN";
      e.appendChild(span);
      at = re.lastIndex;
    }
    if (at < text.length) e.appendChild(document.createTextNode(text.slice(at)));
    return e;
  }

  function textOf(value, lang) {
    if (value && typeof value === "object") return value[lang] || value.en || value.zh || "";
    return value === undefined || value === null ? "" : String(value);
  }

  function init(root) {
    var source = document.getElementById(root.getAttribute("data-source") || "dcpa-graph-data");
    var data = JSON.parse(source.textContent);
    // the page's own language: a file on disk opened with ?lang=zh drew Chinese names and legend under its
    // English heading, notes and <html lang="en">
    var lang = data.lang === "en" ? "en" : "zh";
    if (typeof vis === "undefined") {
      // the drawing library did not arrive (a slow or broken link): the canvas stayed blank, search and filters
      // did nothing, and nothing said why
      var gone = el("p", I18N[lang].no_vis, "dcpa-empty");
      gone.setAttribute("role", "alert");
      root.querySelector(".dcpa-canvas").appendChild(gone);
      root.setAttribute("data-ready", "0");
      return;
    }
    var t = I18N[lang];
    var q = function (sel) { return root.querySelector(sel); };
    var mark = function (e, text) { return said(e, text, lang, data.chinese_run || "(?!)"); };
    var kindInfo = {};
    data.legend.forEach(function (k) { kindInfo[k.kind] = k; });

    var nodes = new vis.DataSet(data.nodes.map(function (n) {
      var copy = Object.assign({}, n);
      copy.label = n["label_" + lang];
      var kind = kindInfo[n.kind] ? kindInfo[n.kind][lang] : n.kind;
      copy.title = copy.label + "\n" + kind + (n.synthetic ? "\n示例数据 / example data" : "");
      return copy;
    }));
    var edges = new vis.DataSet(data.edges.map(function (e, i) {
      var copy = Object.assign({ id: "e" + i }, e);
      copy.label = e["label_" + lang];
      copy.title = copy.label;
      return copy;
    }));
    var original = {};
    nodes.forEach(function (n) { original[n.id] = { color: n.color, font: n.font }; });

    var network = new vis.Network(q(".dcpa-canvas"), { nodes: nodes, edges: edges }, data.options);
    // The keys (arrows pan, +/- zoom) go to vis-network's own frame: it takes the focus, named as the canvas is.
    var frame = q(".dcpa-canvas .vis-network");
    if (frame) {
      frame.tabIndex = 0;
      frame.setAttribute("role", "application");
      frame.setAttribute("aria-label", q(".dcpa-canvas").getAttribute("data-label") || "");
      var keys = q(".dcpa-canvas").getAttribute("data-describedby");
      if (keys) frame.setAttribute("aria-describedby", keys);
    }
    var api = { network: network, nodes: nodes, edges: edges, data: data, lang: lang, ready: false };
    window.dcpaNetwork = api;
    window.dcpaNetworks = (window.dcpaNetworks || []).concat([api]);
    function ready() {
      api.ready = true;
      root.setAttribute("data-ready", "1");
    }
    if (data.options.physics && data.options.physics.enabled) {
      network.once("stabilizationIterationsDone", function () {
        network.setOptions({ physics: { enabled: false } });
        network.fit();
        ready();
      });
    } else {
      network.once("afterDrawing", ready);
      setTimeout(ready, 50);
    }

    // --- legend and filter by kind -------------------------------------
    var legend = q(".dcpa-legend");
    data.legend.forEach(function (k) {
      var li = el("li");
      var box = el("input");
      box.type = "checkbox";
      box.checked = true;
      box.value = k.kind;
      box.setAttribute("data-kind", k.kind);
      box.id = root.id + "-kind-" + k.kind;
      var lab = el("label");
      lab.htmlFor = box.id;
      var sw = el("span", null, "dcpa-swatch");
      sw.style.background = k.color;
      sw.setAttribute("data-shape", k.shape || "");  // drawn in its nodes' shape: not told apart by colour alone
      lab.appendChild(sw);
      lab.appendChild(document.createTextNode(" " + k[lang]));
      li.appendChild(box);
      li.appendChild(lab);
      li.appendChild(el("span", k.count, "dcpa-count"));
      box.addEventListener("change", function () {
        var upd = nodes.get({ filter: function (n) { return n.kind === k.kind; } })
          .map(function (n) { return { id: n.id, hidden: !box.checked }; });
        nodes.update(upd);
        // the chosen node filtered off the graph: its details (and, printed, its panel) no longer stand for it
        var chosen = api.selected && nodes.get(api.selected);
        if (!box.checked && chosen && chosen.kind === k.kind) {
          network.unselectAll();
          highlight(null);
          showDetails(null);
          api.selected = null;
        }
      });
      legend.appendChild(li);
    });

    var marks = q(".dcpa-marks");
    (data.marks || []).forEach(function (m) {
      var li = el("li");
      var sw = el("span", null, "dcpa-mark");
      sw.setAttribute("data-mark", m.mark);
      li.appendChild(sw);
      li.appendChild(document.createTextNode(" " + m[lang]));
      if (marks) marks.appendChild(li);
    });

    // --- details panel and neighbourhood highlight ----------------------
    var details = q(".dcpa-details-body");
    function showDetails(id) {
      details.replaceChildren();
      var n = id === null || id === undefined ? null : nodes.get(id);
      root.classList.toggle("dcpa-nothing-chosen", !n);  // printed, an empty panel is left out
      if (!n) { details.appendChild(el("p", t.pick, "dcpa-empty")); return; }
      var badge = el("span", kindInfo[n.kind] ? kindInfo[n.kind][lang] : n.kind, "dcpa-kind");
      badge.style.background = kindInfo[n.kind] ? kindInfo[n.kind].color : "#616161";
      // black or white, whichever reads on the kind's colour (white on yellow or light blue did not)
      badge.style.color = kindInfo[n.kind] && kindInfo[n.kind].text ? kindInfo[n.kind].text : "#fff";
      details.appendChild(badge);
      details.appendChild(mark(el("h3"), n["label_" + lang]));
      if (n.synthetic) details.appendChild(el("p", t.synthetic, "dcpa-synthetic"));
      var table = el("table");
      (n.props || []).forEach(function (row) {
        var tr = el("tr");
        tr.appendChild(mark(el("td"), lang === "zh" ? row[0] : row[1]));
        tr.appendChild(mark(el("td"), textOf(row[2], lang)));
        table.appendChild(tr);
      });
      details.appendChild(table);
      if (n.href && data.node_json) {  // a drill-down: this area's own view or page (served pages only)
        var open = el("p");
        var go = el("a", t.open, "dcpa-open-link");
        go.href = n.href + (n.href.indexOf("?") >= 0 ? "&" : "?") + "lang=" + lang;
        open.appendChild(go);
        details.appendChild(open);
      }
      if (data.node_json) {
        var p = el("p");
        var a = el("a", t.json);
        a.href = data.node_json + encodeURIComponent(n.id);
        a.className = "dcpa-json-link";
        p.appendChild(a);
        var code = (n.props || []).filter(function (r) { return r[1] === "code"; })[0];
        if (n.kind === "village" && code) {
          p.appendChild(document.createTextNode(" · "));
          var v = el("a", t.village_json);
          v.href = "/api/villages/" + encodeURIComponent(code[2]);
          p.appendChild(v);
        }
        details.appendChild(p);
      } else {
        details.appendChild(el("p", t.offline, "dcpa-empty"));
      }
      var neighbours = network.getConnectedNodes(id);
      if (neighbours.length) {
        details.appendChild(el("h2", t.neighbours + " (" + neighbours.length + ")"));
        var list = el("div", null, "dcpa-neighbours");
        neighbours.slice(0, 40).forEach(function (nid) {
          var b = mark(el("button"), nodes.get(nid)["label_" + lang]);
          b.type = "button";
          b.addEventListener("click", function () {
            select(nid);
            // the button pressed went with the old details: the focus goes to the new node's name, or a keyboard
            // user was sent back to the top of the page
            var name = details.querySelector("h3");
            if (name) { name.tabIndex = -1; name.focus(); }
          });
          list.appendChild(b);
        });
        details.appendChild(list);
      }
    }
    function highlight(id) {
      var keep = {};
      if (id !== null) {
        keep[id] = true;
        network.getConnectedNodes(id).forEach(function (n) { keep[n] = true; });
      }
      nodes.update(nodes.getIds().map(function (nid) {
        var o = original[nid];
        return id === null || keep[nid]
          ? { id: nid, color: o.color, font: o.font || { color: "#212121" } }
          : { id: nid, color: FADED, font: { color: FADED } };
      }));
    }
    function select(id) {
      network.selectNodes([id]);
      network.focus(id, { scale: 1.1, animation: false });
      highlight(id);
      showDetails(id);
      api.selected = id;
      // Stacked (a phone, a narrow window), the details sit below the canvas: bring them on screen, or a tap
      // on a node seems to do nothing.
      var panel = q(".dcpa-details"), canvas = q(".dcpa-canvas");
      if (panel && canvas && panel.getBoundingClientRect().top >= canvas.getBoundingClientRect().bottom - 1 &&
          panel.getBoundingClientRect().top > window.innerHeight - 40 && panel.scrollIntoView) {
        panel.scrollIntoView({ block: "nearest" });
      }
    }
    api.select = select;
    network.on("click", function (params) {
      if (params.nodes.length) select(params.nodes[0]);
      else { highlight(null); showDetails(null); api.selected = null; }
    });
    showDetails(null);

    // --- search ---------------------------------------------------------
    var form = q(".dcpa-search");
    var status = q(".dcpa-status");
    var results = q(".dcpa-results");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var text = q(".dcpa-search input").value.trim().toLowerCase();
      results.replaceChildren();
      function listed(n) {
        var b = mark(el("button"), n["label_" + lang]);
        b.type = "button";
        b.addEventListener("click", function () { select(n.id); });
        results.appendChild(b);
      }
      if (!text) {
        // Nothing typed: every node shown, by name, so that one whose name is not known (an ontology class)
        // can still be opened without a mouse.
        var shown = nodes.get({ filter: function (n) { return !n.hidden; } }).sort(function (a, b) {
          return String(a["label_" + lang]).localeCompare(String(b["label_" + lang]), lang === "zh" ? "zh-CN" : "en");
        });
        status.textContent = t.all.replace("{n}", shown.length);
        shown.forEach(listed);
        return;
      }
      var matching = nodes.get({
        filter: function (n) {
          return String(n.label_zh).toLowerCase().indexOf(text) >= 0 ||
            String(n.label_en).toLowerCase().indexOf(text) >= 0;
        },
      });
      // only the nodes drawn: a kind filtered out was found and chosen, its details shown for a node not on the
      // graph; the status says how many the filter hides
      var hits = matching.filter(function (n) { return !n.hidden; });
      var hidden = matching.length - hits.length;
      status.textContent = (hits.length ? t.found.replace("{n}", hits.length) : t.none) +
        (hidden ? t.hidden.replace("{n}", hidden) : "");
      hits.slice(0, 20).forEach(listed);
      if (hits.length) select(hits[0].id);
    });
  }

  function start() {
    document.querySelectorAll(".dcpa-graph[data-source]").forEach(init);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
