//! Throttled answers retried within a budget, and a request rate kept to.
//!
//! A provider that is asked too often answers `429 Too Many Requests`
//! (RFC 6585 §4), or `503 Service Unavailable` while it is overloaded or
//! down for maintenance (RFC 9110 §15.6.4), often with a `Retry-After`
//! saying when to come back (RFC 9110 §10.2.3). Failing at once on such an
//! answer makes a nightly run flaky; waiting without bound makes it hang.
//! [`RetryPolicy`] bounds both the attempts and the total time spent
//! waiting, and [`Retries`] records what happened so that it can be shown.
//! [`RequestRate`] keeps to the rate a provider allows, so that it does not
//! throttle in the first place.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use crate::response::HttpResponse;

/// How a [`Transport`](crate::Transport) retries a throttled answer.
///
/// What is retried:
///
/// - `429 Too Many Requests`, always: the server refused the request
///   without acting on it, so sending it again is safe even for a grant
///   that can be used only once (an authorization code, a rotating refresh
///   token).
/// - `503 Service Unavailable` only when it carries a `Retry-After`: the
///   header is the server's word that the condition is temporary, and how
///   long it lasts. A bare 503 promises nothing (an outage, a maintenance
///   window, a proxy with no backend), so waiting out the budget on it in
///   every request would only turn a clear failure into a slow one. It is
///   answered at once, as it came.
/// - Nothing else: other statuses (a 502, a 504, a refusal) and failed
///   exchanges (a timeout, a reset) are the answer.
///
/// How long it waits: as long as `Retry-After` says (delay-seconds, or an
/// HTTP-date, measured against the answer's own `Date` header when it has a
/// readable one, so that a server whose clock is off is still understood);
/// without a readable `Retry-After`, [`backoff`](Self::backoff), doubled
/// after each retry. A wait longer than what is left of
/// [`max_total_wait`](Self::max_total_wait) is never started: the transport
/// gives up at once and says so ([`GiveUp::BeyondBudget`]). So a request
/// takes at most `max_attempts` exchanges, each within the transport's
/// timeout, plus `max_total_wait` of waiting between them.
///
/// When it gives up, the last throttled answer is the final one: the
/// runner judges it like any other answer, and
/// [`TokenClient`](crate::TokenClient) turns it into a
/// [`TransportErrorKind::Throttled`](crate::TransportErrorKind::Throttled)
/// error that shows the attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Most exchanges for one request, the first included; `1` (or `0`)
    /// never retries.
    pub max_attempts: u32,
    /// Most time spent waiting between the attempts of one request, in all.
    pub max_total_wait: Duration,
    /// The first wait after a throttled answer without a readable
    /// `Retry-After`; each later one is twice the one before.
    pub backoff: Duration,
}

impl Default for RetryPolicy {
    /// Three attempts, at most 30 seconds of waiting, a one-second backoff.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            max_total_wait: Duration::from_secs(30),
            backoff: Duration::from_secs(1),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries: every answer is final.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            max_total_wait: Duration::ZERO,
            backoff: Duration::ZERO,
        }
    }

    /// The wait before retry `retry` (0 for the first) when the answer says
    /// nothing readable: the backoff, doubled per retry before it.
    fn backoff_before(&self, retry: usize) -> Duration {
        // 128 doublings take even a nanosecond past `Duration::MAX`.
        (0..retry.min(128)).fold(self.backoff, |wait, _| wait.saturating_mul(2))
    }

    /// What to do after `answer`, the throttled answer to attempt `attempt`
    /// (1-based), with `waited` spent already and `retried` retries made.
    fn next(
        &self,
        answer: &Throttled,
        attempt: u32,
        waited: Duration,
        retried: usize,
    ) -> Result<Duration, GiveUp> {
        let max_attempts = self.max_attempts.max(1);
        if attempt >= max_attempts {
            return Err(GiveUp::Attempts { max_attempts });
        }
        let wait = answer
            .retry_after
            .wait()
            .unwrap_or_else(|| self.backoff_before(retried));
        let left = self.max_total_wait.saturating_sub(waited);
        if wait > left {
            return Err(GiveUp::BeyondBudget {
                wait,
                left,
                budget: self.max_total_wait,
            });
        }
        Ok(wait)
    }
}

