//! `compatibility.html`: one self-contained page, with no external assets.
//! The matrix sorts by clicking a header and filters with a text box; the
//! page also reads `#filter=TEXT` and `#sort=KEY` (or `#sort=-KEY`,
//! descending) from its address, so a link can open it filtered or sorted.
//! Each failure's message is a `<details>` to expand.

use std::fmt::Write as _;

use crate::cells;
use crate::escape::{html, html_inline};
use crate::model::{
    BODY_ENCODINGS, CLIENT_AUTH, Capability, CaseOutcome, CheckOutcome, Compatibility, GRANTS,
    ProviderReport,
};

/// Installed before anything else runs: counts uncaught errors, unhandled
/// rejections and `console.error` calls into
/// `document.documentElement.dataset.consoleErrors`, so a headless browser's
/// DOM dump tells whether the page ran cleanly.
const ERROR_HOOK: &str = r#"(function () {
  var root = document.documentElement, count = 0;
  root.dataset.consoleErrors = "0";
  function bump() { count += 1; root.dataset.consoleErrors = String(count); }
  window.addEventListener("error", bump, true);
  window.addEventListener("unhandledrejection", bump);
  var original = console.error;
  console.error = function () { bump(); return original.apply(console, arguments); };
})();"#;

const SCRIPT: &str = r#"(function () {
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
})();"#;

const STYLE: &str = r#":root {
  --fg: #1f2328; --muted: #59636e; --bg: #ffffff; --panel: #f6f8fa; --line: #d1d9e0;
  --ok: #1a7f37; --ok-bg: #dafbe1; --no: #cf222e; --no-bg: #ffebe9; --warn: #9a6700; --warn-bg: #fff8c5;
  --accent: #0969da;
}
@media (prefers-color-scheme: dark) {
  :root {
    --fg: #e6edf3; --muted: #9198a1; --bg: #0d1117; --panel: #151b23; --line: #3d444d;
    --ok: #3fb950; --ok-bg: #12261e; --no: #f85149; --no-bg: #2d1214; --warn: #d29922; --warn-bg: #272115;
    --accent: #4493f8;
  }
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--fg); background: var(--bg); }
header, main { max-width: 1500px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 18px; }
h1 { font-size: 22px; margin: 0 0 6px; }
h2 { font-size: 18px; margin: 0 0 8px; }
h3 { font-size: 14px; margin: 18px 0 6px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
a { color: var(--accent); }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12.5px; }
.summary { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 6px 0 12px; color: var(--muted); }
.pill { display: inline-block; padding: 1px 9px; border-radius: 999px; border: 1px solid var(--line); background: var(--panel); color: var(--fg); font-weight: 600; }
.pill.ok { color: var(--ok); background: var(--ok-bg); border-color: transparent; }
.pill.no { color: var(--no); background: var(--no-bg); border-color: transparent; }
.pill.skip { color: var(--warn); background: var(--warn-bg); border-color: transparent; }
.toolbar { display: flex; gap: 12px; align-items: center; margin: 8px 0; }
#filter { width: 280px; padding: 5px 9px; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); font: inherit; }
#filter-status, .legend { color: var(--muted); font-size: 12.5px; }
.legend span { margin-right: 12px; white-space: nowrap; }
.scroll { overflow-x: auto; border: 1px solid var(--line); border-radius: 8px; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
#matrix { font-size: 13px; }
#matrix th, #matrix td { padding: 5px 6px; vertical-align: middle; }
#matrix td { text-align: center; white-space: nowrap; }
#matrix td.text { text-align: left; white-space: normal; }
#matrix td.num { text-align: right; font-variant-numeric: tabular-nums; }
#matrix tbody th { text-align: left; font-weight: 600; min-width: 170px; max-width: 250px; }
#matrix tbody th code { font-weight: 400; color: var(--muted); }
#matrix tbody tr > :is(:nth-child(2), :nth-child(7), :nth-child(9), :nth-child(12), :nth-child(16), :nth-child(18)),
#matrix thead tr:last-child > :is(:nth-child(2), :nth-child(7), :nth-child(9), :nth-child(12), :nth-child(16), :nth-child(18)),
#matrix thead tr.groups > th + th { border-left: 1px solid var(--line); }
thead th { background: var(--panel); font-size: 12px; text-align: center; vertical-align: bottom; }
thead tr.groups th { color: var(--muted); font-weight: 600; border-bottom: 1px solid var(--line); padding: 4px 6px; }
thead th button { all: unset; cursor: pointer; display: block; width: 100%; font-weight: 600; line-height: 1.25; }
thead th button::after { content: " \2195"; color: var(--muted); font-weight: 400; }
thead th[aria-sort="ascending"] button::after { content: " \2191"; color: var(--accent); }
thead th[aria-sort="descending"] button::after { content: " \2193"; color: var(--accent); }
thead th button:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
tbody tr:nth-child(even) { background: var(--panel); }
tbody tr:hover { background: color-mix(in srgb, var(--accent) 8%, transparent); }
.mark { font-weight: 700; }
.mark.ok { color: var(--ok); }
.mark.no { color: var(--no); }
.mark.declared, .mark.none { color: var(--muted); font-weight: 400; }
.star { color: var(--warn); font-size: 11px; vertical-align: super; }
.conflict { color: var(--no); font-weight: 700; }
.bad { color: var(--no); font-weight: 600; }
.muted { color: var(--muted); }
section.provider { margin: 22px 0; padding: 16px 18px; border: 1px solid var(--line); border-radius: 8px; }
section.provider > p { margin: 2px 0 8px; color: var(--muted); }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 3px 14px; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; }
.cols { display: grid; grid-template-columns: minmax(300px, 2fr) 3fr; gap: 6px 28px; }
@media (max-width: 900px) { .cols { grid-template-columns: 1fr; } }
table.plain th { text-align: left; background: var(--panel); font-size: 12.5px; }
table.plain td.c { text-align: center; }
.outcome { font-weight: 600; white-space: nowrap; }
.outcome.passed, .outcome.pass { color: var(--ok); }
.outcome.failed, .outcome.fail { color: var(--no); }
.outcome.skipped, .outcome.warn { color: var(--warn); }
details { margin: 6px 0; }
details summary { cursor: pointer; }
pre.diff { margin: 6px 0 0; padding: 10px 12px; background: var(--panel); border: 1px solid var(--line); border-radius: 6px; overflow-x: auto; white-space: pre; }
pre.diff .add { color: var(--ok); background: var(--ok-bg); display: inline-block; min-width: 100%; }
pre.diff .del { color: var(--no); background: var(--no-bg); display: inline-block; min-width: 100%; }
pre.diff .hunk, pre.diff .meta { color: var(--muted); }
ul { margin: 4px 0; padding-left: 20px; }
footer { max-width: 1500px; margin: 0 auto; padding: 12px 20px 28px; color: var(--muted); font-size: 12.5px; }
"#;

