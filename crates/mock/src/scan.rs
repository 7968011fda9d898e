//! Finding the first byte of a kind, eight bytes at a time. A token
//! answer's strings and a request's credentials are tens of bytes that
//! almost never hold a byte to escape or decode; a test per word instead of
//! per byte is most of what looking for one costs.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// Whether some byte of `word` is zero.
pub(crate) const fn has_zero_byte(word: u64) -> bool {
    word.wrapping_sub(ONES) & !word & HIGH_BITS != 0
}

/// Whether some byte of `word` is `byte`.
pub(crate) const fn has_byte(word: u64, byte: u8) -> bool {
    has_zero_byte(word ^ (ONES * byte as u64))
}

/// Whether some byte of `word` is below `bound`, which is at most `0x80`.
pub(crate) const fn has_byte_below(word: u64, bound: u8) -> bool {
    word.wrapping_sub(ONES * bound as u64) & !word & HIGH_BITS != 0
}

/// The index of the first byte of `bytes` that `is_wanted`: words that
/// `word_may_hold` says hold none are skipped whole, so it must say so of
/// no word that holds one.
pub(crate) fn position(
    bytes: &[u8],
    word_may_hold: impl Fn(u64) -> bool,
    is_wanted: impl Fn(u8) -> bool,
) -> Option<usize> {
    let mut skipped = 0;
    for chunk in bytes.chunks_exact(8) {
        let Ok(word) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        if word_may_hold(u64::from_le_bytes(word)) {
            break;
        }
        skipped += 8;
    }
    bytes[skipped..]
        .iter()
        .position(|&byte| is_wanted(byte))
        .map(|offset| skipped + offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word_with(byte: u8, at: usize, filler: u8) -> u64 {
        let mut bytes = [filler; 8];
        bytes[at] = byte;
        u64::from_le_bytes(bytes)
    }

    #[test]
    fn word_tests_agree_with_byte_tests_for_every_byte_at_every_place() {
        for filler in [b'a', 0x7f, 0xff, b'+', 0x00, 0x1f, 0x20] {
            for byte in 0..=u8::MAX {
                for at in 0..8 {
                    let word = word_with(byte, at, filler);
                    let holds = |wanted: &dyn Fn(u8) -> bool| wanted(byte) || wanted(filler);
                    assert_eq!(has_zero_byte(word), holds(&|b| b == 0), "{byte:#x} {at}");
                    for target in [b'"', b'\\', b'%', b'+', b':', 0x80, 0xff] {
                        assert_eq!(
                            has_byte(word, target),
                            holds(&|b| b == target),
                            "{byte:#x} {at} {target:#x}"
                        );
                    }
                    for bound in [0x01, 0x20, 0x7f, 0x80] {
                        assert_eq!(
                            has_byte_below(word, bound),
                            holds(&|b| b < bound),
                            "{byte:#x} {at} below {bound:#x}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_first_wanted_byte_is_found_wherever_it_is() {
        for len in 0..40 {
            for at in 0..=len {
                let mut bytes = vec![b'x'; len];
                if at < len {
                    bytes[at] = b'%';
                    // A later one is not the first.
                    if at + 3 < len {
                        bytes[at + 3] = b'%';
                    }
                }
                let found = position(&bytes, |word| has_byte(word, b'%'), |byte| byte == b'%');
                assert_eq!(found, (at < len).then_some(at), "{len} {at}");
            }
        }
    }
}
