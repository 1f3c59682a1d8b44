//! The durable outbox's policy: when a donation is sent, retried and forgotten, and what the script
//! is told meanwhile.
//!
//! A donation becomes an [`OutboxRecord`] that the caller persists *before* its first attempt, so a
//! stopped service worker or a closed browser loses nothing. Each attempt carries the same
//! [`idempotency_key`], so the host sees it exactly once however often it is retried. The record is
//! removed only when the host acknowledged it (2xx, or 409 for a duplicate) or refused it for good
//! (another 4xx); a 5xx or a network error is retried with exponential backoff
//! ([`retry_delay_ms`]). [`AckWait`] decides the script's reply: the host's answer if it comes
//! within `ack_timeout_s`, else "accepted, queued" (`status` 202) while delivery goes on.
//!
//! This is policy only: no I/O and no clock. Times are Unix milliseconds passed in, and jitter is a
//! random sample the caller draws, so the tests here are deterministic. The browser performs the
//! requests, the storage writes and the `chrome.alarms`; the persisted record type is protocol's,
//! as only `port_protocol` knows the JSON.

use indexmap::IndexMap;
use port_protocol::donation_body::{DonationBody, StoredDonation};
use port_protocol::{DonateResponse, OutboxRecord, OutboxState};
use sha2::{Digest, Sha256};

/// The wait after the first failed attempt; each further failure doubles it.
pub const RETRY_BASE_DELAY_MS: u64 = 5_000;
/// The longest wait between attempts.
pub const RETRY_MAX_DELAY_MS: u64 = 10 * 60 * 1000;
/// How much of a delay jitter may take off (a fifth), so that retries of many donations spread out
/// without ever waiting longer than the cap.
pub const JITTER_FRACTION: f64 = 0.2;
/// How long an attempt may go without a result before it is presumed lost (the service worker was
/// stopped mid-request) and the record is due again. Longer than a browser's fetch usually waits.
pub const SEND_LEASE_MS: u64 = 2 * 60 * 1000;

/// The host's answer to one attempt, as the browser saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryResult {
    /// 2xx: the host has the donation.
    Delivered { status: u16 },
    /// 409 Conflict: the host already had it (an earlier attempt got through); delivered.
    Duplicate409,
    /// The host refused it for good (4xx other than 408, 409 and 429): not retried; the script and
    /// the participant are told. `error` is for people and holds no donated data.
    Rejected { status: u16, error: String },
    /// Worth another try later: 5xx, 408, 429, an unexpected status, or no answer at all.
    RetryableFailure(RetryableFailure),
}

/// Why an attempt should be retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryableFailure {
    /// The host answered with this status (5xx, 408, 429, or a 1xx or 3xx fetch did not resolve).
    Status(u16),
    /// No HTTP answer: offline, DNS, TLS, CORS or a timeout. `error` is the browser's message.
    Network { error: String },
}

/// Sorts an HTTP status into the outbox's cases.
///
/// 2xx is delivered and 409 a duplicate (delivered before). 408 Request Timeout and 429 Too Many
/// Requests are retried although they are 4xx: they say "not now", not "never". Other 4xx are
/// rejected. 5xx is retried, and so is anything else (1xx, 3xx, nonsense), because retrying keeps
/// the donation while rejecting would drop it.
pub fn classify_http_status(status: u16) -> DeliveryResult {
    match status {
        200..=299 => DeliveryResult::Delivered { status },
        409 => DeliveryResult::Duplicate409,
        408 | 429 => DeliveryResult::RetryableFailure(RetryableFailure::Status(status)),
        413 => DeliveryResult::Rejected {
            status,
            error: "the donation is too big for the host (HTTP 413); it was not delivered".into(),
        },
        400..=499 => {
            DeliveryResult::Rejected { status, error: format!("the host refused the donation: HTTP {status}") }
        }
        _ => DeliveryResult::RetryableFailure(RetryableFailure::Status(status)),
    }
}

