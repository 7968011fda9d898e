//! What a matrix cell says, shared by the Markdown and HTML renderers so the
//! two always agree.

use crate::model::{
    Acceptance, Capability, CaseOutcome, Compatibility, ContradictionReport, Fact, Provenance,
    ProviderReport, QuirkReport, RefreshBehaviour, RefreshSeen, Target, WayOutcome,
};

/// How a capability is shown in the matrix.
pub struct Mark {
    /// `✔`, `✘`, `○` or `–`.
    pub symbol: &'static str,
    /// A CSS class: `ok`, `no`, `declared` or `none`.
    pub class: &'static str,
    /// What the symbol means here, in words.
    pub meaning: String,
    /// Sort key: accepted 3, declared 2, refused 1, neither 0.
    pub sort: u8,
    /// The run contradicts the spec.
    pub conflict: bool,
}

/// The legend under the matrix: what each symbol means for this report.
pub fn legend(report: &Compatibility) -> Vec<(&'static str, String)> {
    let (accepted, refused, differs) = match report.target {
        Target::Mock => (
            "accepted by the mock (emulated: not evidence about the provider)".to_owned(),
            "refused by the mock (emulated)".to_owned(),
            "the mock did not emulate what the spec says: a bug in the mock".to_owned(),
        ),
        Target::Live => {
            let at = report.generated_at.as_deref().unwrap_or("this run");
            (
                format!("accepted by the live provider (observed live {at})"),
                format!("refused by the live provider (observed live {at})"),
                "the live provider differs from the spec: drift".to_owned(),
            )
        }
    };
    let mut legend = vec![
        ("✔", accepted),
        ("✘", refused),
        (
            "○",
            "the spec says accepted; no request of this run tried it".to_owned(),
        ),
        (
            "–",
            "the spec does not say accepted; no request of this run tried it".to_owned(),
        ),
        ("★", "what the profile sends by default".to_owned()),
        (
            "D",
            "documented: the provider's documentation says so (see the provider's sources)"
                .to_owned(),
        ),
        (
            "A",
            "assumed: the spec's author assumed it; no document says so".to_owned(),
        ),
    ];
    if let Some(live) = &report.live_report {
        legend.push((
            "L",
            format!(
                "observed live on {} (the folded-in live report)",
                live.generated_at
            ),
        ));
    }
    legend.push(("!", differs));
    if report.live_report.is_some() {
        legend.push(("L…!", "the live run contradicts the spec: drift".to_owned()));
    }
    legend.push((
        "⚑",
        "the documentation says it two ways; which ways the run accepted".to_owned(),
    ));
    legend
}

/// `D` for documented, `A` for assumed.
pub fn source_tag(source: &Provenance) -> &'static str {
    match source {
        Provenance::Documented { .. } => "D",
        Provenance::Assumed { .. } => "A",
    }
}

/// `documented: “…”` or `assumed: …`.
pub fn source_words(source: &Provenance) -> String {
    match source {
        Provenance::Documented { citation, .. } => format!("documented: {citation}"),
        Provenance::Assumed { reason } => format!("assumed: {reason}"),
    }
}

/// The fact behind a capability cell: `grant.password`, `body.json`, …
pub fn capability_fact<'a>(
    provider: &'a ProviderReport,
    kind: &str,
    capability: &Capability,
) -> Option<&'a Fact> {
    provider.fact(&format!("{kind}.{}", capability.name))
}

/// The symbol of a capability value (`accepted`, `refused`, not seen).
pub fn value_symbol(value: Option<&str>) -> &'static str {
    match value {
        Some("accepted") => "✔",
        Some("refused") => "✘",
        Some(_) => "?",
        None => "–",
    }
}

/// The live part of a capability cell: `L✘!`, when a live report was
/// folded in.
pub fn live_capability(fact: Option<&Fact>) -> Option<String> {
    let live = fact?.live.as_ref()?;
    Some(format!(
        "L{}{}",
        value_symbol(live.value.as_deref()),
        if live.differs { "!" } else { "" }
    ))
}

