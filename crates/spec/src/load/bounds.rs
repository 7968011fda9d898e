//! Names and values beyond [`crate::limits`]: a case name that cannot name a
//! test and a snapshot file, two case names that would share one, a number
//! of seconds or a status downstream code cannot use.

use std::borrow::Cow;

use crate::error::{Named, RateKey, SpecError, SpecErrorKind};
use crate::limits::{
    MAX_RATE_PERIOD, MAX_SECONDS, RESERVED_CASE_NAMES, STATUS_RANGE, name_problem, shown,
    snapshot_stem,
};
use crate::model::{Case, CaseForm, Live, MockSeed, Provider, TokenLifetime};
use crate::status::StatusMatcher;

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
    // Each with its place in `names`, to be reported in that order.
    let mut errors: Vec<(usize, SpecError)> = Vec::new();
    let mut files: Vec<(usize, Cow<'_, str>)> = Vec::new();
    for (at, &(index, name)) in names.iter().enumerate() {
        let path = [Seg::Key("cases"), Seg::Index(index), Seg::Key("name")];
        if let Some(problem) = name_problem(name) {
            let kind = SpecErrorKind::BadName {
                of: Named::CaseName,
                name: shown(name),
                problem,
            };
            errors.push((at, doc.at_node(doc.closest(&path), kind)));
            continue;
        }
        if RESERVED_CASE_NAMES.contains(&name) {
            let kind = SpecErrorKind::ReservedCaseName {
                name: name.to_owned(),
            };
            errors.push((at, doc.at_node(doc.closest(&path), kind)));
            continue;
        }
        files.push((at, snapshot_file(name)));
    }
    let files: Vec<(usize, &str)> = files
        .iter()
        .map(|(at, file)| (*at, file.as_ref()))
        .collect();
    for (at, _, first_at) in super::check::repeats(&files) {
        let ((index, name), first) = (names[at], names[first_at].1);
        if first == name {
            continue;
        }
        let path = [Seg::Key("cases"), Seg::Index(index), Seg::Key("name")];
        let stem = snapshot_stem(name);
        let kind = SpecErrorKind::SnapshotClash {
            first: first.to_owned(),
            name: name.to_owned(),
            stem: (snapshot_stem(first) == stem).then(|| stem.clone()),
        };
        errors.push((at, doc.at_node(doc.closest(&path), kind)));
    }
    errors.sort_by_key(|&(at, _)| at);
    errors.into_iter().map(|(_, error)| error).collect()
}

/// What names a case's snapshot file on a case-insensitive file system:
/// its [`snapshot_stem`] in lower case (the name itself, most often).
fn snapshot_file(name: &str) -> Cow<'_, str> {
    let kept = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_';
    if name.bytes().all(kept) {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(snapshot_stem(name).to_ascii_lowercase())
    }
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
            let path = || {
                [
                    case_path.as_slice(),
                    &[Seg::Key("expect"), Seg::Key("status")],
                ]
                .concat()
            };
            errors.extend(statuses(doc, path, matcher));
        }
    }
    let mut total: u64 = 0;
    for (number, step) in steps.iter().enumerate() {
        let step_path = || {
            [
                case_path.as_slice(),
                &[Seg::Key("steps"), Seg::Index(number)],
            ]
            .concat()
        };
        if let Some(matcher) = &step.expect.status {
            let path = || {
                [
                    step_path().as_slice(),
                    &[Seg::Key("expect"), Seg::Key("status")],
                ]
                .concat()
            };
            errors.extend(statuses(doc, path, matcher));
        }
        if let Some(advance) = step.advance {
            let step_path = step_path();
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

/// Each status `matcher` names outside [`STATUS_RANGE`], located at
/// `path`, which is joined only for one.
fn statuses<'p>(
    doc: &Doc<'_>,
    path: impl Fn() -> Vec<Seg<'p>>,
    matcher: &StatusMatcher,
) -> Vec<SpecError> {
    if let StatusMatcher::Is(value) = matcher
        && STATUS_RANGE.contains(value)
    {
        return Vec::new();
    }
    let named = matcher.named();
    if named.iter().all(|value| STATUS_RANGE.contains(value)) {
        return Vec::new();
    }
    let path = path();
    named
        .into_iter()
        .filter_map(|value| status(doc, &path, "`status`", value))
        .collect()
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
