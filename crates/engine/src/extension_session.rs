//! The session as the extension runs it: [`ExtensionSession`] owns the run cycle's [`Session`] and
//! decides everything around it that is particular to the browser.
//!
//! That is: what views see (the [`SessionView`]: the page and its sequence number, the status
//! derived from the session's state, the draft, the locale, the study's label, the deliveries);
//! which answers and drafts count (only those for the page on screen while it waits for the
//! participant, and only the first answer); which `File`s go with a message; what the background's
//! reply to a donation means; and the script's wait for a donation in the outbox, whose results
//! may come before that reply, after the ack deadline, or long after the script was answered.
//!
//! It is sans-I/O like [`Session`]: the offscreen document hands it what happened (a view's
//! message, the worker's, the background's reply or delivery report, a timer) with the current
//! time, and performs the [`Effect`]s it returns, in order. It holds no `File`: those are JS values
//! that stay in the offscreen document. A view message only says whether it carried a `files`
//! array, and an effect names which files go with what ([`Files`]).
//!
//! It is not the wiring: the channel, the sandbox frame, timers and the JS conversions are the
//! offscreen crate's.

use std::collections::HashMap;

use port_protocol::message::{
    BackgroundMessage, BootMark, DeliveryReport, DeliveryState, DeliveryView, PageDraft, SentDonation, SentView,
    SessionStatus, SessionView, StudyLabel, ViewMessage,
};
use port_protocol::study::{ScriptSource, StudyConfig};
use port_protocol::worker_message::{DonateOutcome, FromWorker, N_BOOT_STEPS, ToBackground, ToWorker};
use port_protocol::{Command, DonateCommand, DonateResponse, Page, Payload, Text};

use crate::outbox::{AckDecision, AckWait, DeliveryResult, RetryableFailure};
use crate::snapshot::{SnapshotBoot, SnapshotEffect, StoredSnapshot};
use crate::{
    Action, DonateAnswer, PendingAnswer, Session, SessionConfig, SessionError, SessionLocale, State, donate_answer,
};

/// Which `File`s travel in a message's `files` array. The offscreen document holds the `File`s;
/// the engine only names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Files {
    /// No `files` array.
    None,
    /// The `files` of the view message being handled: the answer's own. Only an effect returned
    /// for that message names them.
    Answer,
    /// The files the draft keeps (see [`Effect::KeepDraftFiles`]).
    Draft,
}

/// What the offscreen document must do. Perform them in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Post `SessionMessage::State(view)` to every view, with these files.
    Broadcast { view: Box<SessionView>, files: Files },
    /// Post this message to the worker, with these files.
    PostToWorker { message: ToWorker, files: Files },
    /// From now on the draft keeps the `files` of the draft message being handled, instead of the
    /// ones it kept before.
    KeepDraftFiles,
    /// The draft keeps no files any more: let go of them.
    DropDraftFiles,
    /// Send this to the background. Its reply is `null`; nothing waits for it.
    SendToBackground(ToBackground),
    /// Keep the donation's body in the extension's Cache Storage ([`port_protocol::donation_body`]),
    /// then send the background `ToBackground::Donate` with the [`StoredDonation`] and hand its
    /// reply to [`ExtensionSession::on_donate_reply`]. The body never travels in a `chrome.runtime`
    /// message, which is capped at 64 MiB.
    ///
    /// [`StoredDonation`]: port_protocol::donation_body::StoredDonation
    Donate { session_id: String, donation: DonateCommand },
    /// Call [`ExtensionSession::on_ack_timer`] with this idempotency key at `at_ms` (Unix
    /// milliseconds), or as soon after as the browser can.
    StartAckTimer { idempotency_key: String, at_ms: u64 },
    /// About runtime snapshots ([`crate::snapshot`]); a store takes the bytes the maker's message
    /// being handled carries.
    Snapshot(SnapshotEffect),
    /// Tell developers (the console). The text names states, wire types and keys, never donated
    /// data, file contents or answers.
    LogError(String),
}

/// The background's reply to [`Effect::Donate`], as the offscreen document received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DonateReply {
    /// The reply, decoded.
    Outcome(DonateOutcome),
    /// `null` or `undefined`: the background gave no answer.
    Nothing,
    /// A reply that does not decode as a `DonateOutcome`; `error` says why, for developers.
    Unreadable { error: String },
    /// The message did not reach the background; `error` is the browser's reason.
    NotSent { error: String },
    /// The body could not be kept in Cache Storage (the disk is full, storage is blocked), so
    /// nothing was sent; `error` is the browser's reason.
    NotKept { error: String },
}

/// Where the worker gets the study script from, before it sends `initialise`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StudyScript {
    /// A file inside the extension, at this path from its root.
    Bundled { path: String },
    /// The config's own source text; `name` names the script in tracebacks.
    Inline { name: String, source: String },
    /// Fetched from `url` by the offscreen document, then checked with
    /// [`StudyConfig::verify_script`] before the worker gets it.
    Fetch { url: String },
}

/// The script of study `study_id`: its config's (bundled, inline or fetched), or, for a study
/// without a config, the embedded `studies/<study_id>/script.py`.
pub fn study_script(study_id: &str, config: Option<&StudyConfig>) -> StudyScript {
    match config.map(|config| &config.script) {
        None => StudyScript::Bundled { path: format!("studies/{study_id}/script.py") },
        Some(ScriptSource::Bundled { bundled }) => StudyScript::Bundled { path: bundled.clone() },
        Some(ScriptSource::Source { source }) => {
            StudyScript::Inline { name: format!("{study_id}.py"), source: source.clone() }
        }
        Some(ScriptSource::Url { url, .. }) => StudyScript::Fetch { url: url.clone() },
    }
}

/// The last boot step the worker reported.
#[derive(Debug, Clone, PartialEq, Eq)]
struct BootStep {
    step: String,
    step_idx: u32,
    n_steps: u32,
}

/// The participant's unanswered work on the page on screen, as a view last sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct KeptDraft {
    draft: PageDraft,
    /// Whether the offscreen document keeps `File`s for it ([`Effect::KeepDraftFiles`]).
    has_files: bool,
}

/// Where the donation the script waits for is. The session handles one donation at a time, so
/// there is at most one.
#[derive(Debug, Clone, PartialEq, Eq)]
enum DonationWait {
    /// No donation waits for the host.
    None,
    /// Sent to the background, whose reply has not come. The outbox may deliver before the reply
    /// arrives, so results for this donation's key are kept meanwhile, by idempotency key.
    AwaitingReply { key: String, early_results: HashMap<String, DeliveryResult> },
    /// In the outbox: the script waits for the host's acknowledgement, at most until the deadline.
    AwaitingAck(AckWait),
}

/// The last mark of a boot trace: the study's first command reached the engine.
pub const BOOT_TRACE_END: &str = "first command";

/// Where a boot's time went ([`ExtensionSession::mark_boot`]).
#[derive(Debug, Default)]
struct BootTrace {
    origin_ms: Option<u64>,
    marks: Vec<BootMark>,
    done: bool,
}

/// One study run in the extension. See the module doc.
#[derive(Debug)]
pub struct ExtensionSession {
    session_id: String,
    session: Session,
    boot_step: BootStep,
    snapshot: SnapshotBoot,
    boot_trace: BootTrace,
    /// Increases with every page; an answer or a draft names the page it is for.
    page_seq: u64,
    page: Option<Page>,
    // Invariant: only for page `page_seq`, kept while the session waited for the participant;
    // a new page clears it.
    draft: Option<KeptDraft>,
    locale: SessionLocale,
    /// The study's title and version once its config is known; the title is resolved in the
    /// session's locale whenever views are told.
    study: Option<(Text, String)>,
    /// The study's `platform`, passed to the script's start.
    platform: Option<String>,
    /// The session's donations that went into the outbox, oldest first.
    deliveries: Vec<DeliveryView>,
    /// Every donation and log handed to the host bridge, shown once the session finished.
    sent: SentView,
    donation: DonationWait,
    /// Whether what views show changed since the last broadcast (the status aside, which is
    /// compared with `shown_status`; the draft aside, which views send, not receive).
    view_changed: bool,
    /// The status of the last broadcast; `None` before the first.
    shown_status: Option<SessionStatus>,
}

impl ExtensionSession {
    /// A session that boots. `locale` is the host page's `live-init` locale, if any.
    pub fn new(session_id: String, locale: SessionLocale) -> ExtensionSession {
        ExtensionSession {
            session_id,
            session: Session::new(SessionConfig::default()),
            boot_step: BootStep { step: "start".into(), step_idx: 0, n_steps: N_BOOT_STEPS },
            snapshot: SnapshotBoot::default(),
            boot_trace: BootTrace::default(),
            page_seq: 0,
            page: None,
            draft: None,
            locale,
            study: None,
            platform: None,
            deliveries: Vec::new(),
            sent: SentView::default(),
            donation: DonationWait::None,
            view_changed: false,
            shown_status: None,
        }
    }

    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// The session's state, as [`Session::state`].
    pub fn state(&self) -> &State {
        self.session.state()
    }

    /// What every view should show now.
    pub fn view(&self) -> SessionView {
        SessionView {
            page_seq: self.page_seq,
            status: self.status(),
            page: self.page.clone(),
            locale: self.locale.get().map(str::to_owned),
            study: self.study.as_ref().map(|(title, version)| StudyLabel {
                title: title.resolve(self.locale.resolved()).to_owned(),
                version: version.clone(),
            }),
            deliveries: self.deliveries.clone(),
            draft: self.draft.as_ref().map(|kept| kept.draft.clone()),
            extension_page: matches!(
                self.session.state(),
                State::AwaitingUi {
                    pending: PendingAnswer::ReviewDonation { .. }
                        | PendingAnswer::ContinueAfterBadCommand
                        | PendingAnswer::DonationTooBig { .. },
                    ..
                }
            ),
            // Only the finished screen shows it, so states during the session stay small.
            sent: self.session.is_finished().then(|| self.sent.clone()),
            boot_trace: self.boot_trace.marks.clone(),
        }
    }

    /// The boot's clock starts at `requested_ms`, when the background was asked for the session.
    pub fn start_boot_trace(&mut self, requested_ms: u64) {
        self.boot_trace.origin_ms = Some(requested_ms);
    }

    /// The boot reached `step` at `now_ms`. The trace ends with [`BOOT_TRACE_END`], the study's
    /// first command; then its text is returned, once, for the developer's console.
    pub fn mark_boot(&mut self, step: &str, now_ms: u64) -> Option<String> {
        let trace = &mut self.boot_trace;
        if trace.done {
            return None;
        }
        let origin = *trace.origin_ms.get_or_insert(now_ms);
        trace.marks.push(BootMark { step: step.to_owned(), at_ms: now_ms.saturating_sub(origin) });
        if step != BOOT_TRACE_END {
            return None;
        }
        trace.done = true;
        let steps: Vec<String> = trace.marks.iter().map(|mark| format!("{} +{} ms", mark.step, mark.at_ms)).collect();
        Some(format!("boot trace (from the session's request): {}", steps.join(", ")))
    }

    /// The key of the snapshot `initialise` carries (`None`: boot afresh), given the build's
    /// snapshot key and what the store holds under it, and the effects that go first (see
    /// [`crate::snapshot`]).
    pub fn plan_snapshot(&mut self, key: Option<&str>, stored: StoredSnapshot) -> (Option<String>, Vec<Effect>) {
        let (request, store_effects) = self.snapshot.plan(key, stored);
        let mut effects: Vec<Effect> = store_effects.into_iter().map(Effect::Snapshot).collect();
        if stored == StoredSnapshot::Corrupt {
            effects.push(Effect::LogError("the stored runtime snapshot failed its digest; booting without it".into()));
        }
        (request, effects)
    }