/// The live part of a value cell: `L: bearer!`, when a live report was
/// folded in.
pub fn live_value(fact: Option<&Fact>) -> Option<String> {
    let live = fact?.live.as_ref()?;
    Some(format!(
        "L: {}{}",
        live.value.as_deref().unwrap_or("not seen"),
        if live.differs { "!" } else { "" }
    ))
}

/// What this run's target did, in a heading: `emulated by the mock` or
/// `observed live 2026-…`.
pub fn run_label(provider: &ProviderReport) -> String {
    match (provider.target, &provider.run.at) {
        (Target::Mock, _) => "emulated by the mock".to_owned(),
        (Target::Live, Some(at)) => format!("observed live {at}"),
        (Target::Live, None) => "observed live".to_owned(),
    }
}

/// `mock follows` or `live confirmed`, for this run's target.
pub fn follows_label(provider: &ProviderReport) -> &'static str {
    match provider.target {
        Target::Mock => "mock follows",
        Target::Live => "live confirmed",
    }
}

/// The ways of a contradiction accepted, by where the documentation says
/// them: `example`, `text + example`, `neither`.
pub fn accepted_ways(
    contradiction: &ContradictionReport,
    pick: impl Fn(&crate::model::WayReport) -> Option<WayOutcome>,
) -> String {
    let ways: Vec<String> = contradiction
        .ways
        .iter()
        .filter(|w| pick(w) == Some(WayOutcome::Accepted))
        .map(|w| w.location.clone())
        .collect();
    if ways.is_empty() {
        let tried = contradiction
            .ways
            .iter()
            .any(|w| matches!(pick(w), Some(WayOutcome::Refused)));
        if tried { "neither" } else { "not exercised" }.to_owned()
    } else {
        ways.join(" + ")
    }
}

/// One line per contradiction for the matrix: `⚑ method: mock follows
/// example; live confirmed example (2026-…)`.
pub fn contradictions(provider: &ProviderReport) -> Vec<String> {
    provider
        .contradictions
        .iter()
        .map(|c| {
            let mut line = format!(
                "⚑ {}: {} {}",
                c.id,
                follows_label(provider),
                accepted_ways(c, |w| Some(w.run))
            );
            if let Some(at) = &c.live_at {
                line.push_str(&format!(
                    "; live confirmed {} ({at})",
                    accepted_ways(c, |w| w.live)
                ));
            }
            line
        })
        .collect()
}

/// The mark of one of `provider`'s capabilities, in the words of the run's
/// target. A live-only provider's spec declares nothing beyond its profile,
/// so what it does not declare never contradicts the run.
pub fn mark(capability: &Capability, provider: &ProviderReport) -> Mark {
    let who = match provider.target {
        Target::Mock => "by the mock (emulated)",
        Target::Live => "by the live provider (observed live)",
    };
    let undeclared = provider.live_only && !capability.declared;
    let (symbol, class, meaning, sort, conflict) = match (capability.run, capability.declared) {
        (Acceptance::Accepted, false) if undeclared => (
            "✔",
            "ok",
            format!("accepted {who}; the spec does not declare it (live-only)"),
            3,
            false,
        ),
        (Acceptance::NotExercised, false) if undeclared => (
            "–",
            "none",
            "the spec does not declare it (live-only); not tried in this run".to_owned(),
            0,
            false,
        ),
        (Acceptance::Accepted, true) => ("✔", "ok", format!("accepted {who}"), 3, false),
        (Acceptance::Accepted, false) => (
            "✔",
            "ok",
            format!("accepted {who}, though the spec does not say so"),
            3,
            true,
        ),
        (Acceptance::Rejected, true) => (
            "✘",
            "no",
            format!("refused {who}, though the spec says accepted"),
            1,
            true,
        ),
        (Acceptance::Rejected, false) => ("✘", "no", format!("refused {who}"), 1, false),
        (Acceptance::NotExercised, true) => (
            "○",
            "declared",
            "the spec says accepted; not tried in this run".to_owned(),
            2,
            false,
        ),
        (Acceptance::NotExercised, false) => (
            "–",
            "none",
            "the spec does not say accepted; not tried in this run".to_owned(),
            0,
            false,
        ),
    };
    let mut meaning = meaning;
    if capability.profile {
        meaning.push_str("; the profile's default");
    }
    Mark {
        symbol,
        class,
        meaning,
        sort,
        conflict,
    }
}

