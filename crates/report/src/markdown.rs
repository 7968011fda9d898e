//! `compatibility.md`: readable on a code-hosting site. A provider ×
//! capability matrix, then one section per provider.

use std::fmt::Write as _;

use crate::cells;
use crate::escape::{html, md_cell, md_fence, md_inline};
use crate::model::{
    BODY_ENCODINGS, CLIENT_AUTH, CaseOutcome, Compatibility, ProviderReport, Target,
};

/// ` (N pending snapshots)` when there are some.
fn pending_note(pending: usize) -> String {
    match pending {
        0 => String::new(),
        n => format!(" ({n} pending snapshot(s))"),
    }
}

/// Renders the report as GitHub-flavoured Markdown.
pub fn render(report: &Compatibility) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# grantspec compatibility report\n");
    let s = &report.summary;
    let _ = write!(
        out,
        "Target: **{}** · {} trial(s): {} passed; {} failed{}; {} ignored · {} provider(s)",
        report.target.as_str(),
        s.cases,
        s.passed,
        s.failed,
        pending_note(s.pending),
        s.skipped,
        report.providers.len()
    );
    if let Some(at) = &report.generated_at {
        let _ = write!(out, " · generated {}", md_inline(at));
    }
    let _ = writeln!(out, " by {}\n", md_inline(&report.generator));

    if !report.spec_errors.is_empty() {
        let _ = writeln!(
            out,
            "## Spec files that did not load\n\nTheir cases did not run.\n"
        );
        for error in &report.spec_errors {
            let _ = writeln!(out, "`{}`\n", error.file.replace('`', ""));
            out.push_str(&md_fence(&error.message, "text"));
            out.push('\n');
        }
    }

    matrix(&mut out, report);
    for provider in &report.providers {
        section(&mut out, provider);
    }
    out
}

fn provider_link(provider: &ProviderReport) -> String {
    let mut link = format!(
        "[{}](#provider-{}) `{}`",
        md_cell(&provider.name),
        html(&provider.id),
        provider.id.replace(['`', '|'], "")
    );
    if provider.live_only {
        link.push_str(" · live-only");
    }
    let drift = provider.live_differences.len();
    if drift > 0 {
        let _ = write!(link, " · L! {drift} live disagreement(s)");
    }
    link
}