    /// The offscreen document is up: views that opened before it get the view.
    pub fn on_open(&mut self) -> Vec<Effect> {
        let mut effects = Vec::new();
        self.broadcast(&mut effects, true);
        effects
    }

    /// The study's config is known: views show its title and version, and the script's start
    /// gets its `platform`.
    pub fn on_study_config(&mut self, config: &StudyConfig) -> Vec<Effect> {
        self.platform = config.platform.clone();
        self.session.limit_donations(config.max_donation_bytes);
        self.study = Some((config.title.clone(), config.version.clone()));
        self.view_changed = true;
        let mut effects = Vec::new();
        self.broadcast(&mut effects, false);
        effects
    }

    /// A view's message. `carries_files`: the message has a `files` array (the `File`s an answer
    /// or a draft names).
    ///
    /// An answer or a draft counts only for the page on screen while it waits for the
    /// participant; a second answer finds the session working and is ignored, so two views cannot
    /// answer twice. An answer without files takes the draft's: the view that chose them may have
    /// been closed since.
    pub fn on_view_message(&mut self, message: ViewMessage, carries_files: bool) -> Vec<Effect> {
        let mut effects = Vec::new();
        match message {
            ViewMessage::Attach => return self.on_open(),
            ViewMessage::SetLocale { locale } => {
                self.locale.on_switch(locale);
                self.view_changed = true;
            }
            ViewMessage::BrowserLocale { browser_locale } => {
                self.view_changed |= self.locale.on_browser_language(&browser_locale);
            }
            ViewMessage::Draft { page_seq, draft } => {
                if !self.awaits_answer_to(page_seq) {
                    return effects;
                }
                let had_files = self.draft.as_ref().is_some_and(|kept| kept.has_files);
                if carries_files {
                    effects.push(Effect::KeepDraftFiles);
                } else if had_files {
                    effects.push(Effect::DropDraftFiles);
                }
                // Kept, not broadcast: the view that sent it has it, and a view that opens later
                // gets it with the view that answers its `Attach`.
                self.draft = Some(KeptDraft { draft, has_files: carries_files });
                return effects;
            }
            ViewMessage::Answer { page_seq, payload } => {
                if !self.awaits_answer_to(page_seq) {
                    // An answer to a page that is gone, e.g. from a second view.
                    return effects;
                }
                let files = match &self.draft {
                    _ if carries_files => Files::Answer,
                    Some(KeptDraft { has_files: true, .. }) => Files::Draft,
                    _ => Files::None,
                };
                let result = self.session.on_ui_answer(payload);
                self.perform_result(result, files, &mut effects);
            }
        }
        self.broadcast(&mut effects, false);
        effects
    }

    /// The worker's message: boot progress, the end of boot, the script's next command, or the
    /// runtime's failure.
    pub fn on_worker_message(&mut self, message: FromWorker) -> Vec<Effect> {
        let mut effects = Vec::new();
        match message {
            FromWorker::BootProgress { step, step_idx, n_steps } => {
                self.snapshot.on_boot_step(step_idx);
                self.boot_step = BootStep { step, step_idx, n_steps };
            }
            // Snapshots come from the maker alone (`on_maker_message`): this worker runs the study.
            FromWorker::SnapshotMade { .. } => {
                effects.push(Effect::LogError("a snapshot from the study's worker was ignored".into()));
            }
            FromWorker::SnapshotRefused { key, reason } => match self.snapshot.on_refused(&key) {
                Ok(store) => {
                    effects.extend(store.into_iter().map(Effect::Snapshot));
                    // Before the study, the reason is Pyodide's, not the participant's.
                    effects.push(Effect::LogError(format!(
                        "the runtime snapshot was refused ({reason}); booting without it"
                    )));
                }
                Err(why) => effects.push(Effect::LogError(why.into())),
            },
            FromWorker::InitialiseDone => {
                effects.extend(self.snapshot.on_study_loaded().into_iter().map(Effect::Snapshot));
                let result = self.session.start();
                self.perform_result(result, Files::None, &mut effects);
            }
            FromWorker::RunCycleDone { command_json, donation_body } => {
                let result = match donation_body {
                    None => self.session.on_script_output(Ok(command_json)),
                    Some(body) => {
                        self.session.on_script_command(Command::from_json_and_donation_body(&command_json, body))
                    }
                };
                self.perform_result(result, Files::None, &mut effects);
            }
            FromWorker::Error { message } => return self.on_runtime_failure(message),
        }
        self.broadcast(&mut effects, false);
        effects
    }

    /// A message of the snapshot maker's worker ([`SnapshotEffect::StartMaker`]): its snapshot, or
    /// its failure. Nothing it says reaches the session.
    pub fn on_maker_message(&mut self, message: FromWorker) -> Vec<Effect> {
        match message {
            FromWorker::SnapshotMade { key } => match self.snapshot.on_made(&key) {
                Ok(store) => store.into_iter().map(Effect::Snapshot).collect(),
                Err(why) => vec![Effect::LogError(why.into())],
            },
            FromWorker::Error { .. } => {
                let mut effects: Vec<Effect> =
                    self.snapshot.on_maker_failed().into_iter().map(Effect::Snapshot).collect();
                effects.push(Effect::LogError("the snapshot maker failed; the next session tries again".into()));
                effects
            }
            FromWorker::BootProgress { .. }
            | FromWorker::InitialiseDone
            | FromWorker::RunCycleDone { .. }
            | FromWorker::SnapshotRefused { .. } => Vec::new(),
        }
    }

    /// The runtime failed: it could not start, or the worker reported an error. Whatever the
    /// session waited for, it crashes and shows the error page, unless it ended already.
    /// `message` may hold participant data (a traceback): it goes to the error page only.
    pub fn on_runtime_failure(&mut self, message: String) -> Vec<Effect> {
        let mut effects = Vec::new();
        match self.session.on_runtime_failure(message) {
            Ok(actions) => {
                effects.push(Effect::LogError("the script runtime failed; the error page says why".into()));
                self.perform(actions, Files::None, &mut effects);
            }
            Err(_) => effects.push(Effect::LogError("the script runtime failed after the session ended".into())),
        }
        self.broadcast(&mut effects, false);
        effects
    }

    /// The background's reply to [`Effect::Donate`] came at `now_ms`. A donation in the outbox
    /// makes the script wait for its result, at most until the ack deadline; any other reply
    /// answers the script at once. A reply that is missing or cannot be read tells the script the
    /// donation failed, never that it succeeded.
    pub fn on_donate_reply(&mut self, reply: DonateReply, now_ms: u64) -> Vec<Effect> {
        let mut effects = Vec::new();
        let DonationWait::AwaitingReply { key, mut early_results } =
            std::mem::replace(&mut self.donation, DonationWait::None)
        else {
            effects.push(Effect::LogError("a reply to a donation came while no donation waited for one".into()));
            return effects;
        };
        let outcome = match reply {
            DonateReply::Outcome(outcome) => Ok(outcome),
            DonateReply::Nothing => Err("the extension's background gave no answer to the donation".to_owned()),
            DonateReply::Unreadable { error } => {
                effects.push(Effect::LogError(format!("the reply to donation {key} cannot be read: {error}")));
                Err("the extension's background gave an answer to the donation that cannot be read".to_owned())
            }
            DonateReply::NotSent { error } => {
                effects.push(Effect::LogError(format!("donation {key} did not reach the background: {error}")));
                Err(format!("the donation did not reach the extension's background: {error}"))
            }
            DonateReply::NotKept { error } => {
                effects.push(Effect::LogError(format!("donation {key} could not be kept to send it: {error}")));
                Err(format!(
                    "the donation could not be kept on this device to send it ({error}); free some disk space and try again"
                ))
            }
        };
        match donate_answer(&key, outcome) {
            DonateAnswer::Reply(response) => self.answer_script(response, &mut effects),
            DonateAnswer::Wait(queued) => {
                if !self.deliveries.iter().any(|delivery| delivery.key == key) {
                    self.deliveries.push(DeliveryView {
                        key: key.clone(),
                        state: DeliveryState::Pending,
                        status: None,
                    });
                    self.view_changed = true;
                }
                let wait = AckWait::for_donation(&key, &queued.idempotency_key, queued.ack_timeout_s, now_ms);
                let decision = match early_results.remove(&queued.idempotency_key) {
                    Some(result) => wait.on_result(&result, now_ms),
                    None => AckDecision::Wait(wait),
                };
                self.on_ack_decision(decision, &mut effects);
            }
        }
        self.broadcast(&mut effects, false);
        effects
    }

    /// A message of the background on the session channel, at `now_ms`: a delivery report of one
    /// of this session's donations. Views see it; the script's wait, or the wait for the
    /// background's reply, uses it. A donation that was delivered or rejected stays so, whatever
    /// a late report says.
    pub fn on_background_message(&mut self, message: BackgroundMessage, now_ms: u64) -> Vec<Effect> {
        let mut effects = Vec::new();
        let BackgroundMessage::Delivery { session_id, idempotency_key, key, report } = message;
        if session_id != self.session_id {
            return effects;
        }
        self.view_changed |= update_delivery(&mut self.deliveries, &key, &report);
        let result = delivery_result(report);
        match std::mem::replace(&mut self.donation, DonationWait::None) {
            DonationWait::AwaitingAck(wait) if wait.idempotency_key() == idempotency_key => {
                match wait.on_result(&result, now_ms) {
                    AckDecision::Answer(response) => self.answer_script(response, &mut effects),
                    // Its timer runs already.
                    AckDecision::Wait(wait) => self.donation = DonationWait::AwaitingAck(wait),
                }
            }
            DonationWait::AwaitingReply { key: waiting_key, mut early_results } if waiting_key == key => {
                // A final result is not undone by a retry reported after it.
                let keep_earlier = early_results
                    .get(&idempotency_key)
                    .is_some_and(|earlier| !matches!(earlier, DeliveryResult::RetryableFailure(_)));
                if !keep_earlier {
                    early_results.insert(idempotency_key, result);
                }
                self.donation = DonationWait::AwaitingReply { key: waiting_key, early_results };
            }
            // A result for a donation the script was answered about (202, or an earlier
            // donation's retries): views see it, the script is not answered again.
            other => self.donation = other,
        }
        self.broadcast(&mut effects, false);
        effects
    }

    /// The timer of [`Effect::StartAckTimer`] fired at `now_ms`. At the deadline the script is
    /// told the donation is accepted and queued (202) while the outbox goes on delivering it; a
    /// timer of a wait that was answered already does nothing.
    pub fn on_ack_timer(&mut self, idempotency_key: &str, now_ms: u64) -> Vec<Effect> {
        let mut effects = Vec::new();
        match std::mem::replace(&mut self.donation, DonationWait::None) {
            DonationWait::AwaitingAck(wait) if wait.idempotency_key() == idempotency_key => {
                self.on_ack_decision(wait.on_timer(now_ms), &mut effects);
            }
            other => self.donation = other,
        }
        self.broadcast(&mut effects, false);
        effects
    }

    /// Whether an answer or a draft for page `page_seq` counts: it is the page on screen and the
    /// session waits for the participant.
    fn awaits_answer_to(&self, page_seq: u64) -> bool {
        page_seq == self.page_seq && matches!(self.session.state(), State::AwaitingUi { .. })
    }