/// The mark as plain text: symbol, `★` for the profile's default, `!` for a
/// contradiction.
pub fn mark_text(capability: &Capability, provider: &ProviderReport) -> String {
    let mark = mark(capability, provider);
    format!(
        "{}{}{}",
        mark.symbol,
        if capability.profile { "★" } else { "" },
        if mark.conflict { "!" } else { "" }
    )
}

/// The `token_type` cell: the spellings seen, else the declared one.
pub fn token_type(provider: &ProviderReport) -> String {
    let t = &provider.token_type;
    let mut seen: Vec<String> = t.run.clone();
    if t.run_missing {
        seen.push("(absent)".to_owned());
    }
    if seen.is_empty() {
        match &t.declared {
            Some(spelling) => format!("{spelling} (declared)"),
            None if provider.live_only => "not declared (live-only)".to_owned(),
            None => "(absent, declared)".to_owned(),
        }
    } else {
        seen.join(", ")
    }
}

/// Whether the `token_type` seen differs from the declared spelling.
pub fn token_type_conflict(provider: &ProviderReport) -> bool {
    let t = &provider.token_type;
    match &t.declared {
        // A seed with spellings by grant declares them joined by ` | `.
        Some(spellings) => {
            t.run_missing
                || t.run
                    .iter()
                    .any(|seen| !spellings.split(" | ").any(|s| s == seen))
        }
        None => !provider.live_only && !t.run.is_empty(),
    }
}

/// The expiry cell: `expires_in`, `both in /data`, …
pub fn expiry(provider: &ProviderReport) -> String {
    let e = &provider.expiry;
    match &e.envelope {
        Some(envelope) => format!("{} in {envelope}", e.style),
        None => e.style.clone(),
    }
}

/// The lifetimes the spec declares and those the run's responses carried,
/// in words: `the spec says a 600 s lifetime; ` and the run's lifetimes
/// (by grant, with the declared one beside any that differs, when the spec
/// declares lifetimes by grant or client), or nothing for the run when it
/// saw none.
pub fn lifetime_words(provider: &ProviderReport) -> (String, Option<String>) {
    let x = &provider.expiry;
    let declared = if provider.live_only {
        "no lifetime (live-only)".to_owned()
    } else if x.declared_rules.is_empty() {
        format!("a {} s lifetime", x.declared_lifetime)
    } else {
        format!("lifetimes {}", x.declared_words())
    };
    let seen: Vec<String> = if x.declared_rules.is_empty() {
        x.run_lifetimes.iter().map(|s| format!("{s} s")).collect()
    } else {
        x.run_by_grant
            .iter()
            .map(|seen| {
                if seen.differs() {
                    format!("{} (declared {} s)", seen.words(), seen.declared)
                } else {
                    seen.words()
                }
            })
            .collect()
    };
    (declared, (!seen.is_empty()).then(|| seen.join(", ")))
}

/// The refresh cell and whether the run contradicts the spec.
pub fn refresh(provider: &ProviderReport) -> (String, bool) {
    let r = &provider.refresh;
    match (r.declared, &r.run) {
        (None, None) => ("–".to_owned(), false),
        (Some(declared), None) => (declared.as_str().to_owned(), false),
        (Some(declared), Some(RefreshSeen::Told(told))) if declared == *told => {
            (format!("{} (seen)", declared.as_str()), false)
        }
        (Some(declared), Some(seen)) if seen.allows(declared) => (
            format!("{} (seen: {})", declared.as_str(), seen.words()),
            false,
        ),
        (Some(declared), Some(seen)) => (
            format!("{}, seen {}", declared.as_str(), seen.words()),
            true,
        ),
        (None, Some(seen)) if provider.live_only => (format!("{} (seen)", seen.words()), false),
        (None, Some(seen)) => (format!("{} (seen, undeclared)", seen.words()), true),
    }
}

