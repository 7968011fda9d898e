//! Names and values beyond [`crate::limits`]: a case name that cannot name a
//! test and a snapshot file, two case names that would share one, a number
//! of seconds or a status downstream code cannot use.

use std::collections::HashMap;

use crate::error::{Named, RateKey, SpecError, SpecErrorKind};
use crate::limits::{
    MAX_RATE_PERIOD, MAX_SECONDS, RESERVED_CASE_NAMES, STATUS_RANGE, name_problem, shown,
    snapshot_stem,
};
use crate::model::{Case, CaseForm, Live, MockSeed, Provider, TokenLifetime};

use super::Doc;
use super::check::Parts;
use super::tree::Seg;

/// Checks names and values; returns every problem.
pub(crate) fn check(doc: &Doc<'_>, parts: &Parts<'_>, mock: Option<&MockSeed>) -> Vec<SpecError> {
    let mut errors = Vec::new();
    if let Some(provider) = parts.provider {
        errors.extend(provider_values(doc, provider));
    }
    if let Some(mock) = mock {
        errors.extend(lifetimes(doc, &[Seg::Key("mock")], &mock.token_lifetime));
        for (index, client) in mock.clients.iter().enumerate() {
            if let Some(lifetime) = &client.token_lifetime {
                let path = [Seg::Key("mock"), Seg::Key("clients"), Seg::Index(index)];
                errors.extend(lifetimes(doc, &path, lifetime));
            }
        }
        errors.extend(status(
            doc,
            &[Seg::Key("mock"), Seg::Key("success_status")],
            "`success_status`",
            mock.success_status,
        ));
    }
    if let Some(live) = parts.live {
        errors.extend(live_values(doc, live));
    }
    errors.extend(case_names(doc, &parts.names));
    for &(index, case) in &parts.cases {
        errors.extend(case_values(doc, index, case));
    }
    errors
}

fn provider_values(doc: &Doc<'_>, provider: &Provider) -> Vec<SpecError> {
    let mut errors = Vec::new();
    if let Some(problem) = name_problem(&provider.id) {
        let path = [Seg::Key("provider"), Seg::Key("id")];
        errors.push(doc.at_node(
            doc.closest(&path),
            SpecErrorKind::BadName {
                of: Named::ProviderId,
                name: shown(&provider.id),
                problem,
            },
        ));
    }
    errors.extend(seconds(
        doc,
        &[
            Seg::Key("provider"),
            Seg::Key("response"),
            Seg::Key("default_lifetime"),
        ],
        "`default_lifetime`",
        provider.response.default_lifetime,
    ));
    errors
}

/// A `live.rate` that allows no request, or over a period longer than a
/// day.
fn live_values(doc: &Doc<'_>, live: &Live) -> Vec<SpecError> {
    let Some(rate) = live.rate else {
        return Vec::new();
    };
    [
        (RateKey::Requests, "requests", rate.requests, u32::MAX),
        (
            RateKey::PerSeconds,
            "per_seconds",
            rate.per_seconds,
            MAX_RATE_PERIOD,
        ),
    ]
    .into_iter()
    .filter(|&(_, _, value, max)| !(1..=max).contains(&value))
    .map(|(key, name, value, _)| {
        let path = [Seg::Key("live"), Seg::Key("rate"), Seg::Key(name)];
        doc.at_node(
            doc.closest(&path),
            SpecErrorKind::RateOutOfRange { key, value },
        )
    })
    .collect()
}

/// Case names that cannot name a test and a snapshot file, and those whose
/// snapshot files would be one (`a.b` and `a_b`; `A` and `a` on a
/// case-insensitive file system). Exact repeats are left to `check`.
fn case_names(doc: &Doc<'_>, names: &[(usize, &str)]) -> Vec<SpecError> {
    let mut errors = Vec::new();
    let mut files: HashMap<String, &str> = HashMap::new();
    for &(index, name) in names {
        let path = [Seg::Key("cases"), Seg::Index(index), Seg::Key("name")];
        if let Some(problem) = name_problem(name) {
            errors.push(doc.at_node(
                doc.closest(&path),
                SpecErrorKind::BadName {
                    of: Named::CaseName,
                    name: shown(name),
                    problem,
                },
            ));
            continue;
        }
        if RESERVED_CASE_NAMES.contains(&name) {
            errors.push(doc.at_node(
                doc.closest(&path),
                SpecErrorKind::ReservedCaseName {
                    name: name.to_owned(),
                },
            ));
            continue;
        }
        let stem = snapshot_stem(name);
        match files.get(&stem.to_ascii_lowercase()) {
            Some(&first) if first != name => errors.push(doc.at_node(
                doc.closest(&path),
                SpecErrorKind::SnapshotClash {
                    first: first.to_owned(),
                    name: name.to_owned(),
                    stem: (snapshot_stem(first) == stem).then(|| stem.clone()),
                },
            )),
            Some(_) => {}
            None => {
                files.insert(stem.to_ascii_lowercase(), name);
            }
        }
    }
    errors
}

