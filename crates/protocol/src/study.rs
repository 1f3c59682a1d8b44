//! Study configs (`"schema": "port-study/1"`) and the outbox record a donation is kept as until the
//! host acknowledges it.
//!
//! A study config says which script runs, which locales it speaks, where donations and logs go, and
//! how long a script waits for the host's acknowledgement. [`StudyConfig::parse`] checks a config
//! and reports every problem at once, each as a [`StudyError`] with a JSON path (`donate.url`,
//! `locales[1]`) and a message saying what is wrong and what to do. `port study check FILE` prints
//! them; the extension shows them when it loads a config.
//!
//! [`OutboxRecord`] is how a donation waiting for delivery is persisted (`chrome.storage.local`).
//! The retry policy that changes it lives in `port_engine::outbox`.
//!
//! This module does no I/O: it neither reads files nor fetches scripts. The caller passes the text,
//! and passes fetched script bytes to [`verify_script_sha256`].

use std::collections::HashSet;
use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::{Text, Translatable};

/// The only `schema` this version reads.
pub const STUDY_SCHEMA: &str = "port-study/1";

/// `ack_timeout_s` when the config does not give it.
pub const DEFAULT_ACK_TIMEOUT_S: u32 = 30;

/// The `ack_timeout_s` values a config may give.
pub const ACK_TIMEOUT_RANGE_S: RangeInclusive<u32> = 1..=600;

/// The path of an error about the config as a whole.
pub const TOP_LEVEL_PATH: &str = "(top level)";

/// A checked study config, `port-study/1`.
///
/// Build one with [`StudyConfig::parse`] or [`StudyConfig::from_value`]: they check every rule
/// below. Deserialising with serde directly checks only the shapes, so do that only for configs
/// this code wrote itself (e.g. read back from storage after a checked parse).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudyConfig {
    /// Always [`STUDY_SCHEMA`].
    pub schema: String,
    /// Lowercase letters, digits, `.`, `_` and `-`, starting with a letter or digit. Sent to the
    /// host as `X-Port-Study` and used in storage keys.
    pub id: String,
    /// Free text, not empty, e.g. `"1.2.0"`.
    pub version: String,
    /// A plain string or `{"translations": {...}}` covering every locale in `locales`.
    pub title: Text,
    /// As `title`.
    pub description: Text,
    pub script: ScriptSource,
    /// Passed to the script's `start(session_id, platform)`; `None` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// The locales the study speaks, BCP 47 style (`en`, `nl`, `pt-BR`); at least one.
    pub locales: Vec<String>,
    pub donate: DonateTarget,
    /// Where logs go; `None`: logs go with donations (host page) or nowhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logs: Option<LogTarget>,
    /// How long the script waits for the host to acknowledge a donation before it is told
    /// "accepted, queued" (status 202). In [`ACK_TIMEOUT_RANGE_S`].
    #[serde(default = "default_ack_timeout_s")]
    pub ack_timeout_s: u32,
    /// The largest donation, in bytes of its `json_string`, that the host accepts (Eyra's accepts
    /// 200 MB: `200000000`). A bigger one is not sent: the participant sees why and the script is
    /// told 413. `None`: no limit here (the host may still answer 413).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_donation_bytes: Option<u64>,
}

fn default_ack_timeout_s() -> u32 {
    DEFAULT_ACK_TIMEOUT_S
}

/// Where the study script comes from. The wire has no tag: the one field present says which.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ScriptSource {
    /// `{"source": "<python>"}`: the script's text, inline.
    Source { source: String },
    /// `{"url": "https://…", "sha256": "<hex>"}`: fetched when the study starts. The URL is https,
    /// or http on localhost or 127.0.0.1 for development. When `sha256` is given (64 lowercase hex
    /// digits after parsing), the fetched bytes must match it: see [`verify_script_sha256`].
    Url {
        url: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sha256: Option<String>,
    },
    /// `{"bundled": "studies/demo/script.py"}`: a file shipped inside the extension, as a relative
    /// path from the extension's root without `..`.
    ///
    /// Only for studies embedded in the extension at build time (such as `studies/demo`). A config
    /// from managed storage or the web cannot add files to the extension, so it has nothing to
    /// point at; parse those with [`StudyOrigin::External`], which refuses this form.
    Bundled { bundled: String },
}

/// Where donations go. Tagged on `mode`; an unknown mode is rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "kebab-case")]
pub enum DonateTarget {
    /// `{"mode": "host-page"}`: to the page that embeds the study, as feldspar does.
    HostPage,
    /// `{"mode": "http", "url": "…"}`: POSTed to `url`, body the donation's `json_string` verbatim,
    /// with the headers of [`OutboxRecord::http_headers`].
    Http { url: String },
    /// `{"mode": "local"}`: kept on the participant's machine (downloads, development).
    Local,
}

/// `"logs": {"url": "…"}`: where log entries are POSTed; same URL rule as the script URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogTarget {
    pub url: String,
}

/// Where a config comes from, which decides whether `script.bundled` is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StudyOrigin {
    /// Built into the extension (`studies/<id>/study.json`): every script form is allowed.
    Embedded,
    /// From managed storage, a URL or the participant: `script.bundled` is refused.
    External,
}

/// One problem in a study config: where it is, and what to do about it.
///
/// `path` is a JSON path into the config (`script.sha256`, `locales[1]`,
/// `title.translations.nl`), or [`TOP_LEVEL_PATH`]. Messages quote the offending value (configs
/// are written by researchers and hold no participant data), cut to 80 characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct StudyError {
    pub path: String,
    pub message: String,
}

/// The fetched script does not have the SHA-256 the config gives. The study must not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "script.sha256: the fetched script's SHA-256 is {actual}, but the config expects {expected}; \
     if the script changed on purpose, put the new hash in \"sha256\", otherwise check the URL"
)]
pub struct ScriptHashMismatch {
    pub expected: String,
    pub actual: String,
}

impl StudyConfig {
    /// Parses and checks a config's JSON text, collecting every problem.
    pub fn parse(json_text: &str, origin: StudyOrigin) -> Result<StudyConfig, Vec<StudyError>> {
        match serde_json::from_str::<Value>(json_text) {
            Ok(value) => StudyConfig::from_value(value, origin),
            Err(error) => Err(vec![StudyError::new(TOP_LEVEL_PATH, format!("not valid JSON: {error}"))]),
        }
    }

