//! Reading `WWW-Authenticate` challenges (RFC 9110 §11.6.1): schemes and their
//! parameters, quoted commas included.

use grantspec_token::HttpResponse;

/// One WWW-Authenticate challenge.
pub(crate) struct Challenge {
    pub(crate) scheme: String,
    pub(crate) params: Vec<(String, String)>,
}

impl Challenge {
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Splits on commas outside quoted strings.
pub(crate) fn split_commas(value: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut escaped = false;
    for c in value.chars() {
        if escaped {
            current.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => {
                current.push(c);
                escaped = true;
            }
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ',' if !quoted => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    parts.push(current);
    parts.into_iter().map(|p| p.trim().to_owned()).collect()
}

pub(crate) fn unquote(value: &str) -> String {
    let value = value.trim();
    match value
        .strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
    {
        Some(inner) => {
            let mut out = String::new();
            let mut escaped = false;
            for c in inner.chars() {
                if c == '\\' && !escaped {
                    escaped = true;
                } else {
                    out.push(c);
                    escaped = false;
                }
            }
            out
        }
        None => value.to_owned(),
    }
}

/// Parses WWW-Authenticate values (RFC 9110 §11.6.1) into challenges;
/// token68 credentials are skipped.
pub(crate) fn parse_challenges<'h>(values: impl Iterator<Item = &'h str>) -> Vec<Challenge> {
    let mut challenges: Vec<Challenge> = Vec::new();
    for value in values {
        for element in split_commas(value) {
            if element.is_empty() {
                continue;
            }
            let (first, rest) = match element.find(char::is_whitespace) {
                Some(i) => (&element[..i], element[i..].trim_start()),
                None => (element.as_str(), ""),
            };
            let is_param = first.contains('=') || rest.starts_with('=');
            let param = |text: &str| {
                text.split_once('=')
                    .map(|(name, value)| (name.trim().to_owned(), unquote(value)))
            };
            if is_param {
                if let (Some(challenge), Some(param)) = (challenges.last_mut(), param(&element)) {
                    challenge.params.push(param);
                }
                continue;
            }
            let mut challenge = Challenge {
                scheme: first.to_owned(),
                params: Vec::new(),
            };
            // What follows the scheme is a first parameter, or a token68
            // (which may end in `=` padding) that is skipped.
            if rest.trim_end_matches('=').contains('=') {
                if let Some(param) = param(rest) {
                    challenge.params.push(param);
                }
            }
            challenges.push(challenge);
        }
    }
    challenges
}

pub(crate) fn is_token68_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '+' | '/')
}

pub(crate) fn challenges(response: &HttpResponse) -> Vec<Challenge> {
    parse_challenges(
        response
            .headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("www-authenticate"))
            .map(|(_, value)| value.as_str()),
    )
}

pub(crate) fn schemes(challenges: &[Challenge]) -> String {
    challenges
        .iter()
        .map(|c| format!("`{}`", c.scheme))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_are_parsed_with_quoted_commas_and_several_schemes() {
        let parsed = parse_challenges(
            [
                "Basic realm=\"a, b\", charset=\"UTF-8\", Bearer realm=\"x\", error=\"invalid_token\"",
                "Negotiate abc==",
            ]
            .into_iter(),
        );
        let schemes: Vec<&str> = parsed.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, vec!["Basic", "Bearer", "Negotiate"]);
        assert_eq!(parsed[0].param("realm"), Some("a, b"));
        assert_eq!(parsed[1].param("error"), Some("invalid_token"));
        assert!(parsed[2].params.is_empty());
    }
}