/// Renders the report as one self-contained HTML page.
pub fn render(report: &Compatibility) -> String {
    let mut out = String::with_capacity(64 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(
        out,
        "<title>grantspec compatibility report ({})</title>",
        report.target.as_str()
    );
    let _ = writeln!(out, "<script>{ERROR_HOOK}</script>");
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");

    header(&mut out, report);
    out.push_str("<main>\n");
    if !report.spec_errors.is_empty() {
        out.push_str("<section class=\"provider\" id=\"spec-errors\"><h2 class=\"bad\">Spec files that did not load</h2><p>Their cases did not run.</p>\n");
        for error in &report.spec_errors {
            let _ = writeln!(
                out,
                "<h3>{}</h3><pre class=\"diff\">{}</pre>",
                html(&error.file),
                html(&error.message)
            );
        }
        out.push_str("</section>\n");
    }
    matrix(&mut out, report);
    for provider in &report.providers {
        section(&mut out, provider);
    }
    out.push_str("</main>\n");
    let _ = writeln!(
        out,
        "<footer>Written by {}; the same data is in <code>compatibility.json</code> (format version {}).</footer>",
        html(&report.generator),
        report.format_version
    );
    let _ = writeln!(out, "<script>{SCRIPT}</script>\n</body>\n</html>");
    out
}

fn header(out: &mut String, report: &Compatibility) {
    let s = &report.summary;
    out.push_str("<header>\n<h1>grantspec compatibility report</h1>\n<div class=\"summary\">");
    let _ = write!(
        out,
        "<span>target <span class=\"pill\">{}</span></span>",
        report.target.as_str()
    );
    let _ = write!(
        out,
        "<span>{} providers, {} trials</span>",
        report.providers.len(),
        s.cases
    );
    let _ = write!(
        out,
        "<span class=\"pill ok\">{} passed</span><span class=\"pill{}\">{} failed{}</span><span class=\"pill{}\">{} ignored</span>",
        s.passed,
        if s.failed > 0 { " no" } else { "" },
        s.failed,
        match s.pending {
            0 => String::new(),
            n => format!(" ({n} pending)"),
        },
        if s.skipped > 0 { " skip" } else { "" },
        s.skipped
    );
    if !report.spec_errors.is_empty() {
        let _ = write!(
            out,
            "<span class=\"pill no\">{} spec error(s)</span>",
            report.spec_errors.len()
        );
    }
    if let Some(at) = &report.generated_at {
        let _ = write!(out, "<span>generated {}</span>", html(at));
    }
    out.push_str("</div>\n</header>\n");
}

/// A sortable header cell.
fn sortable(key: &str, label: &str, title: &str) -> String {
    format!(
        "<th scope=\"col\" data-key=\"{}\" title=\"{}\"><button type=\"button\">{}</button></th>",
        html(key),
        html(title),
        label
    )
}

fn capability_cell(c: &Capability) -> String {
    let mark = cells::mark(c);
    format!(
        "<td data-sort=\"{}\" title=\"{}: {}\"><span class=\"mark {}\">{}</span>{}{}</td>",
        mark.sort,
        html(&c.name),
        html(&mark.meaning),
        mark.class,
        mark.symbol,
        if c.profile {
            "<span class=\"star\">★</span>"
        } else {
            ""
        },
        if mark.conflict {
            "<span class=\"conflict\">!</span>"
        } else {
            ""
        }
    )
}

fn matrix(out: &mut String, report: &Compatibility) {
    out.push_str("<div class=\"toolbar\"><input type=\"search\" id=\"filter\" placeholder=\"Filter providers…\" aria-label=\"Filter providers\" autocomplete=\"off\"><span id=\"filter-status\" aria-live=\"polite\"></span></div>\n");
    out.push_str(
        "<div class=\"scroll\">\n<table id=\"matrix\">\n<thead>\n<tr class=\"groups\"><th></th>",
    );
    let _ = write!(
        out,
        "<th colspan=\"{}\">grants</th><th colspan=\"{}\">request body</th><th colspan=\"{}\">client authentication</th><th colspan=\"4\">response</th><th colspan=\"2\">conformance</th><th colspan=\"3\">cases</th></tr>\n<tr>",
        GRANTS.len(),
        BODY_ENCODINGS.len(),
        CLIENT_AUTH.len()
    );
    out.push_str(&sortable("provider", "provider", "provider name and id"));
    for grant in GRANTS {
        let label = match grant {
            "client_credentials" => "client cred.",
            "authorization_code" => "auth. code",
            "refresh_token" => "refresh token",
            other => other,
        };
        out.push_str(&sortable(
            &format!("grant-{grant}"),
            &html(label),
            &format!("grant_type={grant}"),
        ));
    }
    for body in BODY_ENCODINGS {
        out.push_str(&sortable(
            &format!("body-{body}"),
            body,
            &format!("{body} request body"),
        ));
    }
    for auth in CLIENT_AUTH {
        let title = match auth {
            "basic" => "client_secret_basic: HTTP Basic",
            "post" => "client_secret_post: id and secret as parameters",
            _ => "none: a public client, client_id only",
        };
        out.push_str(&sortable(&format!("auth-{auth}"), auth, title));
    }
    out.push_str(&sortable(
        "token_type",
        "token_type",
        "token_type spellings seen",
    ));
    out.push_str(&sortable(
        "expiry",
        "expiry",
        "expiry members, and the envelope",
    ));
    out.push_str(&sortable(
        "refresh",
        "refresh",
        "what a refresh does to the refresh token",
    ));
    out.push_str(&sortable("errors", "errors", "error format"));
    out.push_str(&sortable(
        "rfc",
        "RFC checks",
        "RFC 6749 / 6750 checks by outcome",
    ));
    out.push_str(&sortable(
        "deviations",
        "deviations",
        "declared deviations, and drift",
    ));
    out.push_str(&sortable("passed", "pass", "cases passed"));
    out.push_str(&sortable("failed", "fail", "cases failed"));
    out.push_str(&sortable("skipped", "skip", "cases skipped"));
    out.push_str("</tr>\n</thead>\n<tbody>\n");

    for p in &report.providers {
        let _ = write!(
            out,
            "<tr data-provider=\"{id}\"><th scope=\"row\" data-sort=\"{id}\"><a href=\"#provider-{id}\">{name}</a><br><code>{id}</code></th>",
            id = html(&p.id),
            name = html(&p.name)
        );
        for list in [&p.grants, &p.body_encodings, &p.client_auth] {
            for c in list {
                out.push_str(&capability_cell(c));
            }
        }
        let conflict = |c: bool| {
            if c {
                "<span class=\"conflict\" title=\"this run contradicts the spec\">!</span>"
            } else {
                ""
            }
        };
        let _ = write!(
            out,
            "<td class=\"text\"><code>{}</code>{}</td>",
            html(&cells::token_type(p)),
            conflict(cells::token_type_conflict(p))
        );
        let _ = write!(out, "<td class=\"text\">{}</td>", html(&cells::expiry(p)));
        let (refresh, refresh_conflict) = cells::refresh(p);
        let _ = write!(
            out,
            "<td class=\"text\">{}{}</td>",
            html(&refresh),
            conflict(refresh_conflict)
        );
        let _ = write!(out, "<td class=\"text\">{}</td>", html(&p.errors.format));
        let (rfc, rfc_sort) = cells::rfc(p);
        let rfc_class = if !p.rfc.evaluated {
            "text muted"
        } else if p.rfc.counts().fail > 0 {
            "text bad"
        } else {
            "text"
        };
        let _ = write!(
            out,
            "<td class=\"{rfc_class}\" data-sort=\"{rfc_sort}\">{}</td>",
            html(&rfc)
        );
        let (deviations, deviations_sort) = cells::deviations(p);
        let _ = write!(
            out,
            "<td class=\"text{}\" data-sort=\"{deviations_sort}\">{}</td>",
            if p.rfc.drift.is_empty() { "" } else { " bad" },
            html(&deviations)
        );
        let o = &p.outcome;
        let _ = writeln!(
            out,
            "<td class=\"num\">{}</td><td class=\"num{}\">{}</td><td class=\"num\">{}</td></tr>",
            o.passed,
            if o.failed > 0 { " bad" } else { "" },
            o.failed,
            o.skipped
        );
    }
    out.push_str("</tbody>\n</table>\n</div>\n<p class=\"legend\">");
    for (symbol, meaning) in cells::LEGEND {
        let _ = write!(
            out,
            "<span><b>{symbol}</b> {meaning}</span>",
            meaning = html(meaning)
        );
    }
    out.push_str("</p>\n");
}

fn list(out: &mut String, items: &[String], empty: &str) {
    if items.is_empty() {
        let _ = writeln!(out, "<p class=\"muted\">{}</p>", html(empty));
        return;
    }
    out.push_str("<ul>");
    for item in items {
        let _ = write!(out, "<li>{}</li>", html_inline(item));
    }
    out.push_str("</ul>\n");
}

fn codes(items: &[String]) -> String {
    if items.is_empty() {
        return "<span class=\"muted\">none</span>".to_owned();
    }
    items
        .iter()
        .map(|i| {
            if i.starts_with('+') && i.ends_with(" more") {
                html(i)
            } else {
                format!("<code>{}</code>", html(i))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A link only for http(s) addresses; anything else is shown as text.
fn link(url: &str) -> String {
    let lower = url.trim_start().to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        format!(
            "<a href=\"{0}\" rel=\"noopener noreferrer\">{0}</a>",
            html(url)
        )
    } else {
        html(url)
    }
}

/// A failure message with its unified diff lines coloured.
fn diff_block(text: &str) -> String {
    let mut out = String::from("<pre class=\"diff\">");
    for line in text.lines() {
        let class = if line.starts_with("+++") || line.starts_with("---") {
            Some("meta")
        } else if line.starts_with('+') {
            Some("add")
        } else if line.starts_with('-') {
            Some("del")
        } else if line.starts_with("@@") {
            Some("hunk")
        } else {
            None
        };
        match class {
            Some(class) => {
                let _ = writeln!(out, "<span class=\"{class}\">{}</span>", html(line));
            }
            None => {
                let _ = writeln!(out, "{}", html(line));
            }
        }
    }
    out.push_str("</pre>");
    out
}

fn section(out: &mut String, p: &ProviderReport) {
    let _ = writeln!(
        out,
        "<section class=\"provider\" id=\"provider-{id}\" data-provider=\"{id}\">",
        id = html(&p.id)
    );
    let _ = writeln!(
        out,
        "<h2>{} <code>{}</code></h2>",
        html(&p.name),
        html(&p.id)
    );
    let o = &p.outcome;
    let mut facts = Vec::new();
    if let Some(docs) = &p.docs {
        facts.push(format!("documentation {}", link(docs)));
    }
    facts.push(format!("target {}", p.target.as_str()));
    facts.push(format!(
        "{} cases: {} passed, {} failed, {} skipped",
        o.cases, o.passed, o.failed, o.skipped
    ));
    let _ = writeln!(out, "<p>{}</p>", facts.join(" · "));

    out.push_str("<div class=\"cols\">\n<div>\n<h3>Token endpoint and responses</h3>\n<dl>");
    let e = &p.endpoint;
    let _ = write!(
        out,
        "<dt>endpoint</dt><dd><code>{} {}</code></dd><dt>lists</dt><dd>{}</dd>",
        html(&e.method),
        html(&e.path),
        html(&e.lists)
    );
    if !e.renamed.is_empty() {
        let renamed: Vec<String> = e
            .renamed
            .iter()
            .map(|(rfc, wire)| format!("<code>{}</code> → <code>{}</code>", html(rfc), html(wire)))
            .collect();
        let _ = write!(out, "<dt>renamed</dt><dd>{}</dd>", renamed.join(", "));
    }
    let t = &p.token_type;
    let mut seen = t.observed.clone();
    if t.observed_missing {
        seen.push("(absent)".to_owned());
    }
    let _ = write!(
        out,
        "<dt>token_type</dt><dd>declared {}; seen {}{}</dd>",
        t.declared.as_deref().map_or_else(
            || "absent".to_owned(),
            |s| format!("<code>{}</code>", html(s))
        ),
        codes(&seen),
        if t.assume_bearer_when_missing {
            "; assumed <code>Bearer</code> when missing"
        } else {
            ""
        }
    );
    let x = &p.expiry;
    let lifetimes: Vec<String> = x
        .observed_lifetimes
        .iter()
        .map(|s| format!("{s} s"))
        .collect();
    let _ = write!(
        out,
        "<dt>expiry</dt><dd><code>{}</code>{}; declared lifetime {} s; seen {}{}</dd>",
        html(&x.style),
        x.envelope
            .as_deref()
            .map(|e| format!(" inside the <code>{}</code> envelope", html(e)))
            .unwrap_or_default(),
        x.declared_lifetime,
        codes(&x.observed_members),
        if lifetimes.is_empty() {
            String::new()
        } else {
            format!("; seen lifetimes {}", html(&lifetimes.join(", ")))
        }
    );
    let _ = write!(
        out,
        "<dt>refresh</dt><dd>{}</dd>",
        html(&cells::refresh_words(p))
    );
    let _ = write!(
        out,
        "<dt>errors</dt><dd><code>{}</code>; seen {}</dd>",
        html(&p.errors.format),
        codes(&p.errors.observed)
    );
    out.push_str("</dl>\n</div>\n<div>\n<h3>Capabilities</h3>\n");
    out.push_str("<table class=\"plain\"><thead><tr><th>capability</th><th></th><th>observed</th><th>cases</th></tr></thead><tbody>");
    for (kind, caps) in [
        ("grant", &p.grants),
        ("body", &p.body_encodings),
        ("client auth", &p.client_auth),
    ] {
        for c in caps.iter().filter(|c| {
            c.declared || c.profile || c.observed != crate::model::Observed::NotExercised
        }) {
            let mark = cells::mark(c);
            let _ = write!(
                out,
                "<tr><td>{} <code>{}</code></td><td class=\"c\"><span class=\"mark {}\">{}</span></td><td>{}</td><td>{}</td></tr>",
                kind,
                html(&c.name),
                mark.class,
                html(&cells::mark_text(c)),
                html(&mark.meaning),
                codes(&cells::some_of(&cells::local(&p.id, &c.evidence), 3))
            );
        }
    }
    out.push_str("</tbody></table>\n</div>\n</div>\n");

    out.push_str("<h3>RFC 6749 conformance</h3>\n");
    if !p.rfc.evaluated {
        out.push_str("<p class=\"muted\">RFC checks were not evaluated in this run: no results, and no deviation drift computed.</p>\n");
    } else if p.rfc.checks.is_empty() {
        out.push_str("<p class=\"muted\">No check applied.</p>\n");
    } else {
        out.push_str("<table class=\"plain\"><thead><tr><th>clause</th><th>check</th><th>severity</th><th>outcome</th><th>details</th></tr></thead><tbody>");
        for c in &p.rfc.checks {
            let outcome_class = match c.outcome {
                CheckOutcome::Pass => "pass",
                CheckOutcome::Warn => "warn",
                CheckOutcome::Fail => "fail",
                CheckOutcome::NotApplicable => "na",
            };
            let details: Vec<String> = c.details.iter().map(|d| html(d)).collect();
            let _ = write!(
                out,
                "<tr><td>{}</td><td><code>{}</code> {}</td><td>{}</td><td class=\"outcome {outcome_class}\">{}</td><td>{}</td></tr>",
                html(&c.clause),
                html(&c.check_id),
                html(&c.title),
                c.severity.as_str(),
                c.outcome.as_str(),
                details.join("<br>")
            );
        }
        out.push_str("</tbody></table>\n");
    }
    let _ = writeln!(out, "<p>Declared deviations: {}</p>", codes(&p.deviations));
    if p.rfc.evaluated {
        if p.rfc.drift.is_empty() {
            out.push_str("<p>Deviation drift: none.</p>\n");
        } else {
            out.push_str("<p class=\"bad\">Deviation drift:</p>\n");
            list(out, &p.rfc.drift, "");
        }
    }

    out.push_str("<h3>Documented versus observed</h3>\n");
    if !p.notes.is_empty() {
        out.push_str("<p class=\"muted\">What the documentation says, per the spec's notes:</p>\n");
    }
    list(out, &p.notes, "The spec records no documentation notes.");
    if p.differences.is_empty() {
        out.push_str(
            "<p class=\"muted\">This run observed nothing the spec does not declare.</p>\n",
        );
    } else {
        out.push_str("<p class=\"bad\">Where this run differs from the spec:</p>\n");
        list(out, &p.differences, "");
    }

    out.push_str("<h3>Cases</h3>\n<table class=\"plain cases\"><thead><tr><th>outcome</th><th>case</th><th>description</th></tr></thead><tbody>\n");
    for c in &p.cases {
        let _ = write!(
            out,
            "<tr data-case=\"{}\"><td class=\"outcome {}\">{}</td><td><code>{}</code></td><td>{}",
            html(&c.name),
            c.outcome.as_str(),
            cells::outcome(c.outcome),
            html(&c.name),
            html_inline(c.description.as_deref().unwrap_or(""))
        );
        match c.outcome {
            CaseOutcome::Failed | CaseOutcome::Pending => {
                let message = c.message.as_deref().unwrap_or("(no message)");
                let first = message.lines().next().unwrap_or("failed");
                let _ = write!(
                    out,
                    "<details><summary>{}</summary>{}</details>",
                    html(first),
                    diff_block(message)
                );
            }
            CaseOutcome::Skipped => {
                if let Some(reason) = &c.skip_reason {
                    let _ = write!(out, "<div class=\"muted\">skipped: {}</div>", html(reason));
                }
            }
            CaseOutcome::Passed => {}
        }
        out.push_str("</td></tr>\n");
    }
    out.push_str("</tbody></table>\n</section>\n");
}