    /// Checks a config that is already a JSON value, e.g. one read from `chrome.storage.managed`.
    pub fn from_value(value: Value, origin: StudyOrigin) -> Result<StudyConfig, Vec<StudyError>> {
        let Value::Object(fields) = value else {
            return Err(vec![StudyError::new(
                TOP_LEVEL_PATH,
                format!("must be a JSON object with \"schema\": \"{STUDY_SCHEMA}\", got {}", describe(&value)),
            )]);
        };
        let mut checker = Checker { errors: Vec::new() };
        checker.config(&fields, origin).filter(|_| checker.errors.is_empty()).ok_or(checker.errors)
    }

    /// Checks fetched script bytes against `script.sha256`; anything passes when there is no hash.
    pub fn verify_script(&self, script_bytes: &[u8]) -> Result<(), ScriptHashMismatch> {
        match &self.script {
            ScriptSource::Url { sha256: Some(expected), .. } => verify_script_sha256(script_bytes, expected),
            _ => Ok(()),
        }
    }
}

/// The SHA-256 of `bytes` as 64 lowercase hex digits, the form `script.sha256` takes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Checks fetched script bytes against an expected SHA-256 (hex, either case).
pub fn verify_script_sha256(script_bytes: &[u8], expected_sha256: &str) -> Result<(), ScriptHashMismatch> {
    let actual = sha256_hex(script_bytes);
    if actual.eq_ignore_ascii_case(expected_sha256) {
        Ok(())
    } else {
        Err(ScriptHashMismatch { expected: expected_sha256.to_ascii_lowercase(), actual })
    }
}

impl StudyError {
    fn new(path: impl Into<String>, message: impl Into<String>) -> StudyError {
        StudyError { path: path.into(), message: message.into() }
    }
}

const TOP_LEVEL_FIELDS: &[&str] = &[
    "schema",
    "id",
    "version",
    "title",
    "description",
    "script",
    "platform",
    "locales",
    "donate",
    "logs",
    "ack_timeout_s",
    "max_donation_bytes",
];
const SCRIPT_FIELDS: &[&str] = &["source", "url", "sha256", "bundled"];
const DONATE_FIELDS: &[&str] = &["mode", "url"];
const LOGS_FIELDS: &[&str] = &["url"];
const DONATE_MODES: &str = "\"host-page\", \"http\" or \"local\"";

/// Walks the JSON value, collecting errors. Each method returns `None` exactly when it recorded an
/// error, so a config is built only from fields that passed.
struct Checker {
    errors: Vec<StudyError>,
}