/// What the run saw of the refresh behaviour, in words: the behaviour, or
/// which behaviours the cases could not tell apart and what would tell
/// them, or that the cases contradict each other.
pub fn refresh_seen_words(seen: &RefreshSeen) -> String {
    match seen {
        RefreshSeen::Told(told) => told.as_str().to_owned(),
        RefreshSeen::OneOf(possible) => {
            let names: Vec<&str> = possible.iter().map(|b| b.as_str()).collect();
            let tell = match names.as_slice() {
                [one, other] => format!("{one} from {other}"),
                [rest @ .., last] => format!("{} and {last} apart", rest.join(", ")),
                [] => String::new(),
            };
            let missing = if possible.contains(&RefreshBehaviour::RotateKeepOld) {
                "no case presents a used refresh token again after a refresh answered a new one"
            } else {
                "no case presents the newest refresh token, or calls the protected resource with the newest access token, after a used refresh token was refused"
            };
            format!(
                "{} (not enough evidence to tell {tell}: {missing})",
                seen.words()
            )
        }
        RefreshSeen::Mixed => {
            "mixed (the cases contradict each other: no one behaviour explains them all)".to_owned()
        }
    }
}

/// The RFC checks cell and a sort key (higher is worse; not evaluated is -1).
pub fn rfc(provider: &ProviderReport) -> (String, i64) {
    if !provider.rfc.evaluated {
        return ("not evaluated".to_owned(), -1);
    }
    let c = provider.rfc.counts();
    (
        format!("{} fail · {} warn · {} pass", c.fail, c.warn, c.pass),
        (c.fail * 1_000_000 + c.warn * 1_000) as i64,
    )
}

/// The deviations cell and a sort key.
pub fn deviations(provider: &ProviderReport) -> (String, usize) {
    let declared = provider.deviations.len();
    let drift = provider.rfc.drift.len();
    let mut text = if drift > 0 {
        format!("{declared} declared, {drift} drift")
    } else {
        format!("{declared} declared")
    };
    let not_emulated = provider.rfc.not_emulated.len();
    if not_emulated > 0 {
        text.push_str(&format!(" ({not_emulated} not emulated by the mock)"));
    }
    (text, drift * 1_000 + declared)
}

/// The outcome as a symbol and a word.
pub fn outcome(outcome: CaseOutcome) -> &'static str {
    match outcome {
        CaseOutcome::Passed => "✔ passed",
        CaseOutcome::Failed => "✘ failed",
        CaseOutcome::Pending => "✘ pending snapshot",
        CaseOutcome::Skipped => "– skipped",
    }
}

/// What a live-only provider is, in words: shown where its section starts.
pub const LIVE_ONLY: &str = "live-only: the spec has no `mock` section, so the mock does not emulate this provider; its cases run only live (`cargo xtask report --live`), and the spec declares nothing beyond the profile";

/// What a mock-vs-live snapshot diff is, in words.
pub const MOCK_VS_LIVE: &str = "The case's stored snapshots on the two targets, compared (--- mock, +++ live). Not a failure: the mock and the live provider legitimately answer differently, and each target's run is compared with its own snapshot only.";

/// How much a mock-vs-live diff holds: `3 lines differ`.
pub fn diff_size(diff: &str) -> String {
    let changed = diff
        .lines()
        .filter(|line| {
            (line.starts_with('+') || line.starts_with('-'))
                && !line.starts_with("+++")
                && !line.starts_with("---")
        })
        .count();
    match changed {
        1 => "1 line differs".to_owned(),
        n => format!("{n} lines differ"),
    }
}