fn matrix(out: &mut String, report: &Compatibility) {
    let _ = writeln!(out, "## Matrix\n");
    let legend: Vec<String> = cells::legend(report)
        .iter()
        .map(|(symbol, meaning)| format!("{symbol} {}", md_cell(meaning)))
        .collect();
    let _ = writeln!(out, "{}\n", legend.join(" · "));
    if let Some(live) = &report.live_report {
        let _ = writeln!(
            out,
            "Folded in: the live report of {} by {}. Each cell shows what the spec says and its source, what this run's target did, then `L` what the live run observed.\n",
            md_inline(&live.generated_at),
            md_inline(&live.generator)
        );
    }

    let _ = writeln!(out, "### Grants and requests\n");
    let mut header = vec!["provider".to_owned()];
    header.extend(report.grants.iter().map(|g| format!("`{g}`")));
    header.extend(BODY_ENCODINGS.iter().map(|b| format!("body `{b}`")));
    header.extend(CLIENT_AUTH.iter().map(|a| format!("auth `{a}`")));
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(
        out,
        "|---|{}",
        ":-:|".repeat(report.grants.len() + BODY_ENCODINGS.len() + CLIENT_AUTH.len())
    );
    for provider in &report.providers {
        let mut row = vec![provider_link(provider)];
        for (kind, list) in [
            ("grant", &provider.grants),
            ("body", &provider.body_encodings),
            ("client_auth", &provider.client_auth),
        ] {
            row.extend(list.iter().map(|c| {
                let fact = cells::capability_fact(provider, kind, c);
                let mut cell = cells::mark_text(c, provider);
                if let Some(fact) = fact {
                    cell.push(' ');
                    cell.push_str(cells::source_tag(&fact.source));
                }
                if let Some(live) = cells::live_capability(fact) {
                    cell.push_str(" · ");
                    cell.push_str(&live);
                }
                cell
            }));
        }
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }

    let _ = writeln!(out, "\n### Responses and results\n");
    let _ = writeln!(
        out,
        "| provider | `token_type` | expiry | refresh | errors | answer encoding | renamed members | errors in success | token at the API | cache headers | contradictions in the documentation | RFC checks | deviations | passed | failed | skipped |"
    );
    let _ = writeln!(
        out,
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|--:|--:|--:|"
    );
    for provider in &report.providers {
        let conflict = |c: bool| if c { " !" } else { "" };
        // The cell's text, the source tag of its fact, and the live part.
        let fact_cell = |text: String, conflicted: bool, key: &str| {
            let fact = provider.fact(key);
            let mut cell = format!("{}{}", md_cell(&text), conflict(conflicted));
            if let Some(fact) = fact {
                cell.push(' ');
                cell.push_str(cells::source_tag(&fact.source));
            }
            if let Some(live) = cells::live_value(fact) {
                cell.push_str(" · ");
                cell.push_str(&md_cell(&live));
            }
            cell
        };
        let (refresh, refresh_conflict) = cells::refresh(provider);
        let cache = provider
            .fact("cache_headers")
            .map(|f| f.run.clone().unwrap_or_else(|| f.spec.clone()))
            .unwrap_or_default();
        let cache_conflict = provider
            .fact("cache_headers")
            .is_some_and(|f| f.run_differs);
        let errors_conflict = provider.fact("errors").is_some_and(|f| f.run_differs);
        let expiry_conflict = provider
            .facts
            .iter()
            .any(|f| (f.key == "expiry" || f.key == "token_lifetime") && f.run_differs);
        let contradictions = cells::contradictions(provider)
            .iter()
            .map(|line| md_cell(line))
            .collect::<Vec<_>>()
            .join("<br>");
        let o = &provider.outcome;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            provider_link(provider),
            fact_cell(
                cells::token_type(provider),
                cells::token_type_conflict(provider),
                "token_type"
            ),
            fact_cell(cells::expiry(provider), expiry_conflict, "expiry"),
            fact_cell(refresh, refresh_conflict, "refresh"),
            fact_cell(provider.errors.format.clone(), errors_conflict, "errors"),
            cells::dialect_columns(provider)
                .map(|(_, _, _, text)| md_cell(&text))
                .join(" | "),
            fact_cell(cache, cache_conflict, "cache_headers"),
            if contradictions.is_empty() {
                "none recorded".to_owned()
            } else {
                contradictions
            },
            cells::rfc(provider).0,
            cells::deviations(provider).0,
            o.passed,
            o.failed,
            o.skipped,
        );
    }
    out.push('\n');
}

fn code_list(items: &[String]) -> String {
    if items.is_empty() {
        return "none".to_owned();
    }
    items
        .iter()
        .map(|item| format!("`{}`", item.replace('`', "'")))
        .collect::<Vec<_>>()
        .join(", ")
}