impl Checker {
    fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.errors.push(StudyError::new(path, message));
    }

    fn config(&mut self, fields: &Map<String, Value>, origin: StudyOrigin) -> Option<StudyConfig> {
        // A different version of the format has different rules, so its other fields are not
        // judged by these; the one error says what to do.
        if let Some(Value::String(schema)) = fields.get("schema")
            && schema != STUDY_SCHEMA
            && schema.starts_with("port-study/")
        {
            self.error(
                "schema",
                format!(
                    "{} is not supported: this port reads \"{STUDY_SCHEMA}\"; update port, or write the config in \
                     \"{STUDY_SCHEMA}\"",
                    quote(schema)
                ),
            );
            return None;
        }
        self.unknown_fields("", fields, TOP_LEVEL_FIELDS);
        let schema = self.schema(fields);
        let id = self.id(fields);
        let version = self.non_empty_string("version", fields.get("version"), "e.g. \"1.0.0\"");
        let locales = self.locales(fields.get("locales"));
        let title = self.text("title", fields.get("title"), locales.as_deref());
        let description = self.text("description", fields.get("description"), locales.as_deref());
        let script = self.script(fields.get("script"), origin);
        let platform = match optional(fields, "platform") {
            None => Some(None),
            Some(value) => self.non_empty_string("platform", Some(value), "e.g. \"YouTube\"").map(Some),
        };
        let donate = self.donate(fields.get("donate"));
        let logs = match optional(fields, "logs") {
            None => Some(None),
            Some(value) => self.logs(value).map(Some),
        };
        let ack_timeout_s = self.ack_timeout_s(optional(fields, "ack_timeout_s"));
        let max_donation_bytes = self.max_donation_bytes(optional(fields, "max_donation_bytes"));
        Some(StudyConfig {
            schema: schema?,
            id: id?,
            version: version?,
            title: title?,
            description: description?,
            script: script?,
            platform: platform?,
            locales: locales?,
            donate: donate?,
            logs: logs?,
            ack_timeout_s: ack_timeout_s?,
            max_donation_bytes: max_donation_bytes?,
        })
    }

    /// Reports fields not in `known`, suggesting the closest known name for a likely typo.
    fn unknown_fields(&mut self, prefix: &str, fields: &Map<String, Value>, known: &[&str]) {
        for name in fields.keys().filter(|name| !known.contains(&name.as_str())) {
            let message = match closest(name, known) {
                Some(suggestion) => format!("unknown field; did you mean \"{suggestion}\"?"),
                None => format!(
                    "unknown field; the fields here are {}",
                    known.iter().map(|field| format!("\"{field}\"")).collect::<Vec<_>>().join(", ")
                ),
            };
            self.error(join_path(prefix, name), message);
        }
    }

    fn schema(&mut self, fields: &Map<String, Value>) -> Option<String> {
        match fields.get("schema") {
            None => self.missing("schema", format!("start the config with \"schema\": \"{STUDY_SCHEMA}\"")),
            Some(Value::String(schema)) if schema == STUDY_SCHEMA => Some(schema.clone()),
            Some(other) => {
                self.error("schema", format!("must be \"{STUDY_SCHEMA}\", got {}", describe(other)));
                None
            }
        }
    }

    fn id(&mut self, fields: &Map<String, Value>) -> Option<String> {
        let id = self.non_empty_string("id", fields.get("id"), "e.g. \"my-study\"")?;
        if is_study_id(&id) {
            Some(id)
        } else {
            self.error(
                "id",
                format!(
                    "must start with a lowercase letter or digit and hold only a-z, 0-9, \".\", \"_\" and \"-\", got {}",
                    quote(&id)
                ),
            );
            None
        }
    }

    fn missing<T>(&mut self, path: &str, what_to_do: impl std::fmt::Display) -> Option<T> {
        self.error(path, format!("missing; {what_to_do}"));
        None
    }

    /// A required string that is not blank; `example` completes the "missing" message.
    fn non_empty_string(&mut self, path: &str, value: Option<&Value>, example: &str) -> Option<String> {
        match value {
            None | Some(Value::Null) => self.missing(path, format!("give a string, {example}")),
            Some(Value::String(text)) if text.trim().is_empty() => {
                self.error(path, format!("must not be empty; give a string, {example}"));
                None
            }
            Some(Value::String(text)) => Some(text.clone()),
            Some(other) => {
                self.error(path, format!("must be a string, {example}, got {}", describe(other)));
                None
            }
        }
    }

    /// A plain string, or `{"translations": {...}}` with a text for every listed locale.
    fn text(&mut self, path: &str, value: Option<&Value>, locales: Option<&[String]>) -> Option<Text> {
        let shape = "a string or {\"translations\": {\"en\": \"…\"}}";
        let fields = match value {
            None | Some(Value::Null) => return self.missing(path, format!("give {shape}")),
            Some(Value::String(_)) => {
                return self.non_empty_string(path, value, "or {\"translations\": {…}}").map(Text::Plain);
            }
            Some(Value::Object(fields)) => fields,
            Some(other) => {
                self.error(path, format!("must be {shape}, got {}", describe(other)));
                return None;
            }
        };
        let Some(translations_value) = fields.get("translations") else {
            let looks_like_locale_map = !fields.is_empty() && fields.keys().all(|key| is_locale_code(key));
            let hint = if looks_like_locale_map { "; wrap the locale map in \"translations\"" } else { "" };
            self.error(path, format!("must be {shape}, got an object without \"translations\"{hint}"));
            return None;
        };
        self.unknown_fields(path, fields, &["translations"]);
        let translations_path = join_path(path, "translations");
        let Value::Object(translation_fields) = translations_value else {
            let got = describe(translations_value);
            self.error(
                &translations_path,
                format!("must be an object of texts by locale, e.g. {{\"en\": \"…\"}}, got {got}"),
            );
            return None;
        };
        if translation_fields.is_empty() {
            self.error(&translations_path, "must hold at least one text, e.g. {\"en\": \"…\"}");
            return None;
        }
        let mut translatable = Translatable::default();
        let n_errors = self.errors.len();
        for (locale, text) in translation_fields {
            let text_path = join_path(&translations_path, locale);
            if !is_locale_code(locale) {
                self.error(&text_path, format!("{} is not a language code like \"en\" or \"pt-BR\"", quote(locale)));
            } else if let Some(text) = self.non_empty_string(&text_path, Some(text), "the text in this locale") {
                translatable.translations.insert(locale.clone(), text);
            }
        }
        for locale in locales.unwrap_or_default() {
            let language = locale.split('-').next().unwrap_or(locale);
            if !translation_fields.contains_key(locale) && !translation_fields.contains_key(language) {
                self.error(
                    &translations_path,
                    format!("has no text for {}, which \"locales\" lists; add one", quote(locale)),
                );
            }
        }
        (self.errors.len() == n_errors).then_some(Text::Translatable(translatable))
    }

    fn locales(&mut self, value: Option<&Value>) -> Option<Vec<String>> {
        let items = match value {
            None | Some(Value::Null) => {
                return self.missing("locales", "list the study's locales, e.g. [\"en\", \"nl\"]");
            }
            Some(Value::Array(items)) if items.is_empty() => {
                self.error("locales", "must list at least one locale, e.g. [\"en\"]");
                return None;
            }
            Some(Value::Array(items)) => items,
            Some(other) => {
                self.error(
                    "locales",
                    format!("must be a list of language codes, e.g. [\"en\", \"nl\"], got {}", describe(other)),
                );
                return None;
            }
        };
        let n_errors = self.errors.len();
        let mut seen = HashSet::new();
        let mut locales = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let path = format!("locales[{index}]");
            match item {
                Value::String(locale) if !is_locale_code(locale) => self.error(
                    path,
                    format!("must be a language code like \"en\", \"nl\" or \"pt-BR\", got {}", quote(locale)),
                ),
                Value::String(locale) if !seen.insert(locale.as_str()) => {
                    self.error(path, format!("{} is listed twice; remove one", quote(locale)))
                }
                Value::String(locale) => locales.push(locale.clone()),
                other => self.error(path, format!("must be a language code like \"en\", got {}", describe(other))),
            }
        }
        (self.errors.len() == n_errors).then_some(locales)
    }

    fn script(&mut self, value: Option<&Value>, origin: StudyOrigin) -> Option<ScriptSource> {
        let forms =
            "{\"source\": \"<python>\"}, {\"url\": \"https://…\", \"sha256\": \"<hex>\"} or {\"bundled\": \"<path>\"}";
        let fields = match value {
            None | Some(Value::Null) => return self.missing("script", format!("give {forms}")),
            Some(Value::Object(fields)) => fields,
            Some(other) => {
                self.error("script", format!("must be {forms}, got {}", describe(other)));
                return None;
            }
        };
        self.unknown_fields("script", fields, SCRIPT_FIELDS);
        let given: Vec<&str> =
            ["source", "url", "bundled"].into_iter().filter(|name| optional(fields, name).is_some()).collect();
        let sha256 = optional(fields, "sha256");
        if sha256.is_some() && !given.contains(&"url") {
            self.error("script.sha256", "only applies to \"url\"; remove it");
        }
        match given.as_slice() {
            [] => self.missing(
                "script",
                "give one of \"source\" (the Python text), \"url\" (where to fetch it) or \"bundled\" (a file in \
                 the extension)",
            ),
            ["source"] => {
                let source = self.non_empty_string("script.source", fields.get("source"), "the Python text")?;
                Some(ScriptSource::Source { source })
            }
            ["url"] => {
                let url = self.url("script.url", fields.get("url"));
                let sha256 = match sha256 {
                    None => Some(None),
                    Some(value) => self.sha256(value).map(Some),
                };
                Some(ScriptSource::Url { url: url?, sha256: sha256? })
            }
            ["bundled"] if origin == StudyOrigin::External => {
                self.error(
                    "script.bundled",
                    "only studies built into the extension may use \"bundled\"; give \"source\", or \"url\" \
                     with \"sha256\"",
                );
                None
            }
            ["bundled"] => {
                let bundled =
                    self.non_empty_string("script.bundled", fields.get("bundled"), "e.g. \"studies/demo/script.py\"")?;
                if is_relative_path(&bundled) {
                    Some(ScriptSource::Bundled { bundled })
                } else {
                    self.error(
                        "script.bundled",
                        format!(
                            "must be a relative path inside the extension, with \"/\" and without \"..\", like \
                             \"studies/demo/script.py\", got {}",
                            quote(&bundled)
                        ),
                    );
                    None
                }
            }
            several => {
                let names = several.iter().map(|name| format!("\"{name}\"")).collect::<Vec<_>>().join(" and ");
                self.error("script", format!("give only one of \"source\", \"url\" and \"bundled\", got {names}"));
                None
            }
        }
    }

    fn sha256(&mut self, value: &Value) -> Option<String> {
        let what = "must be the script's SHA-256 as 64 hex digits (`sha256sum script.py`)";
        match value {
            Value::String(hex) if hex.len() == 64 && hex.bytes().all(|byte| byte.is_ascii_hexdigit()) => {
                Some(hex.to_ascii_lowercase())
            }
            Value::String(hex) if hex.bytes().all(|byte| byte.is_ascii_hexdigit()) => {
                self.error("script.sha256", format!("{what}, got {} digits", hex.len()));
                None
            }
            Value::String(hex) => {
                self.error(
                    "script.sha256",
                    format!("{what}, got {} which holds characters other than 0-9 and a-f", quote(hex)),
                );
                None
            }
            other => {
                self.error("script.sha256", format!("{what}, got {}", describe(other)));
                None
            }
        }
    }

    /// An https URL, or http on localhost or 127.0.0.1 for development.
    fn url(&mut self, path: &str, value: Option<&Value>) -> Option<String> {
        let text = self.non_empty_string(path, value, "e.g. \"https://example.org/…\"")?;
        let rule = "must be https (http only for localhost or 127.0.0.1)";
        let url = match url::Url::parse(&text) {
            Ok(url) => url,
            Err(error) => {
                self.error(path, format!("is not a valid URL ({error}); {rule}, got {}", quote(&text)));
                return None;
            }
        };
        let is_development_host = matches!(url.host_str(), Some("localhost" | "127.0.0.1"));
        if !(url.scheme() == "https" || url.scheme() == "http" && is_development_host) {
            self.error(path, format!("{rule}, got {}", quote(&text)));
            None
        } else if !url.username().is_empty() || url.password().is_some() {
            // Such a URL would spread a credential to every log line and error message.
            self.error(path, "must not hold a user name or password; the host must authenticate otherwise");
            None
        } else {
            Some(text)
        }
    }

    fn donate(&mut self, value: Option<&Value>) -> Option<DonateTarget> {
        let fields = match value {
            None | Some(Value::Null) => {
                return self.missing(
                    "donate",
                    "give {\"mode\": \"host-page\"}, {\"mode\": \"http\", \"url\": \"…\"} or {\"mode\": \"local\"}",
                );
            }
            Some(Value::Object(fields)) => fields,
            Some(other) => {
                self.error(
                    "donate",
                    format!("must be an object with \"mode\": {DONATE_MODES}, got {}", describe(other)),
                );
                return None;
            }
        };
        self.unknown_fields("donate", fields, DONATE_FIELDS);
        let url_given = optional(fields, "url").is_some();
        match fields.get("mode") {
            None | Some(Value::Null) => self.missing("donate.mode", format!("give {DONATE_MODES}")),
            Some(Value::String(mode)) if mode == "http" => {
                if url_given {
                    Some(DonateTarget::Http { url: self.url("donate.url", fields.get("url"))? })
                } else {
                    self.missing("donate.url", "\"http\" mode POSTs each donation to this URL")
                }
            }
            Some(Value::String(mode)) if mode == "host-page" || mode == "local" => {
                if url_given {
                    self.error("donate.url", format!("only \"http\" mode takes a URL, not {}; remove it", quote(mode)));
                    None
                } else if mode == "local" {
                    Some(DonateTarget::Local)
                } else {
                    Some(DonateTarget::HostPage)
                }
            }
            Some(other) => {
                self.error("donate.mode", format!("must be {DONATE_MODES}, got {}", describe(other)));
                None
            }
        }
    }

    fn logs(&mut self, value: &Value) -> Option<LogTarget> {
        let Value::Object(fields) = value else {
            self.error("logs", format!("must be an object {{\"url\": \"https://…\"}}, got {}", describe(value)));
            return None;
        };
        self.unknown_fields("logs", fields, LOGS_FIELDS);
        Some(LogTarget { url: self.url("logs.url", fields.get("url"))? })
    }

    fn max_donation_bytes(&mut self, value: Option<&Value>) -> Option<Option<u64>> {
        let Some(value) = value else { return Some(None) };
        match value.as_u64() {
            Some(n_bytes) if n_bytes > 0 => Some(Some(n_bytes)),
            _ => {
                let got = if value.is_number() { value.to_string() } else { describe(value) };
                self.error(
                    "max_donation_bytes",
                    format!(
                        "must be a whole number of bytes, at least 1 (e.g. 200000000 for a 200 MB limit), got {got}"
                    ),
                );
                None
            }
        }
    }

    fn ack_timeout_s(&mut self, value: Option<&Value>) -> Option<u32> {
        let Some(value) = value else { return Some(DEFAULT_ACK_TIMEOUT_S) };
        let seconds = value.as_u64().and_then(|seconds| u32::try_from(seconds).ok());
        match seconds {
            Some(seconds) if ACK_TIMEOUT_RANGE_S.contains(&seconds) => Some(seconds),
            _ => {
                let (low, high) = (ACK_TIMEOUT_RANGE_S.start(), ACK_TIMEOUT_RANGE_S.end());
                let got = if value.is_number() { value.to_string() } else { describe(value) };
                self.error(
                    "ack_timeout_s",
                    format!("must be a whole number of seconds from {low} to {high} (default {DEFAULT_ACK_TIMEOUT_S}), got {got}"),
                );
                None
            }
        }
    }
}