/// At most `limit` items, then `+N more`.
pub fn some_of(items: &[String], limit: usize) -> Vec<String> {
    let mut shown: Vec<String> = items.iter().take(limit).cloned().collect();
    if items.len() > limit {
        shown.push(format!("+{} more", items.len() - limit));
    }
    shown
}

/// Case names without the `provider::` prefix, for a provider's own section.
pub fn local(provider: &str, names: &[String]) -> Vec<String> {
    let prefix = format!("{provider}::");
    names
        .iter()
        .map(|name| name.strip_prefix(&prefix).unwrap_or(name).to_owned())
        .collect()
}

/// The refresh behaviour in words, with the cases that showed it and what
/// they showed.
pub fn refresh_words(provider: &ProviderReport) -> String {
    let r = &provider.refresh;
    let cases = local(&provider.id, &r.evidence).join(", ");
    let prefix = format!("{}::", provider.id);
    let observations: Vec<&str> = r
        .observations
        .iter()
        .map(|o| o.strip_prefix(&prefix).unwrap_or(o))
        .collect();
    let declared = r.declared.map(RefreshBehaviour::as_str);
    match (declared, &r.run) {
        (None, None) if provider.live_only => {
            "the spec declares nothing (live-only); none in this run".to_owned()
        }
        (None, None) => "the spec says no refresh tokens; none in this run".to_owned(),
        (Some(declared), None) => format!("the spec says {declared}; not told by this run"),
        (declared, Some(seen)) => {
            let shown = if observations.is_empty() {
                format!(" ({cases})")
            } else {
                format!("; seen: {}", observations.join("; "))
            };
            format!(
                "the spec says {}; {}: {}{shown}",
                declared.unwrap_or("nothing"),
                run_label(provider),
                refresh_seen_words(seen),
            )
        }
    }
}

/// What this run says of a quirk: whether the case that shows it passed on
/// this target (and so showed it), failed (the quirk may be gone), or did
/// not run.
pub fn quirk_shown(provider: &ProviderReport, quirk: &QuirkReport) -> String {
    let Some(name) = &quirk.case else {
        return "no case shows it".to_owned();
    };
    let outcome = provider
        .cases
        .iter()
        .find(|case| case.name == *name)
        .map(|case| case.outcome);
    let by = match provider.target {
        Target::Mock => "the mock",
        Target::Live => "the live provider",
    };
    match outcome {
        Some(CaseOutcome::Passed) => format!("case `{name}` passed: shown by {by}"),
        Some(CaseOutcome::Failed | CaseOutcome::Pending) => {
            format!("case `{name}` failed: {by} may no longer do this")
        }
        Some(CaseOutcome::Skipped) | None => format!("case `{name}` did not run"),
    }
}

/// The dialect columns of the matrix, in order: (column id, header, title,
/// cell text). Each comes from the profile and seed; none is judged.
pub fn dialect_columns(
    provider: &ProviderReport,
) -> [(&'static str, &'static str, &'static str, String); 4] {
    let dialect = &provider.dialect;
    [
        (
            "encoding",
            "answer encoding",
            "how the token answer is encoded: json (RFC 6749 §5.1) or form",
            dialect.encoding.clone(),
        ),
        (
            "members",
            "renamed members",
            "token answer members named otherwise than RFC 6749's",
            if dialect.renamed_members.is_empty() {
                "none".to_owned()
            } else {
                dialect.renamed_members.join(", ")
            },
        ),
        (
            "errors_status",
            "errors in success",
            "whether errors come inside a success status (Slack's ok: false, GitHub's error=, with 200)",
            match dialect.errors_with_status {
                Some(status) => format!("yes, HTTP {status}"),
                None => "no".to_owned(),
            },
        ),
        (
            "placement",
            "token at the API",
            "where the API takes the access token (RFC 6750 §2.1: Authorization: Bearer)",
            dialect.token_placement.clone(),
        ),
    ]
}
