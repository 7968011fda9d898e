//! Device codes (RFC 8628) as the mock keeps them: issued by the device
//! authorization endpoint, decided by the seed's `device` rule for the
//! client (after some polls or some seconds on the emulator's clock), and
//! answered at the token endpoint with §3.5's codes. A poll sooner than the
//! code's interval after the previous one (or after the codes were issued)
//! is `slow_down`, and the interval grows by five seconds for every later
//! poll. At most `max_codes` are kept; the oldest is forgotten first.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use grantspec_spec::{DeviceDecision, DeviceOutcome};

/// How much a `slow_down` lengthens the interval (RFC 8628 §3.5).
const SLOW_DOWN_STEP: u64 = 5;

/// One device code's state.
#[derive(Debug)]
struct DeviceCode {
    client_id: String,
    scope: Vec<String>,
    issued_at: Duration,
    expires_at: Duration,
    interval: u64,
    last_poll: Duration,
    pending_polls: u32,
    decision: DeviceDecision,
    redeemed: bool,
}

/// What a poll gets.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Poll {
    /// Approved: the scope to issue a token for (once).
    Approved(Vec<String>),
    /// An RFC 8628 §3.5 (or RFC 6749 §5.2) error code and a description.
    Refused(&'static str, &'static str),
}

/// Every device code the mock remembers.
#[derive(Debug)]
pub(crate) struct DeviceCodes {
    codes: HashMap<String, DeviceCode>,
    order: VecDeque<String>,
    max: usize,
}

/// A new device code's settings.
pub(crate) struct Issue<'a> {
    pub client_id: &'a str,
    pub scope: Vec<String>,
    pub now: Duration,
    pub expires_in: u64,
    pub interval: u64,
    pub decision: DeviceDecision,
}

impl DeviceCodes {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            codes: HashMap::new(),
            order: VecDeque::new(),
            max: max.max(1),
        }
    }

    /// Remembers `device_code` as issued.
    pub(crate) fn issue(&mut self, device_code: String, issue: Issue<'_>) {
        if self.order.len() >= self.max {
            if let Some(oldest) = self.order.pop_front() {
                self.codes.remove(&oldest);
            }
        }
        self.order.push_back(device_code.clone());
        self.codes.insert(
            device_code,
            DeviceCode {
                client_id: issue.client_id.to_owned(),
                scope: issue.scope,
                issued_at: issue.now,
                expires_at: issue
                    .now
                    .saturating_add(Duration::from_secs(issue.expires_in)),
                interval: issue.interval,
                last_poll: issue.now,
                pending_polls: 0,
                decision: issue.decision,
                redeemed: false,
            },
        );
    }

    /// A poll with `device_code` by `client_id` at `now`.
    pub(crate) fn poll(&mut self, device_code: &str, client_id: &str, now: Duration) -> Poll {
        let Some(code) = self
            .codes
            .get_mut(device_code)
            .filter(|code| code.client_id == client_id && !code.redeemed)
        else {
            return Poll::Refused(
                "invalid_grant",
                "The device code is unknown, was issued to another client, or was already used.",
            );
        };
        if now >= code.expires_at {
            return Poll::Refused("expired_token", "The device code has expired.");
        }
        let since_last = now.saturating_sub(code.last_poll);
        code.last_poll = now;
        if since_last < Duration::from_secs(code.interval) {
            code.interval += SLOW_DOWN_STEP;
            return Poll::Refused(
                "slow_down",
                "Polling too fast: wait the interval, now five seconds longer.",
            );
        }
        let decision = &code.decision;
        let decided = decision
            .after_polls
            .is_some_and(|polls| code.pending_polls >= polls)
            || decision
                .after_seconds
                .is_some_and(|seconds| now.saturating_sub(code.issued_at).as_secs() >= seconds);
        if !decided {
            code.pending_polls += 1;
            return Poll::Refused("authorization_pending", "The user has not yet decided.");
        }
        match decision.outcome {
            DeviceOutcome::Denied => {
                Poll::Refused("access_denied", "The user denied the authorization.")
            }
            DeviceOutcome::Approved => {
                code.redeemed = true;
                Poll::Approved(code.scope.clone())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(decision: DeviceDecision) -> DeviceCodes {
        let mut codes = DeviceCodes::new(8);
        codes.issue(
            "dc".into(),
            Issue {
                client_id: "tv",
                scope: vec!["read".into()],
                now: Duration::from_secs(1000),
                expires_in: 600,
                interval: 5,
                decision,
            },
        );
        codes
    }

    fn at(seconds: u64) -> Duration {
        Duration::from_secs(1000 + seconds)
    }

    #[test]
    fn pending_then_slow_down_then_approved_once() {
        let mut codes = codes(DeviceDecision {
            outcome: DeviceOutcome::Approved,
            after_polls: Some(1),
            after_seconds: None,
        });
        let code = |poll: Poll| match poll {
            Poll::Refused(code, _) => code,
            Poll::Approved(_) => "approved",
        };
        assert_eq!(code(codes.poll("dc", "tv", at(5))), "authorization_pending");
        assert_eq!(code(codes.poll("dc", "tv", at(7))), "slow_down");
        // The interval is ten seconds now: five after the slow_down is too soon.
        assert_eq!(code(codes.poll("dc", "tv", at(12))), "slow_down");
        assert_eq!(code(codes.poll("dc", "tv", at(27))), "approved");
        assert_eq!(code(codes.poll("dc", "tv", at(60))), "invalid_grant");
    }

    #[test]
    fn denied_after_seconds_expired_after_expiry_and_bound_to_its_client() {
        let mut codes = codes(DeviceDecision {
            outcome: DeviceOutcome::Denied,
            after_polls: None,
            after_seconds: Some(30),
        });
        assert_eq!(
            codes.poll("dc", "other", at(5)),
            Poll::Refused(
                "invalid_grant",
                "The device code is unknown, was issued to another client, or was already used."
            )
        );
        assert!(matches!(
            codes.poll("dc", "tv", at(10)),
            Poll::Refused("authorization_pending", _)
        ));
        assert!(matches!(
            codes.poll("dc", "tv", at(40)),
            Poll::Refused("access_denied", _)
        ));
        assert!(matches!(
            codes.poll("dc", "tv", at(600)),
            Poll::Refused("expired_token", _)
        ));
    }

    #[test]
    fn the_oldest_code_is_forgotten_past_the_cap() {
        let mut codes = DeviceCodes::new(1);
        for name in ["a", "b"] {
            codes.issue(
                name.into(),
                Issue {
                    client_id: "tv",
                    scope: Vec::new(),
                    now: Duration::ZERO,
                    expires_in: 600,
                    interval: 5,
                    decision: DeviceDecision::default(),
                },
            );
        }
        assert!(matches!(
            codes.poll("a", "tv", Duration::from_secs(5)),
            Poll::Refused("invalid_grant", _)
        ));
        assert!(matches!(
            codes.poll("b", "tv", Duration::from_secs(5)),
            Poll::Refused("authorization_pending", _)
        ));
    }
}
