//! Refresh and other sequences (RFC 6749 §6, §10.10; RFC 9700 §2.2.2,
//! §4.14.2): scope across refreshes, rotation, replay, and tokens issued
//! twice.

use std::collections::BTreeSet;

use crate::ExchangeKind::Token;
use crate::steps::{Step, Tally};
use crate::{Check, Rule, Severity};

/// Where a refresh token came from: the scope of the original grant, and
/// whether it was issued by a refresh (rotated).
struct Origin {
    pub(crate) scope: Option<BTreeSet<String>>,
    pub(crate) rotated: bool,
}

/// For each step that sends a refresh token issued earlier in the case, the
/// origin of that token.
fn refresh_origins(steps: &[Step<'_>]) -> Vec<Option<Origin>> {
    let mut known: Vec<(&str, Origin)> = Vec::new();
    let mut origins = Vec::new();
    for step in steps {
        let origin = step.sent_refresh.as_ref().and_then(|sent| {
            known
                .iter()
                .rev()
                .find(|(token, _)| token == sent)
                .map(|(_, o)| Origin {
                    scope: o.scope.clone(),
                    rotated: o.rotated,
                })
        });
        if let (true, Some(issued)) = (step.success, &step.issued_refresh) {
            let issued_origin = if step.is_refresh() {
                Origin {
                    scope: origin.as_ref().and_then(|o| o.scope.clone()),
                    rotated: true,
                }
            } else {
                Origin {
                    scope: step
                        .stated_scope
                        .clone()
                        .or_else(|| step.requested_scope.clone()),
                    rotated: false,
                }
            };
            known.push((issued, issued_origin));
        }
        origins.push(origin);
    }
    origins
}

fn show_scope(scope: &BTreeSet<String>) -> String {
    if scope.is_empty() {
        "(none)".to_owned()
    } else {
        format!("`{}`", scope.iter().cloned().collect::<Vec<_>>().join(" "))
    }
}

pub(crate) const REFRESH_SCOPE_NOT_WIDER: Check = Check {
    id: "RFC6749-6-refresh-scope-not-wider",
    clause: "RFC6749-6",
    severity: Severity::Failure,
    title: "A refresh never grants more scope than the original grant",
    looks_at: "case steps: the scope granted by each successful refresh (stated, or else the requested one) against the scope of the grant that issued the refresh token, followed through rotations",
    deviation: "refresh-widens-scope",
    rule: Rule::Sequence(refresh_scope_not_wider),
};

fn refresh_scope_not_wider(steps: &[Step<'_>]) -> Tally {
    let mut tally = Tally {
        not_applicable: Some("no successful refresh of a token with a known scope"),
        ..Tally::default()
    };
    for (step, origin) in steps.iter().zip(refresh_origins(steps)) {
        let (
            true,
            true,
            Some(Origin {
                scope: Some(original),
                ..
            }),
        ) = (step.is_refresh(), step.success, origin)
        else {
            continue;
        };
        let granted = step
            .stated_scope
            .clone()
            .or_else(|| step.requested_scope.clone())
            .unwrap_or_else(|| original.clone());
        if granted.is_subset(&original) {
            tally.passes.push(format!(
                "exchange #{}: granted {} within the original {}",
                step.number,
                show_scope(&granted),
                show_scope(&original)
            ));
        } else {
            tally.violations.push(format!(
                "exchange #{}: granted {}, wider than the original {}",
                step.number,
                show_scope(&granted),
                show_scope(&original)
            ));
        }
    }
    tally
}

pub(crate) const WIDER_SCOPE_REFUSED: Check = Check {
    id: "RFC6749-6-wider-scope-refused",
    clause: "RFC6749-6",
    severity: Severity::Failure,
    title: "A refresh asking for scope beyond the original grant is refused",
    looks_at: "case steps: refresh requests whose scope is not within the original grant's; success fails, success with the extra scope stated away warns",
    deviation: "refresh-widens-scope",
    rule: Rule::Sequence(wider_scope_refused),
};

fn wider_scope_refused(steps: &[Step<'_>]) -> Tally {
    let mut tally = Tally {
        not_applicable: Some("no refresh asked for more than the original scope"),
        ..Tally::default()
    };
    for (step, origin) in steps.iter().zip(refresh_origins(steps)) {
        let (
            true,
            Some(requested),
            Some(Origin {
                scope: Some(original),
                ..
            }),
        ) = (step.is_refresh(), &step.requested_scope, origin)
        else {
            continue;
        };
        if requested.is_subset(&original) {
            continue;
        }
        let asked = format!(
            "exchange #{} asked for {} beyond the original {}",
            step.number,
            show_scope(requested),
            show_scope(&original)
        );
        match (&step.stated_scope, step.success) {
            (_, false) => tally
                .passes
                .push(format!("{asked} and was refused (HTTP {})", step.status)),
            (Some(stated), true) if stated.is_subset(&original) => tally.warnings.push(format!(
                "{asked} and was granted {} instead of refused",
                show_scope(stated)
            )),
            (_, true) => tally.violations.push(format!("{asked} and got it")),
        }
    }
    tally
}

pub(crate) const ROTATION_KEEPS_SCOPE: Check = Check {
    id: "RFC6749-6-rotation-keeps-scope",
    clause: "RFC6749-6",
    severity: Severity::Failure,
    title: "A rotated refresh token keeps the original scope",
    looks_at: "case steps: a refresh with a refresh token issued by an earlier refresh, asking for no scope; the granted scope must equal the original grant's",
    deviation: "rotation-changes-scope",
    rule: Rule::Sequence(rotation_keeps_scope),
};

fn rotation_keeps_scope(steps: &[Step<'_>]) -> Tally {
    let mut tally = Tally {
        not_applicable: Some(
            "no refresh with a rotated refresh token of known scope, asking for no scope",
        ),
        ..Tally::default()
    };
    for (step, origin) in steps.iter().zip(refresh_origins(steps)) {
        let (
            true,
            true,
            None,
            Some(Origin {
                scope: Some(original),
                rotated: true,
            }),
        ) = (
            step.is_refresh(),
            step.success,
            &step.requested_scope,
            origin,
        )
        else {
            continue;
        };
        let granted = step
            .stated_scope
            .clone()
            .unwrap_or_else(|| original.clone());
        if granted == original {
            tally.passes.push(format!(
                "exchange #{}: the rotated refresh token still grants {}",
                step.number,
                show_scope(&original)
            ));
        } else {
            tally.violations.push(format!(
                "exchange #{}: the rotated refresh token granted {}, the original grant was {}",
                step.number,
                show_scope(&granted),
                show_scope(&original)
            ));
        }
    }
    tally
}

pub(crate) const REFRESH_ROTATION: Check = Check {
    id: "RFC9700-2.2.2-refresh-rotation",
    clause: "RFC9700-2.2.2",
    severity: Severity::Warning,
    title: "Public clients' refresh tokens are rotated (or sender-constrained)",
    looks_at: "case steps: refresh requests without client authentication or DPoP; the same refresh token returned, or none returned and the used one accepted again, warns; a new refresh token passes",
    deviation: "no-refresh-token-rotation",
    rule: Rule::Sequence(refresh_rotation),
};

/// Whether a refresh step is one the RFC 9700 rotation rules judge: a
/// successful refresh by a public client, not sender-constrained by DPoP,
/// with the refresh token it sent.
fn public_refresh<'c>(step: &Step<'c>) -> Option<&'c str> {
    let (true, true, true, Some(sent)) = (
        step.is_refresh(),
        step.success,
        step.public_client,
        step.sent_refresh,
    ) else {
        return None;
    };
    Some(sent)
}

/// The first refresh after `index` that presents `token` again.
fn presented_again<'a, 's>(
    steps: &'a [Step<'s>],
    index: usize,
    token: &str,
) -> Option<&'a Step<'s>> {
    steps[index + 1..]
        .iter()
        .find(|later| later.is_refresh() && later.sent_refresh == Some(token))
}

fn refresh_rotation(steps: &[Step<'_>]) -> Tally {
    let mut tally = Tally {
        not_applicable: Some("no refresh by a public client whose rotation could be seen"),
        ..Tally::default()
    };
    for (index, step) in steps.iter().enumerate() {
        let Some(sent) = public_refresh(step) else {
            continue;
        };
        if step.sender_constrained {
            tally.passes.push(format!(
                "exchange #{}: the refresh is sender-constrained (DPoP)",
                step.number
            ));
            continue;
        }
        match step.issued_refresh {
            Some(issued) if issued == sent => tally.violations.push(format!(
                "exchange #{}: a public client's refresh returned the same refresh token",
                step.number
            )),
            Some(_) => tally.passes.push(format!(
                "exchange #{}: the refresh token was rotated",
                step.number
            )),
            None => match presented_again(steps, index, sent) {
                Some(later) if later.success => tally.violations.push(format!(
                    "exchange #{}: the refresh at exchange #{} returned no new refresh token, and the one it used was accepted again",
                    later.number, step.number
                )),
                Some(later) => tally.passes.push(format!(
                    "exchange #{}: the refresh token used at exchange #{} was refused on reuse (HTTP {})",
                    later.number, step.number, later.status
                )),
                None => {}
            },
        }
    }
    tally
}

/// A rotation: a public client's successful refresh, not sender-constrained,
/// that answered a new refresh token. `index` is the refresh's position in
/// the steps, `used` the token it sent, `issued` the new one.
struct Rotation<'s> {
    index: usize,
    used: &'s str,
    issued: &'s str,
}

fn rotations<'s>(steps: &[Step<'s>]) -> Vec<Rotation<'s>> {
    steps
        .iter()
        .enumerate()
        .filter(|(_, step)| !step.sender_constrained)
        .filter_map(|(index, step)| {
            let used = public_refresh(step)?;
            let issued = step.issued_refresh.filter(|issued| *issued != used)?;
            Some(Rotation {
                index,
                used,
                issued,
            })
        })
        .collect()
}

