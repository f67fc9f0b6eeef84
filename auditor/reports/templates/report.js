(function () {
  "use strict";
  // Every value below comes from the report and is untrusted: it reaches the page only
  // through textContent, option.text and attribute setters, never through innerHTML, and
  // through visible(), so that a character that would change how text displays (a bidi
  // override reversing a name, a zero-width or other format control, NUL) shows as <U+202E>.
  var HIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;
  function visible(text) {
    return String(text).replace(HIDDEN, function (c) {
      return "<U+" + c.codePointAt(0).toString(16).toUpperCase().padStart(4, "0") + ">";
    });
  }
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var policies = data.policies, resources = data.resources, failures = data.failures;
  var P = policies.length, V = resources.length;
  var RANK = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };
  var STATUS_NAMES = { "0": "pass", "1": "fail", "2": "skip" };
  var failureAt = new Map();
  failures.forEach(function (f, i) { failureAt.set(f[0] * P + f[1], i); });
  var failureKeys = new Int32Array(failures.length);
  failures.forEach(function (f, i) { failureKeys[i] = f[0] * P + f[1]; });
  failureKeys.sort();

  var state = { sort: "severity", dir: -1, page: 0, passes: false, rows: new Int32Array(0), open: new Set() };
  var $ = function (id) { return document.getElementById(id); };

  function statusOf(key) {
    var i = failureAt.get(key);
    if (i !== undefined) { return failures[i][3] >= 0 ? "waived" : "fail"; }
    return STATUS_NAMES[data.statuses.charAt(key)];
  }
  var lowered = new Map();
  function haystack(key) {
    var hit = lowered.get(key);
    if (hit !== undefined) { return hit; }
    var p = policies[key % P], r = resources[Math.floor(key / P)];
    var parts = [p[0], p[1], p[2], r[0], r[1], r[2], r[3], r[4], r[5], r[7], statusOf(key)];
    var i = failureAt.get(key);
    if (i !== undefined) {
      failures[i][2].forEach(function (e) { parts.push(e[0], e[1], e[2], e[3], e[4]); });
      parts.push(failures[i][4], failures[i][5]);
    }
    hit = parts.join("\u0000").toLowerCase();
    if (lowered.size < 300000) { lowered.set(key, hit); }
    return hit;
  }

  function fill(select, values) {
    values.forEach(function (value) {
      var option = document.createElement("option");
      option.value = value; option.text = visible(value);
      select.appendChild(option);
    });
  }
  fill($("filter-policy"), policies.map(function (p) { return p[0]; }));
  var memberships = new Set();
  resources.forEach(function (r) { if (r[3]) { memberships.add(r[3]); } });
  fill($("filter-membership"), Array.from(memberships).sort());

  function sortValue(key, column) {
    var p = policies[key % P], r = resources[Math.floor(key / P)];
    switch (column) {
      case "severity": return RANK[p[2]];
      case "policy": return p[0];
      case "name": return r[2] || r[0];
      case "version": return r[1];
      case "membership": return r[3];
      case "account": return r[4] + " " + r[5];
      case "status": return statusOf(key);
    }
    return 0;
  }

  function compute() {
    var severity = $("filter-severity").value, policy = $("filter-policy").value;
    var membership = $("filter-membership").value, status = $("filter-status").value;
    var text = $("filter-text").value.trim().toLowerCase();
    var total = state.passes ? V * P : failures.length;
    var out = new Int32Array(total), n = 0;
    for (var j = 0; j < total; j++) {
      var key = state.passes ? j : failureKeys[j];
      var p = policies[key % P];
      if (severity && p[2] !== severity) { continue; }
      if (policy && p[0] !== policy) { continue; }
      if (membership && resources[Math.floor(key / P)][3] !== membership) { continue; }
      if (status) {
        var s = statusOf(key);
        if (status === "unwaived" ? s !== "fail" : status === "new" || status === "unchanged"
            ? (failureAt.get(key) === undefined || failures[failureAt.get(key)][4] !== status)
            : s !== status) { continue; }
      }
      if (text && haystack(key).indexOf(text) < 0) { continue; }
      out[n++] = key;
    }
    var rows = out.slice(0, n);
    var column = state.sort, dir = state.dir;
    var cache = new Map();
    var value = function (key) {
      var v = cache.get(key);
      if (v === undefined) { v = sortValue(key, column); cache.set(key, v); }
      return v;
    };
    rows.sort(function (a, b) {
      var x = value(a), y = value(b);
      if (x < y) { return -dir; }
      if (x > y) { return dir; }
      return a - b;
    });
    state.rows = rows;
    state.page = 0;
    render();
  }

  function cell(row, text, className) {
    var td = document.createElement("td");
    td.textContent = visible(text);
    if (className) { td.className = className; }
    row.appendChild(td);
    return td;
  }
  function badge(parent, text, className, title) {
    var span = document.createElement("span");
    span.className = className; span.textContent = visible(text);
    if (title) { span.title = visible(title); }
    parent.appendChild(span);
    return span;
  }

  function evidenceRow(key, i) {
    var f = failures[i];
    var tr = document.createElement("tr");
    tr.className = "detail";
    var td = document.createElement("td");
    td.colSpan = 8;
    var table = document.createElement("table");
    var head = table.createTHead().insertRow();
    ["Path", "Actual", "Expected", "Message", "Kind"].forEach(function (h) {
      var th = document.createElement("th"); th.textContent = h; head.appendChild(th);
    });
    var body = table.createTBody();
    f[2].forEach(function (e) {
      var row = body.insertRow();
      cell(row, e[0], "mono");
      [e[1], e[2]].forEach(function (v) {
        var c = row.insertCell(); var pre = document.createElement("pre");
        var shown = v;
        try { shown = JSON.stringify(JSON.parse(v), null, 2); } catch (err) { shown = v; }
        pre.textContent = visible(shown); c.appendChild(pre);
      });
      cell(row, e[3]);
      cell(row, e[4], "kind-" + e[4]);
    });
    td.appendChild(table);
    var meta = document.createElement("p");
    meta.className = "muted";
    var r = resources[f[0]];
    var text = "Result id " + f[5] + " · ARN " + r[0] + " · model status " + r[6];
    if (f[3] >= 0) {
      var w = data.waivers[f[3]];
      text += " · waived until " + w[2] + " by " + w[1] + ": " + w[0];
    }
    meta.textContent = visible(text);
    td.appendChild(meta);
    tr.appendChild(td);
    return tr;
  }

  function render() {
    var body = $("results-body");
    var size = data.pageSize, rows = state.rows;
    var pages = Math.max(1, Math.ceil(rows.length / size));
    if (state.page >= pages) { state.page = pages - 1; }
    var start = state.page * size, end = Math.min(rows.length, start + size);
    var fragment = document.createDocumentFragment();
    for (var j = start; j < end; j++) {
      var key = rows[j];
      var p = policies[key % P], r = resources[Math.floor(key / P)];
      var status = statusOf(key), i = failureAt.get(key);
      var tr = document.createElement("tr");
      tr.className = "result-row status-" + status;
      tr.dataset.key = String(key);
      var sevCell = tr.insertCell();
      badge(sevCell, p[2], "sev sev-" + (RANK[p[2]] === undefined ? "info" : p[2]));
      var pc = cell(tr, p[0], "mono policy"); pc.title = visible(p[1]);
      var nc = cell(tr, r[2], "name");
      if (r[7] && r[7] !== "trained-model") {
        nc.appendChild(document.createTextNode(" "));
        badge(nc, r[7], "tag resource-type");
      }
      cell(tr, r[1], "mono version");
      cell(tr, r[3], "mono membership");
      cell(tr, (r[4] + " " + r[5]).trim());
      var sc = tr.insertCell(); sc.className = "status";
      if (status === "waived") {
        var w = data.waivers[failures[i][3]];
        badge(sc, "waived", "tag ok", w[0] + " (approved by " + w[1] + ", expires " + w[2] + ")");
      } else {
        badge(sc, status, status === "fail" ? "tag bad" : "tag");
      }
      if (i !== undefined && failures[i][4]) { badge(sc, failures[i][4], failures[i][4] === "new" ? "tag warn" : "tag"); }
      var ec = tr.insertCell();
      fragment.appendChild(tr);
      if (i !== undefined) {
        var button = document.createElement("button");
        button.type = "button"; button.className = "evidence";
        var opened = state.open.has(key);
        button.textContent = opened ? "Hide" : "Show";
        button.setAttribute("aria-expanded", opened ? "true" : "false");
        button.dataset.key = String(key);
        ec.appendChild(button);
        if (opened) { fragment.appendChild(evidenceRow(key, i)); }
      } else {
        ec.textContent = "—";
      }
    }
    body.replaceChildren(fragment);
    $("page-info").textContent = "Page " + (state.page + 1) + " of " + pages;
    $("row-count").textContent = rows.length + (state.passes ? " results" : " failures") +
      " match (" + (state.passes ? V * P : failures.length) + " in all); showing " +
      (rows.length ? start + 1 : 0) + "–" + end + ".";
    $("page-first").disabled = $("page-prev").disabled = state.page === 0;
    $("page-last").disabled = $("page-next").disabled = state.page >= pages - 1;
  }

  $("results-body").addEventListener("click", function (event) {
    var button = event.target.closest("button.evidence");
    if (!button) { return; }
    var key = Number(button.dataset.key);
    if (state.open.has(key)) { state.open.delete(key); } else { state.open.add(key); }
    render();
  });
  document.querySelectorAll("th button[data-sort]").forEach(function (button) {
    button.addEventListener("click", function () {
      var column = button.dataset.sort;
      if (state.sort === column) { state.dir = -state.dir; } else { state.sort = column; state.dir = column === "severity" ? -1 : 1; }
      document.querySelectorAll("th[aria-sort]").forEach(function (th) { th.removeAttribute("aria-sort"); });
      button.parentElement.setAttribute("aria-sort", state.dir > 0 ? "ascending" : "descending");
      compute();
    });
  });
  ["filter-severity", "filter-policy", "filter-membership", "filter-status"].forEach(function (id) {
    $(id).addEventListener("change", compute);
  });
  var timer = 0;
  $("filter-text").addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(compute, 150); });
  $("filters").addEventListener("submit", function (event) { event.preventDefault(); compute(); });
  $("show-passes").addEventListener("change", function () { state.passes = this.checked; compute(); });
  function go(page) { return function () { state.page = page(); render(); window.scrollTo(0, $("results").offsetTop); }; }
  $("page-first").addEventListener("click", go(function () { return 0; }));
  $("page-prev").addEventListener("click", go(function () { return Math.max(0, state.page - 1); }));
  $("page-next").addEventListener("click", go(function () { return state.page + 1; }));
  $("page-last").addEventListener("click", go(function () { return Math.ceil(state.rows.length / data.pageSize) - 1; }));
  compute();
})();