/// An optional field: absent and `null` (Python's `None`) both mean "not given".
fn optional<'a>(fields: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    fields.get(name).filter(|value| !value.is_null())
}

fn join_path(prefix: &str, name: &str) -> String {
    if prefix.is_empty() { name.to_owned() } else { format!("{prefix}.{name}") }
}

/// `[a-z0-9][a-z0-9._-]*`
fn is_study_id(id: &str) -> bool {
    let mut bytes = id.bytes();
    bytes.next().is_some_and(|first| first.is_ascii_lowercase() || first.is_ascii_digit())
        && bytes.all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || b"._-".contains(&byte))
}

/// BCP 47 in its common shape: a 2–3 letter language, then `-` and 1–8 letters or digits per
/// subtag (`en`, `nl-BE`, `zh-Hant-TW`). Registry contents are not checked.
fn is_locale_code(locale: &str) -> bool {
    let mut subtags = locale.split('-');
    let language = subtags.next().unwrap_or_default();
    (2..=3).contains(&language.len())
        && language.bytes().all(|byte| byte.is_ascii_alphabetic())
        && subtags
            .all(|subtag| (1..=8).contains(&subtag.len()) && subtag.bytes().all(|byte| byte.is_ascii_alphanumeric()))
}

/// A path relative to the extension's root: `/`-separated, no empty, `.` or `..` parts, no drive
/// or scheme, no backslash.
fn is_relative_path(path: &str) -> bool {
    !path.contains(['\\', ':']) && path.split('/').all(|part| !part.is_empty() && part != "." && part != "..")
}

