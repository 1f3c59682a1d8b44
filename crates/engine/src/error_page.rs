//! Pages the engine shows itself, when a command cannot be handled or the runtime fails.

use port_protocol::{Confirm, DecodeError, Header, Page, PageBody, PageError, Prompt, Text, TextPrompt};

/// A command the engine cannot handle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BadCommand {
    /// A well-formed command with a `__type__` this version does not know.
    Unknown { wire_type: String },
    /// Not valid JSON, no `__type__`, or a known command with wrong fields.
    Malformed(DecodeError),
}

impl std::fmt::Display for BadCommand {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadCommand::Unknown { wire_type } => write!(formatter, "the script sent the unknown command {wire_type}"),
            BadCommand::Malformed(error) => write!(formatter, "the script sent a bad command: {error}"),
        }
    }
}

/// A PII-free description of a bad command for the host: wire type and field path, never serde's
/// reason, because it quotes the offending value.
pub(crate) fn describe_for_host(error: &BadCommand) -> String {
    match error {
        BadCommand::Unknown { wire_type } => format!("the script sent the unknown command {wire_type}"),
        BadCommand::Malformed(DecodeError::InvalidJson(_)) => "the script sent a command that is not valid JSON".into(),
        BadCommand::Malformed(DecodeError::MissingType { .. }) => {
            "the script sent a command without a \"__type__\"".into()
        }
        BadCommand::Malformed(DecodeError::Malformed { wire_type, path, .. }) => {
            format!("the script sent a malformed {wire_type} at `{path}`")
        }
    }
}

/// The page for an unknown or malformed command: what happened, for the researcher, and a choice to
/// go on (the script gets `PayloadVoid`) or stop.
pub(crate) fn bad_command_page(error: &BadCommand) -> Page {
    page(
        Text::en_nl(
            "This study asked for something we cannot show",
            "Deze studie vroeg om iets dat we niet kunnen tonen",
        ),
        vec![
            Prompt::PageError(PageError {
                message: format!("{error}. Tell the researchers of this study; they can fix their script."),
            }),
            Prompt::Confirm(Confirm {
                text: Text::en_nl(
                    "You can skip this step and continue with the study, or stop here.",
                    "U kunt deze stap overslaan en verdergaan met de studie, of hier stoppen.",
                ),
                ok: Text::en_nl("Skip this step", "Stap overslaan"),
                cancel: Text::en_nl("Stop", "Stoppen"),
            }),
        ],
    )
}

/// The page for a donation bigger than the study's host accepts (`max_donation_bytes` in its
/// config): nothing was sent; the participant goes on (the script is told 413) or stops.
pub(crate) fn too_big_page(n_bytes: u64, max_bytes: u64) -> Page {
    let (size, max) = (n_bytes as usize, max_bytes as usize);
    page(
        Text::en_nl("This donation is too big for the study", "Deze donatie is te groot voor de studie"),
        vec![
            Prompt::PageError(PageError {
                message: format!(
                    "The study wanted to send {}, but its host accepts at most {}. Nothing was sent. Tell the \
                     researchers of this study; they can send less at a time.",
                    crate::review_page::size_text(size, '.'),
                    crate::review_page::size_text(max, '.')
                ),
            }),
            Prompt::Confirm(Confirm {
                text: Text::en_nl(
                    "You can continue with the study without this donation, or stop here.",
                    "U kunt verdergaan met de studie zonder deze donatie, of hier stoppen.",
                ),
                ok: Text::en_nl("Continue with the study", "Verdergaan met de studie"),
                cancel: Text::en_nl("Stop", "Stoppen"),
            }),
        ],
    )
}

/// What the script is told of a donation bigger than its host accepts.
pub(crate) fn too_big_error(n_bytes: u64, max_bytes: u64) -> String {
    format!(
        "the donation is {n_bytes} bytes; the study's host accepts at most {max_bytes} (max_donation_bytes); nothing was sent"
    )
}

/// The page for a failed runtime. It stays up: nothing more can happen in this session.
pub(crate) fn crash_page(message: &str) -> Page {
    page(
        Text::en_nl("Something went wrong", "Er is iets misgegaan"),
        vec![
            Prompt::Text(TextPrompt {
                text: Text::en_nl(
                    "The study stopped because of an error. Nothing was sent. Open the extension again to start over.",
                    "De studie is gestopt door een fout. Er is niets verstuurd. Open de extensie opnieuw om opnieuw te beginnen.",
                ),
                title: None,
            }),
            Prompt::PageError(PageError { message: message.to_owned() }),
        ],
    )
}

fn page(title: Text, body: Vec<Prompt>) -> Page {
    Page::DataSubmission(PageBody { platform: "error".into(), header: Header { title }, body, footer: None })
}
