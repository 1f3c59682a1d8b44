//! The consent ledger: which donations may go to the host without the participant seeing them
//! first.
//!
//! The participant approves data on the study's own pages, in the trusted UI: a consent form or a
//! questionnaire answers `PayloadJSON`, a radio `PayloadString`. The session records each such
//! answer here. A donation whose `json_string` is byte-equal to a recorded answer, or to one of the
//! content-free records the runtime itself defines, goes to the host at once; anything else is
//! shown to the participant first, on the engine's review page (`review_page`).
//!
//! **Architecture Invariant:** nothing reaches a host without passing the consent ledger.

use port_protocol::{DonateCommand, Payload};
use sha2::{Digest, Sha256};

/// What `port.helpers.flow_builder` donates when the participant declines the consent form:
/// `json.dumps({"status": "data_submission declined"})`, byte for byte. It says only that they
/// declined, which the host needs to tell a decline from a lost session.
pub(crate) const DECLINE_RECORD: &str = r#"{"status": "data_submission declined"}"#;

/// The records that carry nothing about the participant and leave without review.
const CONTENT_FREE_RECORDS: [&str; 1] = [DECLINE_RECORD];

/// The answers the participant gave to the script's pages, as digests.
#[derive(Debug, Default)]
pub(crate) struct ConsentLedger {
    // Invariant: digests, not the answers, so the session holds no second copy of what the
    // participant shared. A script that wants an unreviewed donation through would need a
    // SHA-256 second preimage, so a digest match stands for byte equality.
    answers: Vec<AnswerDigest>,
}

#[derive(Debug, PartialEq, Eq)]
struct AnswerDigest {
    n_bytes: usize,
    sha256: [u8; 32],
}

impl AnswerDigest {
    fn of(text: &str) -> AnswerDigest {
        AnswerDigest { n_bytes: text.len(), sha256: Sha256::digest(text.as_bytes()).into() }
    }
}

impl ConsentLedger {
    /// Records an answer to one of the script's own pages. Only answers that carry data the
    /// participant saw or typed count: `PayloadJSON` and `PayloadString`.
    pub(crate) fn record(&mut self, answer: &Payload) {
        if let Payload::Json(text) | Payload::String(text) = answer {
            let digest = AnswerDigest::of(text);
            if !self.answers.contains(&digest) {
                self.answers.push(digest);
            }
        }
    }

    /// Whether `donation` may go to the host without review. An answer may be donated more than
    /// once (under several keys, or again after a failure): it is the content that was approved.
    pub(crate) fn admits(&self, donation: &DonateCommand) -> bool {
        let content = donation.json_string.as_str();
        if CONTENT_FREE_RECORDS.contains(&content) {
            return true;
        }
        // Most donations match no answer's length; those are not hashed at all.
        if !self.answers.iter().any(|answer| answer.n_bytes == content.len()) {
            return false;
        }
        self.answers.contains(&AnswerDigest::of(content))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn donation(json_string: &str) -> DonateCommand {
        DonateCommand { key: "1-demo".into(), json_string: json_string.into() }
    }

    #[test]
    fn ledger_admits_recorded_answers_and_content_free_records_only() {
        let mut ledger = ConsentLedger::default();
        assert!(ledger.admits(&donation(DECLINE_RECORD)));
        assert!(!ledger.admits(&donation(r#"[{"a":"1"}]"#)), "nothing was answered yet");

        ledger.record(&Payload::Json(r#"[{"a":"1"}]"#.into()));
        ledger.record(&Payload::String("Everything".into()));
        assert!(ledger.admits(&donation(r#"[{"a":"1"}]"#)));
        assert!(ledger.admits(&donation("Everything")));
        assert!(!ledger.admits(&donation(r#"[{"a":"2"}]"#)), "same length, other content");
        assert!(!ledger.admits(&donation(r#"[{"a": "1"}]"#)), "the same JSON, other bytes");
        assert!(!ledger.admits(&donation(r#"{"status":"data_submission declined"}"#)), "not the runtime's bytes");
    }

    #[test]
    fn ledger_ignores_answers_that_carry_no_data() {
        let mut ledger = ConsentLedger::default();
        for answer in [Payload::True, Payload::False, Payload::Void] {
            ledger.record(&answer);
        }
        for content in ["true", "false", "", "null"] {
            assert!(!ledger.admits(&donation(content)), "{content:?}");
        }
    }
}