/// The known name a typo most likely meant: at most two edits away, and closer than half its length.
fn closest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|candidate| (edit_distance(name, candidate), *candidate))
        .filter(|(distance, candidate)| *distance <= 2 && *distance * 2 < candidate.len())
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours
/// each count 1, so `scirpt` is one edit from `script`.
fn edit_distance(left: &str, right: &str) -> usize {
    let left: Vec<char> = left.chars().collect();
    let right: Vec<char> = right.chars().collect();
    let mut distances = vec![vec![0usize; right.len() + 1]; left.len() + 1];
    for (left_idx, row) in distances.iter_mut().enumerate() {
        row[0] = left_idx;
    }
    for (right_idx, distance) in distances[0].iter_mut().enumerate() {
        *distance = right_idx;
    }
    for left_idx in 1..=left.len() {
        for right_idx in 1..=right.len() {
            let substitution_cost = usize::from(left[left_idx - 1] != right[right_idx - 1]);
            let mut distance = (distances[left_idx - 1][right_idx] + 1)
                .min(distances[left_idx][right_idx - 1] + 1)
                .min(distances[left_idx - 1][right_idx - 1] + substitution_cost);
            if left_idx > 1
                && right_idx > 1
                && left[left_idx - 1] == right[right_idx - 2]
                && left[left_idx - 2] == right[right_idx - 1]
            {
                distance = distance.min(distances[left_idx - 2][right_idx - 2] + 1);
            }
            distances[left_idx][right_idx] = distance;
        }
    }
    distances[left.len()][right.len()]
}

/// A string as JSON quotes it, cut to 80 characters so that a pasted script stays readable.
fn quote(text: &str) -> String {
    const MAX_CHARS: usize = 80;
    if text.chars().count() <= MAX_CHARS {
        Value::from(text).to_string()
    } else {
        let head: String = text.chars().take(MAX_CHARS).collect();
        format!("{}…", Value::from(head))
    }
}

/// The kind of a value for "got …" in messages; strings are quoted.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(_) => "a boolean".into(),
        Value::Number(_) => "a number".into(),
        Value::String(text) => quote(text),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// The header that names the study on every HTTP donation.
pub const HEADER_STUDY: &str = "X-Port-Study";
/// The header that names the session.
pub const HEADER_SESSION: &str = "X-Port-Session";
/// The header that carries the donation's key.
pub const HEADER_KEY: &str = "X-Port-Key";
/// The header a host deduplicates on: the same for every retry of one donation.
pub const HEADER_IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// A donation in the durable outbox, as persisted (in `chrome.storage.local`, keyed by
/// `idempotency_key`) before it is first sent, and removed once the host acknowledged or rejected it.
///
/// `port_engine::outbox::Outbox` makes and changes these; callers only store them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxRecord {
    pub study_id: String,
    pub session_id: String,
    /// The donation's key, as the script gave it.
    pub key: String,
    /// The donated JSON text, sent verbatim as the body: where it is kept.
    #[serde(flatten)]
    pub body: crate::donation_body::DonationBody,
    /// Stable for the same study, session, key and body: see `port_engine::outbox::idempotency_key`.
    pub idempotency_key: String,
    /// How many attempts have started.
    pub attempts: u32,
    /// Unix time in milliseconds: when a `Pending` record is due, or when a `Sending` attempt is
    /// presumed lost and the record is due again.
    pub next_attempt_at_ms: u64,
    pub state: OutboxState,
    /// Why the last attempt failed, for the UI ("HTTP 503", "network error"); no donated data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// Where a record is in its delivery. Delivered and rejected records are removed, not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutboxState {
    /// Waiting for its first or next attempt at `next_attempt_at_ms`.
    Pending,
    /// An attempt is under way; if no result comes by `next_attempt_at_ms`, the record is due
    /// again (the service worker may have been stopped mid-request).
    Sending,
}

