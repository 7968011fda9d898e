//! Matchers: what an expected value may say about an actual one.
//!
//! In YAML a matcher is either a literal (a scalar or a list, compared
//! exactly) or a mapping of rules, all of which must hold:
//!
//! ```yaml
//! token_type: Bearer                       # literal
//! access_token: { type: string, min_len: 16 }
//! expires_in: { min: 1, max: 86400 }
//! refresh_token: { present: false }
//! token_type: { eq_ignore_case: bearer }
//! ```

use std::fmt;

use regex::Regex;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// An expectation about one value.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// Equal to this JSON value (boxed: a literal is the commonest
    /// matcher, and a `Value` would make every matcher in a body's map
    /// three times its size).
    Literal(Box<Value>),
    /// Every stated rule holds.
    Rules(Box<Rules>),
}

/// The JSON type a value must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JsonType {
    /// A string.
    String,
    /// Any number.
    Number,
    /// A whole number.
    Integer,
    /// `true` or `false`.
    Boolean,
    /// An array.
    Array,
    /// An object.
    Object,
    /// `null`.
    Null,
    /// A string of three base64url segments.
    Jwt,
}

/// Rules of a mapping matcher.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Whether the value must be there (`true`) or must not (`false`).
    pub present: Option<bool>,
    /// Shorthand for `present: false`.
    pub absent: Option<bool>,
    /// The JSON type.
    #[serde(rename = "type")]
    pub kind: Option<JsonType>,
    /// Equal to this value (for objects, which cannot be written as literals).
    pub eq: Option<Box<Value>>,
    /// A string equal to this one ignoring ASCII case.
    pub eq_ignore_case: Option<String>,
    /// A string matching this regular expression (unanchored).
    #[serde(default, deserialize_with = "regex_pattern")]
    #[schemars(with = "Option<String>")]
    pub regex: Option<Pattern>,
    /// A string or array at least this long.
    pub min_len: Option<usize>,
    /// A string or array at most this long.
    pub max_len: Option<usize>,
    /// A number at least this large, or a numeric string.
    pub min: Option<f64>,
    /// A number at most this large, or a numeric string.
    pub max: Option<f64>,
    /// Equal to one of these values.
    pub one_of: Option<Vec<Value>>,
}

/// A compiled regular expression that remembers its source.
#[derive(Debug, Clone)]
pub struct Pattern(pub Regex);

fn regex_pattern<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Pattern>, D::Error> {
    let source = String::deserialize(deserializer)?;
    Regex::new(&source)
        .map(|regex| Some(Pattern(regex)))
        .map_err(|e| de::Error::custom(format!("invalid regex `{source}`: {}", regex_problem(&e))))
}

/// The last line of a regex error: what is wrong, without the drawing of
/// where (the spec error shows the line).
fn regex_problem(error: &regex::Error) -> String {
    let text = error.to_string();
    let last = text
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .unwrap_or_default();
    last.trim().trim_start_matches("error: ").to_owned()
}

impl<'de> Deserialize<'de> for Matcher {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(MatcherVisitor)
    }
}

struct MatcherVisitor;

impl<'de> Visitor<'de> for MatcherVisitor {
    type Value = Matcher;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a literal value or a mapping of matcher rules (type, regex, min_len, min, max, present, absent, eq, eq_ignore_case, one_of)")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Matcher, E> {
        Ok(Matcher::Literal(Box::new(Value::Bool(v))))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Matcher, E> {
        Ok(Matcher::Literal(Box::new(Value::from(v))))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Matcher, E> {
        Ok(Matcher::Literal(Box::new(Value::from(v))))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Matcher, E> {
        Ok(Matcher::Literal(Box::new(Value::from(v))))
    }

    fn visit_str<E>(self, v: &str) -> Result<Matcher, E> {
        Ok(Matcher::Literal(Box::new(Value::from(v))))
    }

    fn visit_unit<E>(self) -> Result<Matcher, E> {
        Ok(Matcher::Literal(Box::new(Value::Null)))
    }

    fn visit_none<E>(self) -> Result<Matcher, E> {
        Ok(Matcher::Literal(Box::new(Value::Null)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Matcher, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Value>()? {
            items.push(item);
        }
        Ok(Matcher::Literal(Box::new(Value::Array(items))))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Matcher, A::Error> {
        let rules = Rules::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(Matcher::Rules(Box::new(rules)))
    }
}

impl schemars::JsonSchema for Matcher {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Matcher".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        concat!(module_path!(), "::Matcher").into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let rules = generator.subschema_for::<Rules>();
        schemars::json_schema!({
            "description": "An expectation about one value: a literal (a scalar or a list, compared exactly), or a mapping of rules that must all hold.",
            "anyOf": [
                {
                    "description": "Equal to this value; numbers compare by value (600 equals 600.0).",
                    "type": ["string", "number", "integer", "boolean", "null", "array"]
                },
                rules
            ]
        })
    }
}

/// Why a value did not match.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    /// What the matcher wanted, as it would be written in a spec.
    pub expected: String,
    /// What was there, as JSON (`<absent>` when missing).
    pub actual: String,
}

impl Matcher {
    /// Checks `actual` (`None` when the member is absent).
    pub fn check(&self, actual: Option<&Value>) -> Result<(), Mismatch> {
        let fail = |expected: String| {
            Err(Mismatch {
                expected,
                actual: actual.map_or_else(|| "<absent>".to_owned(), Value::to_string),
            })
        };
        match self {
            Self::Literal(expected) => match actual {
                Some(actual) if json_eq(expected, actual) => Ok(()),
                _ => fail(expected.to_string()),
            },
            Self::Rules(rules) => {
                let must_be_absent = rules.present == Some(false) || rules.absent == Some(true);
                let Some(value) = actual else {
                    return if must_be_absent || rules.is_presence_only() && rules.present.is_none()
                    {
                        Ok(())
                    } else {
                        fail("present".to_owned())
                    };
                };
                if must_be_absent {
                    return fail("absent".to_owned());
                }
                match rules.first_failure(value) {
                    None => Ok(()),
                    Some(expected) => fail(expected),
                }
            }
        }
    }
}

impl Rules {
    fn is_presence_only(&self) -> bool {
        self.kind.is_none()
            && self.eq.is_none()
            && self.eq_ignore_case.is_none()
            && self.regex.is_none()
            && self.min_len.is_none()
            && self.max_len.is_none()
            && self.min.is_none()
            && self.max.is_none()
            && self.one_of.is_none()
    }

    fn first_failure(&self, value: &Value) -> Option<String> {
        if let Some(kind) = self.kind {
            if !has_type(value, kind) {
                return Some(format!("type {kind:?}").to_lowercase());
            }
        }
        if let Some(eq) = &self.eq {
            if !json_eq(eq, value) {
                return Some(eq.to_string());
            }
        }
        if let Some(expected) = &self.eq_ignore_case {
            if !value
                .as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case(expected))
            {
                return Some(format!("{expected:?} ignoring case"));
            }
        }
        if let Some(Pattern(regex)) = &self.regex {
            if !value.as_str().is_some_and(|s| regex.is_match(s)) {
                return Some(format!("a string matching /{regex}/"));
            }
        }
        let len = match value {
            Value::String(s) => Some(s.chars().count()),
            Value::Array(items) => Some(items.len()),
            _ => None,
        };
        if let Some(min) = self.min_len {
            if len.is_none_or(|len| len < min) {
                return Some(format!("length >= {min}"));
            }
        }
        if let Some(max) = self.max_len {
            if len.is_none_or(|len| len > max) {
                return Some(format!("length <= {max}"));
            }
        }
        let number = match value {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        if let Some(min) = self.min {
            if number.is_none_or(|n| n < min) {
                return Some(format!("a number >= {min}"));
            }
        }
        if let Some(max) = self.max {
            if number.is_none_or(|n| n > max) {
                return Some(format!("a number <= {max}"));
            }
        }
        if let Some(options) = &self.one_of {
            if !options.iter().any(|option| json_eq(option, value)) {
                return Some(format!("one of {}", Value::Array(options.clone())));
            }
        }
        None
    }
}

/// JSON equality where `600` and `600.0` are equal.
fn json_eq(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| json_eq(a, b))
        }
        _ => expected == actual,
    }
}

