//! `compatibility.html`: one self-contained page, with no external assets.
//! The matrix sorts by clicking a header and filters with a text box; the
//! page also reads `#filter=TEXT` and `#sort=KEY` (or `#sort=-KEY`,
//! descending) from its address, so a link can open it filtered or sorted.
//! Each failure's message is a `<details>` to expand.

use std::fmt::Write as _;

use crate::cells;
use crate::escape::{html, html_inline};
use crate::model::{
    BODY_ENCODINGS, CLIENT_AUTH, Capability, CaseOutcome, CheckOutcome, Compatibility, Fact,
    Provenance, ProviderReport, Target, WayOutcome,
};

/// Installed before anything else runs: counts uncaught errors, unhandled
/// rejections and `console.error` calls into
/// `document.documentElement.dataset.consoleErrors`, so a headless browser's
/// DOM dump tells whether the page ran cleanly.
const ERROR_HOOK: &str = include_str!("html/error-hook.js");

/// The matrix's sorting and filtering (also from `#filter=` and `#sort=`).
const SCRIPT: &str = include_str!("html/report.js");

/// The page's style, inlined so the page needs no other file.
const STYLE: &str = include_str!("html/report.css");

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

/// The provenance tag of a fact: `D` (documented) or `A` (assumed), with
/// the citation or reason as its title.
fn source_tag(fact: Option<&Fact>) -> String {
    let Some(fact) = fact else {
        return String::new();
    };
    let docs = match &fact.source {
        Provenance::Documented {
            docs: Some(docs), ..
        } => format!(" ({docs})"),
        _ => String::new(),
    };
    format!(
        "<abbr class=\"src {}\" title=\"{}{}\">{}</abbr>",
        fact.source.label(),
        html(&cells::source_words(&fact.source)),
        html(&docs),
        cells::source_tag(&fact.source)
    )
}

/// The live part of a cell, when a live report was folded in.
fn live_part(fact: Option<&Fact>, text: Option<String>) -> String {
    let (Some(fact), Some(text)) = (fact, text) else {
        return String::new();
    };
    let Some(live) = &fact.live else {
        return String::new();
    };
    format!(
        "<span class=\"live{}\" title=\"observed live {}: {}{}\">{}</span>",
        if live.differs { " differs" } else { "" },
        html(&live.at),
        html(live.value.as_deref().unwrap_or("not seen")),
        if live.differs {
            "; the spec says otherwise"
        } else {
            ""
        },
        html(&text)
    )
}

fn capability_cell(c: &Capability, fact: Option<&Fact>, provider: &ProviderReport) -> String {
    let mark = cells::mark(c, provider);
    format!(
        "<td data-sort=\"{}\" title=\"{}: {}\"><span class=\"mark {}\">{}</span>{}{}{}{}</td>",
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
        },
        source_tag(fact),
        live_part(fact, cells::live_capability(fact))
    )
}

