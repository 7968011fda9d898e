//! Compact JSON written straight into a byte buffer, byte for byte as
//! `serde_json` writes it. A token answer is a few strings and numbers, and
//! going through serde_json's serializer for each cost more than building
//! the rest of the answer.

use crate::scan;

/// Appends `text` as a JSON string: quoted, with `"`, `\` and control
/// characters escaped as serde_json escapes them (`\n` and its kin where
/// JSON has a short form, `\u00XX` with lower-case hex otherwise), and
/// everything else, non-ASCII included, as it is.
pub(crate) fn write_str(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    write_escaped(out, text);
    out.push(b'"');
}

/// Appends `texts` joined by single spaces as one JSON string, without
/// joining them first (a space needs no escape).
pub(crate) fn write_space_joined(out: &mut Vec<u8>, texts: &[String]) {
    out.push(b'"');
    for (index, text) in texts.iter().enumerate() {
        if index > 0 {
            out.push(b' ');
        }
        write_escaped(out, text);
    }
    out.push(b'"');
}

/// Appends `text` escaped for the inside of a JSON string; runs that need
/// no escape are found eight bytes at a time and copied whole.
fn write_escaped(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = text.as_bytes();
    let mut plain_from = 0;
    while let Some(offset) = position_to_escape(&bytes[plain_from..]) {
        let index = plain_from + offset;
        out.extend_from_slice(&bytes[plain_from..index]);
        plain_from = index + 1;
        let byte = bytes[index];
        let short: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            _ => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(byte >> 4)]);
                out.push(HEX[usize::from(byte & 0x0f)]);
                continue;
            }
        };
        out.extend_from_slice(short);
    }
    out.extend_from_slice(&bytes[plain_from..]);
}

/// The index of the first byte of `bytes` that a JSON string escapes.
fn position_to_escape(bytes: &[u8]) -> Option<usize> {
    scan::position(
        bytes,
        |word| {
            scan::has_byte_below(word, 0x20)
                || scan::has_byte(word, b'"')
                || scan::has_byte(word, b'\\')
        },
        |byte| NEEDS_ESCAPE[usize::from(byte)],
    )
}

/// The bytes a JSON string escapes: `"`, `\` and the control characters.
static NEEDS_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = true;
        byte += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// Appends `number` in decimal.
pub(crate) fn write_u64(out: &mut Vec<u8>, mut number: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        // A remainder by 10 is a single digit.
        digits[start] = b'0' + (number % 10) as u8;
        number /= 10;
        if number == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

/// Appends `texts` as a JSON array of strings.
pub(crate) fn write_str_array(out: &mut Vec<u8>, texts: &[String]) {
    out.push(b'[');
    for (index, text) in texts.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_str(out, text);
    }
    out.push(b']');
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn written(write: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = b"prefix ".to_vec();
        write(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_character_below_0x80_and_some_above_are_escaped_as_serde_json_escapes_them() {
        let mut samples: Vec<String> = (0u8..0x80)
            .map(|byte| char::from(byte).to_string())
            .collect();
        samples.extend(
            [
                "",
                "plain",
                "a\"b\\c/d",
                "\u{1}\u{1f}\u{7f}\u{80}",
                "é\n\"\\☃",
                "😀 at the end\u{0}",
                "\u{2028}\u{2029}\u{feff}",
                "tab\tcr\rbs\u{8}ff\u{c}",
            ]
            .map(str::to_owned),
        );
        for sample in &samples {
            assert_eq!(
                written(|out| write_str(out, sample)),
                format!("prefix {}", serde_json::to_string(sample).unwrap()),
                "{sample:?}"
            );
        }
    }

    #[test]
    fn a_character_to_escape_is_escaped_wherever_it_stands_in_a_long_string() {
        for escaped in ['"', '\\', '\n', '\u{0}', '\u{1f}'] {
            for len in [1, 7, 8, 9, 16, 17, 30] {
                for at in 0..len {
                    let sample: String = (0..len)
                        .map(|index| if index == at { escaped } else { 'é' })
                        .collect();
                    assert_eq!(
                        written(|out| write_str(out, &sample)),
                        format!("prefix {}", serde_json::to_string(&sample).unwrap()),
                        "{sample:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn numbers_are_written_as_serde_json_writes_them() {
        let mut numbers = vec![0, 1, 9, 10, 99, 100, 3600, u64::MAX - 1, u64::MAX];
        numbers.extend((0..64).map(|shift| 1u64 << shift));
        numbers.extend((1..20).map(|power| 10u64.pow(power) - 1));
        for number in numbers {
            assert_eq!(
                written(|out| write_u64(out, number)),
                format!("prefix {}", serde_json::to_string(&number).unwrap())
            );
        }
    }

    #[test]
    fn space_joined_strings_are_the_joined_string_as_serde_json_writes_it() {
        for texts in [
            vec![],
            vec![String::new()],
            vec!["read".to_owned()],
            vec![
                "read".to_owned(),
                "write \"all\"".to_owned(),
                "\u{0}\\".to_owned(),
            ],
        ] {
            assert_eq!(
                written(|out| write_space_joined(out, &texts)),
                format!(
                    "prefix {}",
                    serde_json::to_string(&texts.join(" ")).unwrap()
                )
            );
        }
    }

    #[test]
    fn string_arrays_are_written_as_serde_json_writes_them() {
        for texts in [
            vec![],
            vec!["read".to_owned()],
            vec![
                "read".to_owned(),
                "write \"all\"".to_owned(),
                "\u{0}".to_owned(),
            ],
        ] {
            assert_eq!(
                written(|out| write_str_array(out, &texts)),
                format!("prefix {}", serde_json::to_string(&texts).unwrap())
            );
        }
    }
}