/// The `Idempotency-Key` of a donation: 64 hex digits, the same for the same study, session, key
/// and body, on every retry and after a restart.
///
/// It is the SHA-256 of `port-outbox/2` followed by each part as its UTF-8 length (8 bytes, big
/// endian) and its bytes, so another implementation can compute the same key; the body is named by
/// its SHA-256 in lowercase hex, so the key is computed without the body at hand. The length
/// prefixes keep moving text between parts (`"ab","c"` and `"a","bc"`) from giving the same key.
/// (Records of `port-outbox/1`, which hashed the body itself, keep the key they were stored with.)
pub fn idempotency_key(study_id: &str, session_id: &str, key: &str, body_sha256: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"port-outbox/2");
    for part in [study_id, session_id, key, body_sha256] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A random sample in `[0, 1)` that shortens a retry delay by up to [`JITTER_FRACTION`]; the
/// browser draws it with `Math.random()`, tests use [`Jitter::NONE`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Jitter(pub f64);

impl Jitter {
    pub const NONE: Jitter = Jitter(0.0);
}

/// How long to wait after `attempts` failed attempts: 5 s, 10 s, 20 s, … up to 10 minutes, minus
/// jitter. Zero attempts count as one.
pub fn retry_delay_ms(attempts: u32, jitter: Jitter) -> u64 {
    let doublings = attempts.saturating_sub(1).min(20);
    let delay_ms = RETRY_BASE_DELAY_MS.saturating_mul(1 << doublings).min(RETRY_MAX_DELAY_MS);
    let sample = if jitter.0.is_finite() { jitter.0.clamp(0.0, 1.0) } else { 0.0 };
    delay_ms - (delay_ms as f64 * JITTER_FRACTION * sample) as u64
}

/// What the caller must do to its storage (and UI) after [`Outbox::on_result`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxChange {
    /// Write this record over the stored one; it waits for another attempt.
    Store(OutboxRecord),
    /// Delete the stored record: the host has it. `status` is 409 for a duplicate.
    Delivered { record: OutboxRecord, status: u16 },
    /// Delete the stored record: the host refused it and it is not retried. Tell the participant.
    Rejected { record: OutboxRecord, status: u16, error: String },
}

/// A call about a record the outbox does not hold. The outbox is unchanged and carries on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboxError {
    /// E.g. a late answer to an attempt whose record was already delivered by a retry: ignore it.
    #[error("no outbox record with idempotency key {idempotency_key}")]
    UnknownRecord { idempotency_key: String },
}

/// The donations not yet acknowledged, by idempotency key, in the order they were enqueued.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outbox {
    records: IndexMap<String, OutboxRecord>,
}

impl Outbox {
    pub fn new() -> Outbox {
        Outbox::default()
    }

    /// The outbox as it was persisted, e.g. when the service worker starts again. Records that
    /// were `Sending` stay so until their lease ends, then they are due.
    pub fn from_records(records: impl IntoIterator<Item = OutboxRecord>) -> Outbox {
        Outbox { records: records.into_iter().map(|record| (record.idempotency_key.clone(), record)).collect() }
    }

    /// Every record, oldest first: what the UI lists as pending deliveries.
    pub fn records(&self) -> impl Iterator<Item = &OutboxRecord> {
        self.records.values()
    }

    pub fn get(&self, idempotency_key: &str) -> Option<&OutboxRecord> {
        self.records.get(idempotency_key)
    }

    /// Adds a donation and returns the record to persist; persist it before the first attempt.
    ///
    /// The same donation again (same study, session, key and body) is not added twice: its
    /// existing record is returned as it is.
    pub fn enqueue(
        &mut self,
        study_id: &str,
        session_id: &str,
        donation: &StoredDonation,
        now_ms: u64,
    ) -> OutboxRecord {
        let idempotency_key = idempotency_key(study_id, session_id, &donation.key, &donation.body.sha256);
        self.records
            .entry(idempotency_key.clone())
            .or_insert_with(|| OutboxRecord {
                study_id: study_id.to_owned(),
                session_id: session_id.to_owned(),
                key: donation.key.clone(),
                body: DonationBody::Stored { body: donation.body.clone() },
                idempotency_key,
                attempts: 0,
                next_attempt_at_ms: now_ms,
                state: OutboxState::Pending,
                last_error: None,
            })
            .clone()
    }

    /// The idempotency keys of the records to attempt now: pending ones whose time has come, and
    /// sending ones whose lease ended. Earliest first.
    pub fn due(&self, now_ms: u64) -> Vec<String> {
        let mut due: Vec<&OutboxRecord> =
            self.records.values().filter(|record| record.next_attempt_at_ms <= now_ms).collect();
        due.sort_by_key(|record| record.next_attempt_at_ms);
        due.into_iter().map(|record| record.idempotency_key.clone()).collect()
    }

