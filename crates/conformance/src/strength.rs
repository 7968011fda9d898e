//! Tokens themselves (RFC 6749 §10.10, Appendix A.17; RFC 6750 §2.1): their
//! syntax and how hard they are to guess.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::Value;

use crate::ctx::{Ctx, success_token};
use crate::syntax::{b64token_problem, is_b64token, is_vschar};
use crate::token_view::json_kind;
use crate::{Check, ExchangeKind, Judged, Rule, Severity, Side};

pub(crate) const B64TOKEN: Check = Check {
    id: "RFC6750-2.1-b64token",
    clause: "RFC6750-2.1",
    severity: Severity::Failure,
    title: "A bearer access token can be sent in an Authorization header (b64token syntax)",
    looks_at: "successful token responses whose token_type is Bearer or absent: the access token's characters (A-Z a-z 0-9 - . _ ~ + / then trailing =)",
    deviation: "access-token-syntax",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Response,
        eval: b64token,
    },
};

fn b64token(cx: &Ctx<'_>) -> Judged {
    let view = success_token!(cx);
    let bearer = match view.token_type {
        Some(Value::String(kind)) => {
            kind.trim().eq_ignore_ascii_case("bearer") || kind.trim().is_empty()
        }
        _ => true,
    };
    if !bearer {
        return Judged::NotApplicable("not a bearer token".into());
    }
    match view.access_token.and_then(Value::as_str) {
        None => Judged::NotApplicable("no string access_token".into()),
        Some(token) if is_b64token(token) => Judged::Pass("the access token is a b64token".into()),
        Some(token) => Judged::Violated(
            format!(
                "the access token {}, so it cannot be sent as `Authorization: Bearer` as it is",
                b64token_problem(token)
            )
            .into(),
        ),
    }
}

pub(crate) const REFRESH_TOKEN_SYNTAX: Check = Check {
    id: "RFC6749-A.17-refresh-token-syntax",
    clause: "RFC6749-A.17",
    severity: Severity::Failure,
    title: "`refresh_token` is a non-empty string of visible ASCII (refresh-token = 1*VSCHAR)",
    looks_at: "successful token responses with a refresh_token member: a JSON string of at least one %x20-7E character; another JSON type, an empty string, control or non-ASCII characters fail",
    deviation: "refresh-token-syntax",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Response,
        eval: refresh_token_syntax,
    },
};

fn refresh_token_syntax(cx: &Ctx<'_>) -> Judged {
    let view = success_token!(cx);
    match view.refresh_token {
        None | Some(Value::Null) => Judged::NotApplicable("no refresh_token".into()),
        Some(Value::String(token)) if token.is_empty() => {
            Judged::Violated("`refresh_token` is empty; refresh-token = 1*VSCHAR".into())
        }
        Some(Value::String(token)) => match token.chars().find(|c| !is_vschar(*c)) {
            None => Judged::Pass("`refresh_token` is 1*VSCHAR (value not shown)".into()),
            Some(c) => Judged::Violated(
                format!(
                    "`refresh_token` contains {}, outside VSCHAR (%x20-7E)",
                    if c.is_ascii() {
                        "a control character"
                    } else {
                        "a non-ASCII character"
                    }
                )
                .into(),
            ),
        },
        Some(other) => Judged::Violated(
            format!("`refresh_token` is {}, not a string", json_kind(other)).into(),
        ),
    }
}

/// How guessable a token looks; never holds the token itself.
struct Strength {
    pub(crate) length: usize,
    pub(crate) bits: f64,
    pub(crate) problem: Option<String>,
    pub(crate) kind: &'static str,
}

const MIN_TOKEN_LENGTH: usize = 20;
const MIN_TOKEN_BITS: f64 = 128.0;

fn token_strength(token: &str) -> Strength {
    if let Some(strength) = jwt_strength(token) {
        return strength;
    }
    let characters = |text: &str| {
        if text.is_ascii() {
            text.len()
        } else {
            text.chars().count()
        }
    };
    let length = characters(token);
    let body = token.trim_end_matches('=');
    let body_length = characters(body);
    let alphabet = alphabet_size(body);
    let uuid = is_uuid(token);
    let bits = if uuid {
        122.0
    } else {
        body_length as f64 * alphabet.log2()
    };
    let shannon = shannon_bits_per_char(body);
    let ceiling = alphabet.log2().min((body_length.max(2) as f64).log2());
    let problem = if length < MIN_TOKEN_LENGTH {
        Some(format!("shorter than {MIN_TOKEN_LENGTH} characters"))
    } else if bits < MIN_TOKEN_BITS {
        Some(format!(
            "about {bits:.0} bits estimated, under {MIN_TOKEN_BITS:.0}"
        ))
    } else if shannon < 0.6 * ceiling {
        Some(format!(
            "repetitive: {shannon:.1} bits per character where random text of that alphabet and length has about {ceiling:.1}"
        ))
    } else {
        None
    };
    Strength {
        length,
        bits,
        problem,
        kind: if uuid { "a UUID" } else { "opaque" },
    }
}