impl OutboxRecord {
    /// The headers of an HTTP donation (`donate.mode` `http`), besides `Content-Type`.
    pub fn http_headers(&self) -> [(&'static str, &str); 4] {
        [
            (HEADER_STUDY, &self.study_id),
            (HEADER_SESSION, &self.session_id),
            (HEADER_KEY, &self.key),
            (HEADER_IDEMPOTENCY_KEY, &self.idempotency_key),
        ]
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    /// A valid config; each test changes some of its fields.
    const VALID_CONFIG: &str = r#"{
        "schema": "port-study/1",
        "id": "demo",
        "version": "1.0.0",
        "title": {"translations": {"en": "Demo study", "nl": "Demostudie"}},
        "description": "What the study is about",
        "script": {"source": "def process(session_id, platform):\n    yield None\n"},
        "locales": ["en", "nl"],
        "donate": {"mode": "host-page"}
    }"#;

    /// Checks [`VALID_CONFIG`] with the top-level fields of `changes` replacing its own; a field
    /// whose new value is `"<absent>"` is removed. `changes` that are not a JSON object are checked
    /// as they are, as the whole config text.
    #[track_caller]
    fn check(changes: &str, expect: Expect) {
        check_as(StudyOrigin::Embedded, changes, expect);
    }

    #[track_caller]
    fn check_as(origin: StudyOrigin, changes: &str, expect: Expect) {
        let config_text = match serde_json::from_str::<Value>(changes) {
            Ok(Value::Object(changed_fields)) => {
                let mut config: Map<String, Value> = serde_json::from_str(VALID_CONFIG).unwrap();
                for (name, value) in changed_fields {
                    if value == "<absent>" {
                        config.remove(&name);
                    } else {
                        config.insert(name, value);
                    }
                }
                Value::Object(config).to_string()
            }
            _ => changes.to_owned(),
        };
        let rendered = match StudyConfig::parse(&config_text, origin) {
            Ok(config) => {
                let json = serde_json::to_value(&config).unwrap();
                // What parse accepted, serde alone reads back unchanged.
                assert_eq!(serde_json::from_value::<StudyConfig>(json.clone()).unwrap(), config);
                let mut summary = Map::new();
                for name in ["id", "script", "platform", "locales", "donate", "logs", "ack_timeout_s"] {
                    if let Some(value) = json.get(name) {
                        summary.insert(name.to_owned(), value.clone());
                    }
                }
                format!("ok: {}", Value::Object(summary))
            }
            Err(errors) => errors.iter().map(|error| format!("{error}\n")).collect(),
        };
        expect.assert_eq(&rendered);
    }

    #[test]
    fn valid_config_gets_defaults() {
        check(
            "{}",
            expect![[
                r#"ok: {"id":"demo","script":{"source":"def process(session_id, platform):\n    yield None\n"},"locales":["en","nl"],"donate":{"mode":"host-page"},"ack_timeout_s":30}"#
            ]],
        );
    }

    #[test]
    fn valid_config_with_every_field() {
        check(
            r#"{"script": {"url": "https://example.org/s.py", "sha256": "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789"},
                "platform": "YouTube", "donate": {"mode": "http", "url": "http://127.0.0.1:8787/donate"},
                "logs": {"url": "http://localhost:8787/logs"}, "ack_timeout_s": 600}"#,
            expect![[
                r#"ok: {"id":"demo","script":{"url":"https://example.org/s.py","sha256":"abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"},"platform":"YouTube","locales":["en","nl"],"donate":{"mode":"http","url":"http://127.0.0.1:8787/donate"},"logs":{"url":"http://localhost:8787/logs"},"ack_timeout_s":600}"#
            ]],
        );
    }

    #[test]
    fn optional_fields_may_be_null() {
        check(
            r#"{"platform": null, "logs": null, "ack_timeout_s": null, "donate": {"mode": "local", "url": null}}"#,
            expect![[
                r#"ok: {"id":"demo","script":{"source":"def process(session_id, platform):\n    yield None\n"},"locales":["en","nl"],"donate":{"mode":"local"},"ack_timeout_s":30}"#
            ]],
        );
    }

