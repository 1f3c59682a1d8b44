//! File names for donation keys and session ids, shared by `port script run --out` and `port host`.
//!
//! Keys come from study scripts and host requests, so they are untrusted: a name made here can
//! neither leave its folder nor name a hidden or special file.

/// A key as a file name: letters, digits, `.`, `-` and `_` stay, everything else becomes `_`, so a
/// key can neither leave the output folder nor name a hidden or special file.
pub fn file_name_for_key(key: &str) -> String {
    let safe: String = key
        .chars()
        .map(|character| if character.is_ascii_alphanumeric() || "-_.".contains(character) { character } else { '_' })
        .collect();
    if safe.is_empty() || safe.starts_with('.') { format!("_{safe}") } else { safe }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_name_for_key_keeps_safe_characters() {
        assert_eq!(file_name_for_key("1700000000000-demo_v1.2"), "1700000000000-demo_v1.2");
    }

    #[test]
    fn file_name_for_key_replaces_separators_and_spaces() {
        assert_eq!(file_name_for_key("../etc/passwd"), "_.._etc_passwd");
        assert_eq!(file_name_for_key("a b/c"), "a_b_c");
    }

    #[test]
    fn file_name_for_key_never_hidden_or_empty() {
        assert_eq!(file_name_for_key(""), "_");
        assert_eq!(file_name_for_key(".."), "_..");
    }
}
