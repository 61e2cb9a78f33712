/* DCPA data entry page (/data): check uploaded files with a dry run, show every located problem, import
 * once the check passed, withdraw a batch from the history. The work is the JSON API's (POST /api/imports,
 * POST /api/imports/{batch}/withdraw); this script only sends the files with the token the user typed and
 * shows the answers. Everything from the server is put in the page as text (textContent), never as HTML.
 */
(function () {
  "use strict";
  var MESSAGE_KEY = "dcpa-data-message";
  // The steward's name, kept in this browser (not the token): the page reloads after each import and withdrawal,
  // and a name left empty was recorded as the API's default user, not as who made the change.
  var USER_KEY = "dcpa-data-user";

  function fill(template, fields) {
    return template.replace(/\{(\w+)\}/g, function (_m, k) { return k in fields ? String(fields[k]) : ""; });
  }

  // The half of a server's "中文 / English" message this page's language reads (the first " / " parts them, as
  // every message is written; api/errors.py in_language does the same for error pages). Else the text whole.
  function half(message, lang) {
    var s = message === null || message === undefined ? "" : String(message);
    var at = s.indexOf(" / ");
    if (at < 0 || !/[\u4e00-\u9fff]/.test(s.slice(0, at))) return s;
    return lang === "en" ? s.slice(at + 3) : s.slice(0, at);
  }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  function start() {
    var source = document.getElementById("dcpa-data-text");
    if (!source) return;
    var text = JSON.parse(source.textContent);
    var form = document.getElementById("dcpa-upload");
    var files = document.getElementById("dcpa-files");
    var user = document.getElementById("dcpa-user");
    var token = document.getElementById("dcpa-token");
    var confirmButton = document.getElementById("dcpa-confirm");
    var report = document.getElementById("dcpa-report");
    var checked = null; // the signature of the files that passed the check

    function signature() {
      return Array.prototype.map.call(files.files, function (f) {
        return [f.name, f.size, f.lastModified].join("/");
      }).join("|");
    }

    function headers() {
      var h = { Authorization: "Bearer " + token.value.trim() };
      if (user.value.trim()) h["X-DCPA-User"] = encodeURIComponent(user.value.trim());
      return h;
    }

    function say(message, cls) {
      report.textContent = "";
      report.setAttribute("data-state", cls || "");
      report.appendChild(el("p", message, cls ? "dcpa-" + cls : ""));
      return report;
    }

    function counted(r) {
      var n = 0;
      Object.keys(r.counts || {}).forEach(function (k) { n += r.counts[k]; });
      return n;
    }

    function showError(body, status) {
      var error = (body && body.error) || { message: text.failed + " (" + status + ")" };
      var issues = Array.isArray(error.details) ? error.details : [];
      if (!issues.length) {
        say(text.failed + text.colon + half(error.message, text.lang) +
            (error.hint ? text.dash + half(error.hint, text.lang) : ""), "error");
        return;
      }
      say(fill(text.problems, { n: issues.length }), "error");
      var wrap = el("div", null, "dcpa-scroll");
      var table = el("table", null, "dcpa-table dcpa-issues");
      var head = table.createTHead().insertRow();
      text.cols.forEach(function (c) { head.appendChild(el("th", c)); });
      var body_ = table.createTBody();
      issues.forEach(function (i) {
        var row = body_.insertRow();
        var cells = [i.file, i.sheet, i.row, i.column, i.value, half(i.message, text.lang), half(i.hint, text.lang)];
        cells.forEach(function (v) {
          row.appendChild(el("td", v === null || v === undefined ? "" : v));
        });
      });
      wrap.appendChild(table);
      report.appendChild(wrap);
    }

    function send(url, init) {
      return fetch(url, init).then(function (r) {
        return r.text().then(function (t) {
          var body = null;
          try { body = JSON.parse(t); } catch (_e) { body = null; }
          return { ok: r.ok, status: r.status, body: body };
        });
      }, function (e) {
        say(fill(text.offline, { error: e }), "error");
        return null;
      });
    }

    function ready() {
      if (!files.files.length) { say(text.need_files, "error"); return false; }
      if (!token.value.trim()) { say(text.need_token, "error"); token.focus(); return false; }
      return true;
    }

    function named() {
      var name = user.value.trim();
      if (!name) { say(text.need_user, "error"); user.focus(); return false; }
      try { window.localStorage.setItem(USER_KEY, name); } catch (_e) { /* private mode */ }
      return true;
    }

    function upload(dryRun) {
      var data = new FormData();
      Array.prototype.forEach.call(files.files, function (f) { data.append("files", f, f.name); });
      return send("/api/imports" + (dryRun ? "?dry_run=true" : ""), { method: "POST", body: data, headers: headers() });
    }

    function reloadWith(message) {
      try { window.sessionStorage.setItem(MESSAGE_KEY, message); } catch (_e) { /* private mode */ }
      window.location.reload();
    }

    if (form) {
      files.addEventListener("change", function () {
        checked = null;
        confirmButton.disabled = true;
      });
      form.addEventListener("submit", function (evt) {
        evt.preventDefault();
        confirmButton.disabled = true;
        checked = null;
        if (!ready()) return;
        say(text.checking, "busy");
        var sig = signature();
        upload(true).then(function (res) {
          if (!res) return;
          if (!res.ok) { showError(res.body, res.status); return; }
          var r = res.body.report;
          say(fill(text.checked, { records: counted(r), triples: r.triples }), "ok");
          if (r.skipped_examples) report.appendChild(el("p", fill(text.skipped, { n: r.skipped_examples })));
          (r.warnings || []).forEach(function (w) {
            report.appendChild(el("p", text.warning + text.colon + half(w, text.lang), "dcpa-muted"));
          });
          checked = sig;
          confirmButton.disabled = false;
        });
      });
      confirmButton.addEventListener("click", function () {
        if (checked === null || checked !== signature() || !ready()) { confirmButton.disabled = true; return; }
        if (!named()) return;
        confirmButton.disabled = true;
        say(text.importing, "busy");
        upload(false).then(function (res) {
          if (!res) return;
          if (!res.ok) { showError(res.body, res.status); return; }
          var r = res.body.report;
          reloadWith(fill(text.imported, { records: counted(r), batch: r.batch_id }));
        });
      });
    }

    Array.prototype.forEach.call(document.querySelectorAll("form.dcpa-withdraw"), function (f) {
      f.addEventListener("submit", function (evt) {
        evt.preventDefault();
        var batch = f.getAttribute("data-batch");
        if (!token || !token.value.trim()) { say(text.need_token, "error"); if (token) token.focus(); return; }
        if (!named()) return;
        if (!window.confirm(fill(text.confirm_withdraw, { batch: batch }))) return;
        say(text.withdrawing, "busy");
        var h = headers();
        h["Content-Type"] = "application/json";
        send("/api/imports/" + encodeURIComponent(batch) + "/withdraw", {
          method: "POST", headers: h, body: JSON.stringify({ reason: f.elements.reason.value }),
        }).then(function (res) {
          if (!res) return;
          if (!res.ok) { showError(res.body, res.status); report.scrollIntoView(); return; }
          reloadWith(fill(text.withdrawn, { batch: batch }));
        });
      });
    });

    if (user && !user.value) {
      try { user.value = window.localStorage.getItem(USER_KEY) || ""; } catch (_e) { /* private mode */ }
    }
    var left = null;
    try { left = window.sessionStorage.getItem(MESSAGE_KEY); window.sessionStorage.removeItem(MESSAGE_KEY); } catch (_e) { left = null; }
    if (left) say(left, "ok");
    document.body.setAttribute("data-entry-ready", "1");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