/// The longest unreadable `Retry-After` value kept, in characters.
const SHOWN_RETRY_AFTER_CHARS: usize = 40;

/// What a throttled answer's `Retry-After` said (RFC 9110 §10.2.3).
///
/// Read from server bytes, so hostile: a value that is neither form is
/// [`RetryAfter::Unreadable`] (and waited out with the backoff), a number
/// too large for any clock saturates (and is beyond every budget), and a
/// date in the past means now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryAfter {
    /// The answer had no `Retry-After`.
    Absent,
    /// `delay-seconds`: wait this many seconds (`u64::MAX` for a longer
    /// number).
    Seconds(u64),
    /// An `HTTP-date` (any of the three forms RFC 9110 §5.6.7 has
    /// recipients accept): wait until then.
    Date {
        /// The date.
        at: SystemTime,
        /// How long from the answer until then, by the answer's `Date`
        /// header when it has a readable one, else by this machine's
        /// clock; zero for a date that has passed.
        wait: Duration,
    },
    /// A value that is neither: its first 40 characters, shown escaped.
    Unreadable(String),
}

impl RetryAfter {
    /// The `Retry-After` of `response`, a date measured from the response's
    /// `Date` header when it has a readable one, else from `now`.
    pub fn of(response: &HttpResponse, now: SystemTime) -> Self {
        let Some(value) = response.header("retry-after") else {
            return Self::Absent;
        };
        let sent_at = response
            .header("date")
            .and_then(|date| httpdate::parse_http_date(date).ok())
            .unwrap_or(now);
        Self::parse(value, sent_at)
    }

    /// `value`, a `Retry-After` field value, read at `now`.
    pub fn parse(value: &str, now: SystemTime) -> Self {
        let value = value.trim_matches([' ', '\t']);
        if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
            // Digits only, so the one way to fail is overflow.
            return Self::Seconds(value.parse().unwrap_or(u64::MAX));
        }
        match httpdate::parse_http_date(value) {
            Ok(at) => Self::Date {
                at,
                wait: at.duration_since(now).unwrap_or(Duration::ZERO),
            },
            Err(_) => Self::Unreadable(value.chars().take(SHOWN_RETRY_AFTER_CHARS).collect()),
        }
    }

    /// The wait it asks for, when it is readable.
    pub fn wait(&self) -> Option<Duration> {
        match self {
            Self::Seconds(seconds) => Some(Duration::from_secs(*seconds)),
            Self::Date { wait, .. } => Some(*wait),
            Self::Absent | Self::Unreadable(_) => None,
        }
    }
}

impl fmt::Display for RetryAfter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Absent => f.write_str("without Retry-After"),
            Self::Seconds(seconds) => write!(f, "with Retry-After: {seconds}"),
            Self::Date { at, wait } => write!(
                f,
                "with Retry-After: {} (in {})",
                httpdate::fmt_http_date(*at),
                Shown(*wait)
            ),
            // `{:?}` escapes control characters and quotes.
            Self::Unreadable(value) => write!(f, "with an unreadable Retry-After: {value:?}"),
        }
    }
}

/// A throttled answer: a 429, or a 503 with a `Retry-After`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttled {
    /// 429 or 503.
    pub status: u16,
    /// What its `Retry-After` said.
    pub retry_after: RetryAfter,
}

impl Throttled {
    /// `response` as a throttled answer, when it is one the policy retries
    /// (see [`RetryPolicy`]).
    pub fn of(response: &HttpResponse, now: SystemTime) -> Option<Self> {
        let retry_after = RetryAfter::of(response, now);
        match (response.status, &retry_after) {
            (429, _) => {}
            (503, RetryAfter::Absent) => return None,
            (503, _) => {}
            _ => return None,
        }
        Some(Self {
            status: response.status,
            retry_after,
        })
    }
}

impl fmt::Display for Throttled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {} {}", self.status, self.retry_after)
    }
}

/// A throttled answer that was retried, and the wait before the next
/// attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    /// The answer.
    pub answer: Throttled,
    /// How long the transport waited before sending the request again.
    pub waited: Duration,
}

