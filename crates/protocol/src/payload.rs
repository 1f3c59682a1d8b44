//! Payloads: what the extension answers to a command (fact sheet §1.3).

use serde::{Deserialize, Serialize, Serializer, ser::SerializeMap};
use serde_json::Value;

use crate::decode::{DecodeError, decode_known, wire_type};

/// The reply to a command, as the script receives it from `yield`.
///
/// Unknown `__type__`s are rejected: payloads are produced by the extension itself, never by scripts.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// `PayloadVoid`: an acknowledgement without content (logs, events, legacy donations).
    Void,
    /// `PayloadTrue`: confirm OK, retry OK, progress.
    True,
    /// `PayloadFalse`: consent declined, confirm cancelled, file prompt skipped.
    False,
    /// `PayloadString`: the selected radio item's `value` text.
    String(String),
    /// `PayloadJSON`: JSON text, e.g. the consent form's donation or questionnaire answers.
    Json(String),
    /// `PayloadFile`: one chosen file. Python reads it through `readSlice(start, end)`.
    File(FileRef),
    /// `PayloadFileArray`: several chosen files (D3I's `FileInputMultiple`).
    FileArray(Vec<FileRef>),
    /// `PayloadResponse` (D3I): the host's answer to a donation.
    Response(DonateResponse),
    /// `PayloadError`: typed by feldspar but never produced; kept so that it decodes.
    Error(String),
}

/// A file the participant chose. The bytes never travel in a payload: `locator` says where the
/// runtime finds them (a path for the native runner, a transfer id in the extension).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    pub name: String,
    pub size: u64,
    pub locator: String,
}

/// D3I's `ResponseSystemDonate`, the value of `PayloadResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DonateResponse {
    pub success: bool,
    pub key: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Payload {
    /// The payload's `__type__`.
    pub fn wire_type(&self) -> &'static str {
        match self {
            Payload::Void => "PayloadVoid",
            Payload::True => "PayloadTrue",
            Payload::False => "PayloadFalse",
            Payload::String(_) => "PayloadString",
            Payload::Json(_) => "PayloadJSON",
            Payload::File(_) => "PayloadFile",
            Payload::FileArray(_) => "PayloadFileArray",
            Payload::Response(_) => "PayloadResponse",
            Payload::Error(_) => "PayloadError",
        }
    }

    pub fn from_value(value: Value) -> Result<Payload, DecodeError> {
        let wire_type = wire_type(&value)?.to_owned();
        let content = value.get("value").cloned().unwrap_or(Value::Null);
        let at = |field: &str| format!("{wire_type}.{field}");
        let payload = match wire_type.as_str() {
            "PayloadVoid" => Payload::Void,
            "PayloadTrue" => Payload::True,
            "PayloadFalse" => Payload::False,
            "PayloadString" => Payload::String(decode_known(&at("value"), content)?),
            "PayloadJSON" => Payload::Json(decode_known(&at("value"), content)?),
            "PayloadFile" => Payload::File(decode_known(&at("value"), content)?),
            "PayloadFileArray" => Payload::FileArray(decode_known(&at("value"), content)?),
            "PayloadResponse" => Payload::Response(decode_known(&at("value"), content)?),
            "PayloadError" => Payload::Error(decode_known(&at("value"), content)?),
            _ => {
                return Err(DecodeError::Malformed {
                    wire_type,
                    path: "__type__".into(),
                    reason: "not a payload type".into(),
                });
            }
        };
        Ok(payload)
    }

    pub fn from_json(text: &str) -> Result<Payload, DecodeError> {
        let value: Value = serde_json::from_str(text).map_err(|error| DecodeError::InvalidJson(error.to_string()))?;
        Payload::from_value(value)
    }
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("__type__", self.wire_type())?;
        match self {
            // `undefined` in feldspar: the field is absent.
            Payload::Void => {}
            Payload::True => map.serialize_entry("value", &true)?,
            Payload::False => map.serialize_entry("value", &false)?,
            Payload::String(text) | Payload::Json(text) | Payload::Error(text) => map.serialize_entry("value", text)?,
            Payload::File(file) => map.serialize_entry("value", file)?,
            Payload::FileArray(files) => map.serialize_entry("value", files)?,
            Payload::Response(response) => map.serialize_entry("value", response)?,
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Payload, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Payload::from_value(value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_roundtrip(payload: Payload, json: &str) {
        let expected: Value = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_value(&payload).unwrap(), expected);
        assert_eq!(Payload::from_value(expected).unwrap(), payload);
    }

    #[test]
    fn payload_void_roundtrip() {
        check_roundtrip(Payload::Void, r#"{"__type__":"PayloadVoid"}"#);
    }

    #[test]
    fn payload_true_false_roundtrip() {
        check_roundtrip(Payload::True, r#"{"__type__":"PayloadTrue","value":true}"#);
        check_roundtrip(Payload::False, r#"{"__type__":"PayloadFalse","value":false}"#);
    }

    #[test]
    fn payload_string_and_json_roundtrip() {
        check_roundtrip(Payload::String("Option".into()), r#"{"__type__":"PayloadString","value":"Option"}"#);
        check_roundtrip(Payload::Json("{}".into()), r#"{"__type__":"PayloadJSON","value":"{}"}"#);
        check_roundtrip(Payload::Error("boom".into()), r#"{"__type__":"PayloadError","value":"boom"}"#);
    }

    #[test]
    fn payload_file_roundtrip() {
        let file = FileRef { name: "ddp.zip".into(), size: 12, locator: "/tmp/ddp.zip".into() };
        check_roundtrip(
            Payload::FileArray(vec![file.clone()]),
            r#"{"__type__":"PayloadFileArray","value":[{"name":"ddp.zip","size":12,"locator":"/tmp/ddp.zip"}]}"#,
        );
        check_roundtrip(
            Payload::File(file),
            r#"{"__type__":"PayloadFile","value":{"name":"ddp.zip","size":12,"locator":"/tmp/ddp.zip"}}"#,
        );
    }

    #[test]
    fn payload_response_roundtrip() {
        check_roundtrip(
            Payload::Response(DonateResponse { success: true, key: "1-demo".into(), status: 200, error: None }),
            r#"{"__type__":"PayloadResponse","value":{"success":true,"key":"1-demo","status":200}}"#,
        );
        check_roundtrip(
            Payload::Response(DonateResponse {
                success: false,
                key: "1-demo".into(),
                status: 0,
                error: Some("offline".into()),
            }),
            r#"{"__type__":"PayloadResponse","value":{"success":false,"key":"1-demo","status":0,"error":"offline"}}"#,
        );
    }

    #[test]
    fn payload_unknown_type_is_rejected() {
        let error = Payload::from_json(r#"{"__type__":"PayloadMaybe"}"#).unwrap_err();
        assert_eq!(error.to_string(), "PayloadMaybe is malformed at `__type__`: not a payload type");
    }

    #[test]
    fn payload_wrong_value_points_at_field() {
        let error = Payload::from_json(r#"{"__type__":"PayloadResponse","value":{"success":"yes"}}"#).unwrap_err();
        assert!(error.to_string().starts_with("PayloadResponse.value is malformed at `success`"), "{error}");
    }

    #[test]
    fn payload_invalid_json_is_an_error() {
        assert!(matches!(Payload::from_json("{"), Err(DecodeError::InvalidJson(_))));
    }
}
