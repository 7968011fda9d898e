//! What a matrix cell says, shared by the Markdown and HTML renderers so the
//! two always agree.

use crate::model::{Capability, CaseOutcome, Observed, ProviderReport};

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

/// The legend under the matrix.
pub const LEGEND: &[(&str, &str)] = &[
    ("✔", "accepted in this run"),
    ("✘", "refused in this run"),
    ("○", "declared by the spec, not exercised in this run"),
    ("–", "neither declared nor seen"),
    ("★", "what the profile sends by default"),
    ("!", "this run contradicts the spec"),
];

/// The mark of one capability.
pub fn mark(capability: &Capability) -> Mark {
    let (symbol, class, meaning, sort, conflict) = match (capability.observed, capability.declared)
    {
        (Observed::Accepted, true) => ("✔", "ok", "accepted in this run", 3, false),
        (Observed::Accepted, false) => (
            "✔",
            "ok",
            "accepted in this run, though the spec does not declare it",
            3,
            true,
        ),
        (Observed::Rejected, true) => (
            "✘",
            "no",
            "refused in this run, though the spec declares it",
            1,
            true,
        ),
        (Observed::Rejected, false) => ("✘", "no", "refused in this run", 1, false),
        (Observed::NotExercised, true) => (
            "○",
            "declared",
            "declared by the spec, not exercised in this run",
            2,
            false,
        ),
        (Observed::NotExercised, false) => ("–", "none", "neither declared nor seen", 0, false),
    };
    let mut meaning = meaning.to_owned();
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
pub fn mark_text(capability: &Capability) -> String {
    let mark = mark(capability);
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
    let mut seen: Vec<String> = t.observed.clone();
    if t.observed_missing {
        seen.push("(absent)".to_owned());
    }
    if seen.is_empty() {
        match &t.declared {
            Some(spelling) => format!("{spelling} (declared)"),
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
        Some(spelling) => t.observed_missing || t.observed.iter().any(|seen| seen != spelling),
        None => !t.observed.is_empty(),
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

/// The refresh cell and whether the run contradicts the spec.
pub fn refresh(provider: &ProviderReport) -> (String, bool) {
    let r = &provider.refresh;
    match (&r.declared, &r.observed) {
        (None, None) => ("–".to_owned(), false),
        (Some(declared), None) => (declared.clone(), false),
        (Some(declared), Some(seen)) if declared == seen => (format!("{declared} (seen)"), false),
        (Some(declared), Some(seen)) => (format!("{declared}, seen {seen}"), true),
        (None, Some(seen)) => (format!("{seen} (seen, undeclared)"), true),
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
    let text = if drift > 0 {
        format!("{declared} declared, {drift} drift")
    } else {
        format!("{declared} declared")
    };
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

/// The refresh behaviour in words, with the cases that showed it.
pub fn refresh_words(provider: &ProviderReport) -> String {
    let r = &provider.refresh;
    let cases = local(&provider.id, &r.evidence).join(", ");
    match (&r.declared, &r.observed) {
        (None, None) => "no refresh tokens declared or seen".to_owned(),
        (Some(declared), None) => format!("declared {declared}; not exercised in this run"),
        (declared, Some(seen)) => format!(
            "declared {}; seen {seen} ({cases})",
            declared.as_deref().unwrap_or("nothing")
        ),
    }
}