/// Why the transport stopped retrying with a throttled answer in hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUp {
    /// Every attempt the policy allows was made.
    Attempts {
        /// The policy's [`RetryPolicy::max_attempts`] (at least 1).
        max_attempts: u32,
    },
    /// The wait the answer asks for (or the backoff, without a readable
    /// `Retry-After`) is longer than what is left of the budget, so it was
    /// not started.
    BeyondBudget {
        /// The wait.
        wait: Duration,
        /// What was left of the budget.
        left: Duration,
        /// The policy's [`RetryPolicy::max_total_wait`].
        budget: Duration,
    },
}

impl fmt::Display for GiveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Attempts { max_attempts: 1 } => {
                f.write_str("the retry policy allows 1 attempt, so it is never retried")
            }
            Self::Attempts { max_attempts } => write!(
                f,
                "{max_attempts} attempts made, the most the retry policy allows"
            ),
            Self::BeyondBudget { wait, left, budget } => write!(
                f,
                "waiting {} is beyond the {} left of the {} retry budget",
                Shown(*wait),
                Shown(*left),
                Shown(*budget)
            ),
        }
    }
}

/// The final answer was throttled too, and why the transport stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GaveUp {
    /// The final answer.
    pub answer: Throttled,
    /// Why it was not retried.
    pub reason: GiveUp,
}

/// What a transport did about throttled answers to one request: the
/// answers it retried, and whether it gave up on the last one. Empty when
/// no answer was throttled.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Retries {
    /// The throttled answers retried, in order, each with its wait.
    pub retried: Vec<Retry>,
    /// Set when the final answer was throttled too.
    pub gave_up: Option<GaveUp>,
}

impl Retries {
    /// Whether no answer was throttled.
    pub fn is_empty(&self) -> bool {
        self.retried.is_empty() && self.gave_up.is_none()
    }

    /// How many attempts were made (1 when nothing was retried).
    pub fn attempts(&self) -> usize {
        self.retried.len() + 1
    }

    /// The time spent waiting between attempts, in all.
    pub fn waited(&self) -> Duration {
        self.retried.iter().fold(Duration::ZERO, |total, retry| {
            total.saturating_add(retry.waited)
        })
    }
}

impl fmt::Display for Retries {
    /// `retried 2 times: HTTP 429 with Retry-After: 1, waited 1s; HTTP 503
    /// …; then gave up on HTTP 429 …: …`, or nothing when empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.retried.is_empty() {
            let times = match self.retried.len() {
                1 => "1 time".to_owned(),
                n => format!("{n} times"),
            };
            write!(f, "retried {times}: ")?;
            for (index, retry) in self.retried.iter().enumerate() {
                if index > 0 {
                    f.write_str("; ")?;
                }
                let backoff = if retry.answer.retry_after.wait().is_none() {
                    " (backoff)"
                } else {
                    ""
                };
                write!(
                    f,
                    "{}, waited {}{backoff}",
                    retry.answer,
                    Shown(retry.waited)
                )?;
            }
        }
        if let Some(gave_up) = &self.gave_up {
            if !self.retried.is_empty() {
                f.write_str("; then ")?;
            }
            write!(f, "gave up on {}: {}", gave_up.answer, gave_up.reason)?;
        }
        Ok(())
    }
}

/// A duration as shown: whole milliseconds (a wait from an HTTP-date
/// carries the local clock's nanoseconds), `Debug`-formatted (`1.5s`).
struct Shown(Duration);

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let millis = Duration::from_millis(u64::try_from(self.0.as_millis()).unwrap_or(u64::MAX));
        let shown = if self.0 > millis {
            millis.saturating_add(Duration::from_millis(1))
        } else {
            millis
        };
        write!(f, "{shown:?}")
    }
}

/// The state of a request being sent again and again: the attempt, the
/// waits so far, and what they were for.
#[derive(Debug, Default)]
pub(crate) struct Attempts {
    attempt: u32,
    waited: Duration,
    retries: Retries,
}

impl Attempts {
    /// Starts the next attempt.
    pub(crate) fn start(&mut self) {
        self.attempt = self.attempt.saturating_add(1);
    }