fn has_type(value: &Value, kind: JsonType) -> bool {
    match kind {
        JsonType::String => value.is_string(),
        JsonType::Number => value.is_number(),
        JsonType::Integer => value.is_i64() || value.is_u64(),
        JsonType::Boolean => value.is_boolean(),
        JsonType::Array => value.is_array(),
        JsonType::Object => value.is_object(),
        JsonType::Null => value.is_null(),
        JsonType::Jwt => value.as_str().is_some_and(|s| {
            let parts: Vec<&str> = s.split('.').collect();
            parts.len() == 3
                && parts[..2].iter().all(|p| {
                    !p.is_empty()
                        && p.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                })
        }),
    }
}

/// Looks up a body matcher key: a JSON pointer (`/data/token_type`) or a
/// top-level member name.
pub fn lookup<'v>(body: &'v Value, key: &str) -> Option<&'v Value> {
    if key.starts_with('/') {
        body.pointer(key)
    } else {
        body.get(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn matcher(yaml: &str) -> Matcher {
        serde_yaml::from_str(yaml).expect("valid matcher")
    }

    #[test]
    fn literals_compare_exactly() {
        assert!(matcher("600").check(Some(&json!(600))).is_ok());
        assert!(matcher("600").check(Some(&json!("600"))).is_err());
        assert!(matcher("Bearer").check(Some(&json!("bearer"))).is_err());
        assert!(matcher("Bearer").check(None).is_err());
    }

    #[test]
    fn rules_all_hold() {
        let m = matcher("{ type: string, min_len: 4, regex: '^[a-f0-9]+$' }");
        assert!(m.check(Some(&json!("abcd"))).is_ok());
        assert!(m.check(Some(&json!("abc"))).is_err());
        assert!(m.check(Some(&json!("wxyz"))).is_err());
        assert!(m.check(Some(&json!(1234))).is_err());
    }

    #[test]
    fn presence_and_absence() {
        assert!(matcher("{ present: false }").check(None).is_ok());
        assert!(
            matcher("{ absent: true }")
                .check(Some(&json!("x")))
                .is_err()
        );
        assert!(matcher("{ present: true }").check(None).is_err());
        assert!(matcher("{ type: string }").check(None).is_err());
    }

    #[test]
    fn ranges_case_and_choices() {
        assert!(
            matcher("{ min: 1, max: 600 }")
                .check(Some(&json!(600)))
                .is_ok()
        );
        assert!(
            matcher("{ min: 1, max: 600 }")
                .check(Some(&json!(601)))
                .is_err()
        );
        assert!(
            matcher("{ eq_ignore_case: bearer }")
                .check(Some(&json!("Bearer")))
                .is_ok()
        );
        assert!(
            matcher("{ one_of: [400, 401] }")
                .check(Some(&json!(401)))
                .is_ok()
        );
        assert!(
            matcher("{ one_of: [400, 401] }")
                .check(Some(&json!(500)))
                .is_err()
        );
    }

    #[test]
    fn malformed_rules_are_rejected() {
        assert!(serde_yaml::from_str::<Matcher>("{ min_length: 3 }").is_err());
        assert!(serde_yaml::from_str::<Matcher>("{ regex: '(' }").is_err());
    }
}
