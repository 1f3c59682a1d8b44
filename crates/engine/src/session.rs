//! The session: which step of the run cycle we are in, and what to do next.

use port_protocol::worker_message::{DonateOutcome, DonateQueued};
use port_protocol::{
    Command, DecodeError, DonateCommand, DonateResponse, ExitCommand, LogCommand, LogLevel, Page, Payload, Prompt,
};

use crate::bounds::{self, LogAdmission, LogBudget};
use crate::error_page::{self, BadCommand};
use crate::ledger::ConsentLedger;
use crate::review_page;

/// How a donation is answered to the script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DonateReplyMode {
    /// D3I: `PayloadResponse{success, key, status, error?}` whenever the host gives a result.
    #[default]
    Response,
    /// Upstream feldspar: always `PayloadVoid`, whatever the host says.
    Legacy,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    pub donate_reply: DonateReplyMode,
    /// Log entries below this level are dropped.
    pub min_log_level: LogLevel,
    /// A donation of more bytes is not sent: the engine's page says so, and the script is told 413.
    /// The study config's `max_donation_bytes`; `None`: no limit.
    pub max_donation_bytes: Option<u64>,
}

impl Default for SessionConfig {
    fn default() -> SessionConfig {
        SessionConfig {
            donate_reply: DonateReplyMode::Response,
            min_log_level: LogLevel::Debug,
            max_donation_bytes: None,
        }
    }
}

/// What the caller must do next. Perform them in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Resume the script with this reply (`None` starts it), then report its output to
    /// [`Session::on_script_output`].
    SendToScript(Option<Payload>),
    /// Show this page in every open UI view. When the session is [`State::AwaitingUi`], the first
    /// answer goes to [`Session::on_ui_answer`].
    Render(Page),
    /// Hand this donation to the host bridge and report its answer to [`Session::on_host_reply`].
    Donate(DonateCommand),
    /// Forward these log entries to the host. Nothing waits for them.
    SendLogs(Vec<LogCommand>),
    /// Tell the host about an event, e.g. `initialized`. Nothing waits for it.
    SendEvent(String),
    /// Tell the host the study ended. The session is over.
    Exit(ExitCommand),
}

/// Which answer the session waits for.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    /// Created; [`Session::start`] not yet called.
    NotStarted,
    /// The script is working on the last reply.
    AwaitingScript,
    /// A page waits for the participant.
    AwaitingUi { page: Page, pending: PendingAnswer },
    /// A donation waits for the host.
    AwaitingHost { donation_key: String },
    /// The script exited; nothing more happens.
    Exited { code: i64, info: String },
    /// The script's runtime failed; the error page stays up and nothing more happens.
    Crashed { page: Page },
}

/// Who gets the answer to the page on screen. A page is answered once: the answer consumes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PendingAnswer {
    /// The script's own page: the answer is the reply to its `CommandUIRender`.
    Script,
    /// The engine's page about a command it could not handle: OK resumes the script with
    /// `PayloadVoid`, cancel ends the study.
    ContinueAfterBadCommand,
    /// The engine's review page for a donation the consent ledger did not find among the
    /// participant's answers. "Send" hands it to the host; any other answer declines it, and the
    /// script gets `PayloadResponse` 403.
    ReviewDonation { donation: DonateCommand },
    /// The engine's page about a donation bigger than the study's host accepts, which was not sent.
    /// OK resumes the script with `PayloadResponse` 413; cancel ends the study.
    DonationTooBig { key: String, n_bytes: u64, max_bytes: u64 },
}

/// A call that does not fit the session's state. The session is unchanged and survives it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("the session is not waiting for {expected} (it is {actual})")]
    UnexpectedInput { expected: &'static str, actual: &'static str },
}

/// One study run: the state of the cycle plus buffered logs.
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    state: State,
    /// The page every UI view shows: stays up while the script or host works on the answer.
    current_page: Option<Page>,
    log_buffer: Vec<LogCommand>,
    /// What this session may still log to the host ([`bounds::MAX_LOG_MESSAGES`], [`bounds::MAX_LOG_BYTES`]).
    log_budget: LogBudget,
    /// The participant's answers to the script's pages: a donation of one of them needs no review,
    /// once per answer.
    ledger: ConsentLedger,
}

impl Session {
    pub fn new(config: SessionConfig) -> Session {
        Session {
            config,
            state: State::NotStarted,
            current_page: None,
            log_buffer: Vec::new(),
            log_budget: LogBudget::default(),
            ledger: ConsentLedger::default(),
        }
    }

