//! Which refresh behaviour a run showed, from what its cases did with
//! refresh tokens: the four behaviours of the spec format's `mock.refresh`
//! differ in what a refresh answers and in what presenting a used refresh
//! token again does, so a run tells them apart only as far as its cases try
//! those things.
//!
//! Each observation leaves some behaviours possible, and the run's answer is
//! what every observation leaves ([`RefreshSeen::from_possible`]):
//!
//! | observation | possible |
//! |---|---|
//! | a refresh answered the same refresh token, or none | `reuse` |
//! | a refresh answered a new refresh token | `rotate`, `rotate_keep_old`, `rotate_revoke_family` |
//! | a refresh token that a refresh already replaced, presented again: accepted | `rotate_keep_old` |
//! | … refused | `rotate`, `rotate_revoke_family` |
//! | after that refusal, the newest refresh token of the same grant: accepted | `rotate` |
//! | … refused | `rotate_revoke_family` |
//! | after that refusal, the newest access token of the same grant, which the protected resource accepted before it, accepted again | `rotate` |
//! | … refused | `rotate_revoke_family` |
//!
//! Only refreshes as the profile builds them count, by the client that got
//! the token and asking for no scope: a bent request, another client's
//! token or a wider scope is refused for other reasons than the token's
//! state. An access token's acceptance counts only when the case has not
//! moved the clock since, so that expiry is not taken for revocation.
//! Token values are compared in memory and never leave this module.

use std::borrow::Cow;
use std::collections::HashMap;

use grantspec_conformance::ExchangeKind;
use grantspec_report::{RefreshBehaviour, RefreshSeen};
use grantspec_spec::{Case, GrantKind, ParamSpec, StepKind};
use grantspec_token::{Body, JsonField, ProviderProfile};
use serde_json::Value;

use super::answer::TokenAnswer;
use super::token_object;
use crate::exec::Exchange;

use RefreshBehaviour::{Reuse, Rotate, RotateKeepOld, RotateRevokeFamily};

/// One thing a case showed about refresh tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Observation {
    SameToken,
    NoToken,
    NewToken,
    ReplayAccepted,
    ReplayRefused,
    NewestAccepted,
    NewestRefused,
    AccessStillAccepted,
    AccessRefused,
}

impl Observation {
    /// The behaviours under which it can happen.
    fn possible(self) -> &'static [RefreshBehaviour] {
        match self {
            Self::SameToken | Self::NoToken => &[Reuse],
            Self::NewToken => &[Rotate, RotateKeepOld, RotateRevokeFamily],
            Self::ReplayAccepted => &[RotateKeepOld],
            Self::ReplayRefused => &[Rotate, RotateRevokeFamily],
            Self::NewestAccepted | Self::AccessStillAccepted => &[Rotate],
            Self::NewestRefused | Self::AccessRefused => &[RotateRevokeFamily],
        }
    }

    fn words(self) -> &'static str {
        match self {
            Self::SameToken => "a refresh answered the same refresh token",
            Self::NoToken => "a refresh answered no refresh token",
            Self::NewToken => "a refresh answered a new refresh token",
            Self::ReplayAccepted => "a used refresh token was accepted when presented again",
            Self::ReplayRefused => "a used refresh token was refused when presented again",
            Self::NewestAccepted => "after that, the newest refresh token was accepted",
            Self::NewestRefused => "after that, the newest refresh token was refused",
            Self::AccessStillAccepted => {
                "after that, the newest access token was still accepted at the protected resource"
            }
            Self::AccessRefused => {
                "after that, the newest access token was refused at the protected resource"
            }
        }
    }
}

/// One step of a case as the inference reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Event<'a> {
    /// A token request the inference may read: not bent, its grant as the
    /// step says.
    Token {
        /// A refresh (the refresh_token grant).
        refresh: bool,
        /// The client, as the step names it (its `with.client_id`, before
        /// interpolation), to tell one client's requests from another's.
        client: Option<&'a str>,
        /// The refresh token sent.
        sent: Option<Cow<'a, str>>,
        /// Whether the refresh asked for a scope.
        asked_scope: bool,
        /// What the answer means, read through the profile.
        answer: TokenAnswer,
        /// The refresh token and the access token answered, on success.
        issued_refresh: Option<&'a str>,
        issued_access: Option<&'a str>,
    },
    /// A protected-resource call with a bearer token, and its status.
    Resource { token: &'a str, status: u16 },
    /// The mock's clock moved (an `advance` step).
    ClockMoved,
    /// Something the inference does not read: a bent request, an exchange
    /// without a response.
    Other,
}

