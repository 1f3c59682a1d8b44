//! Commands: what a script yields (fact sheet §1.2).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::decode::{DecodeError, null_as_default, tagged_union};
use crate::page::Page;

tagged_union! {
    /// A command yielded by a study script, as `ScriptWrapper.send()` returns it.
    ///
    /// Unknown `__type__`s are kept as [`Command::Unsupported`]; the engine answers them with an error
    /// page instead of stalling as feldspar does.
    pub enum Command {
        /// Show a page; the reply is the participant's answer. Python class `CommandUIRender(page)`.
        UiRender(UiRenderCommand) = "CommandUIRender",
        /// Send a donation to the host; the reply is `PayloadResponse` (D3I) or `PayloadVoid` (legacy).
        SystemDonate(DonateCommand) = "CommandSystemDonate",
        /// A PII-free log line for the host; the reply is `PayloadVoid`.
        SystemLog(LogCommand) = "CommandSystemLog",
        /// The end of the study; there is no reply.
        SystemExit(ExitCommand) = "CommandSystemExit",
        /// An event for the host, e.g. `initialized`. Sent by the extension itself, not by scripts.
        SystemEvent(EventCommand) = "CommandSystemEvent",
    }
}

impl Command {
    /// Decodes the JSON text a script produced.
    pub fn from_json(text: &str) -> Result<Command, DecodeError> {
        // A donation may be hundreds of megabytes: it is read straight into its fields, so its
        // `json_string` exists once, without a `Value` tree beside it. Anything the fast path
        // cannot read goes the general way, which names the error.
        #[derive(Deserialize)]
        struct WireType<'a> {
            #[serde(rename = "__type__", borrow)]
            wire_type: Option<std::borrow::Cow<'a, str>>,
        }
        if let Ok(WireType { wire_type: Some(wire_type) }) = serde_json::from_str::<WireType>(text)
            && wire_type == "CommandSystemDonate"
            && let Ok(donation) = serde_json::from_str::<DonateCommand>(text)
        {
            return Ok(Command::SystemDonate(donation));
        }
        let value: Value = serde_json::from_str(text).map_err(|error| DecodeError::InvalidJson(error.to_string()))?;
        Command::from_value(value)
    }

    /// Decodes a command whose donation body came beside its JSON, as the extension's worker sends
    /// every donation ([`crate::worker_message::DONATION_BODY_FIELD`]): `text` is a
    /// `CommandSystemDonate` whose `json_string` is `""`, and `body` is that `json_string` as UTF-8.
    /// Escaped into the JSON, a donation of hundreds of megabytes would be copied and scanned
    /// several times more on its way out of Python.
    ///
    /// Anything else is malformed: a body beside another command, or beside a donation that has a
    /// `json_string` of its own (which of the two would be the donation?), or a body that is not
    /// UTF-8.
    pub fn from_json_and_donation_body(text: &str, body: Vec<u8>) -> Result<Command, DecodeError> {
        let malformed = |wire_type: &str, path: &str, reason: &str| DecodeError::Malformed {
            wire_type: wire_type.to_owned(),
            path: path.to_owned(),
            reason: reason.to_owned(),
        };
        match Command::from_json(text)? {
            Command::SystemDonate(DonateCommand { key, json_string }) if json_string.is_empty() => {
                let json_string = String::from_utf8(body).map_err(|_| {
                    malformed("CommandSystemDonate", "json_string", "the donation body beside the command is not UTF-8")
                })?;
                Ok(Command::SystemDonate(DonateCommand { key, json_string }))
            }
            Command::SystemDonate(_) => Err(malformed(
                "CommandSystemDonate",
                "json_string",
                "a donation body came beside the command, so its own json_string must be empty",
            )),
            other => Err(malformed(
                other.wire_type(),
                "(top level)",
                "a donation body came beside it; only a CommandSystemDonate may have one",
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UiRenderCommand {
    pub page: Page,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DonateCommand {
    pub key: String,
    /// The donated data, verbatim. It is never parsed, logged or shown by the extension.
    pub json_string: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogCommand {
    pub level: LogLevel,
    pub message: String,
    /// `json.dumps({"level", "message"})`. Marked "temporary" in feldspar, but mono's log handler
    /// reads only this field, so we always send it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_string: Option<String>,
}

impl LogCommand {
    pub fn new(level: LogLevel, message: impl Into<String>) -> LogCommand {
        let message = message.into();
        let json_string = serde_json::json!({"level": level, "message": message}).to_string();
        LogCommand { level, message, json_string: Some(json_string) }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitCommand {
    pub code: i64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub info: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventCommand {
    pub name: String,
}

/// Log levels on the wire. Mono accepts exactly these four; Python's names are accepted as aliases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Debug,
    Info,
    #[serde(alias = "warning", alias = "WARNING", alias = "WARN")]
    Warn,
    #[serde(alias = "critical", alias = "CRITICAL", alias = "ERROR")]
    Error,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

impl std::fmt::Display for LogLevel {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_donation_body_beside_its_command_is_the_json_string() {
        let head = r#"{"__type__":"CommandSystemDonate","key":"1-demo","json_string":""}"#;
        let body = "[{\"a\": \"donné\"}]\n".as_bytes().to_vec();
        assert_eq!(
            Command::from_json_and_donation_body(head, body).unwrap(),
            Command::SystemDonate(DonateCommand {
                key: "1-demo".into(), json_string: "[{\"a\": \"donné\"}]\n".into()
            })
        );
        assert_eq!(
            Command::from_json_and_donation_body(head, Vec::new()).unwrap(),
            Command::SystemDonate(DonateCommand { key: "1-demo".into(), json_string: String::new() })
        );
    }

    #[test]
    fn a_donation_body_beside_anything_else_is_malformed() {
        let with_own_text = r#"{"__type__":"CommandSystemDonate","key":"k","json_string":"[1]"}"#;
        let log = r#"{"__type__":"CommandSystemLog","level":"info","message":"m"}"#;
        let head = r#"{"__type__":"CommandSystemDonate","key":"k","json_string":""}"#;
        let errors = [
            Command::from_json_and_donation_body(with_own_text, b"[2]".to_vec()),
            Command::from_json_and_donation_body(log, b"[2]".to_vec()),
            Command::from_json_and_donation_body(head, vec![0xff, 0xfe]),
            Command::from_json_and_donation_body("{", b"[2]".to_vec()),
        ]
        .map(|result| result.unwrap_err().to_string());
        assert_eq!(
            errors,
            [
                "CommandSystemDonate is malformed at `json_string`: a donation body came beside the command, so its own json_string must be empty",
                "CommandSystemLog is malformed at `(top level)`: a donation body came beside it; only a CommandSystemDonate may have one",
                "CommandSystemDonate is malformed at `json_string`: the donation body beside the command is not UTF-8",
                "not valid JSON: EOF while parsing an object at line 1 column 1",
            ]
        );
    }

    /// The donation's fast path reads what the general one does, and leaves errors to it.
    #[test]
    fn donation_text_decodes_as_its_value_does() {
        for text in [
            r#"{"__type__":"CommandSystemDonate","key":"1-demo","json_string":"[{\"a\":\"donn\u00e9\"}]"}"#,
            r#"{"json_string":"é\n","extra":[1,{"x":null}],"key":"1-demo","__type__":"CommandSystemDonate"}"#,
            r#"{"__type__":"CommandSystemDonate","key":"k","json_string":""}"#,
        ] {
            let value: Value = serde_json::from_str(text).unwrap();
            assert_eq!(Command::from_json(text).unwrap(), Command::from_value(value).unwrap(), "{text}");
        }
        let malformed = r#"{"__type__":"CommandSystemDonate","key":"k","json_string":7}"#;
        let error = Command::from_json(malformed).unwrap_err().to_string();
        assert!(error.contains("CommandSystemDonate") && error.contains("json_string"), "{error}");
    }
}
