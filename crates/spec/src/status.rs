//! What an expected HTTP status may say: one status, one of several, or a
//! range.
//!
//! ```yaml
//! status: 200
//! status: { one_of: [400, 401] }   # servers differ on a bad client
//! status: { min: 400, max: 499 }   # any client error
//! ```

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// An expectation about a response's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusMatcher {
    /// Exactly this status.
    Is(u16),
    /// One of these statuses.
    OneOf(Vec<u16>),
    /// A status within these bounds, each inclusive; at least one is set.
    Within {
        /// The lowest status allowed.
        min: Option<u16>,
        /// The highest status allowed.
        max: Option<u16>,
    },
}

impl StatusMatcher {
    /// Whether `status` is what the matcher wants.
    pub fn matches(&self, status: u16) -> bool {
        match self {
            Self::Is(expected) => status == *expected,
            Self::OneOf(expected) => expected.contains(&status),
            Self::Within { min, max } => {
                min.is_none_or(|min| status >= min) && max.is_none_or(|max| status <= max)
            }
        }
    }

    /// Every status the matcher names (the bounds of a range), for checks
    /// that each is an HTTP status.
    pub fn named(&self) -> Vec<u16> {
        match self {
            Self::Is(status) => vec![*status],
            Self::OneOf(statuses) => statuses.clone(),
            Self::Within { min, max } => min.iter().chain(max).copied().collect(),
        }
    }
}

/// As a spec would write it: `200`, `one of 400, 401`, `400 to 499`, `at
/// least 400`, `at most 299`.
impl fmt::Display for StatusMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Is(status) => write!(f, "{status}"),
            Self::OneOf(statuses) => {
                let list: Vec<String> = statuses.iter().map(u16::to_string).collect();
                write!(f, "one of {}", list.join(", "))
            }
            Self::Within {
                min: Some(min),
                max: Some(max),
            } => write!(f, "{min} to {max}"),
            Self::Within {
                min: Some(min),
                max: None,
            } => write!(f, "at least {min}"),
            Self::Within {
                min: None,
                max: Some(max),
            } => write!(f, "at most {max}"),
            Self::Within {
                min: None,
                max: None,
            } => f.write_str("any status"),
        }
    }
}

/// The rules a mapping may hold.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct StatusRules {
    /// One of these statuses.
    #[serde(default)]
    one_of: Option<Vec<u16>>,
    /// The lowest status allowed (inclusive).
    #[serde(default)]
    min: Option<u16>,
    /// The highest status allowed (inclusive).
    #[serde(default)]
    max: Option<u16>,
}

impl<'de> Deserialize<'de> for StatusMatcher {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StatusVisitor)
    }
}

struct StatusVisitor;

const EXPECTING: &str =
    "an HTTP status (`200`), or a mapping with `one_of: [400, 401]` or `min:`/`max:`";

impl<'de> Visitor<'de> for StatusVisitor {
    type Value = StatusMatcher;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXPECTING)
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<StatusMatcher, E> {
        u16::try_from(value)
            .map(StatusMatcher::Is)
            .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(value), &self))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<StatusMatcher, E> {
        u64::try_from(value)
            .map_err(|_| E::invalid_value(de::Unexpected::Signed(value), &self))
            .and_then(|value| self.visit_u64(value))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<StatusMatcher, A::Error> {
        let rules = StatusRules::deserialize(de::value::MapAccessDeserializer::new(map))?;
        // Reported as invalid values, which the loader renders with the
        // key and the position.
        let refuse = |found: de::Unexpected<'_>, expected: &str| {
            Err(de::Error::invalid_value(found, &expected))
        };
        match rules {
            StatusRules {
                one_of: Some(statuses),
                min: None,
                max: None,
            } => {
                if statuses.is_empty() {
                    return refuse(de::Unexpected::Seq, "at least one status in `one_of`");
                }
                Ok(StatusMatcher::OneOf(statuses))
            }
            StatusRules {
                one_of: Some(_), ..
            } => refuse(de::Unexpected::Map, "`one_of`, or `min`/`max`, not both"),
            StatusRules {
                one_of: None,
                min: None,
                max: None,
            } => refuse(de::Unexpected::Map, "`one_of`, `min` or `max`"),
            StatusRules { min, max, .. } => {
                if let (Some(min), Some(max)) = (min, max) {
                    if min > max {
                        return refuse(
                            de::Unexpected::Unsigned(min.into()),
                            &format!("a `min` no higher than `max` ({max}), or no status passes"),
                        );
                    }
                }
                Ok(StatusMatcher::Within { min, max })
            }
        }
    }
}

impl schemars::JsonSchema for StatusMatcher {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "StatusMatcher".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        concat!(module_path!(), "::StatusMatcher").into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let rules = generator.subschema_for::<StatusRules>();
        schemars::json_schema!({
            "description": "The HTTP status: exactly this one, or a mapping with `one_of` or `min`/`max` (inclusive).",
            "anyOf": [
                { "type": "integer", "minimum": 100, "maximum": 599 },
                rules
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(yaml: &str) -> Result<StatusMatcher, String> {
        serde_yaml::from_str(yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn each_form_matches_what_it_says() {
        let is = read("200").unwrap();
        assert!(is.matches(200) && !is.matches(201));
        let one_of = read("{ one_of: [400, 401] }").unwrap();
        assert!(one_of.matches(400) && one_of.matches(401) && !one_of.matches(403));
        let range = read("{ min: 400, max: 499 }").unwrap();
        assert!(range.matches(400) && range.matches(499));
        assert!(!range.matches(399) && !range.matches(500));
        let at_least = read("{ min: 500 }").unwrap();
        assert!(at_least.matches(503) && !at_least.matches(499));
    }

    #[test]
    fn each_form_is_shown_as_it_would_be_written() {
        let shown = |yaml: &str| read(yaml).unwrap().to_string();
        assert_eq!(shown("201"), "201");
        assert_eq!(shown("{ one_of: [400, 401] }"), "one of 400, 401");
        assert_eq!(shown("{ min: 400, max: 499 }"), "400 to 499");
        assert_eq!(shown("{ min: 400 }"), "at least 400");
        assert_eq!(shown("{ max: 299 }"), "at most 299");
    }

    #[test]
    fn a_matcher_that_cannot_pass_or_says_two_things_is_refused() {
        for (yaml, problem) in [
            ("{ one_of: [] }", "at least one status in `one_of`"),
            (
                "{ min: 500, max: 400 }",
                "a `min` no higher than `max` (400)",
            ),
            ("{ one_of: [400], min: 400 }", "not both"),
            ("{}", "`one_of`, `min` or `max`"),
            ("{ between: [1, 2] }", "unknown field `between`"),
            ("-1", "an HTTP status"),
            ("70000", "an HTTP status"),
        ] {
            let error = read(yaml).expect_err(yaml);
            assert!(error.contains(problem), "{yaml}: {error}");
        }
    }
}