pub(crate) const USED_REFRESH_TOKEN_INVALIDATED: Check = Check {
    id: "RFC9700-4.14.2-used-refresh-token-invalidated",
    clause: "RFC9700-4.14.2",
    severity: Severity::Warning,
    title: "Once rotated, a public client's refresh token is invalidated",
    looks_at: "case steps: a refresh token a public client's refresh (without DPoP) rotated, presented again later in the case; accepted warns, refused passes",
    deviation: "used-refresh-token-accepted",
    rule: Rule::Sequence(used_refresh_token_invalidated),
};

fn used_refresh_token_invalidated(steps: &[Step<'_>]) -> Tally {
    let mut tally = Tally {
        not_applicable: Some(
            "no refresh token a public client's refresh rotated was presented again",
        ),
        ..Tally::default()
    };
    for rotation in rotations(steps) {
        let Some(later) = presented_again(steps, rotation.index, rotation.used) else {
            continue;
        };
        let rotated_at = steps[rotation.index].number;
        if later.success {
            tally.violations.push(format!(
                "exchange #{}: the refresh token rotated at exchange #{rotated_at} was accepted again",
                later.number
            ));
        } else {
            tally.passes.push(format!(
                "exchange #{}: the refresh token rotated at exchange #{rotated_at} was refused (HTTP {})",
                later.number, later.status
            ));
        }
    }
    tally
}

pub(crate) const REPLAY_REVOKES_ACTIVE_TOKEN: Check = Check {
    id: "RFC9700-4.14.2-replay-revokes-active-token",
    clause: "RFC9700-4.14.2",
    severity: Severity::Warning,
    title: "A replayed refresh token revokes the active one",
    looks_at: "case steps: after a public client presents a refresh token that was already rotated and is refused, the newest refresh token issued from it, presented later in the case; accepted warns, refused passes",
    deviation: "active-refresh-token-survives-replay",
    rule: Rule::Sequence(replay_revokes_active_token),
};

fn replay_revokes_active_token(steps: &[Step<'_>]) -> Tally {
    let mut tally = Tally {
        not_applicable: Some(
            "no active refresh token presented after a public client's refused replay",
        ),
        ..Tally::default()
    };
    let rotations = rotations(steps);
    for rotation in &rotations {
        let Some(replay) = presented_again(steps, rotation.index, rotation.used) else {
            continue;
        };
        if replay.success || replay.sender_constrained || !replay.public_client {
            continue;
        }
        // The active token at the replay: the newest one the rotations
        // issued from the replayed one before it.
        let mut active = rotation.issued;
        for _ in 0..rotations.len() {
            match rotations
                .iter()
                .find(|r| r.used == active && steps[r.index].number < replay.number)
            {
                Some(next) => active = next.issued,
                None => break,
            }
        }
        let Some(later) = steps
            .iter()
            .skip_while(|s| s.number <= replay.number)
            .find(|s| s.is_refresh() && s.sent_refresh == Some(active))
        else {
            continue;
        };
        if later.success {
            tally.violations.push(format!(
                "exchange #{}: after the replay refused at exchange #{}, the active refresh token was still accepted",
                later.number, replay.number
            ));
        } else {
            tally.passes.push(format!(
                "exchange #{}: after the replay refused at exchange #{}, the active refresh token was refused too (HTTP {})",
                later.number, replay.number, later.status
            ));
        }
    }
    tally
}

pub(crate) const DISTINCT_ACCESS_TOKENS: Check = Check {
    id: "RFC6749-10.10-distinct-access-tokens",
    clause: "RFC6749-10.10",
    severity: Severity::Warning,
    title: "Two requests never get the same access token",
    looks_at: "case steps: the access_token of every successful token response (profile-shaped exchanges); the same value answered to two requests warns, a heuristic: a token issued twice was not freshly generated",
    deviation: "repeated-access-token",
    rule: Rule::Sequence(distinct_access_tokens),
};

fn distinct_access_tokens(steps: &[Step<'_>]) -> Tally {
    let mut tally = Tally {
        not_applicable: Some("fewer than two successful token responses with an access token"),
        ..Tally::default()
    };
    let mut seen: Vec<(&str, usize)> = Vec::new();
    for step in steps {
        let (Token, true, Some(access)) = (step.kind, step.success, step.issued_access) else {
            continue;
        };
        match seen.iter().find(|(token, _)| *token == access) {
            Some((_, first)) => tally.violations.push(format!(
                "exchanges #{first} and #{} were answered the same access token",
                step.number
            )),
            None => seen.push((access, step.number)),
        }
    }
    if tally.violations.is_empty() && seen.len() > 1 {
        tally.passes.push(format!(
            "{} successful token responses, each with its own access token",
            seen.len()
        ));
    }
    tally
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::testkit::*;

    /// Each check of the module breaks on one fixture and holds on another.
    pub(crate) fn fixtures() -> Vec<Fixture> {
        let (r1, r2, r3) = (strong(11), strong(12), strong(13));
        let (a1, a2, a3) = (strong(21), strong(22), strong(23));
        vec![
            // §6 and RFC 9700 §2.2.2: sequences.
            fx(
                "refresh narrows, rotates, keeps scope and refuses reuse",
                vec![
                    password_login("read write", &r1),
                    refresh(&r1, Some("read"), refreshed(&a2, Some(&r2), Some("read"))),
                    refresh(&r2, None, refreshed(&a3, Some(&r3), Some("read write"))),
                    refresh(&r1, None, error(400, json!({ "error": "invalid_grant" }))),
                ],
                &[
                    ("RFC6749-3.3-scope-parameter-name", Pass),
                    ("RFC6749-6-refresh-scope-not-wider", Pass),
                    ("RFC6749-6-wider-scope-refused", NA),
                    ("RFC6749-6-rotation-keeps-scope", Pass),
                    ("RFC9700-2.2.2-refresh-rotation", Pass),
                    ("RFC9700-4.14.2-used-refresh-token-invalidated", Pass),
                    ("RFC9700-4.14.2-replay-revokes-active-token", NA),
                ],
            ),
            // RFC 9700 §4.14.2: the four refresh behaviours a server may have.
            fx(
                "rotation that keeps the used refresh token valid",
                vec![
                    password_login("read", &r1),
                    refresh(&r1, None, refreshed(&a2, Some(&r2), None)),
                    refresh(&r1, None, refreshed(&a3, Some(&r3), None)),
                ],
                &[
                    ("RFC9700-2.2.2-refresh-rotation", Pass),
                    ("RFC9700-4.14.2-used-refresh-token-invalidated", Warn),
                    ("RFC9700-4.14.2-replay-revokes-active-token", NA),
                ],
            ),
            fx(
                "replay refused, the active refresh token still accepted",
                vec![
                    password_login("read", &r1),
                    refresh(&r1, None, refreshed(&a2, Some(&r2), None)),
                    refresh(&r1, None, error(400, json!({ "error": "invalid_grant" }))),
                    refresh(&r2, None, refreshed(&a3, Some(&r3), None)),
                ],
                &[
                    ("RFC9700-2.2.2-refresh-rotation", Pass),
                    ("RFC9700-4.14.2-used-refresh-token-invalidated", Pass),
                    ("RFC9700-4.14.2-replay-revokes-active-token", Warn),
                ],
            ),
            fx(
                "replay revokes the active refresh token, followed through rotations",
                vec![
                    password_login("read", &r1),
                    refresh(&r1, None, refreshed(&a1, Some(&r2), None)),
                    refresh(&r2, None, refreshed(&a2, Some(&r3), None)),
                    refresh(&r1, None, error(400, json!({ "error": "invalid_grant" }))),
                    refresh(&r3, None, error(400, json!({ "error": "invalid_grant" }))),
                ],
                &[
                    ("RFC9700-2.2.2-refresh-rotation", Pass),
                    ("RFC9700-4.14.2-used-refresh-token-invalidated", Pass),
                    ("RFC9700-4.14.2-replay-revokes-active-token", Pass),
                ],
            ),
            fx(
                "a token that was not the active one, accepted after a replay, is not judged",
                vec![
                    password_login("read", &r1),
                    refresh(&r1, None, refreshed(&a1, Some(&r2), None)),
                    refresh(&r2, None, refreshed(&a2, Some(&r3), None)),
                    refresh(&r1, None, error(400, json!({ "error": "invalid_grant" }))),
                    refresh(&r2, None, refreshed(&a3, Some(&strong(14)), None)),
                ],
                &[
                    ("RFC9700-4.14.2-used-refresh-token-invalidated", Warn),
                    ("RFC9700-4.14.2-replay-revokes-active-token", NA),
                ],
            ),
            fx(
                "refresh widens scope",
                vec![
                    password_login("read", &r1),
                    refresh(
                        &r1,
                        Some("read admin"),
                        refreshed(&a2, Some(&r2), Some("read admin")),
                    ),
                ],
                &[
                    ("RFC6749-6-refresh-scope-not-wider", Fail),
                    ("RFC6749-6-wider-scope-refused", Fail),
                ],
            ),
            fx(
                "refresh asking for more is refused",
                vec![
                    password_login("read", &r1),
                    refresh(
                        &r1,
                        Some("read admin"),
                        error(400, json!({ "error": "invalid_scope" })),
                    ),
                ],
                &[("RFC6749-6-wider-scope-refused", Pass)],
            ),
            fx(
                "refresh asking for more is narrowed instead of refused",
                vec![
                    password_login("read", &r1),
                    refresh(
                        &r1,
                        Some("read admin"),
                        refreshed(&a2, Some(&r2), Some("read")),
                    ),
                ],
                &[
                    ("RFC6749-6-wider-scope-refused", Warn),
                    ("RFC6749-6-refresh-scope-not-wider", Pass),
                ],
            ),
            fx(
                "rotated refresh token loses scope",
                vec![
                    password_login("read write", &r1),
                    refresh(&r1, None, refreshed(&a2, Some(&r2), None)),
                    refresh(&r2, None, refreshed(&a3, Some(&r3), Some("read"))),
                ],
                &[("RFC6749-6-rotation-keeps-scope", Fail)],
            ),
            fx(
                "public client gets the same refresh token back",
                vec![
                    password_login("read", &r1),
                    refresh(&r1, None, refreshed(&a2, Some(&r1), None)),
                ],
                &[("RFC9700-2.2.2-refresh-rotation", Warn)],
            ),
            fx(
                "used refresh token accepted again",
                vec![
                    password_login("read", &r1),
                    refresh(&r1, None, refreshed(&a2, None, None)),
                    refresh(&r1, None, refreshed(&a3, None, None)),
                ],
                &[("RFC9700-2.2.2-refresh-rotation", Warn)],
            ),
            fx(
                "two grants answered the same access token",
                vec![
                    cc(ok(token_with(json!({ "access_token": a1 })))),
                    cc(ok(token_with(json!({ "access_token": a1 })))),
                ],
                &[("RFC6749-10.10-distinct-access-tokens", Warn)],
            ),
            fx(
                "a refresh answered the access token it replaces",
                vec![
                    password_login("read", &r1),
                    refresh(&r1, None, refreshed(&strong(1), Some(&r2), None)),
                ],
                &[("RFC6749-10.10-distinct-access-tokens", Warn)],
            ),
            fx(
                "two grants get two access tokens",
                vec![
                    cc(ok(token_with(json!({ "access_token": a1 })))),
                    cc(ok(token_with(json!({ "access_token": a2 })))),
                    cc(error(400, json!({ "error": "invalid_request" }))),
                ],
                &[("RFC6749-10.10-distinct-access-tokens", Pass)],
            ),
        ]
    }

    #[test]
    fn fixture_expectations_hold() {
        assert_expectations(&fixtures());
    }
}