fn section(out: &mut String, p: &ProviderReport) {
    let run = cells::run_label(p);
    let _ = writeln!(out, "<a id=\"provider-{}\"></a>\n", html(&p.id));
    let _ = writeln!(
        out,
        "## {} (`{}`)\n",
        md_inline(&p.name),
        p.id.replace('`', "")
    );
    let mut facts = Vec::new();
    if let Some(docs) = &p.docs {
        facts.push(format!("documentation: {}", md_inline(docs)));
    }
    facts.push(format!("target: {}", p.target.as_str()));
    let o = &p.outcome;
    facts.push(format!(
        "{} case(s): {} passed, {} failed, {} skipped",
        o.cases, o.passed, o.failed, o.skipped
    ));
    let _ = writeln!(out, "{}\n", facts.join(" · "));
    if p.live_only {
        let _ = writeln!(out, "**Live-only.** {}\n", md_inline(cells::LIVE_ONLY));
    }

    let e = &p.endpoint;
    let mut endpoint = format!(
        "**Token endpoint:** `{} {}` · lists {}",
        e.method,
        e.path.replace('`', ""),
        md_inline(&e.lists)
    );
    if !e.renamed.is_empty() {
        let renamed: Vec<String> = e
            .renamed
            .iter()
            .map(|(rfc, wire)| format!("`{}` → `{}`", rfc.replace('`', ""), wire.replace('`', "")))
            .collect();
        let _ = write!(endpoint, " · renamed {}", renamed.join(", "));
    }
    let _ = writeln!(out, "{endpoint}\n");

    let _ = writeln!(out, "### Capabilities\n");
    let _ = writeln!(
        out,
        "| capability | | profile default | the spec says | {} | cases |",
        cells::run_label(p)
    );
    let _ = writeln!(out, "|---|:-:|:-:|:-:|---|---|");
    for (kind, list) in [
        ("grant", &p.grants),
        ("body", &p.body_encodings),
        ("client auth", &p.client_auth),
    ] {
        for c in list {
            let mark = cells::mark(c, p);
            let evidence: Vec<String> = cells::some_of(&cells::local(&p.id, &c.evidence), 3)
                .iter()
                .map(|e| {
                    if e.starts_with('+') {
                        e.clone()
                    } else {
                        format!("`{}`", e.replace(['`', '|'], ""))
                    }
                })
                .collect();
            let _ = writeln!(
                out,
                "| {kind} `{}` | {} | {} | {} | {} | {} |",
                c.name.replace(['`', '|'], ""),
                cells::mark_text(c, p),
                if c.profile { "yes" } else { "" },
                match (c.declared, p.live_only) {
                    (true, _) => "yes",
                    (false, true) => "not declared",
                    (false, false) => "no",
                },
                md_cell(&mark.meaning),
                evidence.join(", ")
            );
        }
    }
    out.push('\n');

    let _ = writeln!(out, "### Responses\n");
    let t = &p.token_type;
    let mut seen = t.run.clone();
    if t.run_missing {
        seen.push("(absent)".to_owned());
    }
    let _ = writeln!(
        out,
        "- `token_type`: the spec says {}; {run}: {}{}",
        match (t.declared.as_deref(), p.live_only) {
            (Some(s), _) => format!("`{}`", s.replace('`', "")),
            (None, true) => "nothing (live-only)".to_owned(),
            (None, false) => "absent".to_owned(),
        },
        if seen.is_empty() {
            "nothing".to_owned()
        } else {
            code_list(&seen)
        },
        if t.assume_bearer_when_missing {
            "; the profile assumes `Bearer` when it is missing"
        } else {
            ""
        }
    );
    let x = &p.expiry;
    let (declared, seen) = cells::lifetime_words(p);
    let _ = writeln!(
        out,
        "- expiry: `{}`{}; the spec says {}; {run}: members {}{}",
        x.style.replace('`', ""),
        x.envelope
            .as_deref()
            .map(|e| format!(" inside the `{}` envelope", e.replace('`', "")))
            .unwrap_or_default(),
        md_inline(&declared),
        code_list(&x.run_members),
        seen.map(|seen| format!(", lifetimes {}", md_inline(&seen)))
            .unwrap_or_default()
    );
    let _ = writeln!(out, "- refresh: {}", md_inline(&cells::refresh_words(p)));
    let _ = writeln!(
        out,
        "- errors: `{}`; {run}: {}\n",
        p.errors.format.replace('`', ""),
        code_list(&p.errors.run)
    );

    let _ = writeln!(out, "### RFC 6749 conformance\n");
    if !p.rfc.evaluated {
        let _ = writeln!(
            out,
            "RFC checks were not evaluated in this run: no results, and no deviation drift computed.\n"
        );
    } else if p.rfc.checks.is_empty() {
        let _ = writeln!(out, "No check applied.\n");
    } else {
        let _ = writeln!(out, "| clause | check | severity | outcome | details |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for c in &p.rfc.checks {
            let _ = writeln!(
                out,
                "| {} | `{}` {} | {} | {} | {} |",
                md_cell(&c.clause),
                c.check_id.replace(['`', '|'], ""),
                md_cell(&c.title),
                c.severity.as_str(),
                c.outcome.as_str(),
                c.details
                    .iter()
                    .map(|d| md_cell(d))
                    .collect::<Vec<_>>()
                    .join("<br>")
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "Declared deviations: {}\n", code_list(&p.deviations));
    if !p.rfc.not_emulated.is_empty() {
        let _ = writeln!(
            out,
            "Declared deviations {}: {}\n",
            crate::model::NOT_EMULATED,
            code_list(&p.rfc.not_emulated)
        );
    }
    if p.rfc.evaluated {
        if p.rfc.drift.is_empty() {
            let _ = writeln!(out, "Deviation drift: none.\n");
        } else {
            let _ = writeln!(out, "Deviation drift:\n");
            for line in &p.rfc.drift {
                let _ = writeln!(out, "- {}", md_inline(line));
            }
            out.push('\n');
        }
    }

    provenance(out, p);
    contradictions(out, p);

    quirks(out, p);

    let _ = writeln!(out, "### Notes and differences\n");
    if p.notes.is_empty() {
        let _ = writeln!(out, "The spec records no notes.\n");
    } else {
        let _ = writeln!(out, "The spec's notes, each with what it rests on:\n");
        for note in &p.notes {
            let _ = writeln!(out, "- [{}] {}", note.label(), md_inline(&note.text));
        }
        out.push('\n');
    }
    differences(out, p);
    live_differences(out, p);

    let _ = writeln!(out, "### Cases\n");
    let _ = writeln!(out, "| case | outcome | description |");
    let _ = writeln!(out, "|---|---|---|");
    for c in &p.cases {
        let note = match (&c.outcome, &c.skip_reason) {
            (CaseOutcome::Skipped, Some(reason)) => format!(" ({})", md_cell(reason)),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "| `{}` | {}{note} | {} |",
            c.name.replace(['`', '|'], ""),
            cells::outcome(c.outcome),
            c.description.as_deref().map(md_cell).unwrap_or_default()
        );
    }
    out.push('\n');
    for c in p.cases.iter().filter(|c| c.outcome.is_failure()) {
        let _ = writeln!(out, "#### `{}` failed\n", c.name.replace('`', ""));
        out.push_str(&md_fence(
            c.message.as_deref().unwrap_or("(no message)"),
            "diff",
        ));
        out.push('\n');
    }
    mock_vs_live(out, p);
}

/// Each case's stored mock and live snapshots compared, where it keeps both.
fn mock_vs_live(out: &mut String, p: &ProviderReport) {
    let compared: Vec<(&str, &str)> = p
        .cases
        .iter()
        .filter_map(|c| Some((c.name.as_str(), c.mock_vs_live.as_deref()?)))
        .collect();
    if compared.is_empty() {
        return;
    }
    let _ = writeln!(out, "### Mock vs live snapshots\n");
    let _ = writeln!(out, "{}\n", md_inline(cells::MOCK_VS_LIVE));
    let same: Vec<String> = compared
        .iter()
        .filter(|(_, diff)| diff.is_empty())
        .map(|(name, _)| format!("`{}`", name.replace('`', "")))
        .collect();
    if !same.is_empty() {
        let _ = writeln!(out, "The same on both targets: {}.\n", same.join(", "));
    }
    for (name, diff) in compared.iter().filter(|(_, diff)| !diff.is_empty()) {
        let _ = writeln!(
            out,
            "#### `{}`: mock vs live snapshot, {}\n",
            name.replace('`', ""),
            cells::diff_size(diff)
        );
        out.push_str(&md_fence(diff, "diff"));
        out.push('\n');
    }
}

/// A value for a code span in a table cell: backticks become quotes, and
/// pipes are escaped (GitHub reads `\|` as a pipe even inside a code span).
fn table_code(value: &str) -> String {
    value.replace('`', "'").replace('|', "\\|")
}

/// Every fact with where it comes from, what this run's target did, and
/// what a folded-in live run observed.
fn provenance(out: &mut String, p: &ProviderReport) {
    let _ = writeln!(out, "### Where each fact comes from\n");
    let live_at = p
        .facts
        .iter()
        .find_map(|f| f.live.as_ref().map(|l| l.at.clone()));
    let mut header = format!(
        "| fact | the spec says | source | {} |",
        cells::run_label(p)
    );
    let mut rule = "|---|---|---|---|".to_owned();
    if let Some(at) = &live_at {
        let _ = write!(header, " observed live {} |", md_cell(at));
        rule.push_str("---|");
    }
    let _ = writeln!(out, "{header}\n{rule}");
    for f in &p.facts {
        let run = match &f.run {
            Some(value) => format!(
                "`{}`{}",
                table_code(value),
                if f.run_differs { " !" } else { "" }
            ),
            None => "not tried".to_owned(),
        };
        let _ = write!(
            out,
            "| `{}` | `{}` | {} {} | {run} |",
            f.key.replace(['`', '|'], ""),
            table_code(&f.spec),
            cells::source_tag(&f.source),
            md_cell(&cells::source_words(&f.source)),
        );
        if live_at.is_some() {
            let live = match f.live.as_ref() {
                Some(live) => match &live.value {
                    Some(value) => format!(
                        "`{}`{}",
                        table_code(value),
                        if live.differs { " ! drift" } else { "" }
                    ),
                    None => "not seen".to_owned(),
                },
                None => "not seen".to_owned(),
            };
            let _ = write!(out, " {live} |");
        }
        out.push('\n');
    }
    out.push('\n');
    if let Some(docs) = &p.docs {
        let _ = writeln!(
            out,
            "Documented facts cite the documentation at {}.\n",
            md_inline(docs)
        );
    }
}

/// The documentation's contradictions, each way with what the run did.
/// The provider's quirks: departures from the RFC that no check reports.
fn quirks(out: &mut String, p: &ProviderReport) {
    if p.quirks.is_empty() {
        return;
    }
    let _ = writeln!(out, "### Quirks no check reports\n");
    let _ = writeln!(
        out,
        "| quirk | what the provider does | rests on | this run |"
    );
    let _ = writeln!(out, "|---|---|---|---|");
    for quirk in &p.quirks {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            quirk.id.replace(['`', '|'], ""),
            md_cell(&quirk.note.text),
            md_cell(&quirk.note.label()),
            md_cell(&cells::quirk_shown(p, quirk))
        );
    }
    out.push('\n');
}

fn contradictions(out: &mut String, p: &ProviderReport) {
    if p.contradictions.is_empty() {
        return;
    }
    let _ = writeln!(out, "### Contradictions in the documentation\n");
    for c in &p.contradictions {
        let _ = writeln!(
            out,
            "⚑ **{}** (`{}`): {} {}{}\n",
            md_inline(&c.about),
            c.id.replace('`', ""),
            cells::follows_label(p),
            md_inline(&cells::accepted_ways(c, |w| Some(w.run))),
            c.live_at
                .as_ref()
                .map(|at| format!(
                    "; live confirmed {} ({})",
                    md_inline(&cells::accepted_ways(c, |w| w.live)),
                    md_inline(at)
                ))
                .unwrap_or_default()
        );
        let live = c.live_at.is_some();
        let _ = writeln!(
            out,
            "| the documentation says | where | quote | case | {} |{}",
            cells::follows_label(p),
            if live { " live confirmed |" } else { "" }
        );
        let _ = writeln!(
            out,
            "|---|---|---|---|---|{}",
            if live { "---|" } else { "" }
        );
        for w in &c.ways {
            let _ = write!(
                out,
                "| {} | {} | {} | `{}` | {} {} |",
                md_cell(&w.says),
                md_cell(&w.location),
                md_cell(&w.quote),
                w.case.replace(['`', '|'], ""),
                w.run.symbol(),
                w.run.as_str()
            );
            if live {
                let outcome = w.live.unwrap_or(crate::model::WayOutcome::NotExercised);
                let _ = write!(out, " {} {} |", outcome.symbol(), outcome.as_str());
            }
            out.push('\n');
        }
        out.push('\n');
    }
}

/// Where this run's target did something other than the spec says.
fn differences(out: &mut String, p: &ProviderReport) {
    match (p.target, p.differences.is_empty()) {
        (Target::Mock, true) => {
            let _ = writeln!(
                out,
                "The mock emulated every fact as the spec says. That is the mock agreeing with its seed, not evidence about the provider: each fact is only as good as its source above.\n"
            );
        }
        (Target::Mock, false) => {
            let _ = writeln!(
                out,
                "Where the mock did not emulate what the spec says (bugs in the mock):\n"
            );
        }
        (Target::Live, true) => {
            let _ = writeln!(
                out,
                "The live provider ({}) showed nothing the spec does not say.\n",
                md_inline(&cells::run_label(p))
            );
        }
        (Target::Live, false) => {
            let _ = writeln!(
                out,
                "Drift: where the live provider ({}) differs from the spec:\n",
                md_inline(&cells::run_label(p))
            );
        }
    }
    if !p.differences.is_empty() {
        for line in &p.differences {
            let _ = writeln!(out, "- {}", md_inline(line));
        }
        out.push('\n');
    }
}

/// Drift in a folded-in live report.
fn live_differences(out: &mut String, p: &ProviderReport) {
    let Some(at) = p
        .facts
        .iter()
        .find_map(|f| f.live.as_ref().map(|l| l.at.as_str()))
    else {
        return;
    };
    if p.live_differences.is_empty() {
        let _ = writeln!(
            out,
            "The live report of {} observed nothing the spec does not say.\n",
            md_inline(at)
        );
    } else {
        let _ = writeln!(
            out,
            "Drift: where the live report of {} differs from the spec:\n",
            md_inline(at)
        );
        for line in &p.live_differences {
            let _ = writeln!(out, "- {}", md_inline(line));
        }
        out.push('\n');
    }
}