    /// After `response`, the answer to the current attempt: the wait before
    /// the next one, or `None` when this answer is final (it is not
    /// throttled, or the policy gives up on it, which is then recorded).
    pub(crate) fn after(
        &mut self,
        policy: &RetryPolicy,
        response: &HttpResponse,
        now: SystemTime,
    ) -> Option<Duration> {
        let answer = Throttled::of(response, now)?;
        match policy.next(
            &answer,
            self.attempt,
            self.waited,
            self.retries.retried.len(),
        ) {
            Ok(wait) => {
                self.waited = self.waited.saturating_add(wait);
                self.retries.retried.push(Retry {
                    answer,
                    waited: wait,
                });
                Some(wait)
            }
            Err(reason) => {
                self.retries.gave_up = Some(GaveUp { answer, reason });
                None
            }
        }
    }

    /// What happened.
    pub(crate) fn finish(self) -> Retries {
        self.retries
    }
}

/// A request rate: at most `requests` every `per`, sent evenly spaced, one
/// every `per / requests`.
///
/// Evenly spaced is the strictest reading of "N per period": it keeps to a
/// fixed window, a sliding window and a token bucket alike, so a provider
/// that throttles by any of them is not tripped. A run takes at least
/// `(requests sent - 1) × per / requests`; bursts are never sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestRate {
    requests: NonZeroU32,
    per: Duration,
}

/// The longest interval a [`RequestRate`] keeps between two requests.
const MAX_INTERVAL: Duration = Duration::from_secs(365 * 24 * 60 * 60);

impl RequestRate {
    /// At most `requests` every `per`; `None` for zero requests.
    pub fn new(requests: u32, per: Duration) -> Option<Self> {
        Some(Self {
            requests: NonZeroU32::new(requests)?,
            per,
        })
    }

    /// How many requests a period allows.
    pub fn requests(&self) -> u32 {
        self.requests.get()
    }

    /// The period.
    pub fn per(&self) -> Duration {
        self.per
    }

    /// The time kept between the starts of two requests: `per / requests`,
    /// at most a year.
    pub fn interval(&self) -> Duration {
        (self.per / self.requests.get()).min(MAX_INTERVAL)
    }
}

impl fmt::Display for RequestRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} requests per {} (one every {})",
            self.requests,
            Shown(self.per),
            Shown(self.interval())
        )
    }
}

/// Hands out the times at which requests may start, one [`RequestRate`]
/// interval apart, to every clone. Turns are taken in the order asked for;
/// a turn whose request is dropped before its time is not given back, so
/// the rate errs on the slow side.
#[derive(Debug, Clone)]
pub(crate) struct Pacer {
    rate: RequestRate,
    next: Arc<Mutex<Option<tokio::time::Instant>>>,
    /// Whether the interval also runs from each answer: see
    /// [`Pacer::spaced`].
    after_answer: bool,
}

impl Pacer {
    pub(crate) fn new(rate: RequestRate) -> Self {
        Self {
            rate,
            next: Arc::default(),
            after_answer: false,
        }
    }

    /// A pacer whose turns are also one `rate` interval after the answer
    /// to the turn before came back: for one sender at a time, the gap then
    /// holds between the requests' arrivals at the server too, whatever the
    /// network's delays.
    pub(crate) fn spaced(rate: RequestRate) -> Self {
        Self {
            after_answer: true,
            ..Self::new(rate)
        }
    }

    /// An answer (or a failure) came back: with [`Pacer::spaced`], the next
    /// turn is an interval from now at the earliest.
    pub(crate) fn answered(&self) {
        if !self.after_answer {
            return;
        }
        let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
        let now = tokio::time::Instant::now();
        let at = now.checked_add(self.rate.interval()).unwrap_or(now);
        *next = Some(next.map_or(at, |next| next.max(at)));
    }

    pub(crate) fn rate(&self) -> RequestRate {
        self.rate
    }