fn matrix(out: &mut String, report: &Compatibility) {
    out.push_str("<div class=\"toolbar\"><input type=\"search\" id=\"filter\" placeholder=\"Filter providers…\" aria-label=\"Filter providers\" autocomplete=\"off\"><span id=\"filter-status\" aria-live=\"polite\"></span></div>\n");
    out.push_str(
        "<div class=\"scroll\">\n<table id=\"matrix\">\n<thead>\n<tr class=\"groups\"><th></th>",
    );
    let _ = write!(
        out,
        "<th colspan=\"{}\">grants</th><th colspan=\"{}\">request body</th><th colspan=\"{}\">client authentication</th><th colspan=\"9\">response</th><th>documentation</th><th colspan=\"2\">conformance</th><th colspan=\"3\">cases</th></tr>\n<tr>",
        report.grants.len(),
        BODY_ENCODINGS.len(),
        CLIENT_AUTH.len()
    );
    out.push_str(&sortable("provider", "provider", "provider name and id"));
    for grant in report.grants.iter().map(String::as_str) {
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
    if let Some(first) = report.providers.first() {
        for (id, header, title, _) in cells::dialect_columns(first) {
            out.push_str(&sortable(id, header, title));
        }
    } else {
        for _ in 0..4 {
            out.push_str("<th></th>");
        }
    }
    out.push_str(&sortable(
        "cache_headers",
        "cache headers",
        "Cache-Control and Pragma on token responses",
    ));
    out.push_str(&sortable(
        "contradictions",
        "contradictions",
        "what the documentation says two ways, and which ways the run accepted",
    ));
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
            "<tr data-provider=\"{id}\"><th scope=\"row\" data-sort=\"{id}\"><a href=\"#provider-{id}\">{name}</a><br><code>{id}</code>{live_only}{drift}</th>",
            id = html(&p.id),
            name = html(&p.name),
            live_only = if p.live_only {
                format!(
                    " <span class=\"live-only\" title=\"{}\">live-only</span>",
                    html(cells::LIVE_ONLY)
                )
            } else {
                String::new()
            },
            drift = match p.live_differences.len() {
                0 => String::new(),
                n => format!(
                    "<span class=\"live differs\" title=\"the folded-in live report disagrees with the spec: see the provider's section\">L! {n} live disagreement(s)</span>"
                ),
            }
        );
        for (kind, list) in [
            ("grant", &p.grants),
            ("body", &p.body_encodings),
            ("client_auth", &p.client_auth),
        ] {
            for c in list {
                out.push_str(&capability_cell(c, cells::capability_fact(p, kind, c), p));
            }
        }
        let conflict = |c: bool| {
            if c {
                "<span class=\"conflict\" title=\"this run contradicts the spec\">!</span>"
            } else {
                ""
            }
        };
        let text_cell = |text: String, conflicted: bool, key: &str, code: bool| {
            let fact = p.fact(key);
            let text = if code {
                format!("<code>{}</code>", html(&text))
            } else {
                html(&text)
            };
            format!(
                "<td class=\"text\">{text}{}{}{}</td>",
                conflict(conflicted),
                source_tag(fact),
                live_part(fact, cells::live_value(fact))
            )
        };
        let differs = |key: &str| p.fact(key).is_some_and(|f| f.run_differs);
        out.push_str(&text_cell(
            cells::token_type(p),
            cells::token_type_conflict(p),
            "token_type",
            true,
        ));
        out.push_str(&text_cell(
            cells::expiry(p),
            differs("expiry") || differs("token_lifetime"),
            "expiry",
            false,
        ));
        let (refresh, refresh_conflict) = cells::refresh(p);
        out.push_str(&text_cell(refresh, refresh_conflict, "refresh", false));
        out.push_str(&text_cell(
            p.errors.format.clone(),
            differs("errors"),
            "errors",
            false,
        ));
        for (_, _, _, text) in cells::dialect_columns(p) {
            let _ = write!(
                out,
                "<td class=\"text dialect\" data-sort=\"{text}\">{text}</td>",
                text = html(&text)
            );
        }
        let cache = p
            .fact("cache_headers")
            .map(|f| f.run.clone().unwrap_or_else(|| f.spec.clone()))
            .unwrap_or_default();
        out.push_str(&text_cell(
            cache,
            differs("cache_headers"),
            "cache_headers",
            false,
        ));
        let lines = cells::contradictions(p);
        if lines.is_empty() {
            out.push_str(
                "<td class=\"text contradictions muted\" data-sort=\"0\">none recorded</td>",
            );
        } else {
            let _ = write!(
                out,
                "<td class=\"text contradictions\" data-sort=\"{}\">{}</td>",
                lines.len(),
                lines
                    .iter()
                    .map(|l| format!("<span class=\"flag\">{}</span>", html(l)))
                    .collect::<Vec<_>>()
                    .join("<br>")
            );
        }
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
    for (symbol, meaning) in cells::legend(report) {
        let _ = write!(
            out,
            "<span><b>{symbol}</b> {meaning}</span> ",
            meaning = html(&meaning)
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

/// The provider's quirks: departures from the RFC that no check reports.
fn quirks(out: &mut String, p: &ProviderReport) {
    if p.quirks.is_empty() {
        return;
    }
    out.push_str("<h3>Quirks no check reports</h3>\n");
    out.push_str("<table class=\"plain\"><thead><tr><th>quirk</th><th>what the provider does</th><th>rests on</th><th>this run</th></tr></thead><tbody>");
    for quirk in &p.quirks {
        let _ = write!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            html(&quirk.id),
            html_inline(&quirk.note.text),
            html(&quirk.note.label()),
            html_inline(&cells::quirk_shown(p, quirk))
        );
    }
    out.push_str("</tbody></table>\n");
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
    let run = html(&cells::run_label(p));
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
    if p.live_only {
        let _ = writeln!(
            out,
            "<p class=\"live-only\"><b>Live-only.</b> {}</p>",
            html_inline(cells::LIVE_ONLY)
        );
    }

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
    let mut seen = t.run.clone();
    if t.run_missing {
        seen.push("(absent)".to_owned());
    }
    let _ = write!(
        out,
        "<dt>token_type</dt><dd>the spec says {}; {run}: {}{}</dd>",
        match (t.declared.as_deref(), p.live_only) {
            (Some(s), _) => format!("<code>{}</code>", html(s)),
            (None, true) => "nothing (live-only)".to_owned(),
            (None, false) => "absent".to_owned(),
        },
        codes(&seen),
        if t.assume_bearer_when_missing {
            "; assumed <code>Bearer</code> when missing"
        } else {
            ""
        }
    );
    let x = &p.expiry;
    let (declared, seen) = cells::lifetime_words(p);
    let _ = write!(
        out,
        "<dt>expiry</dt><dd><code>{}</code>{}; the spec says {}; {run}: {}{}</dd>",
        html(&x.style),
        x.envelope
            .as_deref()
            .map(|e| format!(" inside the <code>{}</code> envelope", html(e)))
            .unwrap_or_default(),
        html(&declared),
        codes(&x.run_members),
        seen.map(|seen| format!(", lifetimes {}", html(&seen)))
            .unwrap_or_default()
    );
    let _ = write!(
        out,
        "<dt>refresh</dt><dd>{}</dd>",
        html(&cells::refresh_words(p))
    );
    let _ = write!(
        out,
        "<dt>errors</dt><dd><code>{}</code>; {run}: {}</dd>",
        html(&p.errors.format),
        codes(&p.errors.run)
    );
    out.push_str("</dl>\n</div>\n<div>\n<h3>Capabilities</h3>\n");
    let _ = write!(
        out,
        "<table class=\"plain\"><thead><tr><th>capability</th><th></th><th>{}</th><th>cases</th></tr></thead><tbody>",
        html(&cells::run_label(p))
    );
    for (kind, caps) in [
        ("grant", &p.grants),
        ("body", &p.body_encodings),
        ("client auth", &p.client_auth),
    ] {
        for c in caps
            .iter()
            .filter(|c| c.declared || c.profile || c.run != crate::model::Acceptance::NotExercised)
        {
            let mark = cells::mark(c, p);
            let _ = write!(
                out,
                "<tr><td>{} <code>{}</code></td><td class=\"c\"><span class=\"mark {}\">{}</span></td><td>{}</td><td>{}</td></tr>",
                kind,
                html(&c.name),
                mark.class,
                html(&cells::mark_text(c, p)),
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
    if !p.rfc.not_emulated.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"not-emulated\">Declared deviations {}: {}</p>",
            html(crate::model::NOT_EMULATED),
            codes(&p.rfc.not_emulated)
        );
    }
    if p.rfc.evaluated {
        if p.rfc.drift.is_empty() {
            out.push_str("<p>Deviation drift: none.</p>\n");
        } else {
            out.push_str("<p class=\"bad\">Deviation drift:</p>\n");
            list(out, &p.rfc.drift, "");
        }
    }

    provenance(out, p);
    contradictions(out, p);

    quirks(out, p);

    out.push_str("<h3>Notes and differences</h3>\n");
    if !p.notes.is_empty() {
        out.push_str("<p class=\"muted\">The spec's notes, each with what it rests on:</p>\n");
    }
    let notes: Vec<String> = p
        .notes
        .iter()
        .map(|note| format!("[{}] {}", note.label(), note.text))
        .collect();
    list(out, &notes, "The spec records no notes.");
    match (p.target, p.differences.is_empty()) {
        (Target::Mock, true) => out.push_str(
            "<p class=\"muted\">The mock emulated every fact as the spec says. That is the mock agreeing with its seed, not evidence about the provider: each fact is only as good as its source above.</p>\n",
        ),
        (Target::Mock, false) => out.push_str(
            "<p class=\"bad\">Where the mock did not emulate what the spec says (bugs in the mock):</p>\n",
        ),
        (Target::Live, true) => {
            let _ = writeln!(
                out,
                "<p class=\"muted\">The live provider ({}) showed nothing the spec does not say.</p>",
                html(&cells::run_label(p))
            );
        }
        (Target::Live, false) => {
            let _ = writeln!(
                out,
                "<p class=\"bad\">Drift: where the live provider ({}) differs from the spec:</p>",
                html(&cells::run_label(p))
            );
        }
    }
    if !p.differences.is_empty() {
        list(out, &p.differences, "");
    }
    if let Some(at) = p
        .facts
        .iter()
        .find_map(|f| f.live.as_ref().map(|l| l.at.as_str()))
    {
        if p.live_differences.is_empty() {
            let _ = writeln!(
                out,
                "<p class=\"muted\">The live report of {} observed nothing the spec does not say.</p>",
                html(at)
            );
        } else {
            let _ = writeln!(
                out,
                "<p class=\"bad\">Drift: where the live report of {} differs from the spec:</p>",
                html(at)
            );
            list(out, &p.live_differences, "");
        }
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
        if let Some(diff) = &c.mock_vs_live {
            out.push_str(&mock_vs_live(diff));
        }
        out.push_str("</td></tr>\n");
    }
    out.push_str("</tbody></table>\n</section>\n");
}

/// A case's stored mock and live snapshots compared: the same, or their
/// diff behind a summary. Labelled as what it is, never as a failure.
fn mock_vs_live(diff: &str) -> String {
    if diff.is_empty() {
        return "<div class=\"mock-vs-live muted\">mock vs live snapshot: the same</div>"
            .to_owned();
    }
    format!(
        "<details class=\"mock-vs-live\"><summary>mock vs live snapshot: {}</summary><p class=\"muted\">{}</p>{}</details>",
        html(&cells::diff_size(diff)),
        html(cells::MOCK_VS_LIVE),
        diff_block(diff)
    )
}

/// Every fact with where it comes from, what this run's target did, and
/// what a folded-in live run observed.
fn provenance(out: &mut String, p: &ProviderReport) {
    out.push_str("<h3>Where each fact comes from</h3>\n");
    let live_at = p
        .facts
        .iter()
        .find_map(|f| f.live.as_ref().map(|l| l.at.clone()));
    let _ = write!(
        out,
        "<table class=\"plain facts\"><thead><tr><th scope=\"col\">fact</th><th scope=\"col\">the spec says</th><th scope=\"col\">source</th><th scope=\"col\">{}</th>",
        html(&cells::run_label(p))
    );
    if let Some(at) = &live_at {
        let _ = write!(out, "<th scope=\"col\">observed live {}</th>", html(at));
    }
    out.push_str("</tr></thead><tbody>\n");
    for f in &p.facts {
        let _ = write!(
            out,
            "<tr data-fact=\"{key}\" data-source=\"{label}\"><td><code title=\"{about}\">{key}</code></td><td><code>{spec}</code></td><td>{tag} {words}</td>",
            key = html(&f.key),
            about = html(&f.about),
            label = f.source.label(),
            spec = html(&f.spec),
            tag = source_tag(Some(f)),
            words = html(&cells::source_words(&f.source)),
        );
        match &f.run {
            Some(value) if f.run_differs => {
                let _ = write!(
                    out,
                    "<td class=\"differs\"><code>{}</code> !</td>",
                    html(value)
                );
            }
            Some(value) => {
                let _ = write!(out, "<td><code>{}</code></td>", html(value));
            }
            None => out.push_str("<td class=\"muted\">not tried</td>"),
        }
        if live_at.is_some() {
            match f.live.as_ref() {
                Some(live) => match &live.value {
                    Some(value) if live.differs => {
                        let _ = write!(
                            out,
                            "<td class=\"differs\"><code>{}</code> ! drift</td>",
                            html(value)
                        );
                    }
                    Some(value) => {
                        let _ = write!(out, "<td><code>{}</code></td>", html(value));
                    }
                    None => out.push_str("<td class=\"muted\">not seen</td>"),
                },
                None => out.push_str("<td class=\"muted\">not seen</td>"),
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
    if let Some(docs) = &p.docs {
        let _ = writeln!(
            out,
            "<p class=\"muted\">Documented facts cite the documentation at {}.</p>",
            link(docs)
        );
    }
}

/// The documentation's contradictions, each way with what the run did.
fn contradictions(out: &mut String, p: &ProviderReport) {
    if p.contradictions.is_empty() {
        return;
    }
    out.push_str("<h3>Contradictions in the documentation</h3>\n");
    for c in &p.contradictions {
        let _ = write!(
            out,
            "<p class=\"contradiction\" data-contradiction=\"{}\"><span class=\"flag\">⚑</span> <b>{}</b> <code>{}</code>: {} {}",
            html(&c.id),
            html(&c.about),
            html(&c.id),
            cells::follows_label(p),
            html(&cells::accepted_ways(c, |w| Some(w.run)))
        );
        if let Some(at) = &c.live_at {
            let _ = write!(
                out,
                "; live confirmed {} ({})",
                html(&cells::accepted_ways(c, |w| w.live)),
                html(at)
            );
        }
        out.push_str("</p>\n");
        let _ = write!(
            out,
            "<table class=\"plain\"><thead><tr><th scope=\"col\">the documentation says</th><th scope=\"col\">where</th><th scope=\"col\">quote</th><th scope=\"col\">case</th><th scope=\"col\">{}</th>",
            cells::follows_label(p)
        );
        if c.live_at.is_some() {
            out.push_str("<th scope=\"col\">live confirmed</th>");
        }
        out.push_str("</tr></thead><tbody>");
        for w in &c.ways {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td><q>{}</q></td><td><code>{}</code></td>{}",
                html(&w.says),
                html(&w.location),
                html(&w.quote),
                html(&w.case),
                way_cell(w.run)
            );
            if c.live_at.is_some() {
                out.push_str(&way_cell(w.live.unwrap_or(WayOutcome::NotExercised)));
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table>\n");
    }
}

fn way_cell(outcome: WayOutcome) -> String {
    let class = match outcome {
        WayOutcome::Accepted => "ok",
        WayOutcome::Refused => "no",
        WayOutcome::NotExercised => "none",
    };
    format!(
        "<td><span class=\"mark {class}\">{}</span> {}</td>",
        outcome.symbol(),
        outcome.as_str()
    )
}