    /// When the next record falls due, for the retry alarm; `None` when the outbox is empty.
    pub fn next_due_at_ms(&self) -> Option<u64> {
        self.records.values().map(|record| record.next_attempt_at_ms).min()
    }

    /// Starts an attempt: the record is `Sending` until a result comes or its lease ends. Returns
    /// the record, which the caller may persist so that a restart knows an attempt was under way.
    pub fn begin_attempt(&mut self, idempotency_key: &str, now_ms: u64) -> Result<OutboxRecord, OutboxError> {
        let record = self.record_mut(idempotency_key)?;
        record.state = OutboxState::Sending;
        record.attempts = record.attempts.saturating_add(1);
        record.next_attempt_at_ms = now_ms.saturating_add(SEND_LEASE_MS);
        Ok(record.clone())
    }

    /// Applies an attempt's result. Delivered and rejected records leave the outbox; a retryable
    /// failure waits [`retry_delay_ms`] for the next attempt.
    pub fn on_result(
        &mut self,
        idempotency_key: &str,
        result: DeliveryResult,
        now_ms: u64,
        jitter: Jitter,
    ) -> Result<OutboxChange, OutboxError> {
        let record = self.record_mut(idempotency_key)?;
        let failure = match result {
            DeliveryResult::RetryableFailure(failure) => failure,
            DeliveryResult::Delivered { status } => {
                let record = self.remove(idempotency_key);
                return Ok(OutboxChange::Delivered { record, status });
            }
            DeliveryResult::Duplicate409 => {
                let record = self.remove(idempotency_key);
                return Ok(OutboxChange::Delivered { record, status: 409 });
            }
            DeliveryResult::Rejected { status, error } => {
                let record = self.remove(idempotency_key);
                return Ok(OutboxChange::Rejected { record, status, error });
            }
        };
        record.state = OutboxState::Pending;
        record.next_attempt_at_ms = now_ms.saturating_add(retry_delay_ms(record.attempts, jitter));
        record.last_error = Some(match failure {
            RetryableFailure::Status(status) => format!("HTTP {status}"),
            RetryableFailure::Network { error } => format!("network error: {error}"),
        });
        Ok(OutboxChange::Store(record.clone()))
    }

    fn record_mut(&mut self, idempotency_key: &str) -> Result<&mut OutboxRecord, OutboxError> {
        self.records
            .get_mut(idempotency_key)
            .ok_or_else(|| OutboxError::UnknownRecord { idempotency_key: idempotency_key.to_owned() })
    }

    /// Removes a record known to be present (checked by `record_mut` just before).
    fn remove(&mut self, idempotency_key: &str) -> OutboxRecord {
        self.records.shift_remove(idempotency_key).expect("the record was found just before")
    }
}

/// The script's wait for the host's acknowledgement of one donation. The script is answered once:
/// every method consumes the wait and either answers or hands it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckWait {
    key: String,
    idempotency_key: String,
    deadline_ms: u64,
}

/// What to do about the script after an event of its [`AckWait`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckDecision {
    /// Resume the script with `PayloadResponse` of this value.
    Answer(DonateResponse),
    /// Keep waiting; call [`AckWait::on_timer`] at `deadline_ms()` at the latest.
    Wait(AckWait),
}

impl AckWait {
    /// Starts waiting when the record is enqueued; the deadline is `ack_timeout_s` from `now_ms`.
    pub fn start(record: &OutboxRecord, ack_timeout_s: u32, now_ms: u64) -> AckWait {
        AckWait::for_donation(&record.key, &record.idempotency_key, ack_timeout_s, now_ms)
    }

    /// As [`AckWait::start`], for a caller that holds only the donation's key and idempotency key
    /// (the session, while the record lives in the background's outbox).
    pub fn for_donation(key: &str, idempotency_key: &str, ack_timeout_s: u32, now_ms: u64) -> AckWait {
        AckWait {
            key: key.to_owned(),
            idempotency_key: idempotency_key.to_owned(),
            deadline_ms: now_ms.saturating_add(u64::from(ack_timeout_s) * 1000),
        }
    }

    /// The record this wait is about.
    pub fn idempotency_key(&self) -> &str {
        &self.idempotency_key
    }

