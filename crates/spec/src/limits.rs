//! Bounds on what a spec may say: names that become file names, and values
//! that downstream arithmetic must be able to hold.
//!
//! The loader refuses a spec beyond them with a located error; the runner
//! names snapshot files with [`snapshot_stem`], the one mapping the loader
//! checks case names against.

/// Longest case name (and provider id), in characters.
pub const MAX_NAME_LEN: usize = 100;

/// Largest number of seconds a spec may give (a token lifetime, a clock
/// move, the clock moves of one case together): 100 years of 365 days.
pub const MAX_SECONDS: u64 = 100 * 365 * 24 * 60 * 60;

/// Longest period of a `live.rate`, in seconds: a day.
pub const MAX_RATE_PERIOD: u32 = 24 * 60 * 60;

/// Lowest and highest HTTP status a spec may give.
pub const STATUS_RANGE: std::ops::RangeInclusive<u16> = 100..=599;

/// Case names the runner gives trials of its own: `<provider>::spec` (a
/// spec file that did not load) and `<provider>::declared_deviations`.
pub const RESERVED_CASE_NAMES: [&str; 2] = ["spec", "declared_deviations"];

/// The characters a case name or provider id may hold, in words.
pub const NAME_CHARACTERS: &str = "ASCII letters, digits, `_`, `-` and `.`";

/// Whether a case name or provider id may hold `c`.
pub fn name_character(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// The file stem of a case's snapshot (`<stem>.snap`): ASCII letters,
/// digits, `_` and `-` kept, every other character made `_`.
pub fn snapshot_stem(case: &str) -> String {
    case.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The folder, inside a provider's snapshot folder, that holds the snapshots
/// of its live runs: `<provider>/live/<stem>.snap`, beside the mock's
/// `<provider>/<stem>.snap`. A case's file always ends in `.snap`, so no
/// case name (not even `live`) names this folder.
pub const LIVE_SNAPSHOTS: &str = "live";

/// What is wrong with `name` as a case name or provider id, if anything.
pub fn name_problem(name: &str) -> Option<String> {
    // Most names are short and ASCII: then bytes are characters.
    let fine = |b: u8| name_character(char::from(b));
    if (1..=MAX_NAME_LEN).contains(&name.len())
        && name.bytes().all(fine)
        && name.bytes().any(|b| b != b'.')
    {
        return None;
    }
    let length = name.chars().count();
    if length == 0 {
        return Some("is empty".to_owned());
    }
    if length > MAX_NAME_LEN {
        return Some(format!(
            "is {length} characters long; at most {MAX_NAME_LEN} are allowed"
        ));
    }
    if let Some(c) = name.chars().find(|&c| !name_character(c)) {
        return Some(format!("holds {c:?}, which is not allowed"));
    }
    if name.chars().all(|c| c == '.') {
        return Some("is only dots".to_owned());
    }
    None
}

/// `name` for a message: at most 40 characters of it.
pub(crate) fn shown(name: &str) -> String {
    if name.chars().count() <= 40 {
        return name.to_owned();
    }
    let head: String = name.chars().take(40).collect();
    format!("{head}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_their_snapshot_files() {
        assert_eq!(snapshot_stem("a.b"), "a_b");
        assert_eq!(snapshot_stem("a_b"), "a_b");
        assert_eq!(snapshot_stem("token-ok_2"), "token-ok_2");
        assert!(name_problem("client_credentials").is_none());
        assert!(name_problem("v1.2-ok").is_none());
        assert!(name_problem("").is_some());
        assert!(name_problem("..").is_some());
        assert!(name_problem("a b").is_some());
        assert!(name_problem("a/b").is_some());
        assert!(name_problem(&"x".repeat(MAX_NAME_LEN)).is_none());
        assert!(name_problem(&"x".repeat(MAX_NAME_LEN + 1)).is_some());
        assert_eq!(MAX_SECONDS, 3_153_600_000);
    }
}