/// The events of one case's run, in step order.
pub(super) fn events<'a>(
    case: &'a Case,
    exchanges: &'a [Exchange],
    bodies: &'a [Option<Value>],
    profile: &ProviderProfile,
) -> Vec<Event<'a>> {
    let mut events = Vec::new();
    let mut exchanges = exchanges.iter().zip(bodies).peekable();
    for (index, step) in case.steps.iter().enumerate() {
        if let Some(StepKind::Advance(_)) = step.kind() {
            events.push(Event::ClockMoved);
            continue;
        }
        let Some((exchange, body)) = exchanges.next_if(|(e, _)| e.label.step == index + 1) else {
            continue;
        };
        let Some(response) = &exchange.response else {
            events.push(Event::Other);
            continue;
        };
        let event = match (exchange.kind, step.kind()) {
            (ExchangeKind::Token, Some(StepKind::Grant(grant)))
                if exchange.profile_shaped && !step.with.contains_key("grant_type") =>
            {
                let answer = TokenAnswer::of(profile, response);
                let object = body.as_ref().and_then(|b| token_object(profile, b));
                let member = |name: &str| {
                    object
                        .and_then(|o| o.get(name))
                        .and_then(Value::as_str)
                        .filter(|_| answer == TokenAnswer::Issued)
                };
                Event::Token {
                    refresh: grant == GrantKind::RefreshToken,
                    client: step.with.get("client_id").and_then(|v| match v {
                        ParamSpec::One(text) => Some(text.as_str()),
                        ParamSpec::List(_) => None,
                    }),
                    sent: sent_value(exchange, profile),
                    asked_scope: step.with.contains_key("scope"),
                    answer,
                    issued_refresh: member("refresh_token"),
                    issued_access: member("access_token"),
                }
            }
            (ExchangeKind::Resource, _) if exchange.profile_shaped => match bearer(exchange) {
                Some(token) => Event::Resource {
                    token,
                    status: response.status,
                },
                None => Event::Other,
            },
            _ => Event::Other,
        };
        events.push(event);
    }
    events
}

/// The refresh token a request sent (in its body, or its query for a GET
/// endpoint), borrowed from the request where it can be.
fn sent_value<'a>(exchange: &'a Exchange, profile: &ProviderProfile) -> Option<Cow<'a, str>> {
    let names = [
        profile.token_endpoint.wire_name("refresh_token"),
        "refresh_token",
    ];
    let request = &exchange.request;
    let text = |name: &&str| match &request.body {
        Some(Body::Form(pairs)) => pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| Cow::Borrowed(v.expose())),
        Some(Body::Json(fields)) => {
            fields
                .iter()
                .find(|(n, _)| n == name)
                .and_then(|(_, v)| match v {
                    JsonField::Text(text) => Some(Cow::Borrowed(text.expose())),
                    JsonField::Array(_) => None,
                })
        }
        _ => request
            .url
            .query_pairs()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v),
    };
    names.iter().find_map(text)
}

/// The token of an `Authorization: Bearer` header.
fn bearer(exchange: &Exchange) -> Option<&str> {
    exchange.request.headers.iter().find_map(|(name, value)| {
        let value = value.expose();
        (name.eq_ignore_ascii_case("authorization")
            && value
                .get(..7)
                .is_some_and(|p| p.eq_ignore_ascii_case("bearer ")))
        .then(|| value[7..].trim())
    })
}

/// The tokens of one original grant in a case, as far as the case saw them.
#[derive(Default)]
struct Family<'a> {
    client: Option<&'a str>,
    newest_refresh: Option<&'a str>,
    newest_access: Option<&'a str>,
    /// The protected resource accepted the newest access token (since the
    /// last clock move).
    access_accepted: bool,
    /// A used refresh token of the family was refused; what the family's
    /// newest tokens do after that is told once.
    replay_refused: bool,
    newest_told: bool,
    access_told: bool,
}

/// What the run's cases showed, case by case.
#[derive(Debug, Default)]
pub(super) struct Inference {
    possible: Option<Vec<RefreshBehaviour>>,
    /// The cases that showed something.
    pub(super) evidence: Vec<String>,
    /// What each of them showed.
    pub(super) observations: Vec<String>,
}