    /// Answers the script, or waits with a timer at the deadline.
    fn on_ack_decision(&mut self, decision: AckDecision, effects: &mut Vec<Effect>) {
        match decision {
            AckDecision::Answer(response) => self.answer_script(response, effects),
            AckDecision::Wait(wait) => {
                effects.push(Effect::StartAckTimer {
                    idempotency_key: wait.idempotency_key().to_owned(),
                    at_ms: wait.deadline_ms(),
                });
                self.donation = DonationWait::AwaitingAck(wait);
            }
        }
    }

    fn answer_script(&mut self, response: DonateResponse, effects: &mut Vec<Effect>) {
        self.donation = DonationWait::None;
        let result = self.session.on_host_reply(Some(response));
        self.perform_result(result, Files::None, effects);
    }

    fn perform_result(&mut self, result: Result<Vec<Action>, SessionError>, files: Files, effects: &mut Vec<Effect>) {
        match result {
            Ok(actions) => self.perform(actions, files, effects),
            Err(error) => effects.push(Effect::LogError(error.to_string())),
        }
    }

    /// Turns the session's actions into effects. `answer_files` go with a reply that names files.
    fn perform(&mut self, actions: Vec<Action>, answer_files: Files, effects: &mut Vec<Effect>) {
        for action in actions {
            match action {
                Action::SendToScript(None) => effects.push(Effect::PostToWorker {
                    message: ToWorker::FirstRunCycle {
                        session_id: self.session_id.clone(),
                        platform: self.platform.clone(),
                    },
                    files: Files::None,
                }),
                Action::SendToScript(Some(payload)) => {
                    let files = match payload {
                        Payload::File(_) | Payload::FileArray(_) => answer_files,
                        _ => Files::None,
                    };
                    effects.push(Effect::PostToWorker { message: ToWorker::NextRunCycle { response: payload }, files });
                }
                Action::Render(page) => {
                    self.page_seq += 1;
                    self.page = Some(page);
                    if self.draft.take().is_some_and(|kept| kept.has_files) {
                        effects.push(Effect::DropDraftFiles);
                    }
                    self.view_changed = true;
                    if matches!(self.session.state(), State::Crashed { .. }) {
                        // The next view that opens starts a fresh session.
                        effects.push(Effect::SendToBackground(ToBackground::SessionCrashed {
                            session_id: self.session_id.clone(),
                        }));
                    }
                }
                Action::Donate(donation) => {
                    self.sent
                        .donations
                        .push(SentDonation { key: donation.key.clone(), n_bytes: donation.json_string.len() as u64 });
                    self.donation =
                        DonationWait::AwaitingReply { key: donation.key.clone(), early_results: HashMap::new() };
                    effects.push(Effect::Donate { session_id: self.session_id.clone(), donation });
                }
                Action::SendLogs(entries) => {
                    self.sent.logs.extend(entries.iter().cloned());
                    effects.push(Effect::SendToBackground(ToBackground::Logs {
                        session_id: self.session_id.clone(),
                        entries,
                    }));
                }
                Action::SendEvent(name) => effects
                    .push(Effect::SendToBackground(ToBackground::Event { session_id: self.session_id.clone(), name })),
                Action::Exit(exit) => effects
                    .push(Effect::SendToBackground(ToBackground::Exit { session_id: self.session_id.clone(), exit })),
            }
        }
        if self.session.is_finished() {
            // Nothing answers the script any more.
            self.donation = DonationWait::None;
        }
    }

    /// Tells every view when what they show changed since the last time, or when `always`.
    fn broadcast(&mut self, effects: &mut Vec<Effect>, always: bool) {
        let status = self.status();
        if !always && !self.view_changed && self.shown_status.as_ref() == Some(&status) {
            return;
        }
        self.view_changed = false;
        self.shown_status = Some(status);
        let files = if self.draft.as_ref().is_some_and(|kept| kept.has_files) { Files::Draft } else { Files::None };
        effects.push(Effect::Broadcast { view: Box::new(self.view()), files });
    }

    /// Where the session is, from its state: booting until it starts, then awaiting the
    /// participant, working (the script or the host), finished or crashed.
    fn status(&self) -> SessionStatus {
        match self.session.state() {
            State::NotStarted => SessionStatus::Booting {
                step: self.boot_step.step.clone(),
                step_idx: self.boot_step.step_idx,
                n_steps: self.boot_step.n_steps,
            },
            State::AwaitingScript | State::AwaitingHost { .. } => SessionStatus::Working,
            State::AwaitingUi { .. } => SessionStatus::AwaitingParticipant,
            State::Exited { code, .. } => SessionStatus::Finished { code: *code },
            State::Crashed { .. } => SessionStatus::Crashed,
        }
    }
}

/// Records a report in the views' list of deliveries; returns whether the list changed. A
/// delivered or rejected donation stays so.
fn update_delivery(deliveries: &mut Vec<DeliveryView>, key: &str, report: &DeliveryReport) -> bool {
    let (state, status) = match report {
        DeliveryReport::Delivered { status } => (DeliveryState::Delivered, Some(*status)),
        DeliveryReport::Rejected { status, .. } => (DeliveryState::Rejected, Some(*status)),
        DeliveryReport::Retrying { last_status } => (DeliveryState::Pending, *last_status),
    };
    match deliveries.iter_mut().find(|delivery| delivery.key == key) {
        Some(delivery) if delivery.state != DeliveryState::Pending => false,
        Some(delivery) => {
            let status = status.or(delivery.status);
            let changed = (delivery.state, delivery.status) != (state, status);
            (delivery.state, delivery.status) = (state, status);
            changed
        }
        None => {
            deliveries.push(DeliveryView { key: key.to_owned(), state, status });
            true
        }
    }
}