/// A JWS is judged by its signature: unsigned (`alg: none` or an empty
/// signature) or a signature under 128 bits is weak.
fn jwt_strength(token: &str) -> Option<Strength> {
    let mut parts = token.split('.');
    let (Some(header), Some(_payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header.trim_end_matches('='))
        .ok()?;
    let header: Value = serde_json::from_slice(&header).ok()?;
    let alg = header.get("alg")?.as_str()?;
    let signature = signature.trim_end_matches('=');
    let bits = signature.len() as f64 * 6.0;
    let problem = if alg.eq_ignore_ascii_case("none") || signature.is_empty() {
        Some("an unsigned JWT (alg none or no signature)".to_owned())
    } else if bits < MIN_TOKEN_BITS {
        Some(format!("a JWT whose signature has only {bits:.0} bits"))
    } else {
        None
    };
    Some(Strength {
        length: token.len(),
        bits,
        problem,
        kind: "a JWT",
    })
}

fn is_uuid(token: &str) -> bool {
    token.len() == 36
        && token.split('-').count() == 5
        && token
            .split('-')
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The size of the alphabet a token's characters seem drawn from.
fn alphabet_size(token: &str) -> f64 {
    let (mut letters_hex, mut digit, mut lower, mut upper, mut safe, mut other) =
        (true, false, false, false, false, false);
    for c in token.bytes() {
        letters_hex &= !c.is_ascii_alphabetic() || c.is_ascii_hexdigit();
        digit |= c.is_ascii_digit();
        lower |= c.is_ascii_lowercase();
        upper |= c.is_ascii_uppercase();
        let url_safe = matches!(c, b'-' | b'_' | b'+' | b'/' | b'.' | b'~');
        safe |= url_safe;
        other |= c.is_ascii_punctuation() && !url_safe;
    }
    let mut size = 0.0;
    if digit {
        size += 10.0;
    }
    for present in [lower, upper] {
        if present {
            size += if letters_hex { 6.0 } else { 26.0 };
        }
    }
    if safe {
        size += 2.0;
    }
    if other {
        size += 32.0;
    }
    if !token.is_ascii() {
        size += 64.0;
    }
    f64::max(size, 1.0)
}

fn shannon_bits_per_char(text: &str) -> f64 {
    // H = -Σ p·log2(p) with p = c/n, computed as log2(n) - Σ c·log2(c) / n,
    // the sum kept up to date as each character is counted: when a count
    // goes from c to c + 1, it grows by (c+1)·log2(c+1) - c·log2(c).
    let mut ascii = [0u32; 128];
    let mut others: BTreeMap<char, u32> = BTreeMap::new();
    let mut repeated = 0.0;
    let mut count = |seen: &mut u32| {
        repeated += count_log_count(*seen + 1) - count_log_count(*seen);
        *seen += 1;
    };
    let total = if text.is_ascii() {
        for byte in text.bytes() {
            count(&mut ascii[usize::from(byte)]);
        }
        text.len()
    } else {
        let mut total = 0;
        for c in text.chars() {
            match usize::try_from(u32::from(c)) {
                Ok(code) if code < 128 => count(&mut ascii[code]),
                _ => count(others.entry(c).or_default()),
            }
            total += 1;
        }
        total
    };
    if total == 0 {
        return 0.0;
    }
    (total as f64).log2() - repeated / total as f64
}

/// `c·log2(c)`, 0 for a count of 0 or 1; looked up for the counts a
/// token's characters reach, where a logarithm per character would cost
/// more than the rest of the entropy check.
fn count_log_count(count: u32) -> f64 {
    const KEPT: usize = 64;
    static TABLE: std::sync::LazyLock<[f64; KEPT]> = std::sync::LazyLock::new(|| {
        std::array::from_fn(|count| match count {
            0 | 1 => 0.0,
            _ => count as f64 * (count as f64).log2(),
        })
    });
    match TABLE.get(count as usize) {
        Some(&value) => value,
        None => f64::from(count) * f64::from(count).log2(),
    }
}

pub(crate) const TOKEN_ENTROPY: Check = Check {
    id: "RFC6749-10.10-token-entropy",
    clause: "RFC6749-10.10",
    severity: Severity::Warning,
    title: "Access and refresh tokens are long and random enough to resist guessing (2^-128)",
    looks_at: "successful token responses: access_token and refresh_token; at least 20 characters, an estimated 128 bits (length times log2 of the alphabet its characters come from), no heavy repetition; a JWT is judged by its signature",
    deviation: "low-entropy-token",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Response,
        eval: token_entropy,
    },
};

fn token_entropy(cx: &Ctx<'_>) -> Judged {
    let view = success_token!(cx);
    let judged = [
        ("access_token", view.access_token),
        ("refresh_token", view.refresh_token),
    ]
    .map(|(member, value)| {
        let token = value.and_then(Value::as_str)?;
        Some((member, token_strength(token)))
    });
    let judged = judged.iter().flatten();
    if judged
        .clone()
        .any(|(_, strength)| strength.problem.is_some())
    {
        let weak: Vec<String> = judged
            .filter_map(|(member, strength)| {
                let problem = strength.problem.as_ref()?;
                Some(format!(
                    "`{member}` ({}, {} characters): {problem}",
                    strength.kind, strength.length
                ))
            })
            .collect();
        return Judged::Violated(weak.join("; ").into());
    }
    if judged.clone().next().is_none() {
        return Judged::NotApplicable("no string token members".into());
    }
    Judged::Pass(cx.say(|| {
        let seen: Vec<String> = judged
            .map(|(member, strength)| {
                format!(
                    "`{member}` ({}, {} characters, about {:.0} bits)",
                    strength.kind, strength.length, strength.bits
                )
            })
            .collect();
        seen.join("; ")
    }))
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use super::shannon_bits_per_char;
    use crate::testkit::*;

    /// Each check of the module breaks on one fixture and holds on another.
    pub(crate) fn fixtures() -> Vec<Fixture> {
        vec![
            fx(
                "access token with a space",
                vec![cc(ok(token_with(
                    json!({ "access_token": format!("{} {}", strong(4), strong(5)) }),
                )))],
                &[("RFC6750-2.1-b64token", Fail)],
            ),
            fx(
                "short access token",
                vec![cc(ok(token_with(json!({ "access_token": "TKN12345" }))))],
                &[("RFC6749-10.10-token-entropy", Warn)],
            ),
            fx(
                "repetitive refresh token",
                vec![token(
                    post(form(&[
                        ("grant_type", "password"),
                        ("username", "u"),
                        ("password", "SECRET-pw"),
                    ])),
                    ok(token_with(
                        json!({ "refresh_token": format!("TKN{}", "ab".repeat(30)) }),
                    )),
                    "password",
                )],
                &[("RFC6749-10.10-token-entropy", Warn)],
            ),
            fx(
                "refresh token of visible ASCII",
                vec![password_login(
                    "read",
                    &format!("{}~!{}", strong(17), strong(18)),
                )],
                &[("RFC6749-A.17-refresh-token-syntax", Pass)],
            ),
            fx(
                "refresh token with a non-ASCII character",
                vec![password_login(
                    "read",
                    &format!("{}é{}", strong(17), strong(18)),
                )],
                &[
                    ("RFC6749-A.17-refresh-token-syntax", Fail),
                    ("RFC6749-10.10-token-entropy", Pass),
                ],
            ),
            fx(
                "refresh token with a control character",
                vec![password_login(
                    "read",
                    &format!("{}\n{}", strong(17), strong(18)),
                )],
                &[("RFC6749-A.17-refresh-token-syntax", Fail)],
            ),
            fx(
                "empty and numeric refresh tokens",
                vec![
                    cc(ok(token_with(json!({ "refresh_token": "" })))),
                    cc(ok(token_with(json!({ "refresh_token": 12345 })))),
                ],
                &[("RFC6749-A.17-refresh-token-syntax", Fail)],
            ),
            fx(
                "weak refresh token beside a strong access token",
                vec![password_login("read", "TKN-refresh-1")],
                &[("RFC6749-10.10-token-entropy", Warn)],
            ),
            fx(
                "UUID access token",
                vec![cc(ok(token_with(
                    json!({ "access_token": "3f2b8c1e-9d4a-4e7b-8a6c-5d1e2f3a4b5c" }),
                )))],
                &[("RFC6749-10.10-token-entropy", Warn)],
            ),
            fx(
                "unsigned JWT",
                vec![cc(ok(token_with(
                    json!({ "access_token": jwt("none", "") }),
                )))],
                &[("RFC6749-10.10-token-entropy", Warn)],
            ),
            fx(
                "signed JWT",
                vec![cc(ok(token_with(
                    json!({ "access_token": jwt("RS256", &strong(6)) }),
                )))],
                &[
                    ("RFC6749-10.10-token-entropy", Pass),
                    ("RFC6750-2.1-b64token", Pass),
                ],
            ),
        ]
    }

    #[test]
    fn fixture_expectations_hold() {
        assert_expectations(&fixtures());
    }

    #[test]
    fn shannon_entropy_matches_its_definition() {
        fn by_definition(text: &str) -> f64 {
            let mut counts: BTreeMap<char, usize> = BTreeMap::new();
            for c in text.chars() {
                *counts.entry(c).or_default() += 1;
            }
            let total = text.chars().count() as f64;
            counts
                .values()
                .map(|&count| {
                    let p = count as f64 / total;
                    -p * p.log2()
                })
                .sum()
        }
        for text in [
            "",
            "a",
            "aaaa",
            "abab",
            "abcdefgh",
            &strong(7),
            "0123456789abcdef0123456789abcdef",
            "éé-ßß-日本日本-aa",
            &"ab".repeat(100),
        ] {
            let (fast, slow) = (shannon_bits_per_char(text), by_definition(text));
            assert!((fast - slow).abs() < 1e-9, "{text:?}: {fast} vs {slow}");
        }
    }
}