impl Inference {
    /// Reads one case's events.
    pub(super) fn case(&mut self, case: &str, events: &[Event<'_>]) {
        let seen = observe(events);
        if seen.is_empty() {
            return;
        }
        for observation in &seen {
            let possible = self
                .possible
                .get_or_insert_with(|| RefreshBehaviour::ALL.to_vec());
            possible.retain(|b| observation.possible().contains(b));
        }
        let mut words: Vec<&str> = Vec::new();
        for observation in &seen {
            if !words.contains(&observation.words()) {
                words.push(observation.words());
            }
        }
        self.evidence.push(case.to_owned());
        self.observations
            .push(format!("{case}: {}", words.join(", then ")));
    }

    /// What the run showed; `None` when no case told anything.
    pub(super) fn seen(&self) -> Option<RefreshSeen> {
        self.possible.clone().map(RefreshSeen::from_possible)
    }
}

/// The observations of one case, in order.
fn observe(events: &[Event<'_>]) -> Vec<Observation> {
    let mut families: Vec<Family<'_>> = Vec::new();
    // Refresh tokens: their family, and whether a refresh has replaced them.
    let mut refresh_tokens: HashMap<&str, (usize, bool)> = HashMap::new();
    let mut access_tokens: HashMap<&str, usize> = HashMap::new();
    let mut seen = Vec::new();
    for event in events {
        match *event {
            Event::ClockMoved => {
                for family in &mut families {
                    family.access_accepted = false;
                }
            }
            Event::Other => {}
            Event::Resource { token, status } => {
                let Some(&index) = access_tokens.get(token) else {
                    continue;
                };
                let family = &mut families[index];
                if family.newest_access != Some(token) {
                    continue;
                }
                let accepted = (200..300).contains(&status);
                if !family.replay_refused {
                    family.access_accepted |= accepted;
                } else if family.access_accepted && !family.access_told {
                    family.access_told = true;
                    if accepted {
                        seen.push(Observation::AccessStillAccepted);
                    } else if status == 401 {
                        seen.push(Observation::AccessRefused);
                    }
                }
            }
            Event::Token {
                refresh,
                client,
                ref sent,
                asked_scope,
                answer,
                issued_refresh,
                issued_access,
            } => {
                let success = answer == TokenAnswer::Issued;
                if !refresh {
                    if let (true, Some(issued)) = (success, issued_refresh) {
                        families.push(Family {
                            client,
                            newest_refresh: Some(issued),
                            newest_access: issued_access,
                            ..Family::default()
                        });
                        refresh_tokens.insert(issued, (families.len() - 1, false));
                        if let Some(access) = issued_access {
                            access_tokens.insert(access, families.len() - 1);
                        }
                    }
                    continue;
                }
                let Some(sent) = sent.as_deref() else {
                    continue;
                };
                let (index, replaced) = *refresh_tokens.entry(sent).or_insert_with(|| {
                    // A refresh token from outside the case starts a family.
                    families.push(Family {
                        client,
                        newest_refresh: Some(sent),
                        ..Family::default()
                    });
                    (families.len() - 1, false)
                });
                if asked_scope || families[index].client != client {
                    continue;
                }
                let family = &mut families[index];
                let newest = family.newest_refresh == Some(sent);
                if success {
                    if replaced {
                        seen.push(Observation::ReplayAccepted);
                    } else if family.replay_refused && newest && !family.newest_told {
                        family.newest_told = true;
                        seen.push(Observation::NewestAccepted);
                    }
                    match issued_refresh {
                        Some(issued) if issued != sent => {
                            if !replaced {
                                seen.push(Observation::NewToken);
                            }
                            refresh_tokens.insert(sent, (index, true));
                            refresh_tokens.insert(issued, (index, false));
                            family.newest_refresh = Some(issued);
                        }
                        Some(_) => seen.push(Observation::SameToken),
                        None => seen.push(Observation::NoToken),
                    }
                    if let Some(access) = issued_access {
                        family.newest_access = Some(access);
                        family.access_accepted = false;
                        access_tokens.insert(access, index);
                    }
                } else if answer == TokenAnswer::Refused {
                    if replaced {
                        family.replay_refused = true;
                        seen.push(Observation::ReplayRefused);
                    } else if family.replay_refused && newest && !family.newest_told {
                        family.newest_told = true;
                        seen.push(Observation::NewestRefused);
                    }
                }
            }
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A login by `app`: a refresh token and an access token.
    fn login<'a>(refresh: &'a str, access: &'a str) -> Event<'a> {
        Event::Token {
            refresh: false,
            client: Some("app"),
            sent: None,
            asked_scope: false,
            answer: TokenAnswer::Issued,
            issued_refresh: Some(refresh),
            issued_access: Some(access),
        }
    }

    /// A refresh by `app` with `sent`, answered `status` and, on success,
    /// `issued` (and the access token `access`).
    fn refresh<'a>(
        sent: &'a str,
        status: u16,
        issued: Option<&'a str>,
        access: &'a str,
    ) -> Event<'a> {
        let success = (200..300).contains(&status);
        Event::Token {
            refresh: true,
            client: Some("app"),
            sent: Some(Cow::Borrowed(sent)),
            asked_scope: false,
            answer: match status {
                200..=299 => TokenAnswer::Issued,
                400..=499 => TokenAnswer::Refused,
                _ => TokenAnswer::Other,
            },
            issued_refresh: issued.filter(|_| success),
            issued_access: Some(access).filter(|_| success),
        }
    }

    fn ping(token: &str, status: u16) -> Event<'_> {
        Event::Resource { token, status }
    }

    fn run(cases: &[Vec<Event<'_>>]) -> (Option<RefreshSeen>, Vec<String>) {
        let mut inference = Inference::default();
        for (number, events) in cases.iter().enumerate() {
            inference.case(&format!("p::case{number}"), events);
        }
        (inference.seen(), inference.observations)
    }

    fn told(cases: &[Vec<Event<'_>>]) -> Option<RefreshSeen> {
        run(cases).0
    }

    #[test]
    fn nothing_tried_tells_nothing() {
        assert_eq!(told(&[]), None);
        assert_eq!(told(&[vec![login("r1", "a1")]]), None);
        assert_eq!(told(&[vec![ping("a1", 200), Event::Other]]), None);
    }

    #[test]
    fn the_same_token_or_none_is_reuse() {
        let same = vec![login("r1", "a1"), refresh("r1", 200, Some("r1"), "a2")];
        assert_eq!(told(&[same]), Some(RefreshSeen::Told(Reuse)));
        let none = vec![login("r1", "a1"), refresh("r1", 200, None, "a2")];
        let (seen, observations) = run(&[none]);
        assert_eq!(seen, Some(RefreshSeen::Told(Reuse)));
        assert_eq!(
            observations,
            ["p::case0: a refresh answered no refresh token"]
        );
    }

    #[test]
    fn a_new_token_alone_leaves_three() {
        let (seen, observations) = run(&[vec![
            login("r1", "a1"),
            refresh("r1", 200, Some("r2"), "a2"),
        ]]);
        assert_eq!(
            seen,
            Some(RefreshSeen::OneOf(vec![
                Rotate,
                RotateKeepOld,
                RotateRevokeFamily
            ]))
        );
        assert_eq!(
            observations,
            ["p::case0: a refresh answered a new refresh token"]
        );
    }

    #[test]
    fn a_replay_tells_keep_old_from_the_others() {
        let accepted = vec![
            login("r1", "a1"),
            refresh("r1", 200, Some("r2"), "a2"),
            refresh("r1", 200, Some("r3"), "a3"),
        ];
        assert_eq!(told(&[accepted]), Some(RefreshSeen::Told(RotateKeepOld)));
        let refused = vec![
            login("r1", "a1"),
            refresh("r1", 200, Some("r2"), "a2"),
            refresh("r1", 400, None, ""),
        ];
        let (seen, observations) = run(&[refused]);
        assert_eq!(
            seen,
            Some(RefreshSeen::OneOf(vec![Rotate, RotateRevokeFamily]))
        );
        assert_eq!(
            observations,
            [
                "p::case0: a refresh answered a new refresh token, then a used refresh token was refused when presented again"
            ]
        );
    }

    #[test]
    fn the_newest_token_after_a_refused_replay_tells_rotate_from_revoke_family() {
        let case = |newest_status| {
            vec![
                login("r1", "a1"),
                refresh("r1", 200, Some("r2"), "a2"),
                refresh("r2", 200, Some("r3"), "a3"),
                refresh("r1", 400, None, ""),
                refresh("r3", newest_status, Some("r4"), "a4"),
            ]
        };
        assert_eq!(told(&[case(200)]), Some(RefreshSeen::Told(Rotate)));
        assert_eq!(
            told(&[case(400)]),
            Some(RefreshSeen::Told(RotateRevokeFamily))
        );
        // A token that is not the newest one tells nothing more.
        let older = vec![
            login("r1", "a1"),
            refresh("r1", 200, Some("r2"), "a2"),
            refresh("r2", 200, Some("r3"), "a3"),
            refresh("r1", 400, None, ""),
            refresh("r2", 400, None, ""),
        ];
        assert_eq!(
            told(&[older]),
            Some(RefreshSeen::OneOf(vec![Rotate, RotateRevokeFamily]))
        );
    }

    #[test]
    fn the_newest_access_token_after_a_refused_replay_tells_them_apart_too() {
        let case = |after| {
            vec![
                login("r1", "a1"),
                refresh("r1", 200, Some("r2"), "a2"),
                ping("a2", 200),
                refresh("r1", 400, None, ""),
                ping("a2", after),
            ]
        };
        assert_eq!(told(&[case(200)]), Some(RefreshSeen::Told(Rotate)));
        let (seen, observations) = run(&[case(401)]);
        assert_eq!(seen, Some(RefreshSeen::Told(RotateRevokeFamily)));
        assert!(observations[0].ends_with(
            "then after that, the newest access token was refused at the protected resource"
        ));
        // Not accepted before the replay, or the clock moved since: expiry
        // cannot be told from revocation.
        let unproven = vec![
            login("r1", "a1"),
            refresh("r1", 200, Some("r2"), "a2"),
            refresh("r1", 400, None, ""),
            ping("a2", 401),
        ];
        let moved = vec![
            login("r1", "a1"),
            refresh("r1", 200, Some("r2"), "a2"),
            ping("a2", 200),
            Event::ClockMoved,
            refresh("r1", 400, None, ""),
            ping("a2", 401),
        ];
        let both = Some(RefreshSeen::OneOf(vec![Rotate, RotateRevokeFamily]));
        assert_eq!(told(&[unproven]), both);
        assert_eq!(told(&[moved]), both);
    }

    #[test]
    fn cases_combine_and_contradictions_are_mixed() {
        let rotated = vec![login("r1", "a1"), refresh("r1", 200, Some("r2"), "a2")];
        let replayed = vec![
            login("r5", "a5"),
            refresh("r5", 200, Some("r6"), "a6"),
            refresh("r5", 400, None, ""),
            refresh("r6", 400, None, ""),
        ];
        let (seen, observations) = run(&[rotated.clone(), replayed]);
        assert_eq!(seen, Some(RefreshSeen::Told(RotateRevokeFamily)));
        assert_eq!(observations.len(), 2);
        let same = vec![login("r9", "a9"), refresh("r9", 200, Some("r9"), "a10")];
        assert_eq!(told(&[rotated, same]), Some(RefreshSeen::Mixed));
    }

    #[test]
    fn refusals_for_other_reasons_tell_nothing() {
        let other_client = Event::Token {
            refresh: true,
            client: Some("other"),
            sent: Some(Cow::Borrowed("r1")),
            asked_scope: false,
            answer: TokenAnswer::Refused,
            issued_refresh: None,
            issued_access: None,
        };
        let wider_scope = Event::Token {
            refresh: true,
            client: Some("app"),
            sent: Some(Cow::Borrowed("r1")),
            asked_scope: true,
            answer: TokenAnswer::Refused,
            issued_refresh: None,
            issued_access: None,
        };
        let case = vec![
            login("r1", "a1"),
            refresh("r1", 200, Some("r2"), "a2"),
            other_client,
            wider_scope,
            Event::Other,
            refresh("r1", 500, None, ""),
        ];
        assert_eq!(
            told(&[case]),
            Some(RefreshSeen::OneOf(vec![
                Rotate,
                RotateKeepOld,
                RotateRevokeFamily
            ]))
        );
    }

    #[test]
    fn a_refresh_token_from_outside_the_case_starts_a_family() {
        let case = vec![
            refresh("given", 200, Some("r2"), "a2"),
            refresh("given", 400, None, ""),
            refresh("r2", 200, Some("r3"), "a3"),
        ];
        assert_eq!(told(&[case]), Some(RefreshSeen::Told(Rotate)));
    }
}
