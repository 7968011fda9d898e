//! Character classes of the ABNF the checks enforce: RFC 6750 b64token, RFC
//! 6749 Appendix A NQSCHAR, NQCHAR and VSCHAR.

use crate::challenge::is_token68_char;

/// Whether a string is b64token (RFC 6750 §2.1).
pub(crate) fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty() && body.chars().all(is_token68_char)
}

/// What kind of character broke b64token syntax, without showing it.
pub(crate) fn b64token_problem(token: &str) -> &'static str {
    let body = token.trim_end_matches('=');
    match body.chars().find(|c| !is_token68_char(*c)) {
        None if body.is_empty() => "is empty",
        None => "is fine",
        Some(' ') => "contains a space",
        Some('"') => "contains a double quote",
        Some('=') => "contains `=` before its end",
        Some(c) if !c.is_ascii() => "contains a non-ASCII character",
        Some(c) if c.is_ascii_control() => "contains a control character",
        Some(_) => "contains punctuation outside - . _ ~ + /",
    }
}

/// The first character of `text` outside the allowed set, as `U+XXXX`.
pub(crate) fn first_outside(text: &str, allowed: fn(char) -> bool) -> Option<String> {
    text.chars()
        .find(|c| !allowed(*c))
        .map(|c| format!("U+{:04X}", u32::from(c)))
}

/// NQSCHAR: %x20-21 / %x23-5B / %x5D-7E.
pub(crate) fn is_nqschar(c: char) -> bool {
    matches!(c, '\x20'..='\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')
}

/// NQCHAR: %x21 / %x23-5B / %x5D-7E.
pub(crate) fn is_nqchar(c: char) -> bool {
    c != ' ' && is_nqschar(c)
}

/// VSCHAR (RFC 6749 Appendix A): %x20-7E.
pub(crate) fn is_vschar(c: char) -> bool {
    matches!(c, '\x20'..='\x7E')
}