    pub fn deadline_ms(&self) -> u64 {
        self.deadline_ms
    }

    /// An attempt's result arrived at `now_ms`.
    ///
    /// In time (at or before the deadline), a final result answers the script: delivered gives
    /// `success: true` with the host's status (409 for a duplicate), rejected gives `success: false`
    /// with status and error. A retryable failure keeps waiting. After the deadline every result
    /// answers 202, exactly as [`AckWait::on_timer`] would have, so the script's reply does not
    /// depend on which of the two events the browser happened to handle first.
    pub fn on_result(self, result: &DeliveryResult, now_ms: u64) -> AckDecision {
        if now_ms > self.deadline_ms {
            return self.on_timer(now_ms);
        }
        let (success, status, error) = match result {
            DeliveryResult::Delivered { status } => (true, *status, None),
            DeliveryResult::Duplicate409 => (true, 409, None),
            DeliveryResult::Rejected { status, error } => (false, *status, Some(error.clone())),
            DeliveryResult::RetryableFailure(_) => return AckDecision::Wait(self),
        };
        AckDecision::Answer(DonateResponse { success, key: self.key, status, error })
    }

    /// The timer fired at `now_ms`: past the deadline, the script is told the donation is accepted
    /// and queued (`success: true`, `status: 202`) while the outbox keeps delivering it.
    pub fn on_timer(self, now_ms: u64) -> AckDecision {
        if now_ms < self.deadline_ms {
            return AckDecision::Wait(self);
        }
        AckDecision::Answer(DonateResponse { success: true, key: self.key, status: 202, error: None })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::fmt::Write;

    use expect_test::{Expect, expect};
    use port_protocol::donation_body::StoredBody;

    use super::*;

    /// Runs a transcript against one outbox and renders what happens. Each line is
    /// `<now_ms> <event>`, where the event is one of:
    ///
    /// - `enqueue KEY BODY` (study `demo`, session `s1`), with `ack SECONDS` appended to also start
    ///   the script's wait;
    /// - `due`; `send KEY` (an attempt starts); `result KEY STATUS` or `result KEY network`;
    /// - `timer KEY` (the script's ack timer fires); `jitter SAMPLE` (for later results);
    /// - `restart` (the outbox is rebuilt from its records' JSON, as after a service worker stop).
    ///
    /// Records are shown by their donation key.
    #[track_caller]
    fn check(transcript: &str, expect: Expect) {
        let mut outbox = Outbox::new();
        let mut waits: HashMap<String, AckWait> = HashMap::new();
        let mut jitter = Jitter::NONE;
        let mut trace = String::new();
        let id_of = |outbox: &Outbox, key: &str| {
            outbox.records().find(|record| record.key == key).map(|record| record.idempotency_key.clone())
        };
        for line in transcript.lines().map(str::trim).filter(|line| !line.is_empty()) {
            let (now, event) = line.split_once(' ').expect("<now_ms> <event>");
            let now_ms: u64 = now.parse().expect("now_ms is a number");
            let words: Vec<&str> = event.split(' ').collect();
            write!(trace, "{line:<40} ->").unwrap();
            match words.as_slice() {
                ["enqueue", key, body, rest @ ..] => {
                    let sha256 = Sha256::digest(body.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect();
                    let body = StoredBody { n_bytes: body.len() as u64, sha256 };
                    let donation = StoredDonation { key: (*key).to_owned(), body };
                    let record = outbox.enqueue("demo", "s1", &donation, now_ms);
                    write!(trace, " store {}", render(&record)).unwrap();
                    if let ["ack", seconds] = rest {
                        let wait = AckWait::start(&record, seconds.parse().unwrap(), now_ms);
                        write!(trace, "; script waits until {}", wait.deadline_ms()).unwrap();
                        waits.insert((*key).to_owned(), wait);
                    }
                }
                ["due"] => {
                    let keys: Vec<String> =
                        outbox.due(now_ms).iter().map(|id| outbox.get(id).unwrap().key.clone()).collect();
                    write!(trace, " due [{}], next at {:?}", keys.join(", "), outbox.next_due_at_ms()).unwrap();
                }
                ["send", key] => match outbox.begin_attempt(&id_of(&outbox, key).unwrap_or_default(), now_ms) {
                    Ok(record) => write!(trace, " store {}", render(&record)).unwrap(),
                    Err(error) => write!(trace, " error: {error}").unwrap(),
                },
                ["result", key, outcome] => {
                    let result = match *outcome {
                        "network" => DeliveryResult::RetryableFailure(RetryableFailure::Network {
                            error: "Failed to fetch".into(),
                        }),
                        status => classify_http_status(status.parse().unwrap()),
                    };
                    let id = id_of(&outbox, key).unwrap_or_else(|| "gone".into());
                    match outbox.on_result(&id, result.clone(), now_ms, jitter) {
                        Ok(OutboxChange::Store(record)) => write!(trace, " store {}", render(&record)).unwrap(),
                        Ok(OutboxChange::Delivered { record, status }) => {
                            write!(trace, " delete {} (delivered, {status})", record.key).unwrap()
                        }
                        Ok(OutboxChange::Rejected { record, status, error }) => {
                            write!(trace, " delete {} (rejected, {status}: {error})", record.key).unwrap()
                        }
                        Err(error) => write!(trace, " error: {error}").unwrap(),
                    }
                    if let Some(wait) = waits.remove(*key) {
                        decide(&mut trace, &mut waits, key, wait.on_result(&result, now_ms));
                    }
                }
                ["timer", key] => {
                    let wait = waits.remove(*key).expect("a waiting script");
                    decide(&mut trace, &mut waits, key, wait.on_timer(now_ms));
                }
                ["jitter", sample] => {
                    jitter = Jitter(sample.parse().unwrap());
                    write!(trace, " ok").unwrap();
                }
                ["restart"] => {
                    let stored: Vec<String> =
                        outbox.records().map(|record| serde_json::to_string(record).unwrap()).collect();
                    outbox = Outbox::from_records(stored.iter().map(|json| serde_json::from_str(json).unwrap()));
                    let rendered: Vec<String> = outbox.records().map(render).collect();
                    write!(trace, " restored [{}]", rendered.join("; ")).unwrap();
                }
                _ => panic!("unknown event: {line}"),
            }
            trace.push('\n');
        }
        expect.assert_eq(&trace);
    }

    fn decide(trace: &mut String, waits: &mut HashMap<String, AckWait>, key: &str, decision: AckDecision) {
        match decision {
            AckDecision::Answer(response) => {
                let error = response.error.map(|error| format!(", error: {error:?}")).unwrap_or_default();
                write!(trace, "; script gets success: {}, status: {}{error}", response.success, response.status)
                    .unwrap();
            }
            AckDecision::Wait(wait) => {
                write!(trace, "; script still waits until {}", wait.deadline_ms()).unwrap();
                waits.insert(key.to_owned(), wait);
            }
        }
    }

    fn render(record: &OutboxRecord) -> String {
        let state = match record.state {
            OutboxState::Pending => "pending",
            OutboxState::Sending => "sending",
        };
        let error = record.last_error.as_ref().map(|error| format!(" ({error})")).unwrap_or_default();
        format!("{} {state} attempts={} next={}{error}", record.key, record.attempts, record.next_attempt_at_ms)
    }

    #[test]
    fn outbox_delivered_in_time_answers_the_host_status_and_removes_the_record() {
        check(
            r#"
            0 enqueue a {"n":1} ack 30
            0 due
            0 send a
            150 result a 201
            150 due
            "#,
            expect![[r#"
                0 enqueue a {"n":1} ack 30               -> store a pending attempts=0 next=0; script waits until 30000
                0 due                                    -> due [a], next at Some(0)
                0 send a                                 -> store a sending attempts=1 next=120000
                150 result a 201                         -> delete a (delivered, 201); script gets success: true, status: 201
                150 due                                  -> due [], next at None
            "#]],
        );
    }

    #[test]
    fn outbox_retryable_failures_back_off_exponentially_up_to_the_cap() {
        check(
            r#"
            0 enqueue a {} ack 30
            0 send a
            10 result a 503
            4000 due
            5010 due
            5010 send a
            5020 result a network
            15020 send a
            15030 result a 500
            "#,
            expect![[r#"
                0 enqueue a {} ack 30                    -> store a pending attempts=0 next=0; script waits until 30000
                0 send a                                 -> store a sending attempts=1 next=120000
                10 result a 503                          -> store a pending attempts=1 next=5010 (HTTP 503); script still waits until 30000
                4000 due                                 -> due [], next at Some(5010)
                5010 due                                 -> due [a], next at Some(5010)
                5010 send a                              -> store a sending attempts=2 next=125010 (HTTP 503)
                5020 result a network                    -> store a pending attempts=2 next=15020 (network error: Failed to fetch); script still waits until 30000
                15020 send a                             -> store a sending attempts=3 next=135020 (network error: Failed to fetch)
                15030 result a 500                       -> store a pending attempts=3 next=35030 (HTTP 500); script still waits until 30000
            "#]],
        );
    }

    #[test]
    fn outbox_ack_timeout_answers_202_and_delivery_goes_on() {
        check(
            r#"
            0 enqueue a {} ack 30
            0 send a
            10 result a 502
            29999 timer a
            30000 timer a
            30000 send a
            30100 result a 200
            "#,
            expect![[r#"
                0 enqueue a {} ack 30                    -> store a pending attempts=0 next=0; script waits until 30000
                0 send a                                 -> store a sending attempts=1 next=120000
                10 result a 502                          -> store a pending attempts=1 next=5010 (HTTP 502); script still waits until 30000
                29999 timer a                            ->; script still waits until 30000
                30000 timer a                            ->; script gets success: true, status: 202
                30000 send a                             -> store a sending attempts=2 next=150000 (HTTP 502)
                30100 result a 200                       -> delete a (delivered, 200)
            "#]],
        );
    }

    #[test]
    fn outbox_result_after_the_deadline_answers_202_like_the_timer() {
        check(
            r#"
            0 enqueue a {} ack 1
            0 send a
            1001 result a 400
            "#,
            expect![[r#"
                0 enqueue a {} ack 1                     -> store a pending attempts=0 next=0; script waits until 1000
                0 send a                                 -> store a sending attempts=1 next=120000
                1001 result a 400                        -> delete a (rejected, 400: the host refused the donation: HTTP 400); script gets success: true, status: 202
            "#]],
        );
    }

    #[test]
    fn outbox_rejection_in_time_is_reported_and_not_retried() {
        check(
            r#"
            0 enqueue a {} ack 30
            0 send a
            20 result a 422
            20 due
            30 result a 200
            "#,
            expect![[r#"
                0 enqueue a {} ack 30                    -> store a pending attempts=0 next=0; script waits until 30000
                0 send a                                 -> store a sending attempts=1 next=120000
                20 result a 422                          -> delete a (rejected, 422: the host refused the donation: HTTP 422); script gets success: false, status: 422, error: "the host refused the donation: HTTP 422"
                20 due                                   -> due [], next at None
                30 result a 200                          -> error: no outbox record with idempotency key gone
            "#]],
        );
    }

    #[test]
    fn outbox_duplicate_409_counts_as_delivered() {
        check(
            r#"
            0 enqueue a {} ack 30
            0 send a
            10 result a 409
            "#,
            expect![[r#"
                0 enqueue a {} ack 30                    -> store a pending attempts=0 next=0; script waits until 30000
                0 send a                                 -> store a sending attempts=1 next=120000
                10 result a 409                          -> delete a (delivered, 409); script gets success: true, status: 409
            "#]],
        );
    }

    #[test]
    fn outbox_same_donation_twice_is_one_record() {
        check(
            r#"
            0 enqueue a {"n":1}
            0 send a
            5 enqueue a {"n":1}
            5 enqueue b {"n":1}
            6 due
            "#,
            expect![[r#"
                0 enqueue a {"n":1}                      -> store a pending attempts=0 next=0
                0 send a                                 -> store a sending attempts=1 next=120000
                5 enqueue a {"n":1}                      -> store a sending attempts=1 next=120000
                5 enqueue b {"n":1}                      -> store b pending attempts=0 next=5
                6 due                                    -> due [b], next at Some(5)
            "#]],
        );
    }

    #[test]
    fn outbox_lost_attempt_is_due_again_after_a_restart() {
        check(
            r#"
            0 enqueue a {}
            0 enqueue b {}
            0 send a
            10 send b
            20 result b 503
            60000 restart
            60000 due
            120000 due
            "#,
            expect![[r#"
                0 enqueue a {}                           -> store a pending attempts=0 next=0
                0 enqueue b {}                           -> store b pending attempts=0 next=0
                0 send a                                 -> store a sending attempts=1 next=120000
                10 send b                                -> store b sending attempts=1 next=120010
                20 result b 503                          -> store b pending attempts=1 next=5020 (HTTP 503)
                60000 restart                            -> restored [a sending attempts=1 next=120000; b pending attempts=1 next=5020 (HTTP 503)]
                60000 due                                -> due [b], next at Some(5020)
                120000 due                               -> due [b, a], next at Some(5020)
            "#]],
        );
    }

    #[test]
    fn outbox_jitter_only_shortens_the_delay() {
        check(
            r#"
            0 jitter 0.5
            0 enqueue a {}
            0 send a
            0 result a 503
            "#,
            expect![[r#"
                0 jitter 0.5                             -> ok
                0 enqueue a {}                           -> store a pending attempts=0 next=0
                0 send a                                 -> store a sending attempts=1 next=120000
                0 result a 503                           -> store a pending attempts=1 next=4500 (HTTP 503)
            "#]],
        );
    }

    #[test]
    fn retry_delay_doubles_from_5_seconds_to_10_minutes() {
        let delays: Vec<String> =
            (0..=10).map(|attempts| format!("{attempts}: {}", retry_delay_ms(attempts, Jitter::NONE))).collect();
        expect![[r#"0: 5000, 1: 5000, 2: 10000, 3: 20000, 4: 40000, 5: 80000, 6: 160000, 7: 320000, 8: 600000, 9: 600000, 10: 600000"#]]
            .assert_eq(&delays.join(", "));
        assert_eq!(retry_delay_ms(u32::MAX, Jitter(0.999)), RETRY_MAX_DELAY_MS - 119_880);
        assert_eq!(retry_delay_ms(1, Jitter(f64::NAN)), RETRY_BASE_DELAY_MS);
    }

    #[test]
    fn http_status_classification() {
        let classified: Vec<String> =
            [200, 201, 204, 299, 409, 400, 401, 403, 404, 413, 422, 408, 429, 500, 502, 503, 302, 101, 0]
                .into_iter()
                .map(|status| format!("{status}: {:?}", classify_http_status(status)))
                .collect();
        expect![[r#"
            200: Delivered { status: 200 }
            201: Delivered { status: 201 }
            204: Delivered { status: 204 }
            299: Delivered { status: 299 }
            409: Duplicate409
            400: Rejected { status: 400, error: "the host refused the donation: HTTP 400" }
            401: Rejected { status: 401, error: "the host refused the donation: HTTP 401" }
            403: Rejected { status: 403, error: "the host refused the donation: HTTP 403" }
            404: Rejected { status: 404, error: "the host refused the donation: HTTP 404" }
            413: Rejected { status: 413, error: "the donation is too big for the host (HTTP 413); it was not delivered" }
            422: Rejected { status: 422, error: "the host refused the donation: HTTP 422" }
            408: RetryableFailure(Status(408))
            429: RetryableFailure(Status(429))
            500: RetryableFailure(Status(500))
            502: RetryableFailure(Status(502))
            503: RetryableFailure(Status(503))
            302: RetryableFailure(Status(302))
            101: RetryableFailure(Status(101))
            0: RetryableFailure(Status(0))"#]]
        .assert_eq(&classified.join("\n"));
    }

    #[test]
    fn idempotency_key_is_stable_and_separates_its_parts() {
        let key = idempotency_key("demo", "1700000000000", "1700000000000-demo", r#"[{"a":1}]"#);
        expect!["64b97e167fff31da128b15d38d04ae50101c69d8409f4d5f5c80e63b9a025134"].assert_eq(&key);
        assert_eq!(key, idempotency_key("demo", "1700000000000", "1700000000000-demo", r#"[{"a":1}]"#));
        assert_ne!(idempotency_key("demo", "s1", "ab", "c"), idempotency_key("demo", "s1", "a", "bc"));
        assert_ne!(idempotency_key("demo", "s1", "a", "{}"), idempotency_key("demo", "s2", "a", "{}"));
        assert_ne!(idempotency_key("demo", "s1", "a", "{}"), idempotency_key("other", "s1", "a", "{}"));
        assert_ne!(idempotency_key("demo", "s1", "a", "{}"), idempotency_key("demo", "s1", "a", "{} "));
    }
}
