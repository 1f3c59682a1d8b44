//! The consent ledger: which donations may go to the host without the participant seeing them
//! first.
//!
//! The participant approves data on the study's own pages, in the trusted UI: a consent form or a
//! questionnaire answers `PayloadJSON`, a radio `PayloadString`. The session records each such
//! answer here. A donation whose `json_string` is byte-equal to a recorded answer, or to one of the
//! content-free records the runtime itself defines, goes to the host at once; anything else is
//! shown to the participant first, on the engine's review page (`review_page`).
//!
//! Each answer lets one donation through, and each decline (a `PayloadFalse` to one of the
//! script's pages) one decline record. The key of a donation that skips the review reaches the host
//! unseen; were the decline record free, a script could donate it again and again under keys that
//! spell out participant data. Spending an answer bounds that channel by what the participant did.
//! A flow that donates one answer twice gets a review the second time.
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

/// The answers the participant gave to the script's pages that no donation has spent yet.
#[derive(Debug, Default)]
pub(crate) struct ConsentLedger {
    // Invariant: digests, not the answers, so the session holds no second copy of what the
    // participant shared. A script that wants an unreviewed donation through would need a
    // SHA-256 second preimage, so a digest match stands for byte equality.
    answers: Vec<AnswerDigest>,
    /// `PayloadFalse` answers, each good for one content-free record.
    n_declines: usize,
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
    /// Records an answer to one of the script's own pages. Answers that carry data the participant
    /// saw or typed (`PayloadJSON`, `PayloadString`) count, and declines (`PayloadFalse`).
    pub(crate) fn record(&mut self, answer: &Payload) {
        match answer {
            Payload::Json(text) | Payload::String(text) => self.answers.push(AnswerDigest::of(text)),
            Payload::False => self.n_declines += 1,
            _ => {}
        }
    }

    /// Whether `donation` may go to the host without review; if so, it spends the answer (or the
    /// decline) that lets it through.
    pub(crate) fn admit(&mut self, donation: &DonateCommand) -> bool {
        let content = donation.json_string.as_str();
        if CONTENT_FREE_RECORDS.contains(&content) {
            let admitted = self.n_declines > 0;
            self.n_declines = self.n_declines.saturating_sub(1);
            return admitted;
        }
        // Most donations match no answer's length; those are not hashed at all.
        if !self.answers.iter().any(|answer| answer.n_bytes == content.len()) {
            return false;
        }
        let digest = AnswerDigest::of(content);
        match self.answers.iter().position(|answer| *answer == digest) {
            Some(answer_idx) => {
                self.answers.swap_remove(answer_idx);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn donation(json_string: &str) -> DonateCommand {
        DonateCommand { key: "1-demo".into(), json_string: json_string.into() }
    }

    #[test]
    fn ledger_admits_recorded_answers_verbatim_only() {
        let mut ledger = ConsentLedger::default();
        assert!(!ledger.admit(&donation(r#"[{"a":"1"}]"#)), "nothing was answered yet");
        ledger.record(&Payload::Json(r#"[{"a":"1"}]"#.into()));
        ledger.record(&Payload::String("Everything".into()));
        assert!(!ledger.admit(&donation(r#"[{"a":"2"}]"#)), "same length, other content");
        assert!(!ledger.admit(&donation(r#"[{"a": "1"}]"#)), "the same JSON, other bytes");
        assert!(ledger.admit(&donation(r#"[{"a":"1"}]"#)));
        assert!(ledger.admit(&donation("Everything")));
    }

    #[test]
    fn ledger_each_answer_and_each_decline_lets_one_donation_through() {
        let mut ledger = ConsentLedger::default();
        ledger.record(&Payload::Json("[1]".into()));
        ledger.record(&Payload::Json("[1]".into()));
        assert!(ledger.admit(&donation("[1]")));
        assert!(ledger.admit(&donation("[1]")), "answered twice, so donated twice");
        assert!(!ledger.admit(&donation("[1]")));

        assert!(!ledger.admit(&donation(DECLINE_RECORD)), "no decline yet");
        ledger.record(&Payload::False);
        assert!(!ledger.admit(&donation(r#"{"status":"data_submission declined"}"#)), "not the runtime's bytes");
        assert!(ledger.admit(&donation(DECLINE_RECORD)));
        assert!(!ledger.admit(&donation(DECLINE_RECORD)), "the decline was spent");
    }

    #[test]
    fn ledger_ignores_answers_that_carry_no_data() {
        let mut ledger = ConsentLedger::default();
        for answer in [Payload::True, Payload::Void] {
            ledger.record(&answer);
        }
        for content in ["true", "false", "", "null", DECLINE_RECORD] {
            assert!(!ledger.admit(&donation(content)), "{content:?}");
        }
    }
}
