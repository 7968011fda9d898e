//! `compatibility.md`: readable on a code-hosting site. A provider ×
//! capability matrix, then one section per provider.

use std::fmt::Write as _;

use crate::cells;
use crate::escape::{html, md_cell, md_fence, md_inline};
use crate::model::{
    BODY_ENCODINGS, CLIENT_AUTH, CaseOutcome, Compatibility, GRANTS, ProviderReport,
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
    format!(
        "[{}](#provider-{}) `{}`",
        md_cell(&provider.name),
        html(&provider.id),
        provider.id.replace(['`', '|'], "")
    )
}

fn matrix(out: &mut String, report: &Compatibility) {
    let _ = writeln!(out, "## Matrix\n");
    let legend: Vec<String> = cells::LEGEND
        .iter()
        .map(|(symbol, meaning)| format!("{symbol} {meaning}"))
        .collect();
    let _ = writeln!(out, "{}\n", legend.join(" · "));

    let _ = writeln!(out, "### Grants and requests\n");
    let mut header = vec!["provider".to_owned()];
    header.extend(GRANTS.iter().map(|g| format!("`{g}`")));
    header.extend(BODY_ENCODINGS.iter().map(|b| format!("body `{b}`")));
    header.extend(CLIENT_AUTH.iter().map(|a| format!("auth `{a}`")));
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(
        out,
        "|---|{}",
        ":-:|".repeat(GRANTS.len() + BODY_ENCODINGS.len() + CLIENT_AUTH.len())
    );
    for provider in &report.providers {
        let mut row = vec![provider_link(provider)];
        for list in [
            &provider.grants,
            &provider.body_encodings,
            &provider.client_auth,
        ] {
            row.extend(list.iter().map(cells::mark_text));
        }
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }

    let _ = writeln!(out, "\n### Responses and results\n");
    let _ = writeln!(
        out,
        "| provider | `token_type` | expiry | refresh | errors | RFC checks | deviations | passed | failed | skipped |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|--:|--:|--:|");
    for provider in &report.providers {
        let conflict = |c: bool| if c { " !" } else { "" };
        let (refresh, refresh_conflict) = cells::refresh(provider);
        let o = &provider.outcome;
        let _ = writeln!(
            out,
            "| {} | {}{} | {} | {}{} | {} | {} | {} | {} | {} | {} |",
            provider_link(provider),
            md_cell(&cells::token_type(provider)),
            conflict(cells::token_type_conflict(provider)),
            md_cell(&cells::expiry(provider)),
            md_cell(&refresh),
            conflict(refresh_conflict),
            md_cell(&provider.errors.format),
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
        "| capability | | profile default | declared | observed | cases |"
    );
    let _ = writeln!(out, "|---|:-:|:-:|:-:|---|---|");
    for (kind, list) in [
        ("grant", &p.grants),
        ("body", &p.body_encodings),
        ("client auth", &p.client_auth),
    ] {
        for c in list {
            let mark = cells::mark(c);
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
                cells::mark_text(c),
                if c.profile { "yes" } else { "" },
                if c.declared { "yes" } else { "no" },
                md_cell(&mark.meaning),
                evidence.join(", ")
            );
        }
    }
    out.push('\n');

    let _ = writeln!(out, "### Responses\n");
    let t = &p.token_type;
    let mut seen = t.observed.clone();
    if t.observed_missing {
        seen.push("(absent)".to_owned());
    }
    let _ = writeln!(
        out,
        "- `token_type`: declared {}; seen {}{}",
        t.declared.as_deref().map_or_else(
            || "absent".to_owned(),
            |s| format!("`{}`", s.replace('`', ""))
        ),
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
    let lifetimes: Vec<String> = x
        .observed_lifetimes
        .iter()
        .map(|s| format!("{s} s"))
        .collect();
    let _ = writeln!(
        out,
        "- expiry: `{}`{}; declared lifetime {} s; seen members {}{}",
        x.style.replace('`', ""),
        x.envelope
            .as_deref()
            .map(|e| format!(" inside the `{}` envelope", e.replace('`', "")))
            .unwrap_or_default(),
        x.declared_lifetime,
        code_list(&x.observed_members),
        if lifetimes.is_empty() {
            String::new()
        } else {
            format!("; seen lifetimes {}", lifetimes.join(", "))
        }
    );
    let _ = writeln!(out, "- refresh: {}", md_inline(&cells::refresh_words(p)));
    let _ = writeln!(
        out,
        "- errors: `{}`; seen {}\n",
        p.errors.format.replace('`', ""),
        code_list(&p.errors.observed)
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

    let _ = writeln!(out, "### Documented versus observed\n");
    if p.notes.is_empty() {
        let _ = writeln!(out, "The spec records no documentation notes.\n");
    } else {
        let _ = writeln!(out, "What the documentation says, per the spec's notes:\n");
        for note in &p.notes {
            let _ = writeln!(out, "- {}", md_inline(note));
        }
        out.push('\n');
    }
    if p.differences.is_empty() {
        let _ = writeln!(
            out,
            "This run observed nothing the spec does not declare.\n"
        );
    } else {
        let _ = writeln!(out, "Where this run differs from the spec:\n");
        for line in &p.differences {
            let _ = writeln!(out, "- {}", md_inline(line));
        }
        out.push('\n');
    }

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
}