    /// Sets the largest donation that is sent (the study config's `max_donation_bytes`, known
    /// once the config came).
    pub fn limit_donations(&mut self, max_bytes: Option<u64>) {
        self.config.max_donation_bytes = max_bytes;
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// The page a UI that attaches now should show.
    pub fn current_page(&self) -> Option<&Page> {
        self.current_page.as_ref()
    }

    pub fn is_finished(&self) -> bool {
        matches!(self.state, State::Exited { .. } | State::Crashed { .. })
    }

    /// Announces the session to the host and starts the script.
    pub fn start(&mut self) -> Result<Vec<Action>, SessionError> {
        self.expect(matches!(self.state, State::NotStarted), "start")?;
        self.state = State::AwaitingScript;
        Ok(vec![Action::SendEvent("initialized".into()), Action::SendToScript(None)])
    }

    /// Routes what the script produced: its next command as JSON text, or the failure of its runtime.
    pub fn on_script_output(
        &mut self,
        output: Result<String, crate::ScriptError>,
    ) -> Result<Vec<Action>, SessionError> {
        match output {
            Ok(json) => self.on_script_command(Command::from_json(&json)),
            Err(error) => {
                self.expect(matches!(self.state, State::AwaitingScript), "script output")?;
                Ok(self.crash(error))
            }
        }
    }

    /// Routes the script's next command, decoded by the runner: the extension's worker sends a
    /// donation's body beside its JSON ([`Command::from_json_and_donation_body`]).
    pub fn on_script_command(&mut self, command: Result<Command, DecodeError>) -> Result<Vec<Action>, SessionError> {
        self.expect(matches!(self.state, State::AwaitingScript), "script output")?;
        let command = match command {
            Ok(command) => command,
            Err(error) => return Ok(self.bad_command(&BadCommand::Malformed(error))),
        };
        let mut actions = Vec::new();
        match command {
            Command::UiRender(render) => {
                let resolves_itself = render
                    .page
                    .body()
                    .is_some_and(|page| page.body.iter().any(|prompt| matches!(prompt, Prompt::Progress(_))));
                self.flush_logs(&mut actions);
                self.current_page = Some(render.page.clone());
                actions.push(Action::Render(render.page.clone()));
                if resolves_itself {
                    // Feldspar's progress prompt resolves as it renders; the page stays up meanwhile.
                    actions.push(Action::SendToScript(Some(Payload::True)));
                } else {
                    self.state = State::AwaitingUi { page: render.page, pending: PendingAnswer::Script };
                }
            }
            Command::SystemDonate(donation) => self.on_donation(donation, &mut actions),
            Command::SystemLog(log) => {
                self.push_log(log, &mut actions);
                actions.push(Action::SendToScript(Some(Payload::Void)));
            }
            Command::SystemEvent(_) => {
                // Events are the runtime's own (`initialized`, sent by `start`). Forwarded, a script's
                // event name would be a channel to the host that neither consent nor a bound covers.
                self.push_log(
                    LogCommand::new(
                        LogLevel::Warn,
                        "the script sent a CommandSystemEvent, which only the runtime sends; it was not forwarded",
                    ),
                    &mut actions,
                );
                actions.push(Action::SendToScript(Some(Payload::Void)));
            }
            Command::SystemExit(mut exit) => {
                exit.info = bounds::cut_to_bytes(exit.info, bounds::MAX_EXIT_INFO_BYTES);
                self.flush_logs(&mut actions);
                self.state = State::Exited { code: exit.code, info: exit.info.clone() };
                actions.push(Action::Exit(exit));
            }
            Command::Unsupported(raw) => {
                let wire_type = raw.get("__type__").and_then(|value| value.as_str()).unwrap_or("?").to_owned();
                return Ok(self.bad_command(&BadCommand::Unknown { wire_type }));
            }
        }
        Ok(actions)
    }

    /// The participant's answer to the page on screen. Only the first answer counts; a second one
    /// (a double click, a second view) is an error the caller may ignore.
    pub fn on_ui_answer(&mut self, answer: Payload) -> Result<Vec<Action>, SessionError> {
        // Taken out, not cloned: a review holds the whole donation.
        let (page, pending) = match std::mem::replace(&mut self.state, State::AwaitingScript) {
            State::AwaitingUi { page, pending } => (page, pending),
            other => {
                self.state = other;
                return Err(self.unexpected("a UI answer"));
            }
        };
        let mut actions = Vec::new();
        match (pending, answer) {
            (PendingAnswer::Script, answer) => {
                // The trusted UI gave this answer on a page the participant saw: its data may leave.
                self.ledger.record(&answer);
                self.state = State::AwaitingScript;
                actions.push(Action::SendToScript(Some(answer)));
            }
            (PendingAnswer::ContinueAfterBadCommand, Payload::True) => {
                self.state = State::AwaitingScript;
                actions.push(Action::SendToScript(Some(Payload::Void)));
            }
            (PendingAnswer::ContinueAfterBadCommand, _) => {
                let exit =
                    ExitCommand { code: 1, info: "stopped by the participant after an unsupported command".into() };
                self.flush_logs(&mut actions);
                self.state = State::Exited { code: exit.code, info: exit.info.clone() };
                actions.push(Action::Exit(exit));
            }
            (PendingAnswer::DonationTooBig { key, n_bytes, max_bytes }, Payload::True) => {
                self.state = State::AwaitingScript;
                let refusal = self.refusal(&key, 413, &error_page::too_big_error(n_bytes, max_bytes));
                actions.push(Action::SendToScript(Some(refusal)));
            }
            (PendingAnswer::DonationTooBig { .. }, _) => {
                let exit = ExitCommand {
                    code: 1,
                    info: "stopped by the participant after a donation too big for the study's host".into(),
                };
                self.flush_logs(&mut actions);
                self.state = State::Exited { code: exit.code, info: exit.info.clone() };
                actions.push(Action::Exit(exit));
            }
            (PendingAnswer::ReviewDonation { donation }, answer) if review_page::is_send(&page, &answer) => {
                self.state = State::AwaitingHost { donation_key: donation.key.clone() };
                actions.push(Action::Donate(donation));
            }
            (PendingAnswer::ReviewDonation { donation }, _) => {
                // The size only: the key may carry data as well as the content.
                self.push_log(
                    LogCommand::new(
                        LogLevel::Info,
                        format!(
                            "a donation was declined by the participant at review ({} bytes)",
                            donation.json_string.len()
                        ),
                    ),
                    &mut actions,
                );
                self.state = State::AwaitingScript;
                actions.push(Action::SendToScript(Some(self.refusal(
                    &donation.key,
                    403,
                    "declined by the participant",
                ))));
            }
        }
        Ok(actions)
    }

    /// The host's answer to the pending donation; `None` when the bridge gives no result.
    pub fn on_host_reply(&mut self, reply: Option<DonateResponse>) -> Result<Vec<Action>, SessionError> {
        let State::AwaitingHost { .. } = &self.state else {
            return Err(self.unexpected("a host reply"));
        };
        self.state = State::AwaitingScript;
        let payload = match (self.config.donate_reply, reply) {
            (DonateReplyMode::Response, Some(response)) => Payload::Response(response),
            (DonateReplyMode::Response, None) | (DonateReplyMode::Legacy, _) => Payload::Void,
        };
        Ok(vec![Action::SendToScript(Some(payload))])
    }

    /// The script's runtime failed outside a run cycle: the worker died or sent what cannot be read,
    /// while a page or a donation was pending, or before the script started. The session crashes
    /// from any state but the end: an exited session stays exited, and a crashed one keeps its
    /// first error page. `message` may hold participant data: it is shown locally, never sent.
    pub fn on_runtime_failure(&mut self, message: String) -> Result<Vec<Action>, SessionError> {
        match self.state {
            State::Exited { .. } | State::Crashed { .. } => Err(self.unexpected("a runtime failure")),
            _ => Ok(self.crash(crate::ScriptError { message })),
        }
    }

    /// An unknown or malformed command: tell the participant and the host, and let the participant
    /// choose to go on. Feldspar stalls silently here.
    fn bad_command(&mut self, error: &BadCommand) -> Vec<Action> {
        let mut actions = Vec::new();
        // The host gets only the wire type and field path: a serde reason may quote script data.
        self.push_log(LogCommand::new(LogLevel::Error, error_page::describe_for_host(error)), &mut actions);
        let page = error_page::bad_command_page(error);
        self.current_page = Some(page.clone());
        self.state = State::AwaitingUi { page: page.clone(), pending: PendingAnswer::ContinueAfterBadCommand };
        actions.push(Action::Render(page));
        actions
    }

    fn crash(&mut self, error: crate::ScriptError) -> Vec<Action> {
        let mut actions = Vec::new();
        // The message may hold a traceback with participant data: it is shown locally, never sent.
        self.push_log(LogCommand::new(LogLevel::Error, "the script runtime failed"), &mut actions);
        let page = error_page::crash_page(&error.message);
        self.current_page = Some(page.clone());
        self.state = State::Crashed { page: page.clone() };
        actions.push(Action::Render(page));
        actions
    }

    /// A donation the script yields: refused for a bad key, sent when the consent ledger admits it,
    /// else shown to the participant on the review page first.
    fn on_donation(&mut self, donation: DonateCommand, actions: &mut Vec<Action>) {
        if let Err(bad_key) = bounds::check_donation_key(&donation.key) {
            // The key goes to the host as it is, so it must not carry data; the host learns only what
            // was wrong with it.
            let description = bad_key.describe();
            self.push_log(LogCommand::new(LogLevel::Error, format!("a donation was refused: {description}")), actions);
            actions.push(Action::SendToScript(Some(self.refusal(&donation.key, 400, description))));
            return;
        }
        let n_bytes = donation.json_string.len() as u64;
        if let Some(max_bytes) = self.config.max_donation_bytes.filter(|max_bytes| n_bytes > *max_bytes) {
            // Sizes only: the host learns that the study's donations need a higher limit.
            let message = format!("a donation was too big for the study's host ({n_bytes} bytes, at most {max_bytes})");
            self.push_log(LogCommand::new(LogLevel::Error, message), actions);
            let page = error_page::too_big_page(n_bytes, max_bytes);
            self.current_page = Some(page.clone());
            let pending = PendingAnswer::DonationTooBig { key: donation.key, n_bytes, max_bytes };
            self.state = State::AwaitingUi { page: page.clone(), pending };
            actions.push(Action::Render(page));
            return;
        }
        self.flush_logs(actions);
        if self.ledger.admit(&donation) {
            self.state = State::AwaitingHost { donation_key: donation.key.clone() };
            actions.push(Action::Donate(donation));
            return;
        }
        let page = review_page::review_page(&donation);
        self.current_page = Some(page.clone());
        self.state = State::AwaitingUi { page: page.clone(), pending: PendingAnswer::ReviewDonation { donation } };
        actions.push(Action::Render(page));
    }

    /// The script's answer when the engine does not send its donation: a `PayloadResponse` with
    /// `status` and `error`, or `PayloadVoid` for a script that speaks upstream feldspar's protocol,
    /// which has no way to say that a donation failed.
    fn refusal(&self, key: &str, status: u16, error: &str) -> Payload {
        match self.config.donate_reply {
            DonateReplyMode::Response => Payload::Response(DonateResponse {
                success: false,
                key: key.to_owned(),
                status,
                error: Some(error.to_owned()),
            }),
            DonateReplyMode::Legacy => Payload::Void,
        }
    }

    /// Buffers a log entry; errors flush the buffer at once, the rest at the end of the cycle.
    /// The message is cut to [`bounds::MAX_LOG_MESSAGE_BYTES`], and `json_string` (what mono parses)
    /// is rebuilt from the level and the cut message, so it cannot carry anything the message does
    /// not. Past the session's log budget, entries are dropped after one line that says so.
    fn push_log(&mut self, log: LogCommand, actions: &mut Vec<Action>) {
        if log.level < self.config.min_log_level {
            return;
        }
        let log = LogCommand::new(log.level, bounds::cut_to_bytes(log.message, bounds::MAX_LOG_MESSAGE_BYTES));
        let log = match self.log_budget.admit(log.message.len()) {
            LogAdmission::Send => log,
            LogAdmission::LimitReached => LogCommand::new(LogLevel::Warn, bounds::log_limit_reached()),
            LogAdmission::Drop => return,
        };
        let is_error = log.level == LogLevel::Error;
        self.log_buffer.push(log);
        if is_error {
            self.flush_logs(actions);
        }
    }

    fn flush_logs(&mut self, actions: &mut Vec<Action>) {
        if !self.log_buffer.is_empty() {
            actions.push(Action::SendLogs(std::mem::take(&mut self.log_buffer)));
        }
    }

    fn expect(&self, ok: bool, expected: &'static str) -> Result<(), SessionError> {
        if ok { Ok(()) } else { Err(SessionError::UnexpectedInput { expected, actual: self.state_name() }) }
    }

    fn unexpected(&self, expected: &'static str) -> SessionError {
        SessionError::UnexpectedInput { expected, actual: self.state_name() }
    }

    fn state_name(&self) -> &'static str {
        match self.state {
            State::NotStarted => "not started",
            State::AwaitingScript => "waiting for the script",
            State::AwaitingUi { .. } => "waiting for the participant",
            State::AwaitingHost { .. } => "waiting for the host",
            State::Exited { .. } => "exited",
            State::Crashed { .. } => "crashed",
        }
    }
}

/// What to do with the background's reply to a donation (`ToBackground::Donate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DonateAnswer {
    /// The donation is in the outbox: wait for its result (`outbox::AckWait`).
    Wait(DonateQueued),
    /// Answer the script now, through [`Session::on_host_reply`].
    Reply(DonateResponse),
}

/// Maps the background's reply to a donation keyed `key`: the decoded outcome, or why there is
/// none (the message failed, the background answered `{error}` or nothing, or the reply did not
/// decode). Whatever went wrong, the script learns that the donation failed (`success: false`,
/// status 0 as for a network error), never that it succeeded.
pub fn donate_answer(key: &str, reply: Result<DonateOutcome, String>) -> DonateAnswer {
    match reply {
        Ok(DonateOutcome::Queued { queued }) => DonateAnswer::Wait(queued),
        Ok(DonateOutcome::Answered(response)) => DonateAnswer::Reply(response),
        Ok(DonateOutcome::Failed { error }) | Err(error) => {
            DonateAnswer::Reply(DonateResponse { success: false, key: key.to_owned(), status: 0, error: Some(error) })
        }
    }
}