    /// Waits for this request's turn.
    pub(crate) async fn turn(&self) {
        let at = {
            let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
            let now = tokio::time::Instant::now();
            let at = next.map_or(now, |next| next.max(now));
            // A year past any instant this process sees fits the clock.
            *next = Some(at.checked_add(self.rate.interval()).unwrap_or(at));
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
    }

    /// Sun, 06 Nov 1994 08:49:37 GMT, RFC 9110's example date.
    const EXAMPLE: u64 = 784_111_777;

    #[test]
    fn delay_seconds_are_read_and_absurd_numbers_saturate() {
        let now = at(EXAMPLE);
        assert_eq!(RetryAfter::parse("120", now), RetryAfter::Seconds(120));
        assert_eq!(RetryAfter::parse(" 0\t", now), RetryAfter::Seconds(0));
        assert_eq!(RetryAfter::parse("007", now), RetryAfter::Seconds(7));
        let huge = "9".repeat(400);
        assert_eq!(RetryAfter::parse(&huge, now), RetryAfter::Seconds(u64::MAX));
        assert_eq!(
            RetryAfter::parse(&huge, now).wait(),
            Some(Duration::from_secs(u64::MAX))
        );
    }

    #[test]
    fn the_three_http_date_forms_are_read_against_now() {
        let now = at(EXAMPLE - 5);
        for form in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(
                RetryAfter::parse(form, now),
                RetryAfter::Date {
                    at: at(EXAMPLE),
                    wait: Duration::from_secs(5)
                },
                "{form}"
            );
        }
    }

    #[test]
    fn a_date_in_the_past_means_now() {
        let parsed = RetryAfter::parse("Sun, 06 Nov 1994 08:49:37 GMT", at(EXAMPLE + 3600));
        assert_eq!(parsed.wait(), Some(Duration::ZERO));
    }