fn case_values(doc: &Doc<'_>, index: usize, case: &Case) -> Vec<SpecError> {
    let mut errors = Vec::new();
    let case_path = [Seg::Key("cases"), Seg::Index(index)];
    // A single request's `expect` is on the case, whether it is the case's
    // one step or stray beside its `steps`.
    let (single, steps) = match case.form {
        CaseForm::Single => (case.steps.first().map(|step| &step.expect), &[][..]),
        CaseForm::Steps => (
            case.stray.as_deref().and_then(|s| s.expect.as_ref()),
            case.steps.as_slice(),
        ),
    };
    if let Some(expect) = single {
        if let Some(matcher) = &expect.status {
            let path = [
                case_path.as_slice(),
                &[Seg::Key("expect"), Seg::Key("status")],
            ]
            .concat();
            for value in matcher.named() {
                errors.extend(status(doc, &path, "`status`", value));
            }
        }
    }
    let mut total: u64 = 0;
    for (number, step) in steps.iter().enumerate() {
        let step_path = [
            case_path.as_slice(),
            &[Seg::Key("steps"), Seg::Index(number)],
        ]
        .concat();
        if let Some(matcher) = &step.expect.status {
            let path = [
                step_path.as_slice(),
                &[Seg::Key("expect"), Seg::Key("status")],
            ]
            .concat();
            for value in matcher.named() {
                errors.extend(status(doc, &path, "`status`", value));
            }
        }
        if let Some(advance) = step.advance {
            let path = [step_path.as_slice(), &[Seg::Key("advance")]].concat();
            let too_far = seconds(doc, &path, "`advance`", advance);
            let was = total;
            total = total.saturating_add(advance);
            match too_far {
                Some(error) => errors.push(error),
                None if total > MAX_SECONDS && was <= MAX_SECONDS => errors.push(doc.at_node(
                    doc.closest(&path),
                    SpecErrorKind::ClockTooFar {
                        case: shown(&case.name),
                        total,
                        max: MAX_SECONDS,
                    },
                )),
                None => {}
            }
        }
    }
    errors
}

/// Every number of a `token_lifetime` under `parent` above [`MAX_SECONDS`],
/// each located at its value.
fn lifetimes(doc: &Doc<'_>, parent: &[Seg<'_>], lifetime: &TokenLifetime) -> Vec<SpecError> {
    lifetime
        .entries()
        .into_iter()
        .filter_map(|(key, value)| {
            let mut path = [parent, &[Seg::Key("token_lifetime")]].concat();
            path.extend(key.map(Seg::Key));
            let what = match key {
                None => "`token_lifetime`".to_owned(),
                Some(key) => format!("`token_lifetime.{key}`"),
            };
            seconds(doc, &path, &what, value)
        })
        .collect()
}

/// A number of seconds above [`MAX_SECONDS`].
fn seconds(doc: &Doc<'_>, path: &[Seg<'_>], what: &str, value: u64) -> Option<SpecError> {
    (value > MAX_SECONDS).then(|| {
        doc.at_node(
            doc.closest(path),
            SpecErrorKind::OutOfBounds {
                what: what.to_owned(),
                value,
                max: MAX_SECONDS,
            },
        )
    })
}

/// A status outside [`STATUS_RANGE`].
fn status(doc: &Doc<'_>, path: &[Seg<'_>], what: &str, value: u16) -> Option<SpecError> {
    (!STATUS_RANGE.contains(&value)).then(|| {
        doc.at_node(
            doc.closest(path),
            SpecErrorKind::NotAStatus {
                what: what.to_owned(),
                value,
            },
        )
    })
}
