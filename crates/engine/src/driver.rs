//! A synchronous driver of the run cycle over a [`Script`] and a [`World`], for the native runner
//! and for tests. The browser drives [`Session`] from events instead.

use port_protocol::{DonateCommand, DonateResponse, LogCommand, Page, Payload};

use crate::session::{Action, PendingAnswer, Session, SessionConfig, State};

/// A running study script.
///
/// Implementations must give these guarantees:
/// - `send(None)` is called once, first; every later call carries the reply to the last command.
/// - The return value is the next command as JSON text, exactly as the script produced it. Decoding
///   is the engine's job, so that bad JSON is handled the same way in every runtime.
/// - An exception inside the study is not an error here: the script's wrapper turns it into the
///   consent-gated error flow. `Err` means the runtime itself failed.
pub trait Script {
    fn send(&mut self, reply: Option<&Payload>) -> Result<String, ScriptError>;
}

/// The runtime could not run the script any further (the interpreter or worker failed).
/// The session does not survive it: it ends on an error page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ScriptError {
    /// Shown to the participant locally; may contain a traceback, so it is never sent to a host.
    pub message: String,
}

/// Everything outside the script: the participant's UI and the host platform.
pub trait World {
    /// Shows a page. It may be followed by [`World::answer`] for the same page.
    fn show(&mut self, page: &Page);
    /// Waits for the participant's answer to the page shown last. `Err` ends the run: nobody can
    /// answer this page.
    fn answer(&mut self, page: &Page) -> Result<Payload, WorldError>;
    /// Waits for the participant's answer to the engine's review page for `donation`, which
    /// [`World::show`] showed just before: the consent ledger did not find this donation among the
    /// participant's answers. Answer as [`World::answer`] does; the session decides what the answer
    /// means. An implementation may report the key and size of the donation, never its content.
    fn review_donation(&mut self, donation: &DonateCommand, page: &Page) -> Result<Payload, WorldError>;
    /// Delivers a donation to the host; `None` when the bridge gives no result.
    fn donate(&mut self, donation: &DonateCommand) -> Option<DonateResponse>;
    fn send_logs(&mut self, entries: &[LogCommand]);
    fn send_event(&mut self, name: &str);
    fn exit(&mut self, code: i64, info: &str);
}

/// The UI could not answer a page. The run ends.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct WorldError {
    pub message: String,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOutcome {
    /// The script exited with this code and info.
    Exited { code: i64, info: String },
    /// The script's runtime failed; an error page is on screen.
    Crashed { message: String },
}

/// A run that could not go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// Nobody could answer a page (for example, the answers ran out).
    #[error("cannot answer the page: {0}")]
    Unanswerable(WorldError),
    /// The session asked for nothing more without ending; a bug in the engine.
    #[error("the session stalled without exiting")]
    Stalled,
}

/// Runs the cycle until the script exits, its runtime fails, or a page cannot be answered.
pub fn run(script: &mut impl Script, world: &mut impl World, config: SessionConfig) -> Result<RunOutcome, RunError> {
    let mut session = Session::new(config);
    let mut queue: std::collections::VecDeque<Action> = session.start().expect("a new session can start").into();
    while let Some(action) = queue.pop_front() {
        let next = match action {
            Action::SendToScript(reply) => {
                let output = script.send(reply.as_ref());
                session.on_script_output(output)
            }
            Action::Render(page) => {
                world.show(&page);
                match session.state() {
                    State::AwaitingUi { pending: PendingAnswer::ReviewDonation { donation }, .. } => {
                        let answer = world.review_donation(donation, &page).map_err(RunError::Unanswerable)?;
                        session.on_ui_answer(answer)
                    }
                    State::AwaitingUi { .. } => {
                        let answer = world.answer(&page).map_err(RunError::Unanswerable)?;
                        session.on_ui_answer(answer)
                    }
                    State::Crashed { .. } => return Ok(RunOutcome::Crashed { message: crash_message(&page) }),
                    _ => Ok(Vec::new()),
                }
            }
            Action::Donate(donation) => {
                let reply = world.donate(&donation);
                session.on_host_reply(reply)
            }
            Action::SendLogs(entries) => {
                world.send_logs(&entries);
                Ok(Vec::new())
            }
            Action::SendEvent(name) => {
                world.send_event(&name);
                Ok(Vec::new())
            }
            Action::Exit(exit) => {
                world.exit(exit.code, &exit.info);
                return Ok(RunOutcome::Exited { code: exit.code, info: exit.info });
            }
        };
        // Every action above is taken in the state the session asked for it, so this cannot fail.
        queue.extend(next.expect("the driver follows the session's actions"));
    }
    Err(RunError::Stalled)
}

fn crash_message(page: &Page) -> String {
    page.body()
        .and_then(|body| {
            body.body.iter().find_map(|prompt| match prompt {
                port_protocol::Prompt::PageError(error) => Some(error.message.clone()),
                _ => None,
            })
        })
        .unwrap_or_default()
}