/// The locales the extension's UI and the session offer.
pub const SESSION_LOCALES: [&str; 2] = ["en", "nl"];

/// The locale texts are resolved in when nothing chose one.
pub const DEFAULT_LOCALE: &str = "en";

/// The session's locale. It starts unset; a host page's `live-init` locale sets it, else the first
/// view's browser language, else it stays [`DEFAULT_LOCALE`]. The participant's switch changes it
/// for every view.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionLocale {
    locale: Option<String>,
}

impl SessionLocale {
    /// The locale a host page's `live-init` asked for, if any.
    pub fn from_host_page(locale: Option<&str>) -> SessionLocale {
        SessionLocale { locale: locale.map(str::trim).filter(|locale| !locale.is_empty()).map(str::to_owned) }
    }

    /// A view told its browser language; the first one sets an unset locale to `nl` for any Dutch
    /// variant, else `en`. Returns whether the locale changed.
    pub fn on_browser_language(&mut self, browser_language: &str) -> bool {
        if self.locale.is_some() {
            return false;
        }
        self.locale = Some(locale_for_browser_language(browser_language).to_owned());
        true
    }

    /// The participant chose `locale`.
    pub fn on_switch(&mut self, locale: String) {
        self.locale = Some(locale);
    }

    /// The locale, `None` while unset.
    pub fn get(&self) -> Option<&str> {
        self.locale.as_deref()
    }

    /// The locale to resolve texts in now.
    pub fn resolved(&self) -> &str {
        self.locale.as_deref().unwrap_or(DEFAULT_LOCALE)
    }
}

