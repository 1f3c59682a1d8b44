//! Where a donation's bytes are while the extension delivers it.
//!
//! `chrome.runtime` messages are JSON and capped at 64 MiB, and `chrome.storage` serialises every
//! value as JSON, so a donation's body never travels in either. The offscreen document keeps it in
//! the extension origin's Cache Storage ([`DONATION_BODY_CACHE`]) and hands the background a
//! [`StoredDonation`]: the key, the size and the SHA-256, which name the entry. The background reads
//! the body from there when it sends, and removes it once the donation is delivered or refused.

use serde::{Deserialize, Serialize};

/// The Cache Storage cache that holds donation bodies.
pub const DONATION_BODY_CACHE: &str = "port-donation-bodies";

/// The largest piece of a donation sent to a host page in one port message (bytes of UTF-8).
/// Port messages are capped at 64 MiB of JSON, and a piece of text may grow sixfold as JSON
/// (`\u0001`), so pieces stay well below the cap.
pub const HOST_PAGE_PART_BYTES: u64 = 8 * 1024 * 1024;

/// A donation body kept in [`DONATION_BODY_CACHE`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredBody {
    /// Its length in bytes (UTF-8).
    pub n_bytes: u64,
    /// The SHA-256 of its bytes, 64 lowercase hex digits.
    pub sha256: String,
}

impl StoredBody {
    /// The Cache Storage key of this body of donation `key` in session `session_id`. Cache keys are
    /// http(s) URLs; this one is never fetched, it only names the entry. Keys and session ids are
    /// URL-safe (`bounds::check_donation_key`; session ids are digits), and the digest tells apart
    /// two donations with one key.
    pub fn entry_url(&self, session_id: &str, key: &str) -> String {
        format!("https://donation-body.invalid/{session_id}/{key}/{}", self.sha256)
    }
}

/// A donation handed from the offscreen document to the background: its body is in Cache Storage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredDonation {
    pub key: String,
    pub body: StoredBody,
}

/// A donation's body as the outbox and the local bridge persist it, flattened into their records:
/// `{"body": {...}}` for a body in Cache Storage, `{"json_string": "..."}` for a record an earlier
/// version wrote with the body inline (still delivered, so an update loses no donation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DonationBody {
    Stored { body: StoredBody },
    Inline { json_string: String },
}

impl DonationBody {
    /// The Cache Storage key of a body kept there ([`StoredBody::entry_url`]); `None` inline.
    pub fn entry_url(&self, session_id: &str, key: &str) -> Option<String> {
        match self {
            DonationBody::Stored { body } => Some(body.entry_url(session_id, key)),
            DonationBody::Inline { .. } => None,
        }
    }
}

/// One piece of a donation too big for one port message to a host page:
/// `{"__type__": "CommandSystemDonatePart", "key", "part", "parts", "text"}`. Parts `0..parts` come
/// in order; the donation's `json_string` is their texts joined. A host page treats the last part
/// as it treats a `CommandSystemDonate` and answers `DonateSuccess` or `DonateError` once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DonatePart {
    pub key: String,
    pub part: u32,
    pub parts: u32,
    pub text: String,
}

/// The byte ranges of the parts a body of `n_bytes` is sent in to a host page: one range when it
/// fits one message ([`HOST_PAGE_PART_BYTES`]), which goes as a plain `CommandSystemDonate`.
pub fn host_page_parts(n_bytes: u64) -> Vec<std::ops::Range<u64>> {
    // An empty body is one empty part.
    (0..n_bytes.div_ceil(HOST_PAGE_PART_BYTES).max(1))
        .map(|part| part * HOST_PAGE_PART_BYTES..((part + 1) * HOST_PAGE_PART_BYTES).min(n_bytes))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn donation_body_reads_both_record_shapes() {
        let stored: DonationBody = serde_json::from_str(r#"{"body":{"n_bytes":3,"sha256":"ab"}}"#).unwrap();
        assert_eq!(stored, DonationBody::Stored { body: StoredBody { n_bytes: 3, sha256: "ab".into() } });
        let inline: DonationBody = serde_json::from_str(r#"{"json_string":"[1]"}"#).unwrap();
        assert_eq!(inline, DonationBody::Inline { json_string: "[1]".into() });
        assert_eq!(inline.entry_url("1", "k"), None);
        assert_eq!(stored.entry_url("1", "k").as_deref(), Some("https://donation-body.invalid/1/k/ab"));
        assert_eq!(serde_json::to_string(&stored).unwrap(), r#"{"body":{"n_bytes":3,"sha256":"ab"}}"#);
    }

    #[test]
    fn host_page_parts_cover_the_body_in_order() {
        let one_part = |n_bytes| {
            let parts = host_page_parts(n_bytes);
            assert_eq!(parts.len(), 1, "{n_bytes} bytes");
            parts[0].clone()
        };
        assert_eq!(one_part(0), 0..0);
        assert_eq!(one_part(5), 0..5);
        assert_eq!(one_part(HOST_PAGE_PART_BYTES), 0..HOST_PAGE_PART_BYTES);
        let parts = host_page_parts(2 * HOST_PAGE_PART_BYTES + 1);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[2], 2 * HOST_PAGE_PART_BYTES..2 * HOST_PAGE_PART_BYTES + 1);
        assert!(parts.windows(2).all(|pair| pair[0].end == pair[1].start));
    }

    #[test]
    fn entry_urls_name_session_key_and_digest() {
        let body = StoredBody { n_bytes: 1, sha256: "00ff".into() };
        assert_eq!(body.entry_url("17", "17-demo"), "https://donation-body.invalid/17/17-demo/00ff");
    }
}
