(function () {
  "use strict";
  var table = document.getElementById("matrix");
  var body = table.tBodies[0];
  var heads = table.tHead.rows[table.tHead.rows.length - 1].cells;
  var input = document.getElementById("filter");
  var status = document.getElementById("filter-status");
  var rows = Array.prototype.slice.call(body.rows);

  function value(row, index) {
    var cell = row.cells[index];
    var key = cell.getAttribute("data-sort");
    return key === null ? cell.textContent.trim().toLowerCase() : key;
  }
  function compare(a, b) {
    var x = Number(a), y = Number(b);
    if (a !== "" && b !== "" && !isNaN(x) && !isNaN(y)) { return x - y; }
    return a < b ? -1 : (a > b ? 1 : 0);
  }
  function sortBy(index, descending) {
    rows.sort(function (r1, r2) {
      var c = compare(value(r1, index), value(r2, index));
      if (descending) { c = -c; }
      return c !== 0 ? c : compare(value(r1, 0), value(r2, 0));
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(heads, function (th, i) {
      if (i === index) {
        th.setAttribute("aria-sort", descending ? "descending" : "ascending");
      } else {
        th.removeAttribute("aria-sort");
      }
    });
  }
  function applyFilter(text) {
    var query = text.trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (row) {
      var id = row.getAttribute("data-provider");
      var match = query === "" || row.textContent.toLowerCase().indexOf(query) !== -1 ||
        id.indexOf(query) !== -1;
      row.hidden = !match;
      var section = document.getElementById("provider-" + id);
      if (section) { section.hidden = !match; }
      if (match) { shown += 1; }
    });
    status.textContent = query === "" ? rows.length + " providers" :
      shown + " of " + rows.length + " providers";
  }
  function fromHash() {
    var params = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (part) {
      var at = part.indexOf("=");
      if (at <= 0) { return; }
      try {
        params[decodeURIComponent(part.slice(0, at))] =
          decodeURIComponent(part.slice(at + 1).replace(/\+/g, " "));
      } catch (e) { /* a malformed escape: ignore that part */ }
    });
    if (typeof params.filter === "string") { input.value = params.filter; }
    applyFilter(input.value);
    if (typeof params.sort === "string") {
      var descending = params.sort.charAt(0) === "-";
      var key = descending ? params.sort.slice(1) : params.sort;
      Array.prototype.forEach.call(heads, function (th, i) {
        if (th.getAttribute("data-key") === key) { sortBy(i, descending); }
      });
    }
  }
  Array.prototype.forEach.call(heads, function (th, index) {
    var button = th.querySelector("button");
    if (!button) { return; }
    button.addEventListener("click", function () {
      sortBy(index, th.getAttribute("aria-sort") === "ascending");
    });
  });
  input.addEventListener("input", function () { applyFilter(input.value); });
  window.addEventListener("hashchange", fromHash);
  fromHash();
})();