    #[test]
    fn garbage_is_unreadable_capped_and_never_panics() {
        let now = at(EXAMPLE);
        for garbage in [
            "",
            "-5",
            "+5",
            "1.5",
            "5 seconds",
            "0x10",
            "soon",
            "Sun, 06 Nov 1994 08:49:37 PST",
            "Sun, 31 Feb 1994 08:49:37 GMT",
            "Sun, 06 Nov 1969 08:49:37 GMT",
            "Sun, 06 Nov 99999 08:49:37 GMT",
            "Mon, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 25:49:37 GMT",
            "٣",
            "\u{1b}[2J",
        ] {
            let parsed = RetryAfter::parse(garbage, now);
            assert!(
                matches!(parsed, RetryAfter::Unreadable(_)),
                "{garbage:?} read as {parsed:?}"
            );
            assert_eq!(parsed.wait(), None);
        }
        let long = RetryAfter::parse(&"x".repeat(10_000), now);
        assert_eq!(long, RetryAfter::Unreadable("x".repeat(40)));
        let shown = RetryAfter::parse("\u{1b}[2J soon", now).to_string();
        assert_eq!(shown, r#"with an unreadable Retry-After: "\u{1b}[2J soon""#);
    }

    #[test]
    fn a_date_is_measured_from_the_answers_own_date_header() {
        // The server's clock is a day behind this machine's; its own `Date`
        // says the wait is 2 seconds.
        let response = HttpResponse {
            status: 429,
            headers: vec![
                ("date".into(), "Sun, 06 Nov 1994 08:49:35 GMT".into()),
                ("retry-after".into(), "Sun, 06 Nov 1994 08:49:37 GMT".into()),
            ],
            body: Vec::new(),
        };
        let now = at(EXAMPLE + 86_400);
        assert_eq!(
            RetryAfter::of(&response, now).wait(),
            Some(Duration::from_secs(2))
        );
        // An unreadable `Date` falls back to this machine's clock.
        let mut odd = response.clone();
        odd.headers[0].1 = "yesterday".into();
        assert_eq!(RetryAfter::of(&odd, now).wait(), Some(Duration::ZERO));
    }

    fn answer(status: u16, retry_after: Option<&str>) -> HttpResponse {
        HttpResponse {
            status,
            headers: retry_after
                .map(|value| ("retry-after".to_owned(), value.to_owned()))
                .into_iter()
                .collect(),
            body: Vec::new(),
        }
    }

    #[test]
    fn only_429_and_503_with_retry_after_are_throttled() {
        let now = at(EXAMPLE);
        assert!(Throttled::of(&answer(429, None), now).is_some());
        assert!(Throttled::of(&answer(429, Some("soon")), now).is_some());
        assert!(Throttled::of(&answer(503, Some("1")), now).is_some());
        assert!(Throttled::of(&answer(503, Some("soon")), now).is_some());
        assert!(Throttled::of(&answer(503, None), now).is_none());
        for status in [200, 400, 401, 500, 502, 504] {
            assert!(Throttled::of(&answer(status, Some("1")), now).is_none());
        }
    }

    /// Runs `answers` through [`Attempts`] as the transport does; the waits
    /// it asked for and what it recorded.
    fn attempts(policy: &RetryPolicy, answers: &[HttpResponse]) -> (Vec<Duration>, Retries) {
        let mut attempts = Attempts::default();
        let mut waits = Vec::new();
        for response in answers {
            attempts.start();
            match attempts.after(policy, response, at(EXAMPLE)) {
                Some(wait) => waits.push(wait),
                None => break,
            }
        }
        (waits, attempts.finish())
    }

    #[test]
    fn retry_after_is_honoured_within_the_attempts() {
        let policy = RetryPolicy {
            max_attempts: 3,
            max_total_wait: Duration::from_secs(10),
            backoff: Duration::from_secs(1),
        };
        let throttled = answer(429, Some("2"));
        let (waits, retries) = attempts(&policy, &[throttled.clone(), answer(200, None)]);
        assert_eq!(waits, [Duration::from_secs(2)]);
        assert_eq!(retries.attempts(), 2);
        assert_eq!(retries.gave_up, None);
        assert_eq!(
            retries.to_string(),
            "retried 1 time: HTTP 429 with Retry-After: 2, waited 2s"
        );

        let (waits, retries) = attempts(&policy, &vec![throttled; 5]);
        assert_eq!(waits.len(), 2, "three attempts: two waits");
        assert_eq!(retries.waited(), Duration::from_secs(4));
        assert_eq!(
            retries.gave_up.as_ref().map(|g| g.reason),
            Some(GiveUp::Attempts { max_attempts: 3 })
        );
        assert_eq!(
            retries.to_string(),
            "retried 2 times: HTTP 429 with Retry-After: 2, waited 2s; \
             HTTP 429 with Retry-After: 2, waited 2s; \
             then gave up on HTTP 429 with Retry-After: 2: \
             3 attempts made, the most the retry policy allows"
        );
    }

    #[test]
    fn a_wait_beyond_the_budget_gives_up_at_once() {
        let policy = RetryPolicy {
            max_attempts: 10,
            max_total_wait: Duration::from_secs(5),
            backoff: Duration::from_secs(1),
        };
        let (waits, retries) = attempts(&policy, &[answer(429, Some("6"))]);
        assert!(waits.is_empty());
        assert_eq!(
            retries.to_string(),
            "gave up on HTTP 429 with Retry-After: 6: waiting 6s is beyond the 5s left of the 5s retry budget"
        );
        // What is left shrinks with each wait.
        let (waits, retries) = attempts(&policy, &[answer(429, Some("3")), answer(503, Some("3"))]);
        assert_eq!(waits, [Duration::from_secs(3)]);
        assert_eq!(
            retries.gave_up.map(|g| g.reason),
            Some(GiveUp::BeyondBudget {
                wait: Duration::from_secs(3),
                left: Duration::from_secs(2),
                budget: Duration::from_secs(5)
            })
        );
        // An absurd number is beyond any budget, without overflow.
        let endless = RetryPolicy {
            max_total_wait: Duration::MAX,
            ..policy
        };
        let huge = "9".repeat(40);
        let (waits, _) = attempts(&endless, &[answer(429, Some(&huge)), answer(200, None)]);
        assert_eq!(waits, [Duration::from_secs(u64::MAX)]);
        let (_, retries) = attempts(&policy, &[answer(429, Some(&huge))]);
        assert!(matches!(
            retries.gave_up.map(|g| g.reason),
            Some(GiveUp::BeyondBudget { .. })
        ));
    }

    #[test]
    fn without_a_readable_retry_after_the_backoff_doubles() {
        let policy = RetryPolicy {
            max_attempts: 10,
            max_total_wait: Duration::from_secs(60),
            backoff: Duration::from_millis(500),
        };
        let answers = [
            answer(429, None),
            answer(429, Some("soon")),
            answer(503, Some("-1")),
            answer(429, None),
            answer(200, None),
        ];
        let (waits, retries) = attempts(&policy, &answers);
        assert_eq!(
            waits,
            [500, 1000, 2000, 4000].map(Duration::from_millis),
            "{retries}"
        );
        assert!(
            retries.to_string().starts_with(
                "retried 4 times: HTTP 429 without Retry-After, waited 500ms (backoff); "
            ),
            "{retries}"
        );
        // Doubling saturates instead of overflowing.
        assert_eq!(policy.backoff_before(200), Duration::MAX);
    }

    #[test]
    fn a_bare_503_and_other_statuses_are_final() {
        let policy = RetryPolicy::default();
        for status in [503, 500, 502, 504, 400] {
            let (waits, retries) = attempts(&policy, &[answer(status, None)]);
            assert!(waits.is_empty() && retries.is_empty(), "{status}");
        }
    }

    #[test]
    fn no_retry_policy_gives_up_on_the_first_throttled_answer() {
        for max_attempts in [0, 1] {
            let policy = RetryPolicy {
                max_attempts,
                ..RetryPolicy::none()
            };
            let (waits, retries) = attempts(&policy, &[answer(429, Some("0"))]);
            assert!(waits.is_empty());
            assert_eq!(
                retries.to_string(),
                "gave up on HTTP 429 with Retry-After: 0: the retry policy allows 1 attempt, so it is never retried"
            );
        }
    }

    #[test]
    fn a_rate_is_evenly_spaced() {
        let rate = RequestRate::new(4, Duration::from_secs(1)).expect("a rate");
        assert_eq!(rate.interval(), Duration::from_millis(250));
        assert_eq!(rate.to_string(), "4 requests per 1s (one every 250ms)");
        assert_eq!(RequestRate::new(0, Duration::from_secs(1)), None);
        let slow = RequestRate::new(1, Duration::MAX).expect("a rate");
        assert_eq!(slow.interval(), MAX_INTERVAL);
    }

    #[tokio::test(start_paused = true)]
    async fn a_spaced_pacer_counts_the_interval_from_the_answer_too() {
        let interval = Duration::from_millis(100);
        let spaced = Pacer::spaced(RequestRate::new(1, interval).expect("a rate"));
        let start = tokio::time::Instant::now();
        spaced.turn().await;
        // A slow answer: the next turn is an interval after it, not after
        // the start.
        tokio::time::sleep(Duration::from_millis(250)).await;
        spaced.answered();
        spaced.turn().await;
        assert_eq!(start.elapsed(), Duration::from_millis(350));
        // A quick answer: the start-to-start interval still holds.
        spaced.answered();
        spaced.turn().await;
        assert_eq!(start.elapsed(), Duration::from_millis(450));
        // A plain pacer ignores answers.
        let paced = Pacer::new(RequestRate::new(1, interval).expect("a rate"));
        let start = tokio::time::Instant::now();
        paced.turn().await;
        tokio::time::sleep(Duration::from_millis(250)).await;
        paced.answered();
        paced.turn().await;
        assert_eq!(start.elapsed(), Duration::from_millis(250));
    }

    #[tokio::test(start_paused = true)]
    async fn turns_are_one_interval_apart_across_clones() {
        let pacer = Pacer::new(RequestRate::new(2, Duration::from_secs(1)).expect("a rate"));
        let start = tokio::time::Instant::now();
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let pacer = pacer.clone();
                tokio::spawn(async move {
                    pacer.turn().await;
                    tokio::time::Instant::now() - start
                })
            })
            .collect();
        let mut turns = Vec::new();
        for task in tasks {
            turns.push(task.await.expect("the task ends"));
        }
        turns.sort();
        assert_eq!(turns, [0, 500, 1000, 1500].map(Duration::from_millis));
    }
}
