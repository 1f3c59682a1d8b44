//! Bounds on the channels to the host other than donations: log messages, the log volume of a
//! session, donation keys and the exit info.
//!
//! Donations pass the consent ledger; these channels do not, so a hostile script could use them to
//! carry participant data out. Each is therefore short, and the log volume of a session is capped.
//! The limits are generous for what honest scripts send: milestones such as "Upload received:
//! size=123", keys such as `1700000000000-instagram`, and "End of script".

/// The longest log message that goes out; a longer one is cut to this size, marker included.
pub(crate) const MAX_LOG_MESSAGE_BYTES: usize = 1024;

/// The most log messages a session sends to the host.
pub(crate) const MAX_LOG_MESSAGES: usize = 1000;

/// The most bytes of log messages a session sends to the host.
pub(crate) const MAX_LOG_BYTES: usize = 256 * 1024;

/// The longest donation key, in characters (all of them ASCII, see [`check_donation_key`]).
pub(crate) const MAX_DONATION_KEY_CHARS: usize = 200;

/// The longest exit info that goes out; a longer one is cut to this size, marker included.
pub(crate) const MAX_EXIT_INFO_BYTES: usize = 1024;

/// Ends a text that was cut, so the host can tell a cut message from a whole one.
const CUT_MARKER: &str = "… [cut]";

/// `text` if it fits in `max_bytes`; else its longest prefix that ends at a char boundary and
/// leaves room for [`CUT_MARKER`], followed by the marker.
pub(crate) fn cut_to_bytes(text: String, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes.saturating_sub(CUT_MARKER.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut cut = text;
    cut.truncate(end);
    cut.push_str(CUT_MARKER);
    cut
}

/// How many log messages and bytes a session has sent, against [`MAX_LOG_MESSAGES`] and
/// [`MAX_LOG_BYTES`].
#[derive(Debug, Default)]
pub(crate) struct LogBudget {
    n_messages: usize,
    n_bytes: usize,
    exhausted: bool,
}

/// What to do with one log message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogAdmission {
    /// Send it.
    Send,
    /// Drop it, and send the one line that says the limit was reached.
    LimitReached,
    /// Drop it; the host was told already.
    Drop,
}

impl LogBudget {
    /// Counts a message of `n_bytes` if it still fits. Once one does not, every later one is
    /// dropped too, so the host sees a clean cut instead of a sample of short messages.
    pub(crate) fn admit(&mut self, n_bytes: usize) -> LogAdmission {
        if self.exhausted {
            return LogAdmission::Drop;
        }
        if self.n_messages + 1 > MAX_LOG_MESSAGES || self.n_bytes + n_bytes > MAX_LOG_BYTES {
            self.exhausted = true;
            return LogAdmission::LimitReached;
        }
        self.n_messages += 1;
        self.n_bytes += n_bytes;
        LogAdmission::Send
    }
}

/// The one line a session sends when its log budget is spent.
pub(crate) fn log_limit_reached() -> String {
    format!(
        "the log limit of this session was reached ({MAX_LOG_MESSAGES} messages or {} KiB); later log messages are dropped",
        MAX_LOG_BYTES / 1024
    )
}

/// Why a donation key is refused. The descriptions never quote the key: it may carry data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BadDonationKey {
    Empty,
    TooLong,
    UnsafeCharacter,
}

impl BadDonationKey {
    /// For the script (in the `PayloadResponse` error) and the host log alike.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            BadDonationKey::Empty => "the donation key is empty",
            BadDonationKey::TooLong => "the donation key is longer than 200 characters",
            BadDonationKey::UnsafeCharacter => "the donation key may only hold ASCII letters, digits, '-', '_' and '.'",
        }
    }
}

/// A key is 1 to [`MAX_DONATION_KEY_CHARS`] ASCII letters, digits, `-`, `_` and `.`: enough for
/// `{session_id}-{platform}` and `error-report`, safe as a file name and in a URL, and too small
/// to carry much.
pub(crate) fn check_donation_key(key: &str) -> Result<(), BadDonationKey> {
    if key.is_empty() {
        return Err(BadDonationKey::Empty);
    }
    if !key.chars().all(|character| character.is_ascii_alphanumeric() || matches!(character, '-' | '_' | '.')) {
        return Err(BadDonationKey::UnsafeCharacter);
    }
    // All ASCII now, so bytes are characters.
    if key.len() > MAX_DONATION_KEY_CHARS {
        return Err(BadDonationKey::TooLong);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_keeps_short_texts_and_cuts_long_ones_at_a_char_boundary() {
        assert_eq!(cut_to_bytes("short".into(), 10), "short");
        assert_eq!(cut_to_bytes("x".repeat(10), 10), "x".repeat(10));
        let cut = cut_to_bytes("x".repeat(11), 10);
        assert_eq!(cut, "x… [cut]", "the marker counts towards the limit");
        assert_eq!(cut.len(), 10);
        // "é" is two bytes; a cut in the middle of the second one moves back to before it.
        let cut = cut_to_bytes("aaéé".repeat(10), 14);
        assert_eq!(cut, "aaé… [cut]");
        assert_eq!(cut.len(), 13);
    }

    #[test]
    fn log_budget_counts_messages_and_bytes_then_drops_everything() {
        let mut budget = LogBudget::default();
        assert_eq!(budget.admit(MAX_LOG_BYTES - 1), LogAdmission::Send);
        assert_eq!(budget.admit(2), LogAdmission::LimitReached);
        assert_eq!(budget.admit(0), LogAdmission::Drop, "a message that would fit is dropped too");

        let mut budget = LogBudget::default();
        for _ in 0..MAX_LOG_MESSAGES {
            assert_eq!(budget.admit(1), LogAdmission::Send);
        }
        assert_eq!(budget.admit(1), LogAdmission::LimitReached);
        assert_eq!(budget.admit(1), LogAdmission::Drop);
    }

    #[test]
    fn donation_keys_of_the_runtime_and_the_demo_pass() {
        for key in ["error-report", "1700000000000-demo", "1700000000000-demo-questionnaire", "42-instagram", "s-1.v2"]
        {
            assert_eq!(check_donation_key(key), Ok(()), "{key}");
        }
        assert_eq!(check_donation_key(&"k".repeat(200)), Ok(()));
    }

    #[test]
    fn donation_keys_that_are_empty_long_or_unsafe_are_refused() {
        assert_eq!(check_donation_key(""), Err(BadDonationKey::Empty));
        assert_eq!(check_donation_key(&"k".repeat(201)), Err(BadDonationKey::TooLong));
        for key in ["../escape", "key/with slash", "1-demo platform", "ключ", "a\nb", "a%2Fb"] {
            assert_eq!(check_donation_key(key), Err(BadDonationKey::UnsafeCharacter), "{key:?}");
        }
    }
}