/// A report as the outbox's result, for the script's [`AckWait`].
fn delivery_result(report: DeliveryReport) -> DeliveryResult {
    match report {
        DeliveryReport::Delivered { status: 409 } => DeliveryResult::Duplicate409,
        DeliveryReport::Delivered { status } => DeliveryResult::Delivered { status },
        DeliveryReport::Rejected { status, error } => DeliveryResult::Rejected { status, error },
        DeliveryReport::Retrying { last_status: Some(status) } => {
            DeliveryResult::RetryableFailure(RetryableFailure::Status(status))
        }
        DeliveryReport::Retrying { last_status: None } => {
            DeliveryResult::RetryableFailure(RetryableFailure::Network { error: "no answer from the host".into() })
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write;

    use expect_test::{Expect, expect};
    use port_protocol::study::StudyOrigin;

    use super::*;
    use crate::test_support::describe_page;

    /// Runs a transcript against one [`ExtensionSession`] and renders every input with the effects
    /// it returned, indented below it. Each line is an input, optionally after `@<now_ms>` (the
    /// clock, 0 until set, stays at the last value):
    ///
    /// - `open>` or `open> <host page locale>`: the first line; session `s1` is created and opened;
    /// - `study> <StudyConfig JSON>`; `fails> <message>` (the runtime could not start);
    /// - `view> <ViewMessage JSON>`, or `view+files> …` for a message with a `files` array;
    /// - `worker> <FromWorker JSON>`, or `script> <command JSON>` for its `runCycleDone`;
    /// - `reply> <DonateOutcome JSON>`, `reply> nothing`, `reply> unreadable <error>` or
    ///   `reply> unsent <error>` or `reply> unkept <error>`: the background's reply to the donation;
    /// - `background> <BackgroundMessage JSON>`; `timer> <idempotency key>`.
    #[track_caller]
    fn check(transcript: &str, expect: Expect) {
        let mut session: Option<ExtensionSession> = None;
        let mut now_ms = 0;
        let mut trace = String::new();
        for line in transcript.lines().map(str::trim).filter(|line| !line.is_empty()) {
            let echo = line;
            let line = match line.strip_prefix('@') {
                Some(rest) => {
                    let (now, rest) = rest.split_once(' ').expect("@<now_ms> <input>");
                    now_ms = now.parse().expect("now_ms is a number");
                    rest
                }
                None => line,
            };
            let (source, input) = line.split_once('>').expect("<source>> <input>");
            let input = fixture(input.trim());
            if source == "script" {
                // Commands are long: the line names the command's type.
                let command: serde_json::Value = serde_json::from_str(input).unwrap_or_default();
                let wire_type = command["__type__"].as_str().unwrap_or("(malformed)");
                writeln!(trace, "{}script> {wire_type}", &echo[..echo.len() - line.len()]).unwrap();
            } else {
                writeln!(trace, "{echo}").unwrap();
            }
            if source == "open" {
                let locale = SessionLocale::from_host_page(Some(input));
                let opened = session.insert(ExtensionSession::new("s1".into(), locale));
                render(&mut trace, opened.on_open());
                continue;
            }
            let session = session.as_mut().expect("the transcript starts with open>");
            let effects = match source {
                "study" => session.on_study_config(&StudyConfig::parse(input, StudyOrigin::External).unwrap()),
                "fails" => session.on_runtime_failure(input.to_owned()),
                "snapshot" => {
                    let stored = match input {
                        "found" => StoredSnapshot::Found,
                        "missing" => StoredSnapshot::Missing,
                        "corrupt" => StoredSnapshot::Corrupt,
                        _ => panic!("snapshot> found|missing|corrupt"),
                    };
                    let (request, effects) = session.plan_snapshot(Some("k1"), stored);
                    writeln!(trace, "  initialise asks {}", serde_json::to_string(&request).unwrap()).unwrap();
                    effects
                }
                // The participant consents on the page on screen to exactly what `donate` sends, so
                // the ledger lets that donation through without a review.
                "view" if input == "consent" => {
                    let answer = ViewMessage::Answer {
                        page_seq: session.view().page_seq,
                        payload: Payload::String("[1]".into()),
                    };
                    session.on_view_message(answer, false)
                }
                "view" => session.on_view_message(serde_json::from_str(input).unwrap(), false),
                "view+files" => session.on_view_message(serde_json::from_str(input).unwrap(), true),
                "worker" => session.on_worker_message(serde_json::from_str(input).unwrap()),
                "maker" => session.on_maker_message(serde_json::from_str(input).unwrap()),
                "script" => session.on_worker_message(FromWorker::RunCycleDone {
                    command_json: input.to_owned(),
                    donation_body: None,
                }),
                // `<command JSON> | <donation body>`: the body beside the command, as the worker sends it.
                "script+body" => {
                    let (json, body) = input.split_once(" | ").expect("script+body> <json> | <body>");
                    session.on_worker_message(FromWorker::RunCycleDone {
                        command_json: fixture(json).to_owned(),
                        donation_body: Some(body.as_bytes().to_vec()),
                    })
                }
                "reply" => {
                    let reply = match input.split_once(' ').unwrap_or((input, "")) {
                        ("nothing", _) => DonateReply::Nothing,
                        ("unreadable", error) => DonateReply::Unreadable { error: error.to_owned() },
                        ("unsent", error) => DonateReply::NotSent { error: error.to_owned() },
                        ("unkept", error) => DonateReply::NotKept { error: error.to_owned() },
                        _ => DonateReply::Outcome(serde_json::from_str(input).unwrap()),
                    };
                    session.on_donate_reply(reply, now_ms)
                }
                "background" => session.on_background_message(serde_json::from_str(input).unwrap(), now_ms),
                "timer" => session.on_ack_timer(input, now_ms),
                _ => panic!("unknown input: {line}"),
            };
            render(&mut trace, effects);
        }
        expect.assert_eq(&trace);
    }

    /// The input a fixture name stands for, or the input itself.
    fn fixture(input: &str) -> &str {
        match input {
            "confirm-page" => {
                r#"{"__type__":"CommandUIRender","page":{"__type__":"PropsUIPageDataSubmission","platform":"x","header":{"__type__":"PropsUIHeader","title":"Check"},"body":[{"__type__":"PropsUIPromptConfirm","text":"Go?","ok":"Yes","cancel":"No"}]}}"#
            }
            "file-page" => {
                r#"{"__type__":"CommandUIRender","page":{"__type__":"PropsUIPageDataSubmission","platform":"x","header":{"__type__":"PropsUIHeader","title":"Choose"},"body":[{"__type__":"PropsUIPromptFileInput","description":"d","extensions":"application/zip"}]}}"#
            }
            "consent-page" => {
                r#"{"__type__":"CommandUIRender","page":{"__type__":"PropsUIPageDataSubmission","platform":"x","header":{"__type__":"PropsUIHeader","title":"Share?"},"body":[{"__type__":"PropsUIPromptRadioInput","title":"Share","description":"d","items":[{"id":1,"value":"[1]"}]}]}}"#
            }
            "donate" => r#"{"__type__":"CommandSystemDonate","key":"s1-demo","json_string":"[1]"}"#,
            "donate-head" => r#"{"__type__":"CommandSystemDonate","key":"s1-demo","json_string":""}"#,
            "exit" => r#"{"__type__":"CommandSystemExit","code":0,"info":""}"#,
            "ready" => r#"{"eventType":"initialiseDone"}"#,
            "study" => {
                r#"{"schema":"port-study/1","id":"screen","version":"2","title":{"translations":{"en":"Screen time","nl":"Schermtijd"}},"description":"D","script":{"source":"x"},"locales":["en","nl"],"donate":{"mode":"local"},"platform":"android"}"#
            }
            other => other,
        }
    }

    fn render(trace: &mut String, effects: Vec<Effect>) {
        let files = |files: Files| match files {
            Files::None => "",
            Files::Answer => " +answer files",
            Files::Draft => " +draft files",
        };
        for effect in effects {
            let text = match effect {
                Effect::Broadcast { view, files: view_files } => {
                    format!("views <- {}{}", describe(&view), files(view_files))
                }
                Effect::PostToWorker { message, files: message_files } => {
                    format!("worker <- {}{}", serde_json::to_string(&message).unwrap(), files(message_files))
                }
                Effect::KeepDraftFiles => "draft keeps the message's files".into(),
                Effect::DropDraftFiles => "draft drops its files".into(),
                Effect::SendToBackground(message) => {
                    format!("background <- {}", serde_json::to_string(&message).unwrap())
                }
                Effect::Donate { session_id, donation } => format!(
                    "donation store <- {} of session {session_id} ({} bytes); background <- donate, reply awaited",
                    donation.key,
                    donation.json_string.len()
                ),
                Effect::StartAckTimer { idempotency_key, at_ms } => format!("timer {idempotency_key} at {at_ms}"),
                Effect::Snapshot(SnapshotEffect::StartMaker { key }) => format!("snapshot maker starts for {key}"),
                Effect::Snapshot(SnapshotEffect::Store { key }) => format!("snapshot store <- the maker's {key}"),
                Effect::Snapshot(SnapshotEffect::StopMaker) => "snapshot maker stops".into(),
                Effect::Snapshot(SnapshotEffect::Drop { key }) => format!("snapshot store drops {key}"),
                Effect::LogError(text) => format!("log: {text}"),
            };
            writeln!(trace, "  {text}").unwrap();
        }
    }

    fn describe(view: &SessionView) -> String {
        let mut text = match &view.status {
            SessionStatus::Idle => "idle".to_owned(),
            SessionStatus::Booting { step, step_idx, n_steps } => format!("booting {step} {step_idx}/{n_steps}"),
            SessionStatus::AwaitingParticipant => "awaiting-participant".to_owned(),
            SessionStatus::Working => "working".to_owned(),
            SessionStatus::Finished { code } => format!("finished {code}"),
            SessionStatus::Crashed => "crashed".to_owned(),
        };
        write!(text, " #{}", view.page_seq).unwrap();
        if let Some(page) = &view.page {
            write!(text, " {}", describe_page(page)).unwrap();
        }
        if let Some(locale) = &view.locale {
            write!(text, "; locale {locale}").unwrap();
        }
        if let Some(study) = &view.study {
            write!(text, "; study {:?} {}", study.title, study.version).unwrap();
        }
        if !view.deliveries.is_empty() {
            let deliveries: Vec<String> = view
                .deliveries
                .iter()
                .map(|delivery| {
                    let status = delivery.status.map(|status| format!(" {status}")).unwrap_or_default();
                    format!("{} {:?}{status}", delivery.key, delivery.state)
                })
                .collect();
            write!(text, "; deliveries [{}]", deliveries.join(", ")).unwrap();
        }
        if let Some(draft) = &view.draft {
            write!(text, "; draft {}", serde_json::to_string(draft).unwrap()).unwrap();
        }
        if view.extension_page {
            text.push_str("; the extension's page");
        }
        if let Some(sent) = &view.sent {
            let donations: Vec<String> =
                sent.donations.iter().map(|donation| format!("{} {} bytes", donation.key, donation.n_bytes)).collect();
            let logs: Vec<String> = sent.logs.iter().map(|log| format!("{:?} {}", log.level, log.message)).collect();
            write!(text, "; sent donations [{}] logs [{}]", donations.join(", "), logs.join(", ")).unwrap();
        }
        text
    }
    #[test]
    fn review_page_is_marked_as_the_extensions_and_what_was_sent_shows_at_the_end() {
        // A donation no page showed: the engine's review page, which views mark as the extension's.
        // After Send it is listed with the logs on the finished screen.
        check(
            r#"
            open>
            worker> ready
            script> donate
            view> {"type":"answer","page_seq":1,"payload":{"__type__":"PayloadTrue","value":true}}
            reply> {"success":true,"key":"s1-demo","status":200}
            script> {"__type__":"CommandSystemLog","level":"info","message":"done","json_string":"{}"}
            script> exit
            "#,
            expect![[r#"
                open>
                  views <- booting start 0/3 #0
                worker> ready
                  background <- {"type":"event","session_id":"s1","name":"initialized"}
                  worker <- {"eventType":"firstRunCycle","sessionId":"s1"}
                  views <- working #0
                script> CommandSystemDonate
                  views <- awaiting-participant #1 PropsUIPageDataSubmission "A question from the extension, not from the study" [PropsUIPromptText, PropsUIPromptConsentFormViz]; the extension's page
                view> {"type":"answer","page_seq":1,"payload":{"__type__":"PayloadTrue","value":true}}
                  donation store <- s1-demo of session s1 (3 bytes); background <- donate, reply awaited
                  views <- working #1 PropsUIPageDataSubmission "A question from the extension, not from the study" [PropsUIPromptText, PropsUIPromptConsentFormViz]
                reply> {"success":true,"key":"s1-demo","status":200}
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadResponse","value":{"success":true,"key":"s1-demo","status":200}}}
                script> CommandSystemLog
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadVoid"}}
                script> CommandSystemExit
                  background <- {"type":"logs","session_id":"s1","entries":[{"level":"info","message":"done","json_string":"{\"level\":\"info\",\"message\":\"done\"}"}]}
                  background <- {"type":"exit","session_id":"s1","exit":{"code":0,"info":""}}
                  views <- finished 0 #1 PropsUIPageDataSubmission "A question from the extension, not from the study" [PropsUIPromptText, PropsUIPromptConsentFormViz]; sent donations [s1-demo 3 bytes] logs [Info done]
            "#]],
        );
    }

    #[test]
    fn donation_bigger_than_the_study_allows_is_not_sent_and_the_participant_is_told() {
        // The config's max_donation_bytes is 2; "[1]" is 3 bytes. The engine's own page says so (the
        // host learns the sizes only), nothing goes to the donation store, and Continue tells the
        // script 413. A second donation within the limit goes on to its review as usual.
        check(
            r#"
            open>
            study> {"schema":"port-study/1","id":"s","version":"1","title":"T","description":"D","script":{"source":"x"},"locales":["en"],"donate":{"mode":"http","url":"https://h.org/d"},"max_donation_bytes":2}
            worker> ready
            script> donate
            view> {"type":"answer","page_seq":1,"payload":{"__type__":"PayloadTrue","value":true}}
            script> {"__type__":"CommandSystemDonate","key":"s1-small","json_string":"[]"}
            "#,
            expect![[r#"
                open>
                  views <- booting start 0/3 #0
                study> {"schema":"port-study/1","id":"s","version":"1","title":"T","description":"D","script":{"source":"x"},"locales":["en"],"donate":{"mode":"http","url":"https://h.org/d"},"max_donation_bytes":2}
                  views <- booting start 0/3 #0; study "T" 1
                worker> ready
                  background <- {"type":"event","session_id":"s1","name":"initialized"}
                  worker <- {"eventType":"firstRunCycle","sessionId":"s1"}
                  views <- working #0; study "T" 1
                script> CommandSystemDonate
                  background <- {"type":"logs","session_id":"s1","entries":[{"level":"error","message":"a donation was too big for the study's host (3 bytes, at most 2)","json_string":"{\"level\":\"error\",\"message\":\"a donation was too big for the study's host (3 bytes, at most 2)\"}"}]}
                  views <- awaiting-participant #1 PropsUIPageDataSubmission "This donation is too big for the study" [PropsUIPageError("The study wanted to send 3 bytes, but its host accepts at most 2 bytes. Nothing was sent. Tell the researchers of this study; they can send less at a time."), PropsUIPromptConfirm]; study "T" 1; the extension's page
                view> {"type":"answer","page_seq":1,"payload":{"__type__":"PayloadTrue","value":true}}
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadResponse","value":{"success":false,"key":"s1-demo","status":413,"error":"the donation is 3 bytes; the study's host accepts at most 2 (max_donation_bytes); nothing was sent"}}}
                  views <- working #1 PropsUIPageDataSubmission "This donation is too big for the study" [PropsUIPageError("The study wanted to send 3 bytes, but its host accepts at most 2 bytes. Nothing was sent. Tell the researchers of this study; they can send less at a time."), PropsUIPromptConfirm]; study "T" 1
                script> CommandSystemDonate
                  views <- awaiting-participant #2 PropsUIPageDataSubmission "A question from the extension, not from the study" [PropsUIPromptText, PropsUIPromptConsentFormViz]; study "T" 1; the extension's page
            "#]],
        );
    }

    #[test]
    fn status_booting_until_the_script_starts_then_working() {
        check(
            r#"
            open>
            worker> {"eventType":"bootProgress","step":"pyodide","stepIdx":1,"nSteps":4}
            worker> {"eventType":"bootProgress","step":"script","stepIdx":4,"nSteps":4}
            worker> ready
            "#,
            expect![[r#"
                open>
                  views <- booting start 0/3 #0
                worker> {"eventType":"bootProgress","step":"pyodide","stepIdx":1,"nSteps":4}
                  views <- booting pyodide 1/4 #0
                worker> {"eventType":"bootProgress","step":"script","stepIdx":4,"nSteps":4}
                  views <- booting script 4/4 #0
                worker> ready
                  background <- {"type":"event","session_id":"s1","name":"initialized"}
                  worker <- {"eventType":"firstRunCycle","sessionId":"s1"}
                  views <- working #0
            "#]],
        );
    }

    #[test]
    fn boot_trace_counts_from_the_request_and_ends_with_the_first_command() {
        let mut session = ExtensionSession::new("s1".into(), SessionLocale::default());
        session.start_boot_trace(1_000);
        assert_eq!(session.mark_boot("offscreen", 1_120), None);
        assert_eq!(session.mark_boot("snapshot", 1_500), None);
        assert_eq!(
            session.mark_boot(BOOT_TRACE_END, 2_000).as_deref(),
            Some(
                "boot trace (from the session's request): offscreen +120 ms, snapshot +500 ms, first command +1000 ms"
            )
        );
        // Later cycles are not the boot's.
        assert_eq!(session.mark_boot(BOOT_TRACE_END, 9_000), None);
        let steps: Vec<(String, u64)> =
            session.view().boot_trace.into_iter().map(|mark| (mark.step, mark.at_ms)).collect();
        assert_eq!(steps, [("offscreen".into(), 120), ("snapshot".into(), 500), ("first command".into(), 1_000)]);
    }

    #[test]
    fn snapshot_is_made_aside_once_the_study_loaded_and_one_from_the_study_is_not_stored() {
        check(
            r#"
            open>
            snapshot> missing
            worker> {"eventType":"bootProgress","step":"study","stepIdx":3,"nSteps":3}
            worker> {"eventType":"snapshotMade","key":"k1"}
            maker> {"eventType":"snapshotMade","key":"k1"}
            worker> ready
            maker> {"eventType":"snapshotMade","key":"k1"}
            maker> {"eventType":"snapshotMade","key":"k1"}
            "#,
            expect![[r#"
                open>
                  views <- booting start 0/3 #0
                snapshot> missing
                  initialise asks null
                worker> {"eventType":"bootProgress","step":"study","stepIdx":3,"nSteps":3}
                  views <- booting study 3/3 #0
                worker> {"eventType":"snapshotMade","key":"k1"}
                  log: a snapshot from the study's worker was ignored
                maker> {"eventType":"snapshotMade","key":"k1"}
                  log: a snapshot the session did not ask for was ignored
                worker> ready
                  snapshot maker starts for k1
                  background <- {"type":"event","session_id":"s1","name":"initialized"}
                  worker <- {"eventType":"firstRunCycle","sessionId":"s1"}
                  views <- working #0
                maker> {"eventType":"snapshotMade","key":"k1"}
                  snapshot store <- the maker's k1
                maker> {"eventType":"snapshotMade","key":"k1"}
                  log: a snapshot the session did not ask for was ignored
            "#]],
        );
    }

    #[test]
    fn snapshot_refused_or_corrupt_is_dropped_and_replaced() {
        check(
            r#"
            open>
            snapshot> found
            worker> {"eventType":"bootProgress","step":"snapshot","stepIdx":1,"nSteps":3}
            worker> {"eventType":"snapshotRefused","key":"k1","reason":"Snapshot has invalid magic number"}
            worker> ready
            maker> {"eventType":"snapshotMade","key":"k1"}
            open>
            snapshot> corrupt
            worker> ready
            maker> {"eventType":"error","message":"loading failed"}
            "#,
            expect![[r#"
                open>
                  views <- booting start 0/3 #0
                snapshot> found
                  initialise asks "k1"
                worker> {"eventType":"bootProgress","step":"snapshot","stepIdx":1,"nSteps":3}
                  views <- booting snapshot 1/3 #0
                worker> {"eventType":"snapshotRefused","key":"k1","reason":"Snapshot has invalid magic number"}
                  snapshot store drops k1
                  log: the runtime snapshot was refused (Snapshot has invalid magic number); booting without it
                worker> ready
                  snapshot maker starts for k1
                  background <- {"type":"event","session_id":"s1","name":"initialized"}
                  worker <- {"eventType":"firstRunCycle","sessionId":"s1"}
                  views <- working #0
                maker> {"eventType":"snapshotMade","key":"k1"}
                  snapshot store <- the maker's k1
                open>
                  views <- booting start 0/3 #0
                snapshot> corrupt
                  initialise asks null
                  snapshot store drops k1
                  log: the stored runtime snapshot failed its digest; booting without it
                worker> ready
                  snapshot maker starts for k1
                  background <- {"type":"event","session_id":"s1","name":"initialized"}
                  worker <- {"eventType":"firstRunCycle","sessionId":"s1"}
                  views <- working #0
                maker> {"eventType":"error","message":"loading failed"}
                  snapshot maker stops
                  log: the snapshot maker failed; the next session tries again
            "#]],
        );
    }

    #[test]
    fn status_awaiting_the_participant_working_then_finished() {
        check(
            r#"
            open>
            worker> ready
            script> confirm-page
            view> {"type":"answer","page_seq":1,"payload":{"__type__":"PayloadTrue","value":true}}
            script> {"__type__":"CommandSystemLog","level":"info","message":"m","json_string":"{}"}
            script> exit
            "#,
            expect![[r#"
                open>
                  views <- booting start 0/3 #0
                worker> ready
                  background <- {"type":"event","session_id":"s1","name":"initialized"}
                  worker <- {"eventType":"firstRunCycle","sessionId":"s1"}
                  views <- working #0
                script> CommandUIRender
                  views <- awaiting-participant #1 PropsUIPageDataSubmission "Check" [PropsUIPromptConfirm]
                view> {"type":"answer","page_seq":1,"payload":{"__type__":"PayloadTrue","value":true}}
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadTrue","value":true}}
                  views <- working #1 PropsUIPageDataSubmission "Check" [PropsUIPromptConfirm]
                script> CommandSystemLog
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadVoid"}}
                script> CommandSystemExit
                  background <- {"type":"logs","session_id":"s1","entries":[{"level":"info","message":"m","json_string":"{\"level\":\"info\",\"message\":\"m\"}"}]}
                  background <- {"type":"exit","session_id":"s1","exit":{"code":0,"info":""}}
                  views <- finished 0 #1 PropsUIPageDataSubmission "Check" [PropsUIPromptConfirm]; sent donations [] logs [Info m]
            "#]],
        );
    }

    #[test]
    fn status_crashed_after_a_runtime_failure_and_the_background_is_told() {
        check(
            r#"
            open>
            worker> {"eventType":"bootProgress","step":"pyodide","stepIdx":1,"nSteps":4}
            worker> {"eventType":"error","message":"Traceback: secret participant data"}
            worker> {"eventType":"bootProgress","step":"micropip","stepIdx":2,"nSteps":4}
            worker> ready
            fails> cannot start the runtime: HTTP 404
            "#,
            expect![[r#"
                open>
                  views <- booting start 0/3 #0
                worker> {"eventType":"bootProgress","step":"pyodide","stepIdx":1,"nSteps":4}
                  views <- booting pyodide 1/4 #0
                worker> {"eventType":"error","message":"Traceback: secret participant data"}
                  log: the script runtime failed; the error page says why
                  background <- {"type":"logs","session_id":"s1","entries":[{"level":"error","message":"the script runtime failed","json_string":"{\"level\":\"error\",\"message\":\"the script runtime failed\"}"}]}
                  background <- {"type":"session-crashed","session_id":"s1"}
                  views <- crashed #1 PropsUIPageDataSubmission "Something went wrong" [PropsUIPromptText, PropsUIPageError("Traceback: secret participant data")]; sent donations [] logs [Error the script runtime failed]
                worker> {"eventType":"bootProgress","step":"micropip","stepIdx":2,"nSteps":4}
                worker> ready
                  log: the session is not waiting for start (it is crashed)
                fails> cannot start the runtime: HTTP 404
                  log: the script runtime failed after the session ended
            "#]],
        );
    }

    #[test]
    fn status_crashed_when_the_runtime_cannot_start() {
        check(
            r#"
            open>
            fails> cannot fetch the study script https://x.org/s.py: HTTP 404
            view> {"type":"attach"}
            "#,
            expect![[r#"
                open>
                  views <- booting start 0/3 #0
                fails> cannot fetch the study script https://x.org/s.py: HTTP 404
                  log: the script runtime failed; the error page says why
                  background <- {"type":"logs","session_id":"s1","entries":[{"level":"error","message":"the script runtime failed","json_string":"{\"level\":\"error\",\"message\":\"the script runtime failed\"}"}]}
                  background <- {"type":"session-crashed","session_id":"s1"}
                  views <- crashed #1 PropsUIPageDataSubmission "Something went wrong" [PropsUIPromptText, PropsUIPageError("cannot fetch the study script https://x.org/s.py: HTTP 404")]; sent donations [] logs [Error the script runtime failed]
                view> {"type":"attach"}
                  views <- crashed #1 PropsUIPageDataSubmission "Something went wrong" [PropsUIPromptText, PropsUIPageError("cannot fetch the study script https://x.org/s.py: HTTP 404")]; sent donations [] logs [Error the script runtime failed]
            "#]],
        );
    }

    #[test]
    fn answer_to_a_stale_page_is_ignored() {
        check(
            r#"
            open>
            worker> ready
            script> confirm-page
            view> {"type":"answer","page_seq":1,"payload":{"__type__":"PayloadTrue","value":true}}
            script> confirm-page
            view> {"type":"answer","page_seq":1,"payload":{"__type__":"PayloadFalse","value":false}}
            view> {"type":"answer","page_seq":3,"payload":{"__type__":"PayloadFalse","value":false}}
            view> {"type":"answer","page_seq":2,"payload":{"__type__":"PayloadTrue","value":true}}
            "#,
            expect![[r#"
                open>
                  views <- booting start 0/3 #0
                worker> ready
                  background <- {"type":"event","session_id":"s1","name":"initialized"}
                  worker <- {"eventType":"firstRunCycle","sessionId":"s1"}
                  views <- working #0
                script> CommandUIRender
                  views <- awaiting-participant #1 PropsUIPageDataSubmission "Check" [PropsUIPromptConfirm]
                view> {"type":"answer","page_seq":1,"payload":{"__type__":"PayloadTrue","value":true}}
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadTrue","value":true}}
                  views <- working #1 PropsUIPageDataSubmission "Check" [PropsUIPromptConfirm]
                script> CommandUIRender
                  views <- awaiting-participant #2 PropsUIPageDataSubmission "Check" [PropsUIPromptConfirm]
                view> {"type":"answer","page_seq":1,"payload":{"__type__":"PayloadFalse","value":false}}
                view> {"type":"answer","page_seq":3,"payload":{"__type__":"PayloadFalse","value":false}}
                view> {"type":"answer","page_seq":2,"payload":{"__type__":"PayloadTrue","value":true}}
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadTrue","value":true}}
                  views <- working #2 PropsUIPageDataSubmission "Check" [PropsUIPromptConfirm]
            "#]],
        );
    }

    #[test]
    fn answer_second_to_the_same_page_is_ignored() {
        check(
            r#"
            open>
            worker> ready
            script> confirm-page
            view> {"type":"answer","page_seq":1,"payload":{"__type__":"PayloadTrue","value":true}}
            view> {"type":"answer","page_seq":1,"payload":{"__type__":"PayloadFalse","value":false}}
            "#,
            expect![[r#"
                open>
                  views <- booting start 0/3 #0
                worker> ready
                  background <- {"type":"event","session_id":"s1","name":"initialized"}
                  worker <- {"eventType":"firstRunCycle","sessionId":"s1"}
                  views <- working #0
                script> CommandUIRender
                  views <- awaiting-participant #1 PropsUIPageDataSubmission "Check" [PropsUIPromptConfirm]
                view> {"type":"answer","page_seq":1,"payload":{"__type__":"PayloadTrue","value":true}}
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadTrue","value":true}}
                  views <- working #1 PropsUIPageDataSubmission "Check" [PropsUIPromptConfirm]
                view> {"type":"answer","page_seq":1,"payload":{"__type__":"PayloadFalse","value":false}}
            "#]],
        );
    }

    #[test]
    fn answer_with_files_sends_its_own_files() {
        check(
            r#"
            open>
            worker> ready
            script> file-page
            view+files> {"type":"draft","page_seq":1,"draft":{"files":{"0":[{"name":"old.zip","size":3,"locator":"0"}]}}}
            view+files> {"type":"answer","page_seq":1,"payload":{"__type__":"PayloadFile","value":{"name":"ddp.zip","size":5,"locator":"0"}}}
            "#,
            expect![[r#"
                open>
                  views <- booting start 0/3 #0
                worker> ready
                  background <- {"type":"event","session_id":"s1","name":"initialized"}
                  worker <- {"eventType":"firstRunCycle","sessionId":"s1"}
                  views <- working #0
                script> CommandUIRender
                  views <- awaiting-participant #1 PropsUIPageDataSubmission "Choose" [PropsUIPromptFileInput]
                view+files> {"type":"draft","page_seq":1,"draft":{"files":{"0":[{"name":"old.zip","size":3,"locator":"0"}]}}}
                  draft keeps the message's files
                view+files> {"type":"answer","page_seq":1,"payload":{"__type__":"PayloadFile","value":{"name":"ddp.zip","size":5,"locator":"0"}}}
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadFile","value":{"name":"ddp.zip","size":5,"locator":"0"}}} +answer files
                  views <- working #1 PropsUIPageDataSubmission "Choose" [PropsUIPromptFileInput]; draft {"files":{"0":[{"name":"old.zip","size":3,"locator":"0"}]}} +draft files
            "#]],
        );
    }

    #[test]
    fn answer_without_files_uses_the_drafts_files() {
        check(
            r#"
            open>
            worker> ready
            script> file-page
            view+files> {"type":"draft","page_seq":1,"draft":{"files":{"0":[{"name":"ddp.zip","size":5,"locator":"0"}]}}}
            view> {"type":"answer","page_seq":1,"payload":{"__type__":"PayloadFile","value":{"name":"ddp.zip","size":5,"locator":"0"}}}
            "#,
            expect![[r#"
                open>
                  views <- booting start 0/3 #0
                worker> ready
                  background <- {"type":"event","session_id":"s1","name":"initialized"}
                  worker <- {"eventType":"firstRunCycle","sessionId":"s1"}
                  views <- working #0
                script> CommandUIRender
                  views <- awaiting-participant #1 PropsUIPageDataSubmission "Choose" [PropsUIPromptFileInput]
                view+files> {"type":"draft","page_seq":1,"draft":{"files":{"0":[{"name":"ddp.zip","size":5,"locator":"0"}]}}}
                  draft keeps the message's files
                view> {"type":"answer","page_seq":1,"payload":{"__type__":"PayloadFile","value":{"name":"ddp.zip","size":5,"locator":"0"}}}
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadFile","value":{"name":"ddp.zip","size":5,"locator":"0"}}} +draft files
                  views <- working #1 PropsUIPageDataSubmission "Choose" [PropsUIPromptFileInput]; draft {"files":{"0":[{"name":"ddp.zip","size":5,"locator":"0"}]}} +draft files
            "#]],
        );
    }

    #[test]
    fn answer_without_files_or_a_draft_with_files_sends_none() {
        check(
            r#"
            open>
            worker> ready
            script> file-page
            view> {"type":"draft","page_seq":1,"draft":{"radios":{"0":1}}}
            view> {"type":"answer","page_seq":1,"payload":{"__type__":"PayloadFile","value":{"name":"ddp.zip","size":5,"locator":"0"}}}
            "#,
            expect![[r#"
                open>
                  views <- booting start 0/3 #0
                worker> ready
                  background <- {"type":"event","session_id":"s1","name":"initialized"}
                  worker <- {"eventType":"firstRunCycle","sessionId":"s1"}
                  views <- working #0
                script> CommandUIRender
                  views <- awaiting-participant #1 PropsUIPageDataSubmission "Choose" [PropsUIPromptFileInput]
                view> {"type":"draft","page_seq":1,"draft":{"radios":{"0":1}}}
                view> {"type":"answer","page_seq":1,"payload":{"__type__":"PayloadFile","value":{"name":"ddp.zip","size":5,"locator":"0"}}}
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadFile","value":{"name":"ddp.zip","size":5,"locator":"0"}}}
                  views <- working #1 PropsUIPageDataSubmission "Choose" [PropsUIPromptFileInput]; draft {"radios":{"0":1}}
            "#]],
        );
    }

    #[test]
    fn draft_is_kept_without_a_broadcast_and_a_view_that_attaches_gets_it() {
        check(
            r#"
            open>
            worker> ready
            script> file-page
            view+files> {"type":"draft","page_seq":1,"draft":{"files":{"0":[{"name":"ddp.zip","size":5,"locator":"0"}]}}}
            view> {"type":"attach"}
            view> {"type":"draft","page_seq":1,"draft":{"radios":{"0":1}}}
            view> {"type":"attach"}
            "#,
            expect![[r#"
                open>
                  views <- booting start 0/3 #0
                worker> ready
                  background <- {"type":"event","session_id":"s1","name":"initialized"}
                  worker <- {"eventType":"firstRunCycle","sessionId":"s1"}
                  views <- working #0
                script> CommandUIRender
                  views <- awaiting-participant #1 PropsUIPageDataSubmission "Choose" [PropsUIPromptFileInput]
                view+files> {"type":"draft","page_seq":1,"draft":{"files":{"0":[{"name":"ddp.zip","size":5,"locator":"0"}]}}}
                  draft keeps the message's files
                view> {"type":"attach"}
                  views <- awaiting-participant #1 PropsUIPageDataSubmission "Choose" [PropsUIPromptFileInput]; draft {"files":{"0":[{"name":"ddp.zip","size":5,"locator":"0"}]}} +draft files
                view> {"type":"draft","page_seq":1,"draft":{"radios":{"0":1}}}
                  draft drops its files
                view> {"type":"attach"}
                  views <- awaiting-participant #1 PropsUIPageDataSubmission "Choose" [PropsUIPromptFileInput]; draft {"radios":{"0":1}}
            "#]],
        );
    }

    #[test]
    fn draft_for_another_page_is_not_kept() {
        check(
            r#"
            open>
            worker> ready
            script> file-page
            view+files> {"type":"draft","page_seq":0,"draft":{"radios":{"0":1}}}
            view+files> {"type":"draft","page_seq":2,"draft":{"radios":{"0":1}}}
            view> {"type":"attach"}
            "#,
            expect![[r#"
                open>
                  views <- booting start 0/3 #0
                worker> ready
                  background <- {"type":"event","session_id":"s1","name":"initialized"}
                  worker <- {"eventType":"firstRunCycle","sessionId":"s1"}
                  views <- working #0
                script> CommandUIRender
                  views <- awaiting-participant #1 PropsUIPageDataSubmission "Choose" [PropsUIPromptFileInput]
                view+files> {"type":"draft","page_seq":0,"draft":{"radios":{"0":1}}}
                view+files> {"type":"draft","page_seq":2,"draft":{"radios":{"0":1}}}
                view> {"type":"attach"}
                  views <- awaiting-participant #1 PropsUIPageDataSubmission "Choose" [PropsUIPromptFileInput]
            "#]],
        );
    }

    #[test]
    fn draft_while_the_session_does_not_await_the_participant_is_not_kept() {
        check(
            r#"
            open>
            view+files> {"type":"draft","page_seq":0,"draft":{"radios":{"0":1}}}
            worker> ready
            script> confirm-page
            view> {"type":"answer","page_seq":1,"payload":{"__type__":"PayloadTrue","value":true}}
            view+files> {"type":"draft","page_seq":1,"draft":{"radios":{"0":1}}}
            view> {"type":"attach"}
            "#,
            expect![[r#"
                open>
                  views <- booting start 0/3 #0
                view+files> {"type":"draft","page_seq":0,"draft":{"radios":{"0":1}}}
                worker> ready
                  background <- {"type":"event","session_id":"s1","name":"initialized"}
                  worker <- {"eventType":"firstRunCycle","sessionId":"s1"}
                  views <- working #0
                script> CommandUIRender
                  views <- awaiting-participant #1 PropsUIPageDataSubmission "Check" [PropsUIPromptConfirm]
                view> {"type":"answer","page_seq":1,"payload":{"__type__":"PayloadTrue","value":true}}
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadTrue","value":true}}
                  views <- working #1 PropsUIPageDataSubmission "Check" [PropsUIPromptConfirm]
                view+files> {"type":"draft","page_seq":1,"draft":{"radios":{"0":1}}}
                view> {"type":"attach"}
                  views <- working #1 PropsUIPageDataSubmission "Check" [PropsUIPromptConfirm]
            "#]],
        );
    }

    #[test]
    fn draft_is_cleared_by_a_new_page() {
        check(
            r#"
            open>
            worker> ready
            script> file-page
            view+files> {"type":"draft","page_seq":1,"draft":{"files":{"0":[{"name":"ddp.zip","size":5,"locator":"0"}]}}}
            view> {"type":"answer","page_seq":1,"payload":{"__type__":"PayloadFalse","value":false}}
            script> confirm-page
            "#,
            expect![[r#"
                open>
                  views <- booting start 0/3 #0
                worker> ready
                  background <- {"type":"event","session_id":"s1","name":"initialized"}
                  worker <- {"eventType":"firstRunCycle","sessionId":"s1"}
                  views <- working #0
                script> CommandUIRender
                  views <- awaiting-participant #1 PropsUIPageDataSubmission "Choose" [PropsUIPromptFileInput]
                view+files> {"type":"draft","page_seq":1,"draft":{"files":{"0":[{"name":"ddp.zip","size":5,"locator":"0"}]}}}
                  draft keeps the message's files
                view> {"type":"answer","page_seq":1,"payload":{"__type__":"PayloadFalse","value":false}}
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadFalse","value":false}}
                  views <- working #1 PropsUIPageDataSubmission "Choose" [PropsUIPromptFileInput]; draft {"files":{"0":[{"name":"ddp.zip","size":5,"locator":"0"}]}} +draft files
                script> CommandUIRender
                  draft drops its files
                  views <- awaiting-participant #2 PropsUIPageDataSubmission "Check" [PropsUIPromptConfirm]
            "#]],
        );
    }

    #[test]
    fn donate_bridge_answer_is_the_scripts_reply() {
        check(
            r#"
            open>
            worker> ready
            script> consent-page
            view> consent
            script> donate
            reply> {"success":true,"key":"s1-demo","status":200}
            "#,
            expect![[r#"
                open>
                  views <- booting start 0/3 #0
                worker> ready
                  background <- {"type":"event","session_id":"s1","name":"initialized"}
                  worker <- {"eventType":"firstRunCycle","sessionId":"s1"}
                  views <- working #0
                script> CommandUIRender
                  views <- awaiting-participant #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]
                view> consent
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadString","value":"[1]"}}
                  views <- working #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]
                script> CommandSystemDonate
                  donation store <- s1-demo of session s1 (3 bytes); background <- donate, reply awaited
                reply> {"success":true,"key":"s1-demo","status":200}
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadResponse","value":{"success":true,"key":"s1-demo","status":200}}}
            "#]],
        );
    }

    #[test]
    fn a_donation_body_beside_the_command_is_judged_as_the_json_string() {
        // The worker sends a donation's json_string beside its JSON. What the participant consented
        // to goes through the ledger as if it had been inline; a body beside a log is malformed.
        check(
            r#"
            open>
            worker> ready
            script> consent-page
            view> consent
            script+body> donate-head | [1]
            reply> {"success":true,"key":"s1-demo","status":200}
            script+body> {"__type__":"CommandSystemLog","level":"info","message":"m"} | [1]
            "#,
            expect![[r#"
                open>
                  views <- booting start 0/3 #0
                worker> ready
                  background <- {"type":"event","session_id":"s1","name":"initialized"}
                  worker <- {"eventType":"firstRunCycle","sessionId":"s1"}
                  views <- working #0
                script> CommandUIRender
                  views <- awaiting-participant #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]
                view> consent
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadString","value":"[1]"}}
                  views <- working #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]
                script+body> donate-head | [1]
                  donation store <- s1-demo of session s1 (3 bytes); background <- donate, reply awaited
                reply> {"success":true,"key":"s1-demo","status":200}
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadResponse","value":{"success":true,"key":"s1-demo","status":200}}}
                script+body> {"__type__":"CommandSystemLog","level":"info","message":"m"} | [1]
                  background <- {"type":"logs","session_id":"s1","entries":[{"level":"error","message":"the script sent a malformed CommandSystemLog at `(top level)`","json_string":"{\"level\":\"error\",\"message\":\"the script sent a malformed CommandSystemLog at `(top level)`\"}"}]}
                  views <- awaiting-participant #2 PropsUIPageDataSubmission "This study asked for something we cannot show" [PropsUIPageError("the script sent a bad command: CommandSystemLog is malformed at `(top level)`: a donation body came beside it; only a CommandSystemDonate may have one. Tell the researchers of this study; they can fix their script."), PropsUIPromptConfirm]; the extension's page
            "#]],
        );
    }

    #[test]
    fn donate_reply_missing_unreadable_or_unsent_tells_the_script_it_failed() {
        check(
            r#"
            open>
            worker> ready
            script> consent-page
            view> consent
            script> donate
            reply> nothing
            script> consent-page
            view> consent
            script> donate
            reply> unreadable missing field `status`
            script> consent-page
            view> consent
            script> donate
            reply> unsent Could not establish connection
            script> consent-page
            view> consent
            script> donate
            reply> {"error":"Error: quota"}
            "#,
            expect![[r#"
                open>
                  views <- booting start 0/3 #0
                worker> ready
                  background <- {"type":"event","session_id":"s1","name":"initialized"}
                  worker <- {"eventType":"firstRunCycle","sessionId":"s1"}
                  views <- working #0
                script> CommandUIRender
                  views <- awaiting-participant #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]
                view> consent
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadString","value":"[1]"}}
                  views <- working #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]
                script> CommandSystemDonate
                  donation store <- s1-demo of session s1 (3 bytes); background <- donate, reply awaited
                reply> nothing
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadResponse","value":{"success":false,"key":"s1-demo","status":0,"error":"the extension's background gave no answer to the donation"}}}
                script> CommandUIRender
                  views <- awaiting-participant #2 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]
                view> consent
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadString","value":"[1]"}}
                  views <- working #2 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]
                script> CommandSystemDonate
                  donation store <- s1-demo of session s1 (3 bytes); background <- donate, reply awaited
                reply> unreadable missing field `status`
                  log: the reply to donation s1-demo cannot be read: missing field `status`
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadResponse","value":{"success":false,"key":"s1-demo","status":0,"error":"the extension's background gave an answer to the donation that cannot be read"}}}
                script> CommandUIRender
                  views <- awaiting-participant #3 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]
                view> consent
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadString","value":"[1]"}}
                  views <- working #3 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]
                script> CommandSystemDonate
                  donation store <- s1-demo of session s1 (3 bytes); background <- donate, reply awaited
                reply> unsent Could not establish connection
                  log: donation s1-demo did not reach the background: Could not establish connection
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadResponse","value":{"success":false,"key":"s1-demo","status":0,"error":"the donation did not reach the extension's background: Could not establish connection"}}}
                script> CommandUIRender
                  views <- awaiting-participant #4 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]
                view> consent
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadString","value":"[1]"}}
                  views <- working #4 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]
                script> CommandSystemDonate
                  donation store <- s1-demo of session s1 (3 bytes); background <- donate, reply awaited
                reply> {"error":"Error: quota"}
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadResponse","value":{"success":false,"key":"s1-demo","status":0,"error":"Error: quota"}}}
            "#]],
        );
    }

    #[test]
    fn delivery_in_time_answers_the_hosts_status() {
        check(
            r#"
            open>
            worker> ready
            script> consent-page
            view> consent
            script> donate
            @1000 reply> {"queued":{"idempotency_key":"ab","ack_timeout_s":30}}
            @2000 background> {"type":"delivery","session_id":"s1","idempotency_key":"ab","key":"s1-demo","state":"retrying","last_status":503}
            @8000 background> {"type":"delivery","session_id":"s1","idempotency_key":"ab","key":"s1-demo","state":"delivered","status":201}
            @31000 timer> ab
            "#,
            expect![[r#"
                open>
                  views <- booting start 0/3 #0
                worker> ready
                  background <- {"type":"event","session_id":"s1","name":"initialized"}
                  worker <- {"eventType":"firstRunCycle","sessionId":"s1"}
                  views <- working #0
                script> CommandUIRender
                  views <- awaiting-participant #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]
                view> consent
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadString","value":"[1]"}}
                  views <- working #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]
                script> CommandSystemDonate
                  donation store <- s1-demo of session s1 (3 bytes); background <- donate, reply awaited
                @1000 reply> {"queued":{"idempotency_key":"ab","ack_timeout_s":30}}
                  timer ab at 31000
                  views <- working #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]; deliveries [s1-demo Pending]
                @2000 background> {"type":"delivery","session_id":"s1","idempotency_key":"ab","key":"s1-demo","state":"retrying","last_status":503}
                  views <- working #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]; deliveries [s1-demo Pending 503]
                @8000 background> {"type":"delivery","session_id":"s1","idempotency_key":"ab","key":"s1-demo","state":"delivered","status":201}
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadResponse","value":{"success":true,"key":"s1-demo","status":201}}}
                  views <- working #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]; deliveries [s1-demo Delivered 201]
                @31000 timer> ab
            "#]],
        );
    }

    #[test]
    fn delivery_rejected_in_time_answers_the_error() {
        check(
            r#"
            open>
            worker> ready
            script> consent-page
            view> consent
            script> donate
            @1000 reply> {"queued":{"idempotency_key":"ab","ack_timeout_s":30}}
            @2000 background> {"type":"delivery","session_id":"s1","idempotency_key":"ab","key":"s1-demo","state":"rejected","status":422,"error":"the host refused the donation: HTTP 422"}
            "#,
            expect![[r#"
                open>
                  views <- booting start 0/3 #0
                worker> ready
                  background <- {"type":"event","session_id":"s1","name":"initialized"}
                  worker <- {"eventType":"firstRunCycle","sessionId":"s1"}
                  views <- working #0
                script> CommandUIRender
                  views <- awaiting-participant #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]
                view> consent
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadString","value":"[1]"}}
                  views <- working #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]
                script> CommandSystemDonate
                  donation store <- s1-demo of session s1 (3 bytes); background <- donate, reply awaited
                @1000 reply> {"queued":{"idempotency_key":"ab","ack_timeout_s":30}}
                  timer ab at 31000
                  views <- working #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]; deliveries [s1-demo Pending]
                @2000 background> {"type":"delivery","session_id":"s1","idempotency_key":"ab","key":"s1-demo","state":"rejected","status":422,"error":"the host refused the donation: HTTP 422"}
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadResponse","value":{"success":false,"key":"s1-demo","status":422,"error":"the host refused the donation: HTTP 422"}}}
                  views <- working #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]; deliveries [s1-demo Rejected 422]
            "#]],
        );
    }

    #[test]
    fn delivery_before_the_reply_is_used_when_the_reply_comes() {
        check(
            r#"
            open>
            worker> ready
            script> consent-page
            view> consent
            script> donate
            @500 background> {"type":"delivery","session_id":"s1","idempotency_key":"ab","key":"s1-demo","state":"delivered","status":200}
            @600 background> {"type":"delivery","session_id":"s1","idempotency_key":"ab","key":"s1-demo","state":"retrying","last_status":503}
            @1000 reply> {"queued":{"idempotency_key":"ab","ack_timeout_s":30}}
            "#,
            expect![[r#"
                open>
                  views <- booting start 0/3 #0
                worker> ready
                  background <- {"type":"event","session_id":"s1","name":"initialized"}
                  worker <- {"eventType":"firstRunCycle","sessionId":"s1"}
                  views <- working #0
                script> CommandUIRender
                  views <- awaiting-participant #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]
                view> consent
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadString","value":"[1]"}}
                  views <- working #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]
                script> CommandSystemDonate
                  donation store <- s1-demo of session s1 (3 bytes); background <- donate, reply awaited
                @500 background> {"type":"delivery","session_id":"s1","idempotency_key":"ab","key":"s1-demo","state":"delivered","status":200}
                  views <- working #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]; deliveries [s1-demo Delivered 200]
                @600 background> {"type":"delivery","session_id":"s1","idempotency_key":"ab","key":"s1-demo","state":"retrying","last_status":503}
                @1000 reply> {"queued":{"idempotency_key":"ab","ack_timeout_s":30}}
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadResponse","value":{"success":true,"key":"s1-demo","status":200}}}
            "#]],
        );
    }

    #[test]
    fn delivery_before_the_reply_of_another_record_is_not_used() {
        check(
            r#"
            open>
            worker> ready
            script> consent-page
            view> consent
            script> donate
            @500 background> {"type":"delivery","session_id":"s1","idempotency_key":"old","key":"s1-demo","state":"delivered","status":200}
            @1000 reply> {"queued":{"idempotency_key":"ab","ack_timeout_s":30}}
            "#,
            expect![[r#"
                open>
                  views <- booting start 0/3 #0
                worker> ready
                  background <- {"type":"event","session_id":"s1","name":"initialized"}
                  worker <- {"eventType":"firstRunCycle","sessionId":"s1"}
                  views <- working #0
                script> CommandUIRender
                  views <- awaiting-participant #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]
                view> consent
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadString","value":"[1]"}}
                  views <- working #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]
                script> CommandSystemDonate
                  donation store <- s1-demo of session s1 (3 bytes); background <- donate, reply awaited
                @500 background> {"type":"delivery","session_id":"s1","idempotency_key":"old","key":"s1-demo","state":"delivered","status":200}
                  views <- working #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]; deliveries [s1-demo Delivered 200]
                @1000 reply> {"queued":{"idempotency_key":"ab","ack_timeout_s":30}}
                  timer ab at 31000
            "#]],
        );
    }

    #[test]
    fn delivery_ack_deadline_answers_202_and_a_later_result_does_not_answer_again() {
        check(
            r#"
            open>
            worker> ready
            script> consent-page
            view> consent
            script> donate
            @1000 reply> {"queued":{"idempotency_key":"ab","ack_timeout_s":2}}
            @2999 timer> ab
            @3000 timer> ab
            script> confirm-page
            @9000 background> {"type":"delivery","session_id":"s1","idempotency_key":"ab","key":"s1-demo","state":"delivered","status":200}
            @9001 timer> ab
            "#,
            expect![[r#"
                open>
                  views <- booting start 0/3 #0
                worker> ready
                  background <- {"type":"event","session_id":"s1","name":"initialized"}
                  worker <- {"eventType":"firstRunCycle","sessionId":"s1"}
                  views <- working #0
                script> CommandUIRender
                  views <- awaiting-participant #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]
                view> consent
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadString","value":"[1]"}}
                  views <- working #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]
                script> CommandSystemDonate
                  donation store <- s1-demo of session s1 (3 bytes); background <- donate, reply awaited
                @1000 reply> {"queued":{"idempotency_key":"ab","ack_timeout_s":2}}
                  timer ab at 3000
                  views <- working #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]; deliveries [s1-demo Pending]
                @2999 timer> ab
                  timer ab at 3000
                @3000 timer> ab
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadResponse","value":{"success":true,"key":"s1-demo","status":202}}}
                script> CommandUIRender
                  views <- awaiting-participant #2 PropsUIPageDataSubmission "Check" [PropsUIPromptConfirm]; deliveries [s1-demo Pending]
                @9000 background> {"type":"delivery","session_id":"s1","idempotency_key":"ab","key":"s1-demo","state":"delivered","status":200}
                  views <- awaiting-participant #2 PropsUIPageDataSubmission "Check" [PropsUIPromptConfirm]; deliveries [s1-demo Delivered 200]
                @9001 timer> ab
            "#]],
        );
    }

    #[test]
    fn delivery_result_after_the_deadline_answers_202_like_the_timer() {
        check(
            r#"
            open>
            worker> ready
            script> consent-page
            view> consent
            script> donate
            @1000 reply> {"queued":{"idempotency_key":"ab","ack_timeout_s":2}}
            @3500 background> {"type":"delivery","session_id":"s1","idempotency_key":"ab","key":"s1-demo","state":"rejected","status":400,"error":"the host refused the donation: HTTP 400"}
            @3501 timer> ab
            "#,
            expect![[r#"
                open>
                  views <- booting start 0/3 #0
                worker> ready
                  background <- {"type":"event","session_id":"s1","name":"initialized"}
                  worker <- {"eventType":"firstRunCycle","sessionId":"s1"}
                  views <- working #0
                script> CommandUIRender
                  views <- awaiting-participant #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]
                view> consent
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadString","value":"[1]"}}
                  views <- working #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]
                script> CommandSystemDonate
                  donation store <- s1-demo of session s1 (3 bytes); background <- donate, reply awaited
                @1000 reply> {"queued":{"idempotency_key":"ab","ack_timeout_s":2}}
                  timer ab at 3000
                  views <- working #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]; deliveries [s1-demo Pending]
                @3500 background> {"type":"delivery","session_id":"s1","idempotency_key":"ab","key":"s1-demo","state":"rejected","status":400,"error":"the host refused the donation: HTTP 400"}
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadResponse","value":{"success":true,"key":"s1-demo","status":202}}}
                  views <- working #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]; deliveries [s1-demo Rejected 400]
                @3501 timer> ab
            "#]],
        );
    }

    #[test]
    fn delivery_delivered_stays_delivered_whatever_a_late_report_says() {
        check(
            r#"
            open>
            worker> ready
            script> consent-page
            view> consent
            script> donate
            @1000 reply> {"queued":{"idempotency_key":"ab","ack_timeout_s":30}}
            @2000 background> {"type":"delivery","session_id":"s1","idempotency_key":"ab","key":"s1-demo","state":"delivered","status":409}
            @3000 background> {"type":"delivery","session_id":"s1","idempotency_key":"ab","key":"s1-demo","state":"retrying","last_status":503}
            @4000 background> {"type":"delivery","session_id":"s1","idempotency_key":"ab","key":"s1-demo","state":"rejected","status":400,"error":"late"}
            "#,
            expect![[r#"
                open>
                  views <- booting start 0/3 #0
                worker> ready
                  background <- {"type":"event","session_id":"s1","name":"initialized"}
                  worker <- {"eventType":"firstRunCycle","sessionId":"s1"}
                  views <- working #0
                script> CommandUIRender
                  views <- awaiting-participant #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]
                view> consent
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadString","value":"[1]"}}
                  views <- working #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]
                script> CommandSystemDonate
                  donation store <- s1-demo of session s1 (3 bytes); background <- donate, reply awaited
                @1000 reply> {"queued":{"idempotency_key":"ab","ack_timeout_s":30}}
                  timer ab at 31000
                  views <- working #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]; deliveries [s1-demo Pending]
                @2000 background> {"type":"delivery","session_id":"s1","idempotency_key":"ab","key":"s1-demo","state":"delivered","status":409}
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadResponse","value":{"success":true,"key":"s1-demo","status":409}}}
                  views <- working #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]; deliveries [s1-demo Delivered 409]
                @3000 background> {"type":"delivery","session_id":"s1","idempotency_key":"ab","key":"s1-demo","state":"retrying","last_status":503}
                @4000 background> {"type":"delivery","session_id":"s1","idempotency_key":"ab","key":"s1-demo","state":"rejected","status":400,"error":"late"}
            "#]],
        );
    }

    #[test]
    fn delivery_of_another_session_is_ignored() {
        check(
            r#"
            open>
            worker> ready
            script> consent-page
            view> consent
            script> donate
            @1000 reply> {"queued":{"idempotency_key":"ab","ack_timeout_s":30}}
            @2000 background> {"type":"delivery","session_id":"s0","idempotency_key":"ab","key":"s1-demo","state":"delivered","status":200}
            "#,
            expect![[r#"
                open>
                  views <- booting start 0/3 #0
                worker> ready
                  background <- {"type":"event","session_id":"s1","name":"initialized"}
                  worker <- {"eventType":"firstRunCycle","sessionId":"s1"}
                  views <- working #0
                script> CommandUIRender
                  views <- awaiting-participant #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]
                view> consent
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadString","value":"[1]"}}
                  views <- working #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]
                script> CommandSystemDonate
                  donation store <- s1-demo of session s1 (3 bytes); background <- donate, reply awaited
                @1000 reply> {"queued":{"idempotency_key":"ab","ack_timeout_s":30}}
                  timer ab at 31000
                  views <- working #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]; deliveries [s1-demo Pending]
                @2000 background> {"type":"delivery","session_id":"s0","idempotency_key":"ab","key":"s1-demo","state":"delivered","status":200}
            "#]],
        );
    }

    #[test]
    fn delivery_wait_ends_when_the_runtime_fails() {
        check(
            r#"
            open>
            worker> ready
            script> consent-page
            view> consent
            script> donate
            @1000 reply> {"queued":{"idempotency_key":"ab","ack_timeout_s":30}}
            @2000 worker> {"eventType":"error","message":"worker died"}
            @3000 background> {"type":"delivery","session_id":"s1","idempotency_key":"ab","key":"s1-demo","state":"delivered","status":200}
            @31000 timer> ab
            "#,
            expect![[r#"
                open>
                  views <- booting start 0/3 #0
                worker> ready
                  background <- {"type":"event","session_id":"s1","name":"initialized"}
                  worker <- {"eventType":"firstRunCycle","sessionId":"s1"}
                  views <- working #0
                script> CommandUIRender
                  views <- awaiting-participant #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]
                view> consent
                  worker <- {"eventType":"nextRunCycle","response":{"__type__":"PayloadString","value":"[1]"}}
                  views <- working #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]
                script> CommandSystemDonate
                  donation store <- s1-demo of session s1 (3 bytes); background <- donate, reply awaited
                @1000 reply> {"queued":{"idempotency_key":"ab","ack_timeout_s":30}}
                  timer ab at 31000
                  views <- working #1 PropsUIPageDataSubmission "Share?" [PropsUIPromptRadioInput]; deliveries [s1-demo Pending]
                @2000 worker> {"eventType":"error","message":"worker died"}
                  log: the script runtime failed; the error page says why
                  background <- {"type":"logs","session_id":"s1","entries":[{"level":"error","message":"the script runtime failed","json_string":"{\"level\":\"error\",\"message\":\"the script runtime failed\"}"}]}
                  background <- {"type":"session-crashed","session_id":"s1"}
                  views <- crashed #2 PropsUIPageDataSubmission "Something went wrong" [PropsUIPromptText, PropsUIPageError("worker died")]; deliveries [s1-demo Pending]; sent donations [s1-demo 3 bytes] logs [Error the script runtime failed]
                @3000 background> {"type":"delivery","session_id":"s1","idempotency_key":"ab","key":"s1-demo","state":"delivered","status":200}
                  views <- crashed #2 PropsUIPageDataSubmission "Something went wrong" [PropsUIPromptText, PropsUIPageError("worker died")]; deliveries [s1-demo Delivered 200]; sent donations [s1-demo 3 bytes] logs [Error the script runtime failed]
                @31000 timer> ab
            "#]],
        );
    }

    #[test]
    fn locale_first_browser_language_sets_it_and_a_later_one_does_not() {
        check(
            r#"
            open>
            study> study
            view> {"type":"browser-locale","browser_locale":"nl-NL"}
            view> {"type":"browser-locale","browser_locale":"en-US"}
            "#,
            expect![[r#"
                open>
                  views <- booting start 0/3 #0
                study> study
                  views <- booting start 0/3 #0; study "Screen time" 2
                view> {"type":"browser-locale","browser_locale":"nl-NL"}
                  views <- booting start 0/3 #0; locale nl; study "Schermtijd" 2
                view> {"type":"browser-locale","browser_locale":"en-US"}
            "#]],
        );
    }

    #[test]
    fn locale_switch_changes_it_for_every_view() {
        check(
            r#"
            open> nl
            study> study
            view> {"type":"browser-locale","browser_locale":"en-US"}
            view> {"type":"set-locale","locale":"en"}
            worker> ready
            "#,
            expect![[r#"
                open> nl
                  views <- booting start 0/3 #0; locale nl
                study> study
                  views <- booting start 0/3 #0; locale nl; study "Schermtijd" 2
                view> {"type":"browser-locale","browser_locale":"en-US"}
                view> {"type":"set-locale","locale":"en"}
                  views <- booting start 0/3 #0; locale en; study "Screen time" 2
                worker> ready
                  background <- {"type":"event","session_id":"s1","name":"initialized"}
                  worker <- {"eventType":"firstRunCycle","sessionId":"s1","platform":"android"}
                  views <- working #0; locale en; study "Screen time" 2
            "#]],
        );
    }
}

#[cfg(test)]
mod study_script_tests {
    use port_protocol::study::StudyOrigin;

    use super::*;

    #[test]
    fn study_script_comes_from_the_config_or_the_embedded_study() {
        let config = |script: &str| {
            let text = format!(
                r#"{{"schema":"port-study/1","id":"s","version":"1","title":"T","description":"D",
                    "script":{script},"locales":["en"],"donate":{{"mode":"local"}}}}"#
            );
            StudyConfig::parse(&text, StudyOrigin::Embedded).unwrap()
        };
        assert_eq!(study_script("demo", None), StudyScript::Bundled { path: "studies/demo/script.py".into() });
        assert_eq!(
            study_script("s", Some(&config(r#"{"bundled":"studies/s/main.py"}"#))),
            StudyScript::Bundled { path: "studies/s/main.py".into() }
        );
        assert_eq!(
            study_script("s", Some(&config(r#"{"source":"print(1)"}"#))),
            StudyScript::Inline { name: "s.py".into(), source: "print(1)".into() }
        );
        assert_eq!(
            study_script("s", Some(&config(r#"{"url":"https://x.org/s.py"}"#))),
            StudyScript::Fetch { url: "https://x.org/s.py".into() }
        );
    }
}