/// `nl` for a Dutch browser language (`nl`, `nl-NL`, `nl_BE`), `en` for anything else.
pub fn locale_for_browser_language(browser_language: &str) -> &'static str {
    let language = browser_language.split(['-', '_']).next().unwrap_or("").trim().to_lowercase();
    if language == "nl" { "nl" } else { DEFAULT_LOCALE }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use crate::test_support::fakes_from_transcript;
    use crate::{DonateReplyMode, SessionConfig, run};

    #[track_caller]
    fn check_with(config: SessionConfig, transcript: &str, expect: Expect) {
        let (mut script, mut world, trace) = fakes_from_transcript(transcript);
        let outcome = run(&mut script, &mut world, config);
        trace.push(format!("outcome: {outcome:?}"));
        expect.assert_eq(&trace.text());
    }

    #[track_caller]
    fn check(transcript: &str, expect: Expect) {
        check_with(SessionConfig::default(), transcript, expect);
    }

    const CONFIRM_PAGE: &str = r#"{"__type__":"CommandUIRender","page":{"__type__":"PropsUIPageDataSubmission","platform":"x","header":{"__type__":"PropsUIHeader","title":{"translations":{"en":"Check"}}},"body":[{"__type__":"PropsUIPromptConfirm","text":"Go?","ok":"Yes","cancel":"No"}]}}"#;

    #[test]
    fn render_answer_goes_back_to_script() {
        check(
            &format!(
                r#"
                script> {CONFIRM_PAGE}
                ui> {{"__type__":"PayloadFalse","value":false}}
                script> {{"__type__":"CommandSystemExit","code":0,"info":"End of script"}}
                "#
            ),
            expect![[r#"
                host <- event initialized
                script <- start
                script -> {"__type__":"CommandUIRender","page":{"__type__":"PropsUIPageDataSubmission","platform":"x","header":{"__type__":"PropsUIHeader","title":{"translations":{"en":"Check"}}},"body":[{"__type__":"PropsUIPromptConfirm","text":"Go?","ok":"Yes","cancel":"No"}]}}
                ui <- PropsUIPageDataSubmission "Check" [PropsUIPromptConfirm]
                ui -> {"__type__":"PayloadFalse","value":false}
                script <- {"__type__":"PayloadFalse","value":false}
                script -> {"__type__":"CommandSystemExit","code":0,"info":"End of script"}
                host <- exit 0 "End of script"
                outcome: Ok(Exited { code: 0, info: "End of script" })
            "#]],
        );
    }

    #[test]
    fn donate_answers_payload_response() {
        check(
            r#"
            script> {"__type__":"CommandSystemDonate","key":"1-demo","json_string":"[1]"}
            ui> {"__type__":"PayloadTrue","value":true}
            host> {"success":false,"key":"1-demo","status":503,"error":"down"}
            script> {"__type__":"CommandSystemExit","code":0,"info":""}
            "#,
            expect![[r#"
                host <- event initialized
                script <- start
                script -> {"__type__":"CommandSystemDonate","key":"1-demo","json_string":"[1]"}
                ui <- PropsUIPageDataSubmission "A question from the extension, not from the study" [PropsUIPromptText, PropsUIPromptConsentFormViz]
                ui reviews donation 1-demo (3 bytes)
                ui -> {"__type__":"PayloadTrue","value":true}
                host <- donate 1-demo [1]
                host -> DonateResponse { success: false, key: "1-demo", status: 503, error: Some("down") }
                script <- {"__type__":"PayloadResponse","value":{"success":false,"key":"1-demo","status":503,"error":"down"}}
                script -> {"__type__":"CommandSystemExit","code":0,"info":""}
                host <- exit 0 ""
                outcome: Ok(Exited { code: 0, info: "" })
            "#]],
        );
    }

    #[test]
    fn donate_legacy_mode_answers_payload_void() {
        check_with(
            SessionConfig { donate_reply: DonateReplyMode::Legacy, ..SessionConfig::default() },
            r#"
            script> {"__type__":"CommandSystemDonate","key":"k","json_string":"{}"}
            ui> {"__type__":"PayloadTrue","value":true}
            host> {"success":true,"key":"k","status":200}
            script> {"__type__":"CommandSystemExit","code":0,"info":""}
            "#,
            expect![[r#"
                host <- event initialized
                script <- start
                script -> {"__type__":"CommandSystemDonate","key":"k","json_string":"{}"}
                ui <- PropsUIPageDataSubmission "A question from the extension, not from the study" [PropsUIPromptText, PropsUIPromptConsentFormViz]
                ui reviews donation k (2 bytes)
                ui -> {"__type__":"PayloadTrue","value":true}
                host <- donate k {}
                host -> DonateResponse { success: true, key: "k", status: 200, error: None }
                script <- {"__type__":"PayloadVoid"}
                script -> {"__type__":"CommandSystemExit","code":0,"info":""}
                host <- exit 0 ""
                outcome: Ok(Exited { code: 0, info: "" })
            "#]],
        );
    }

    #[test]
    fn donate_bridge_without_result_answers_payload_void() {
        check(
            r#"
            script> {"__type__":"CommandSystemDonate","key":"k","json_string":"{}"}
            ui> {"__type__":"PayloadTrue","value":true}
            host> none
            script> {"__type__":"CommandSystemExit","code":0,"info":""}
            "#,
            expect![[r#"
                host <- event initialized
                script <- start
                script -> {"__type__":"CommandSystemDonate","key":"k","json_string":"{}"}
                ui <- PropsUIPageDataSubmission "A question from the extension, not from the study" [PropsUIPromptText, PropsUIPromptConsentFormViz]
                ui reviews donation k (2 bytes)
                ui -> {"__type__":"PayloadTrue","value":true}
                host <- donate k {}
                host -> none
                script <- {"__type__":"PayloadVoid"}
                script -> {"__type__":"CommandSystemExit","code":0,"info":""}
                host <- exit 0 ""
                outcome: Ok(Exited { code: 0, info: "" })
            "#]],
        );
    }

    #[test]
    fn donate_with_a_bad_key_is_refused_with_400_and_a_log_without_the_key() {
        check(
            r#"
            script> {"__type__":"CommandSystemDonate","key":"../jan@example.org","json_string":"[1]"}
            script> {"__type__":"CommandSystemDonate","key":"","json_string":"[1]"}
            script> {"__type__":"CommandSystemExit","code":0,"info":""}
            "#,
            expect![[r#"
                host <- event initialized
                script <- start
                script -> {"__type__":"CommandSystemDonate","key":"../jan@example.org","json_string":"[1]"}
                host <- logs [error: a donation was refused: the donation key may only hold ASCII letters, digits, '-', '_' and '.']
                script <- {"__type__":"PayloadResponse","value":{"success":false,"key":"../jan@example.org","status":400,"error":"the donation key may only hold ASCII letters, digits, '-', '_' and '.'"}}
                script -> {"__type__":"CommandSystemDonate","key":"","json_string":"[1]"}
                host <- logs [error: a donation was refused: the donation key is empty]
                script <- {"__type__":"PayloadResponse","value":{"success":false,"key":"","status":400,"error":"the donation key is empty"}}
                script -> {"__type__":"CommandSystemExit","code":0,"info":""}
                host <- exit 0 ""
                outcome: Ok(Exited { code: 0, info: "" })
            "#]],
        );
    }

    #[test]
    fn donate_with_a_bad_key_in_legacy_mode_answers_payload_void() {
        check_with(
            SessionConfig { donate_reply: DonateReplyMode::Legacy, ..SessionConfig::default() },
            r#"
            script> {"__type__":"CommandSystemDonate","key":"a b","json_string":"[1]"}
            script> {"__type__":"CommandSystemExit","code":0,"info":""}
            "#,
            expect![[r#"
                host <- event initialized
                script <- start
                script -> {"__type__":"CommandSystemDonate","key":"a b","json_string":"[1]"}
                host <- logs [error: a donation was refused: the donation key may only hold ASCII letters, digits, '-', '_' and '.']
                script <- {"__type__":"PayloadVoid"}
                script -> {"__type__":"CommandSystemExit","code":0,"info":""}
                host <- exit 0 ""
                outcome: Ok(Exited { code: 0, info: "" })
            "#]],
        );
    }

    #[test]
    fn event_from_the_script_is_not_forwarded_to_the_host() {
        check(
            r#"
            script> {"__type__":"CommandSystemEvent","name":"jan@example.org"}
            script> {"__type__":"CommandSystemExit","code":0,"info":""}
            "#,
            expect![[r#"
                host <- event initialized
                script <- start
                script -> {"__type__":"CommandSystemEvent","name":"jan@example.org"}
                script <- {"__type__":"PayloadVoid"}
                script -> {"__type__":"CommandSystemExit","code":0,"info":""}
                host <- logs [warn: the script sent a CommandSystemEvent, which only the runtime sends; it was not forwarded]
                host <- exit 0 ""
                outcome: Ok(Exited { code: 0, info: "" })
            "#]],
        );
    }

    /// A consent form with one table `t` of one row `{"c": "v"}`; its donate answer is `CONSENT_ANSWER`.
    const CONSENT_PAGE: &str = r#"{"__type__":"CommandUIRender","page":{"__type__":"PropsUIPageDataSubmission","platform":"x","header":{"__type__":"PropsUIHeader","title":"Your data"},"body":[{"__type__":"PropsUIPromptConsentFormViz","tables":[{"__type__":"PropsUIPromptConsentFormTableViz","id":"t","title":"T","data_frame":{"c":{"0":"v"}}}]}]}}"#;
    const CONSENT_ANSWER: &str =
        r#"{"__type__":"PayloadJSON","value":"[{\"t\":[{\"c\":\"v\"}],\"deleted row count\":\"0\"}]"}"#;
    const EXIT: &str = r#"{"__type__":"CommandSystemExit","code":0,"info":""}"#;

    #[test]
    fn ledger_consent_answer_donated_verbatim_leaves_at_once() {
        check(
            &format!(
                r#"
                script> {CONSENT_PAGE}
                ui> {CONSENT_ANSWER}
                script> {{"__type__":"CommandSystemDonate","key":"1-demo","json_string":"[{{\"t\":[{{\"c\":\"v\"}}],\"deleted row count\":\"0\"}}]"}}
                host> {{"success":true,"key":"1-demo","status":200}}
                script> {EXIT}
                "#
            ),
            expect![[r#"
                host <- event initialized
                script <- start
                script -> {"__type__":"CommandUIRender","page":{"__type__":"PropsUIPageDataSubmission","platform":"x","header":{"__type__":"PropsUIHeader","title":"Your data"},"body":[{"__type__":"PropsUIPromptConsentFormViz","tables":[{"__type__":"PropsUIPromptConsentFormTableViz","id":"t","title":"T","data_frame":{"c":{"0":"v"}}}]}]}}
                ui <- PropsUIPageDataSubmission "Your data" [PropsUIPromptConsentFormViz]
                ui -> {"__type__":"PayloadJSON","value":"[{\"t\":[{\"c\":\"v\"}],\"deleted row count\":\"0\"}]"}
                script <- {"__type__":"PayloadJSON","value":"[{\"t\":[{\"c\":\"v\"}],\"deleted row count\":\"0\"}]"}
                script -> {"__type__":"CommandSystemDonate","key":"1-demo","json_string":"[{\"t\":[{\"c\":\"v\"}],\"deleted row count\":\"0\"}]"}
                host <- donate 1-demo [{"t":[{"c":"v"}],"deleted row count":"0"}]
                host -> DonateResponse { success: true, key: "1-demo", status: 200, error: None }
                script <- {"__type__":"PayloadResponse","value":{"success":true,"key":"1-demo","status":200}}
                script -> {"__type__":"CommandSystemExit","code":0,"info":""}
                host <- exit 0 ""
                outcome: Ok(Exited { code: 0, info: "" })
            "#]],
        );
    }

    #[test]
    fn ledger_radio_answer_donated_verbatim_leaves_at_once() {
        check(
            &format!(
                r#"
                script> {{"__type__":"CommandUIRender","page":{{"__type__":"PropsUIPageDataSubmission","platform":"x","header":{{"__type__":"PropsUIHeader","title":"Pick"}},"body":[{{"__type__":"PropsUIPromptRadioInput","title":"t","description":"d","items":[{{"id":1,"value":"Everything"}}]}}]}}}}
                ui> {{"__type__":"PayloadString","value":"Everything"}}
                script> {{"__type__":"CommandSystemDonate","key":"1-choice","json_string":"Everything"}}
                host> {{"success":true,"key":"1-choice","status":200}}
                script> {EXIT}
                "#
            ),
            expect![[r#"
                host <- event initialized
                script <- start
                script -> {"__type__":"CommandUIRender","page":{"__type__":"PropsUIPageDataSubmission","platform":"x","header":{"__type__":"PropsUIHeader","title":"Pick"},"body":[{"__type__":"PropsUIPromptRadioInput","title":"t","description":"d","items":[{"id":1,"value":"Everything"}]}]}}
                ui <- PropsUIPageDataSubmission "Pick" [PropsUIPromptRadioInput]
                ui -> {"__type__":"PayloadString","value":"Everything"}
                script <- {"__type__":"PayloadString","value":"Everything"}
                script -> {"__type__":"CommandSystemDonate","key":"1-choice","json_string":"Everything"}
                host <- donate 1-choice Everything
                host -> DonateResponse { success: true, key: "1-choice", status: 200, error: None }
                script <- {"__type__":"PayloadResponse","value":{"success":true,"key":"1-choice","status":200}}
                script -> {"__type__":"CommandSystemExit","code":0,"info":""}
                host <- exit 0 ""
                outcome: Ok(Exited { code: 0, info: "" })
            "#]],
        );
    }

    #[test]
    fn ledger_modified_consent_answer_needs_review() {
        // The answer with one more field, e.g. a timestamp the script added.
        check(
            &format!(
                r#"
                script> {CONSENT_PAGE}
                ui> {CONSENT_ANSWER}
                script> {{"__type__":"CommandSystemDonate","key":"1-demo","json_string":"[{{\"t\":[{{\"c\":\"v\"}}],\"deleted row count\":\"0\",\"at\":\"2024\"}}]"}}
                ui> {{"__type__":"PayloadTrue","value":true}}
                host> {{"success":true,"key":"1-demo","status":200}}
                script> {EXIT}
                "#
            ),
            expect![[r#"
                host <- event initialized
                script <- start
                script -> {"__type__":"CommandUIRender","page":{"__type__":"PropsUIPageDataSubmission","platform":"x","header":{"__type__":"PropsUIHeader","title":"Your data"},"body":[{"__type__":"PropsUIPromptConsentFormViz","tables":[{"__type__":"PropsUIPromptConsentFormTableViz","id":"t","title":"T","data_frame":{"c":{"0":"v"}}}]}]}}
                ui <- PropsUIPageDataSubmission "Your data" [PropsUIPromptConsentFormViz]
                ui -> {"__type__":"PayloadJSON","value":"[{\"t\":[{\"c\":\"v\"}],\"deleted row count\":\"0\"}]"}
                script <- {"__type__":"PayloadJSON","value":"[{\"t\":[{\"c\":\"v\"}],\"deleted row count\":\"0\"}]"}
                script -> {"__type__":"CommandSystemDonate","key":"1-demo","json_string":"[{\"t\":[{\"c\":\"v\"}],\"deleted row count\":\"0\",\"at\":\"2024\"}]"}
                ui <- PropsUIPageDataSubmission "A question from the extension, not from the study" [PropsUIPromptText, PropsUIPromptConsentFormViz]
                ui reviews donation 1-demo (55 bytes)
                ui -> {"__type__":"PayloadTrue","value":true}
                host <- donate 1-demo [{"t":[{"c":"v"}],"deleted row count":"0","at":"2024"}]
                host -> DonateResponse { success: true, key: "1-demo", status: 200, error: None }
                script <- {"__type__":"PayloadResponse","value":{"success":true,"key":"1-demo","status":200}}
                script -> {"__type__":"CommandSystemExit","code":0,"info":""}
                host <- exit 0 ""
                outcome: Ok(Exited { code: 0, info: "" })
            "#]],
        );
    }

    #[test]
    fn ledger_data_never_shown_needs_review_and_send_donates_it() {
        check(
            &format!(
                r#"
                script> {{"__type__":"CommandSystemDonate","key":"1-secret","json_string":"{{\"email\":\"jan@example.org\"}}"}}
                ui> {{"__type__":"PayloadTrue","value":true}}
                host> {{"success":true,"key":"1-secret","status":200}}
                script> {EXIT}
                "#
            ),
            expect![[r#"
                host <- event initialized
                script <- start
                script -> {"__type__":"CommandSystemDonate","key":"1-secret","json_string":"{\"email\":\"jan@example.org\"}"}
                ui <- PropsUIPageDataSubmission "A question from the extension, not from the study" [PropsUIPromptText, PropsUIPromptConsentFormViz]
                ui reviews donation 1-secret (27 bytes)
                ui -> {"__type__":"PayloadTrue","value":true}
                host <- donate 1-secret {"email":"jan@example.org"}
                host -> DonateResponse { success: true, key: "1-secret", status: 200, error: None }
                script <- {"__type__":"PayloadResponse","value":{"success":true,"key":"1-secret","status":200}}
                script -> {"__type__":"CommandSystemExit","code":0,"info":""}
                host <- exit 0 ""
                outcome: Ok(Exited { code: 0, info: "" })
            "#]],
        );
    }

    #[test]
    fn ledger_review_send_button_of_the_real_ui_donates() {
        // What the UI answers when "Send" is pressed: the review form's donate answer, unchanged.
        check(
            &format!(
                r#"
                script> {{"__type__":"CommandSystemDonate","key":"1-secret","json_string":"[1]"}}
                ui> {{"__type__":"PayloadJSON","value":"[{{\"port-review\":[{{\"field\":\"[0]\",\"value\":\"1\"}}],\"deleted row count\":\"0\"}}]"}}
                host> {{"success":true,"key":"1-secret","status":200}}
                script> {EXIT}
                "#
            ),
            expect![[r#"
                host <- event initialized
                script <- start
                script -> {"__type__":"CommandSystemDonate","key":"1-secret","json_string":"[1]"}
                ui <- PropsUIPageDataSubmission "A question from the extension, not from the study" [PropsUIPromptText, PropsUIPromptConsentFormViz]
                ui reviews donation 1-secret (3 bytes)
                ui -> {"__type__":"PayloadJSON","value":"[{\"port-review\":[{\"field\":\"[0]\",\"value\":\"1\"}],\"deleted row count\":\"0\"}]"}
                host <- donate 1-secret [1]
                host -> DonateResponse { success: true, key: "1-secret", status: 200, error: None }
                script <- {"__type__":"PayloadResponse","value":{"success":true,"key":"1-secret","status":200}}
                script -> {"__type__":"CommandSystemExit","code":0,"info":""}
                host <- exit 0 ""
                outcome: Ok(Exited { code: 0, info: "" })
            "#]],
        );
    }

    #[test]
    fn ledger_review_dont_send_answers_403_and_logs_only_the_size() {
        check(
            &format!(
                r#"
                script> {{"__type__":"CommandSystemDonate","key":"jan-example-org","json_string":"{{\"email\":\"jan@example.org\"}}"}}
                ui> {{"__type__":"PayloadFalse","value":false}}
                script> {EXIT}
                "#
            ),
            expect![[r#"
                host <- event initialized
                script <- start
                script -> {"__type__":"CommandSystemDonate","key":"jan-example-org","json_string":"{\"email\":\"jan@example.org\"}"}
                ui <- PropsUIPageDataSubmission "A question from the extension, not from the study" [PropsUIPromptText, PropsUIPromptConsentFormViz]
                ui reviews donation jan-example-org (27 bytes)
                ui -> {"__type__":"PayloadFalse","value":false}
                script <- {"__type__":"PayloadResponse","value":{"success":false,"key":"jan-example-org","status":403,"error":"declined by the participant"}}
                script -> {"__type__":"CommandSystemExit","code":0,"info":""}
                host <- logs [info: a donation was declined by the participant at review (27 bytes)]
                host <- exit 0 ""
                outcome: Ok(Exited { code: 0, info: "" })
            "#]],
        );
    }

    #[test]
    fn ledger_review_answered_with_anything_else_is_dont_send() {
        check(
            &format!(
                r#"
                script> {{"__type__":"CommandSystemDonate","key":"1-secret","json_string":"[1]"}}
                ui> {{"__type__":"PayloadJSON","value":"[{{\"port-review\":[],\"deleted row count\":\"1\"}}]"}}
                script> {EXIT}
                "#
            ),
            expect![[r#"
                host <- event initialized
                script <- start
                script -> {"__type__":"CommandSystemDonate","key":"1-secret","json_string":"[1]"}
                ui <- PropsUIPageDataSubmission "A question from the extension, not from the study" [PropsUIPromptText, PropsUIPromptConsentFormViz]
                ui reviews donation 1-secret (3 bytes)
                ui -> {"__type__":"PayloadJSON","value":"[{\"port-review\":[],\"deleted row count\":\"1\"}]"}
                script <- {"__type__":"PayloadResponse","value":{"success":false,"key":"1-secret","status":403,"error":"declined by the participant"}}
                script -> {"__type__":"CommandSystemExit","code":0,"info":""}
                host <- logs [info: a donation was declined by the participant at review (3 bytes)]
                host <- exit 0 ""
                outcome: Ok(Exited { code: 0, info: "" })
            "#]],
        );
    }

    #[test]
    fn ledger_decline_record_of_the_runtime_leaves_at_once() {
        check(
            &format!(
                r#"
                script> {CONSENT_PAGE}
                ui> {{"__type__":"PayloadFalse","value":false}}
                script> {{"__type__":"CommandSystemDonate","key":"1-demo","json_string":"{{\"status\": \"data_submission declined\"}}"}}
                host> {{"success":true,"key":"1-demo","status":200}}
                script> {EXIT}
                "#
            ),
            expect![[r#"
                host <- event initialized
                script <- start
                script -> {"__type__":"CommandUIRender","page":{"__type__":"PropsUIPageDataSubmission","platform":"x","header":{"__type__":"PropsUIHeader","title":"Your data"},"body":[{"__type__":"PropsUIPromptConsentFormViz","tables":[{"__type__":"PropsUIPromptConsentFormTableViz","id":"t","title":"T","data_frame":{"c":{"0":"v"}}}]}]}}
                ui <- PropsUIPageDataSubmission "Your data" [PropsUIPromptConsentFormViz]
                ui -> {"__type__":"PayloadFalse","value":false}
                script <- {"__type__":"PayloadFalse","value":false}
                script -> {"__type__":"CommandSystemDonate","key":"1-demo","json_string":"{\"status\": \"data_submission declined\"}"}
                host <- donate 1-demo {"status": "data_submission declined"}
                host -> DonateResponse { success: true, key: "1-demo", status: 200, error: None }
                script <- {"__type__":"PayloadResponse","value":{"success":true,"key":"1-demo","status":200}}
                script -> {"__type__":"CommandSystemExit","code":0,"info":""}
                host <- exit 0 ""
                outcome: Ok(Exited { code: 0, info: "" })
            "#]],
        );
    }

    #[test]
    fn ledger_decline_record_without_a_decline_needs_review() {
        // Else a script could send it again and again, under keys that spell out participant data.
        check(
            &format!(
                r#"
                script> {{"__type__":"CommandSystemDonate","key":"jan-example-org","json_string":"{{\"status\": \"data_submission declined\"}}"}}
                ui> {{"__type__":"PayloadFalse","value":false}}
                script> {EXIT}
                "#
            ),
            expect![[r#"
                host <- event initialized
                script <- start
                script -> {"__type__":"CommandSystemDonate","key":"jan-example-org","json_string":"{\"status\": \"data_submission declined\"}"}
                ui <- PropsUIPageDataSubmission "A question from the extension, not from the study" [PropsUIPromptText, PropsUIPromptConsentFormViz]
                ui reviews donation jan-example-org (38 bytes)
                ui -> {"__type__":"PayloadFalse","value":false}
                script <- {"__type__":"PayloadResponse","value":{"success":false,"key":"jan-example-org","status":403,"error":"declined by the participant"}}
                script -> {"__type__":"CommandSystemExit","code":0,"info":""}
                host <- logs [info: a donation was declined by the participant at review (38 bytes)]
                host <- exit 0 ""
                outcome: Ok(Exited { code: 0, info: "" })
            "#]],
        );
    }

    #[test]
    fn ledger_answer_lets_one_donation_through_and_a_repeat_needs_review() {
        check(
            &format!(
                r#"
                script> {CONSENT_PAGE}
                ui> {CONSENT_ANSWER}
                script> {{"__type__":"CommandSystemDonate","key":"1-demo","json_string":"[{{\"t\":[{{\"c\":\"v\"}}],\"deleted row count\":\"0\"}}]"}}
                host> {{"success":true,"key":"1-demo","status":200}}
                script> {{"__type__":"CommandSystemDonate","key":"1-again","json_string":"[{{\"t\":[{{\"c\":\"v\"}}],\"deleted row count\":\"0\"}}]"}}
                ui> {{"__type__":"PayloadFalse","value":false}}
                script> {EXIT}
                "#
            ),
            expect![[r#"
                host <- event initialized
                script <- start
                script -> {"__type__":"CommandUIRender","page":{"__type__":"PropsUIPageDataSubmission","platform":"x","header":{"__type__":"PropsUIHeader","title":"Your data"},"body":[{"__type__":"PropsUIPromptConsentFormViz","tables":[{"__type__":"PropsUIPromptConsentFormTableViz","id":"t","title":"T","data_frame":{"c":{"0":"v"}}}]}]}}
                ui <- PropsUIPageDataSubmission "Your data" [PropsUIPromptConsentFormViz]
                ui -> {"__type__":"PayloadJSON","value":"[{\"t\":[{\"c\":\"v\"}],\"deleted row count\":\"0\"}]"}
                script <- {"__type__":"PayloadJSON","value":"[{\"t\":[{\"c\":\"v\"}],\"deleted row count\":\"0\"}]"}
                script -> {"__type__":"CommandSystemDonate","key":"1-demo","json_string":"[{\"t\":[{\"c\":\"v\"}],\"deleted row count\":\"0\"}]"}
                host <- donate 1-demo [{"t":[{"c":"v"}],"deleted row count":"0"}]
                host -> DonateResponse { success: true, key: "1-demo", status: 200, error: None }
                script <- {"__type__":"PayloadResponse","value":{"success":true,"key":"1-demo","status":200}}
                script -> {"__type__":"CommandSystemDonate","key":"1-again","json_string":"[{\"t\":[{\"c\":\"v\"}],\"deleted row count\":\"0\"}]"}
                ui <- PropsUIPageDataSubmission "A question from the extension, not from the study" [PropsUIPromptText, PropsUIPromptConsentFormViz]
                ui reviews donation 1-again (43 bytes)
                ui -> {"__type__":"PayloadFalse","value":false}
                script <- {"__type__":"PayloadResponse","value":{"success":false,"key":"1-again","status":403,"error":"declined by the participant"}}
                script -> {"__type__":"CommandSystemExit","code":0,"info":""}
                host <- logs [info: a donation was declined by the participant at review (43 bytes)]
                host <- exit 0 ""
                outcome: Ok(Exited { code: 0, info: "" })
            "#]],
        );
    }

    #[test]
    fn ledger_sending_after_review_approves_nothing_for_later_donations() {
        // The participant approved one donation, not its content: the same content again is asked
        // about again.
        check(
            &format!(
                r#"
                script> {{"__type__":"CommandSystemDonate","key":"1-a","json_string":"[2]"}}
                ui> {{"__type__":"PayloadTrue","value":true}}
                host> {{"success":true,"key":"1-a","status":200}}
                script> {{"__type__":"CommandSystemDonate","key":"1-b","json_string":"[2]"}}
                ui> {{"__type__":"PayloadFalse","value":false}}
                script> {EXIT}
                "#
            ),
            expect![[r#"
                host <- event initialized
                script <- start
                script -> {"__type__":"CommandSystemDonate","key":"1-a","json_string":"[2]"}
                ui <- PropsUIPageDataSubmission "A question from the extension, not from the study" [PropsUIPromptText, PropsUIPromptConsentFormViz]
                ui reviews donation 1-a (3 bytes)
                ui -> {"__type__":"PayloadTrue","value":true}
                host <- donate 1-a [2]
                host -> DonateResponse { success: true, key: "1-a", status: 200, error: None }
                script <- {"__type__":"PayloadResponse","value":{"success":true,"key":"1-a","status":200}}
                script -> {"__type__":"CommandSystemDonate","key":"1-b","json_string":"[2]"}
                ui <- PropsUIPageDataSubmission "A question from the extension, not from the study" [PropsUIPromptText, PropsUIPromptConsentFormViz]
                ui reviews donation 1-b (3 bytes)
                ui -> {"__type__":"PayloadFalse","value":false}
                script <- {"__type__":"PayloadResponse","value":{"success":false,"key":"1-b","status":403,"error":"declined by the participant"}}
                script -> {"__type__":"CommandSystemExit","code":0,"info":""}
                host <- logs [info: a donation was declined by the participant at review (3 bytes)]
                host <- exit 0 ""
                outcome: Ok(Exited { code: 0, info: "" })
            "#]],
        );
    }

    #[test]
    fn logs_are_buffered_until_the_cycle_ends_and_errors_flush_at_once() {
        check(
            &format!(
                r#"
                script> {{"__type__":"CommandSystemLog","level":"info","message":"one","json_string":"{{}}"}}
                script> {{"__type__":"CommandSystemLog","level":"debug","message":"two","json_string":"{{}}"}}
                script> {CONFIRM_PAGE}
                ui> {{"__type__":"PayloadTrue","value":true}}
                script> {{"__type__":"CommandSystemLog","level":"error","message":"three","json_string":"{{}}"}}
                script> {{"__type__":"CommandSystemLog","level":"warn","message":"four","json_string":"{{}}"}}
                script> {{"__type__":"CommandSystemExit","code":0,"info":""}}
                "#
            ),
            expect![[r#"
                host <- event initialized
                script <- start
                script -> {"__type__":"CommandSystemLog","level":"info","message":"one","json_string":"{}"}
                script <- {"__type__":"PayloadVoid"}
                script -> {"__type__":"CommandSystemLog","level":"debug","message":"two","json_string":"{}"}
                script <- {"__type__":"PayloadVoid"}
                script -> {"__type__":"CommandUIRender","page":{"__type__":"PropsUIPageDataSubmission","platform":"x","header":{"__type__":"PropsUIHeader","title":{"translations":{"en":"Check"}}},"body":[{"__type__":"PropsUIPromptConfirm","text":"Go?","ok":"Yes","cancel":"No"}]}}
                host <- logs [info: one; debug: two]
                ui <- PropsUIPageDataSubmission "Check" [PropsUIPromptConfirm]
                ui -> {"__type__":"PayloadTrue","value":true}
                script <- {"__type__":"PayloadTrue","value":true}
                script -> {"__type__":"CommandSystemLog","level":"error","message":"three","json_string":"{}"}
                host <- logs [error: three]
                script <- {"__type__":"PayloadVoid"}
                script -> {"__type__":"CommandSystemLog","level":"warn","message":"four","json_string":"{}"}
                script <- {"__type__":"PayloadVoid"}
                script -> {"__type__":"CommandSystemExit","code":0,"info":""}
                host <- logs [warn: four]
                host <- exit 0 ""
                outcome: Ok(Exited { code: 0, info: "" })
            "#]],
        );
    }

    #[test]
    fn logs_below_min_level_are_dropped() {
        check_with(
            SessionConfig { min_log_level: port_protocol::LogLevel::Info, ..SessionConfig::default() },
            r#"
            script> {"__type__":"CommandSystemLog","level":"debug","message":"noise","json_string":"{}"}
            script> {"__type__":"CommandSystemLog","level":"info","message":"kept","json_string":"{}"}
            script> {"__type__":"CommandSystemExit","code":0,"info":""}
            "#,
            expect![[r#"
                host <- event initialized
                script <- start
                script -> {"__type__":"CommandSystemLog","level":"debug","message":"noise","json_string":"{}"}
                script <- {"__type__":"PayloadVoid"}
                script -> {"__type__":"CommandSystemLog","level":"info","message":"kept","json_string":"{}"}
                script <- {"__type__":"PayloadVoid"}
                script -> {"__type__":"CommandSystemExit","code":0,"info":""}
                host <- logs [info: kept]
                host <- exit 0 ""
                outcome: Ok(Exited { code: 0, info: "" })
            "#]],
        );
    }

    #[test]
    fn progress_page_resolves_itself() {
        check(
            r#"
            script> {"__type__":"CommandUIRender","page":{"__type__":"PropsUIPageDataSubmission","platform":"x","header":{"__type__":"PropsUIHeader","title":"Working"},"body":[{"__type__":"PropsUIPromptProgress","description":"Reading","message":"","percentage":50}]}}
            script> {"__type__":"CommandSystemExit","code":0,"info":""}
            "#,
            expect![[r#"
                host <- event initialized
                script <- start
                script -> {"__type__":"CommandUIRender","page":{"__type__":"PropsUIPageDataSubmission","platform":"x","header":{"__type__":"PropsUIHeader","title":"Working"},"body":[{"__type__":"PropsUIPromptProgress","description":"Reading","message":"","percentage":50}]}}
                ui <- PropsUIPageDataSubmission "Working" [PropsUIPromptProgress]
                script <- {"__type__":"PayloadTrue","value":true}
                script -> {"__type__":"CommandSystemExit","code":0,"info":""}
                host <- exit 0 ""
                outcome: Ok(Exited { code: 0, info: "" })
            "#]],
        );
    }

    #[test]
    fn unknown_command_shows_error_page_and_skip_resumes_script() {
        check(
            r#"
            script> {"__type__":"CommandSystemTeleport","to":"mars"}
            ui> {"__type__":"PayloadTrue","value":true}
            script> {"__type__":"CommandSystemExit","code":0,"info":""}
            "#,
            expect![[r#"
                host <- event initialized
                script <- start
                script -> {"__type__":"CommandSystemTeleport","to":"mars"}
                host <- logs [error: the script sent the unknown command CommandSystemTeleport]
                ui <- PropsUIPageDataSubmission "This study asked for something we cannot show" [PropsUIPageError("the script sent the unknown command CommandSystemTeleport. Tell the researchers of this study; they can fix their script."), PropsUIPromptConfirm]
                ui -> {"__type__":"PayloadTrue","value":true}
                script <- {"__type__":"PayloadVoid"}
                script -> {"__type__":"CommandSystemExit","code":0,"info":""}
                host <- exit 0 ""
                outcome: Ok(Exited { code: 0, info: "" })
            "#]],
        );
    }

    #[test]
    fn unknown_command_stop_exits_with_code_1() {
        check(
            r#"
            script> {"__type__":"CommandSystemTeleport"}
            ui> {"__type__":"PayloadFalse","value":false}
            "#,
            expect![[r#"
                host <- event initialized
                script <- start
                script -> {"__type__":"CommandSystemTeleport"}
                host <- logs [error: the script sent the unknown command CommandSystemTeleport]
                ui <- PropsUIPageDataSubmission "This study asked for something we cannot show" [PropsUIPageError("the script sent the unknown command CommandSystemTeleport. Tell the researchers of this study; they can fix their script."), PropsUIPromptConfirm]
                ui -> {"__type__":"PayloadFalse","value":false}
                host <- exit 1 "stopped by the participant after an unsupported command"
                outcome: Ok(Exited { code: 1, info: "stopped by the participant after an unsupported command" })
            "#]],
        );
    }

    #[test]
    fn malformed_json_shows_error_page_without_leaking_values() {
        check(
            r#"
            script> {"__type__":"CommandSystemDonate","key":"secret-value
            ui> {"__type__":"PayloadTrue","value":true}
            script> {"__type__":"CommandSystemDonate","key":42,"json_string":"x"}
            ui> {"__type__":"PayloadTrue","value":true}
            script> {"__type__":"CommandSystemExit","code":0,"info":""}
            "#,
            expect![[r#"
                host <- event initialized
                script <- start
                script -> {"__type__":"CommandSystemDonate","key":"secret-value
                host <- logs [error: the script sent a command that is not valid JSON]
                ui <- PropsUIPageDataSubmission "This study asked for something we cannot show" [PropsUIPageError("the script sent a bad command: not valid JSON: EOF while parsing a string at line 1 column 53. Tell the researchers of this study; they can fix their script."), PropsUIPromptConfirm]
                ui -> {"__type__":"PayloadTrue","value":true}
                script <- {"__type__":"PayloadVoid"}
                script -> {"__type__":"CommandSystemDonate","key":42,"json_string":"x"}
                host <- logs [error: the script sent a malformed CommandSystemDonate at `key`]
                ui <- PropsUIPageDataSubmission "This study asked for something we cannot show" [PropsUIPageError("the script sent a bad command: CommandSystemDonate is malformed at `key`: invalid type: integer `42`, expected a string. Tell the researchers of this study; they can fix their script."), PropsUIPromptConfirm]
                ui -> {"__type__":"PayloadTrue","value":true}
                script <- {"__type__":"PayloadVoid"}
                script -> {"__type__":"CommandSystemExit","code":0,"info":""}
                host <- exit 0 ""
                outcome: Ok(Exited { code: 0, info: "" })
            "#]],
        );
    }

    #[test]
    fn script_runtime_failure_shows_error_page_and_sends_no_details() {
        check(
            r#"
            script! Traceback: secret participant data
            "#,
            expect![[r#"
                host <- event initialized
                script <- start
                script fails: Traceback: secret participant data
                host <- logs [error: the script runtime failed]
                ui <- PropsUIPageDataSubmission "Something went wrong" [PropsUIPromptText, PropsUIPageError("Traceback: secret participant data")]
                outcome: Ok(Crashed { message: "Traceback: secret participant data" })
            "#]],
        );
    }

    #[test]
    fn page_nobody_answers_ends_the_run() {
        check(
            &format!("script> {CONFIRM_PAGE}"),
            expect![[r#"
                host <- event initialized
                script <- start
                script -> {"__type__":"CommandUIRender","page":{"__type__":"PropsUIPageDataSubmission","platform":"x","header":{"__type__":"PropsUIHeader","title":{"translations":{"en":"Check"}}},"body":[{"__type__":"PropsUIPromptConfirm","text":"Go?","ok":"Yes","cancel":"No"}]}}
                ui <- PropsUIPageDataSubmission "Check" [PropsUIPromptConfirm]
                outcome: Err(Unanswerable(WorldError { message: "no ui> answer left" }))
            "#]],
        );
    }
}

/// Tests of the bounds on what reaches the host besides donations. Their transcripts are long, so
/// the trace is compacted: a run of one character longer than 8 becomes `<x×n>`, and a block of up
/// to three lines that repeats is shown once, followed by `… ×n`.
#[cfg(test)]
mod bounds_tests {
    use expect_test::{Expect, expect};

    use crate::test_support::fakes_from_transcript;
    use crate::{SessionConfig, run};

    #[track_caller]
    fn check(transcript: &str, expect: Expect) {
        let (mut script, mut world, trace) = fakes_from_transcript(transcript);
        let outcome = run(&mut script, &mut world, SessionConfig::default());
        trace.push(format!("outcome: {outcome:?}"));
        let lines: Vec<String> = trace.text().lines().map(compact_runs).collect();
        let compacted: String = compact_repeats(&lines).iter().map(|line| format!("{line}\n")).collect();
        expect.assert_eq(&compacted);
    }

    fn compact_runs(line: &str) -> String {
        let mut compacted = String::new();
        let mut characters = line.chars().peekable();
        while let Some(character) = characters.next() {
            let mut n_repeats = 1;
            while characters.peek() == Some(&character) {
                characters.next();
                n_repeats += 1;
            }
            if n_repeats > 8 {
                compacted.push_str(&format!("<{character}×{n_repeats}>"));
            } else {
                compacted.extend(std::iter::repeat_n(character, n_repeats));
            }
        }
        compacted
    }

    fn compact_repeats(lines: &[String]) -> Vec<String> {
        let mut compacted = Vec::new();
        let mut line_idx = 0;
        'lines: while line_idx < lines.len() {
            for block_len in 1..=3 {
                let block = &lines[line_idx..(line_idx + block_len).min(lines.len())];
                let mut n_blocks = 1;
                while lines.get(line_idx + n_blocks * block_len..line_idx + (n_blocks + 1) * block_len) == Some(block) {
                    n_blocks += 1;
                }
                if n_blocks > 1 {
                    compacted.extend(block.iter().cloned());
                    compacted.push(format!("… ×{n_blocks}"));
                    line_idx += n_blocks * block_len;
                    continue 'lines;
                }
            }
            compacted.push(lines[line_idx].clone());
            line_idx += 1;
        }
        compacted
    }

    fn log(level: &str, message: &str) -> String {
        format!(
            r#"script> {{"__type__":"CommandSystemLog","level":"{level}","message":"{message}","json_string":"{{}}"}}"#
        )
    }

    const EXIT: &str = r#"script> {"__type__":"CommandSystemExit","code":0,"info":""}"#;

    #[test]
    fn log_message_longer_than_1_kib_is_cut_with_a_marker() {
        check(
            &format!("{}\n{EXIT}", log("info", &"x".repeat(2000))),
            expect![[r#"
                host <- event initialized
                script <- start
                script -> {"__type__":"CommandSystemLog","level":"info","message":"<x×2000>","json_string":"{}"}
                script <- {"__type__":"PayloadVoid"}
                script -> {"__type__":"CommandSystemExit","code":0,"info":""}
                host <- logs [info: <x×1015>… [cut]]
                host <- exit 0 ""
                outcome: Ok(Exited { code: 0, info: "" })
            "#]],
        );
    }

    #[test]
    fn logs_past_1000_messages_are_dropped_after_one_notice() {
        let logs: Vec<String> = (0..1002).map(|_| log("error", "step")).collect();
        check(
            &format!("{}\n{EXIT}", logs.join("\n")),
            expect![[r#"
                host <- event initialized
                script <- start
                script -> {"__type__":"CommandSystemLog","level":"error","message":"step","json_string":"{}"}
                host <- logs [error: step]
                script <- {"__type__":"PayloadVoid"}
                … ×1000
                script -> {"__type__":"CommandSystemLog","level":"error","message":"step","json_string":"{}"}
                script <- {"__type__":"PayloadVoid"}
                … ×2
                script -> {"__type__":"CommandSystemExit","code":0,"info":""}
                host <- logs [warn: the log limit of this session was reached (1000 messages or 256 KiB); later log messages are dropped]
                host <- exit 0 ""
                outcome: Ok(Exited { code: 0, info: "" })
            "#]],
        );
    }

    #[test]
    fn logs_past_256_kib_are_dropped_after_one_notice() {
        let logs: Vec<String> = (0..258).map(|_| log("error", &"x".repeat(1024))).collect();
        check(
            &format!("{}\n{EXIT}", logs.join("\n")),
            expect![[r#"
                host <- event initialized
                script <- start
                script -> {"__type__":"CommandSystemLog","level":"error","message":"<x×1024>","json_string":"{}"}
                host <- logs [error: <x×1024>]
                script <- {"__type__":"PayloadVoid"}
                … ×256
                script -> {"__type__":"CommandSystemLog","level":"error","message":"<x×1024>","json_string":"{}"}
                script <- {"__type__":"PayloadVoid"}
                … ×2
                script -> {"__type__":"CommandSystemExit","code":0,"info":""}
                host <- logs [warn: the log limit of this session was reached (1000 messages or 256 KiB); later log messages are dropped]
                host <- exit 0 ""
                outcome: Ok(Exited { code: 0, info: "" })
            "#]],
        );
    }

    #[test]
    fn donation_key_longer_than_200_characters_is_refused() {
        check(
            &format!(
                r#"script> {{"__type__":"CommandSystemDonate","key":"{}","json_string":"[1]"}}
                {EXIT}"#,
                "k".repeat(201)
            ),
            expect![[r#"
                host <- event initialized
                script <- start
                script -> {"__type__":"CommandSystemDonate","key":"<k×201>","json_string":"[1]"}
                host <- logs [error: a donation was refused: the donation key is longer than 200 characters]
                script <- {"__type__":"PayloadResponse","value":{"success":false,"key":"<k×201>","status":400,"error":"the donation key is longer than 200 characters"}}
                script -> {"__type__":"CommandSystemExit","code":0,"info":""}
                host <- exit 0 ""
                outcome: Ok(Exited { code: 0, info: "" })
            "#]],
        );
    }

    #[test]
    fn exit_info_longer_than_1_kib_is_cut_with_a_marker() {
        check(
            &format!(r#"script> {{"__type__":"CommandSystemExit","code":1,"info":"{}"}}"#, "i".repeat(5000)),
            expect![[r#"
                host <- event initialized
                script <- start
                script -> {"__type__":"CommandSystemExit","code":1,"info":"<i×5000>"}
                host <- exit 1 "<i×1015>… [cut]"
                outcome: Ok(Exited { code: 1, info: "<i×1015>… [cut]" })
            "#]],
        );
    }
}

/// Tests of the session's state, which the UI re-attaches to.
#[cfg(test)]
mod state_tests {
    use port_protocol::Payload;

    use super::*;

    const CONFIRM: &str = r#"{"__type__":"CommandUIRender","page":{"__type__":"PropsUIPageDataSubmission","platform":"x","header":{"__type__":"PropsUIHeader","title":"Check"},"body":[{"__type__":"PropsUIPromptConfirm","text":"Go?","ok":"Yes","cancel":"No"}]}}"#;

    fn session_showing_confirm() -> Session {
        let mut session = Session::new(SessionConfig::default());
        session.start().unwrap();
        session.on_script_output(Ok(CONFIRM.into())).unwrap();
        session
    }

    #[test]
    fn reattaching_view_sees_current_page_and_pending_answer() {
        let session = session_showing_confirm();
        let page = session.current_page().expect("a page is up");
        assert_eq!(page.wire_type(), "PropsUIPageDataSubmission");
        assert!(matches!(session.state(), State::AwaitingUi { pending: PendingAnswer::Script, .. }));
    }

    #[test]
    fn page_stays_current_while_script_works() {
        let mut session = session_showing_confirm();
        session.on_ui_answer(Payload::True).unwrap();
        assert_eq!(session.state(), &State::AwaitingScript);
        assert!(session.current_page().is_some(), "the answered page stays up until the next one");
    }

    #[test]
    fn second_answer_to_same_page_is_refused_and_harmless() {
        let mut session = session_showing_confirm();
        assert_eq!(session.on_ui_answer(Payload::True).unwrap(), vec![Action::SendToScript(Some(Payload::True))]);
        let error = session.on_ui_answer(Payload::False).unwrap_err();
        assert_eq!(error.to_string(), "the session is not waiting for a UI answer (it is waiting for the script)");
        assert_eq!(session.state(), &State::AwaitingScript);
    }

    #[test]
    fn host_reply_without_pending_donation_is_refused() {
        let mut session = session_showing_confirm();
        assert!(session.on_host_reply(None).is_err());
    }

    const DONATE: &str = r#"{"__type__":"CommandSystemDonate","key":"1-demo","json_string":"[1]"}"#;

    /// A session whose donation the participant sent from the review page: it waits for the host.
    fn session_awaiting_host() -> Session {
        let mut session = Session::new(SessionConfig::default());
        session.start().unwrap();
        session.on_script_output(Ok(DONATE.into())).unwrap();
        session.on_ui_answer(Payload::True).unwrap();
        assert!(matches!(session.state(), State::AwaitingHost { .. }));
        session
    }

    #[test]
    fn runtime_failure_while_page_is_up_crashes() {
        let mut session = session_showing_confirm();
        let actions = session.on_runtime_failure("worker died".into()).unwrap();
        assert!(matches!(session.state(), State::Crashed { .. }));
        assert!(matches!(actions.last(), Some(Action::Render(_))), "the crash page is shown: {actions:?}");
        assert!(session.on_ui_answer(Payload::True).is_err(), "the old page can no longer be answered");
    }

    #[test]
    fn runtime_failure_while_donation_is_pending_crashes() {
        let mut session = session_awaiting_host();
        let actions = session.on_runtime_failure("worker died".into()).unwrap();
        assert!(matches!(session.state(), State::Crashed { .. }));
        assert!(actions.iter().any(|action| matches!(action, Action::Render(_))));
        assert!(session.on_host_reply(None).is_err(), "a late host reply changes nothing");
    }

    #[test]
    fn runtime_failure_before_start_crashes_without_starting() {
        let mut session = Session::new(SessionConfig::default());
        let actions = session.on_runtime_failure("pyodide did not load".into()).unwrap();
        assert!(matches!(session.state(), State::Crashed { .. }));
        assert!(!actions.iter().any(|action| matches!(action, Action::SendToScript(_) | Action::SendEvent(_))));
    }

    #[test]
    fn runtime_failure_after_exit_or_crash_changes_nothing() {
        let mut session = Session::new(SessionConfig::default());
        session.start().unwrap();
        session.on_script_output(Ok(r#"{"__type__":"CommandSystemExit","code":0,"info":""}"#.into())).unwrap();
        assert!(session.on_runtime_failure("late".into()).is_err());
        assert!(matches!(session.state(), State::Exited { .. }));

        let mut session = session_showing_confirm();
        session.on_runtime_failure("first".into()).unwrap();
        let first = session.state().clone();
        assert!(session.on_runtime_failure("second".into()).is_err());
        assert_eq!(session.state(), &first, "the first error page stays");
    }

    #[test]
    fn donate_answer_without_valid_outcome_is_a_failure() {
        use port_protocol::worker_message::{DonateOutcome, DonateQueued};
        let failure = |error: &str| {
            DonateAnswer::Reply(DonateResponse {
                success: false,
                key: "1-demo".into(),
                status: 0,
                error: Some(error.into()),
            })
        };
        assert_eq!(
            donate_answer("1-demo", Err("the background did not answer".into())),
            failure("the background did not answer")
        );
        assert_eq!(
            donate_answer("1-demo", Ok(DonateOutcome::Failed { error: "Error: quota".into() })),
            failure("Error: quota")
        );
        let ok = DonateResponse { success: true, key: "1-demo".into(), status: 200, error: None };
        assert_eq!(donate_answer("1-demo", Ok(DonateOutcome::Answered(ok.clone()))), DonateAnswer::Reply(ok));
        let queued = DonateQueued { idempotency_key: "ab".into(), ack_timeout_s: 2 };
        assert_eq!(
            donate_answer("1-demo", Ok(DonateOutcome::Queued { queued: queued.clone() })),
            DonateAnswer::Wait(queued)
        );
    }

    #[test]
    fn donate_failure_reaches_the_script_as_unsuccessful_response() {
        let mut session = session_awaiting_host();
        let DonateAnswer::Reply(response) = donate_answer("1-demo", Err("sendMessage failed".into())) else {
            panic!("a failure is answered at once")
        };
        let actions = session.on_host_reply(Some(response)).unwrap();
        let [Action::SendToScript(Some(Payload::Response(response)))] = actions.as_slice() else {
            panic!("the script gets a PayloadResponse: {actions:?}")
        };
        assert!(!response.success);
        assert_eq!(response.status, 0);
    }

    #[test]
    fn session_locale_host_page_then_first_browser_then_switch() {
        let mut locale = SessionLocale::default();
        assert_eq!((locale.get(), locale.resolved()), (None, "en"));
        assert!(locale.on_browser_language("nl-NL"));
        assert_eq!(locale.get(), Some("nl"));
        assert!(!locale.on_browser_language("en-US"), "the first view decides");
        assert_eq!(locale.get(), Some("nl"));
        locale.on_switch("en".into());
        assert_eq!(locale.get(), Some("en"));

        let mut from_host = SessionLocale::from_host_page(Some("en"));
        assert!(!from_host.on_browser_language("nl"), "the host page's locale wins over the browser's");
        assert_eq!(from_host.resolved(), "en");
        assert_eq!(SessionLocale::from_host_page(Some(" ")).get(), None);
        assert_eq!(locale_for_browser_language("NL_be"), "nl");
        assert_eq!(locale_for_browser_language("de-DE"), "en");
    }

    #[test]
    fn log_json_string_is_rebuilt_from_the_level_and_the_cut_message() {
        let mut session = Session::new(SessionConfig::default());
        session.start().unwrap();
        let long_message = "m".repeat(3000);
        let log = serde_json::json!({
            "__type__": "CommandSystemLog", "level": "error", "message": long_message,
            "json_string": serde_json::json!({"level": "error", "message": "secret".repeat(1000)}).to_string(),
        });
        let actions = session.on_script_output(Ok(log.to_string())).unwrap();
        let [Action::SendLogs(entries), Action::SendToScript(Some(Payload::Void))] = actions.as_slice() else {
            panic!("an error log goes out at once: {actions:?}")
        };
        let [entry] = entries.as_slice() else { panic!("one entry: {entries:?}") };
        assert_eq!(entry.message.len(), 1024);
        assert!(entry.message.ends_with("… [cut]"), "{}", entry.message);
        let sent: serde_json::Value = serde_json::from_str(entry.json_string.as_deref().unwrap()).unwrap();
        assert_eq!(sent, serde_json::json!({"level": "error", "message": entry.message}));
    }

    #[test]
    fn exited_session_accepts_nothing() {
        let mut session = Session::new(SessionConfig::default());
        session.start().unwrap();
        let actions =
            session.on_script_output(Ok(r#"{"__type__":"CommandSystemExit","code":3,"info":"bye"}"#.into())).unwrap();
        assert_eq!(actions, vec![Action::Exit(ExitCommand { code: 3, info: "bye".into() })]);
        assert!(session.is_finished());
        assert!(session.on_script_output(Ok(CONFIRM.into())).is_err());
        assert!(session.start().is_err());
    }
}