    #[test]
    fn invalid_json_is_one_top_level_error() {
        check(
            r#"{"schema": "port-study/1",}"#,
            expect![[r#"
                (top level): not valid JSON: trailing comma at line 1 column 27
            "#]],
        );
    }

    #[test]
    fn config_must_be_an_object() {
        check(
            r#"[1]"#,
            expect![[r#"
                (top level): must be a JSON object with "schema": "port-study/1", got a list
            "#]],
        );
    }

    #[test]
    fn empty_object_reports_every_missing_field() {
        check(
            r#"{"schema": "<absent>", "id": "<absent>", "version": "<absent>", "title": "<absent>",
                "description": "<absent>", "script": "<absent>", "locales": "<absent>", "donate": "<absent>"}"#,
            expect![[r#"
                schema: missing; start the config with "schema": "port-study/1"
                id: missing; give a string, e.g. "my-study"
                version: missing; give a string, e.g. "1.0.0"
                locales: missing; list the study's locales, e.g. ["en", "nl"]
                title: missing; give a string or {"translations": {"en": "…"}}
                description: missing; give a string or {"translations": {"en": "…"}}
                script: missing; give {"source": "<python>"}, {"url": "https://…", "sha256": "<hex>"} or {"bundled": "<path>"}
                donate: missing; give {"mode": "host-page"}, {"mode": "http", "url": "…"} or {"mode": "local"}
            "#]],
        );
    }

    #[test]
    fn schema_of_another_version_is_the_only_error() {
        check(
            r#"{"schema": "port-study/2", "scirpt": {}}"#,
            expect![[r#"
                schema: "port-study/2" is not supported: this port reads "port-study/1"; update port, or write the config in "port-study/1"
            "#]],
        );
    }

    #[test]
    fn schema_must_be_port_study_1() {
        check(
            r#"{"schema": "feldspar"}"#,
            expect![[r#"
                schema: must be "port-study/1", got "feldspar"
            "#]],
        );
    }

    #[test]
    fn unknown_top_level_field_suggests_the_closest_name() {
        check(
            r#"{"scirpt": {"source": "x"}, "script": "<absent>", "ack_timeout": 10, "colour": "red"}"#,
            expect![[r#"
                scirpt: unknown field; did you mean "script"?
                ack_timeout: unknown field; did you mean "ack_timeout_s"?
                colour: unknown field; the fields here are "schema", "id", "version", "title", "description", "script", "platform", "locales", "donate", "logs", "ack_timeout_s", "max_donation_bytes"
                script: missing; give {"source": "<python>"}, {"url": "https://…", "sha256": "<hex>"} or {"bundled": "<path>"}
            "#]],
        );
    }

    #[test]
    fn id_must_be_lowercase_and_simple() {
        check(
            r#"{"id": "My Study"}"#,
            expect![[r#"
                id: must start with a lowercase letter or digit and hold only a-z, 0-9, ".", "_" and "-", got "My Study"
            "#]],
        );
        check(
            r#"{"id": "-x"}"#,
            expect![[r#"
                id: must start with a lowercase letter or digit and hold only a-z, 0-9, ".", "_" and "-", got "-x"
            "#]],
        );
        check(
            r#"{"id": "0.study_v2-b"}"#,
            expect![[
                r#"ok: {"id":"0.study_v2-b","script":{"source":"def process(session_id, platform):\n    yield None\n"},"locales":["en","nl"],"donate":{"mode":"host-page"},"ack_timeout_s":30}"#
            ]],
        );
    }

    #[test]
    fn id_and_version_must_be_non_empty_strings() {
        check(
            r#"{"id": "", "version": 2}"#,
            expect![[r#"
                id: must not be empty; give a string, e.g. "my-study"
                version: must be a string, e.g. "1.0.0", got a number
            "#]],
        );
    }

    #[test]
    fn title_must_cover_every_locale() {
        check(
            r#"{"title": {"translations": {"en": "Demo"}}, "locales": ["en", "nl-BE", "de"], "description": {"translations": {"nl": "x", "en": "y", "de": "z"}}}"#,
            expect![[r#"
                title.translations: has no text for "nl-BE", which "locales" lists; add one
                title.translations: has no text for "de", which "locales" lists; add one
            "#]],
        );
    }

    #[test]
    fn title_locale_map_without_translations_says_to_wrap_it() {
        check(
            r#"{"title": {"en": "Demo"}, "description": 5}"#,
            expect![[r#"
                title: must be a string or {"translations": {"en": "…"}}, got an object without "translations"; wrap the locale map in "translations"
                description: must be a string or {"translations": {"en": "…"}}, got a number
            "#]],
        );
    }

    #[test]
    fn title_translations_must_be_texts_by_locale() {
        check(
            r#"{"title": {"translations": {"en": "", "english": "Demo", "nl": 3}, "extra": 1}, "description": {"translations": {}}}"#,
            expect![[r#"
                title.extra: unknown field; the fields here are "translations"
                title.translations.en: must not be empty; give a string, the text in this locale
                title.translations.english: "english" is not a language code like "en" or "pt-BR"
                title.translations.nl: must be a string, the text in this locale, got a number
                description.translations: must hold at least one text, e.g. {"en": "…"}
            "#]],
        );
    }

    #[test]
    fn locales_must_be_a_non_empty_list_of_codes() {
        check(
            r#"{"locales": [], "title": "t"}"#,
            expect![[r#"
                locales: must list at least one locale, e.g. ["en"]
            "#]],
        );
        check(
            r#"{"locales": ["en", "en_US", "en", 4, "pt-BR"], "title": "t"}"#,
            expect![[r#"
                locales[1]: must be a language code like "en", "nl" or "pt-BR", got "en_US"
                locales[2]: "en" is listed twice; remove one
                locales[3]: must be a language code like "en", got a number
            "#]],
        );
    }

    #[test]
    fn script_needs_exactly_one_source() {
        check(
            r#"{"script": {}}"#,
            expect![[r#"
                script: missing; give one of "source" (the Python text), "url" (where to fetch it) or "bundled" (a file in the extension)
            "#]],
        );
        check(
            r#"{"script": {"source": "x", "url": "https://example.org/s.py"}}"#,
            expect![[r#"
                script: give only one of "source", "url" and "bundled", got "source" and "url"
            "#]],
        );
    }

    #[test]
    fn script_sha256_belongs_to_url() {
        check(
            r#"{"script": {"source": "x", "sha256": "00", "sorce": 1}}"#,
            expect![[r#"
                script.sorce: unknown field; did you mean "source"?
                script.sha256: only applies to "url"; remove it
            "#]],
        );
    }

    #[test]
    fn script_sha256_must_be_64_hex_digits() {
        check(
            r#"{"script": {"url": "https://example.org/s.py", "sha256": "abc123"}}"#,
            expect![[r#"
                script.sha256: must be the script's SHA-256 as 64 hex digits (`sha256sum script.py`), got 6 digits
            "#]],
        );
        check(
            r#"{"script": {"url": "https://example.org/s.py", "sha256": "sha256-xyz"}}"#,
            expect![[r#"
                script.sha256: must be the script's SHA-256 as 64 hex digits (`sha256sum script.py`), got "sha256-xyz" which holds characters other than 0-9 and a-f
            "#]],
        );
    }

    #[test]
    fn script_url_must_be_https_except_on_localhost() {
        check(
            r#"{"script": {"url": "http://example.org/s.py"}}"#,
            expect![[r#"
                script.url: must be https (http only for localhost or 127.0.0.1), got "http://example.org/s.py"
            "#]],
        );
        check(
            r#"{"script": {"url": "ftp://localhost/s.py"}}"#,
            expect![[r#"
                script.url: must be https (http only for localhost or 127.0.0.1), got "ftp://localhost/s.py"
            "#]],
        );
        check(
            r#"{"script": {"url": "http://localhost:8000/s.py"}}"#,
            expect![[
                r#"ok: {"id":"demo","script":{"url":"http://localhost:8000/s.py"},"locales":["en","nl"],"donate":{"mode":"host-page"},"ack_timeout_s":30}"#
            ]],
        );
    }

    #[test]
    fn script_url_must_parse_and_hold_no_credentials() {
        check(
            r#"{"script": {"url": "s.py"}, "logs": {"url": "https://user:secret@example.org/logs"}}"#,
            expect![[r#"
                script.url: is not a valid URL (relative URL without a base); must be https (http only for localhost or 127.0.0.1), got "s.py"
                logs.url: must not hold a user name or password; the host must authenticate otherwise
            "#]],
        );
    }

    #[test]
    fn script_bundled_must_be_a_relative_path() {
        check(
            r#"{"script": {"bundled": "studies/demo/script.py"}}"#,
            expect![[
                r#"ok: {"id":"demo","script":{"bundled":"studies/demo/script.py"},"locales":["en","nl"],"donate":{"mode":"host-page"},"ack_timeout_s":30}"#
            ]],
        );
        check(
            r#"{"script": {"bundled": "studies/../../etc/passwd"}}"#,
            expect![[r#"
                script.bundled: must be a relative path inside the extension, with "/" and without "..", like "studies/demo/script.py", got "studies/../../etc/passwd"
            "#]],
        );
        check(
            r#"{"script": {"bundled": "/studies/demo/script.py"}}"#,
            expect![[r#"
                script.bundled: must be a relative path inside the extension, with "/" and without "..", like "studies/demo/script.py", got "/studies/demo/script.py"
            "#]],
        );
    }

    #[test]
    fn script_bundled_is_refused_from_outside_the_extension() {
        check_as(
            StudyOrigin::External,
            r#"{"script": {"bundled": "studies/demo/script.py"}}"#,
            expect![[r#"
                script.bundled: only studies built into the extension may use "bundled"; give "source", or "url" with "sha256"
            "#]],
        );
    }

    #[test]
    fn donate_mode_decides_the_fields() {
        check(
            r#"{"donate": {"mode": "http"}}"#,
            expect![[r#"
                donate.url: missing; "http" mode POSTs each donation to this URL
            "#]],
        );
        check(
            r#"{"donate": {"mode": "host-page", "url": "https://example.org"}}"#,
            expect![[r#"
                donate.url: only "http" mode takes a URL, not "host-page"; remove it
            "#]],
        );
        check(
            r#"{"donate": {"mode": "post", "ur": "x"}}"#,
            expect![[r#"
                donate.ur: unknown field; did you mean "url"?
                donate.mode: must be "host-page", "http" or "local", got "post"
            "#]],
        );
        check(
            r#"{"donate": {"url": "https://example.org"}}"#,
            expect![[r#"
                donate.mode: missing; give "host-page", "http" or "local"
            "#]],
        );
    }

    #[test]
    fn donate_and_logs_urls_follow_the_https_rule() {
        check(
            r#"{"donate": {"mode": "http", "url": "http://192.168.1.5/donate"}, "logs": {"url": ""}}"#,
            expect![[r#"
                donate.url: must be https (http only for localhost or 127.0.0.1), got "http://192.168.1.5/donate"
                logs.url: must not be empty; give a string, e.g. "https://example.org/…"
            "#]],
        );
    }

    #[test]
    fn ack_timeout_must_be_1_to_600_seconds() {
        check(
            r#"{"ack_timeout_s": 0}"#,
            expect![[r#"
                ack_timeout_s: must be a whole number of seconds from 1 to 600 (default 30), got 0
            "#]],
        );
        check(
            r#"{"ack_timeout_s": 2.5}"#,
            expect![[r#"
                ack_timeout_s: must be a whole number of seconds from 1 to 600 (default 30), got 2.5
            "#]],
        );
        check(
            r#"{"ack_timeout_s": "30"}"#,
            expect![[r#"
                ack_timeout_s: must be a whole number of seconds from 1 to 600 (default 30), got "30"
            "#]],
        );
    }

    #[test]
    fn max_donation_bytes_is_a_positive_whole_number() {
        let with_limit = VALID_CONFIG.replace(
            r#""donate": {"mode": "host-page"}"#,
            r#""donate": {"mode": "host-page"}, "max_donation_bytes": 200000000"#,
        );
        let config = StudyConfig::parse(&with_limit, StudyOrigin::External).unwrap();
        assert_eq!(config.max_donation_bytes, Some(200_000_000));
        assert_eq!(StudyConfig::parse(VALID_CONFIG, StudyOrigin::External).unwrap().max_donation_bytes, None);
        check(
            r#"{"max_donation_bytes": 0}"#,
            expect![[r#"
                max_donation_bytes: must be a whole number of bytes, at least 1 (e.g. 200000000 for a 200 MB limit), got 0
            "#]],
        );
        check(
            r#"{"max_donation_bytes": "200 MB"}"#,
            expect![[r#"
                max_donation_bytes: must be a whole number of bytes, at least 1 (e.g. 200000000 for a 200 MB limit), got "200 MB"
            "#]],
        );
    }

    #[test]
    fn long_values_are_cut_in_messages() {
        check(
            &format!(r#"{{"id": "{}"}}"#, "X".repeat(100)),
            expect![[r#"
                id: must start with a lowercase letter or digit and hold only a-z, 0-9, ".", "_" and "-", got "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"…
            "#]],
        );
    }

    #[test]
    fn script_hash_is_checked_when_given() {
        let script = b"print('hi')\n";
        let config_text = VALID_CONFIG.replace(
            r#"{"source": "def process(session_id, platform):\n    yield None\n"}"#,
            &format!(r#"{{"url": "https://example.org/s.py", "sha256": "{}"}}"#, sha256_hex(script).to_uppercase()),
        );
        let config = StudyConfig::parse(&config_text, StudyOrigin::External).unwrap();
        assert_eq!(config.verify_script(script), Ok(()));
        expect![[r#"script.sha256: the fetched script's SHA-256 is 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08, but the config expects caf026f25d7140209f98072605307a438914b9ce6f3c14b23d15d9667241de52; if the script changed on purpose, put the new hash in "sha256", otherwise check the URL"#]]
            .assert_eq(&config.verify_script(b"test").unwrap_err().to_string());
    }

    #[test]
    fn outbox_record_roundtrip() {
        let record = OutboxRecord {
            study_id: "demo".into(),
            session_id: "1700000000000".into(),
            key: "1700000000000-demo".into(),
            body: crate::donation_body::DonationBody::Stored {
                body: crate::donation_body::StoredBody { n_bytes: 9, sha256: "cd".repeat(32) },
            },
            idempotency_key: "ab".repeat(32),
            attempts: 2,
            next_attempt_at_ms: 1_700_000_010_000,
            state: OutboxState::Sending,
            last_error: Some("HTTP 503".into()),
        };
        let json = serde_json::to_string(&record).unwrap();
        expect![[r#"{"study_id":"demo","session_id":"1700000000000","key":"1700000000000-demo","body":{"n_bytes":9,"sha256":"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"},"idempotency_key":"abababababababababababababababababababababababababababababababab","attempts":2,"next_attempt_at_ms":1700000010000,"state":"sending","last_error":"HTTP 503"}"#]].assert_eq(&json);
        assert_eq!(serde_json::from_str::<OutboxRecord>(&json).unwrap(), record);
        // A record an earlier version wrote, with the body inline, is still read and delivered.
        let legacy = json.replace(
            &format!(r#""body":{{"n_bytes":9,"sha256":"{}"}}"#, "cd".repeat(32)),
            r#""json_string":"[{\"a\":1}]""#,
        );
        let legacy: OutboxRecord = serde_json::from_str(&legacy).unwrap();
        assert_eq!(legacy.body, crate::donation_body::DonationBody::Inline { json_string: r#"[{"a":1}]"#.into() });
        expect![[r#"[("X-Port-Study", "demo"), ("X-Port-Session", "1700000000000"), ("X-Port-Key", "1700000000000-demo"), ("Idempotency-Key", "abababababababababababababababababababababababababababababababab")]"#]]
            .assert_eq(&format!("{:?}", record.http_headers()));
    }
}
