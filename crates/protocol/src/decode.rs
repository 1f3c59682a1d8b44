//! Decoding of `__type__`-tagged wire values, with errors that point at the offending field.

use serde::de::DeserializeOwned;
use serde_json::Value;

/// Why a wire value could not be decoded. Decoding never panics; every failure is one of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The text is not JSON at all.
    #[error("not valid JSON: {0}")]
    InvalidJson(String),
    /// The value is JSON but not an object with a string `__type__`.
    #[error("expected an object with a \"__type__\" field, got {found}")]
    MissingType { found: String },
    /// A known `__type__` whose fields are wrong; `path` points at the field, e.g. `page.body[1].items`.
    #[error("{wire_type} is malformed at `{path}`: {reason}")]
    Malformed { wire_type: String, path: String, reason: String },
}

/// The `__type__` of a JSON object, if it has one.
pub(crate) fn wire_type(value: &Value) -> Result<&str, DecodeError> {
    value.get("__type__").and_then(Value::as_str).ok_or_else(|| DecodeError::MissingType { found: describe(value) })
}

/// Decodes `value` as `T`, reporting the path of the first bad field.
pub(crate) fn decode_known<T: DeserializeOwned>(wire_type: &str, value: Value) -> Result<T, DecodeError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        DecodeError::Malformed {
            wire_type: wire_type.to_owned(),
            path: if path == "." { "(top level)".to_owned() } else { path },
            reason: error.into_inner().to_string(),
        }
    })
}

/// A short description of a value for error messages. It never includes contents, which may be
/// participant data.
pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(_) => "a boolean".into(),
        Value::Number(_) => "a number".into(),
        Value::String(_) => "a string".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(map) if map.contains_key("__type__") => "an object whose \"__type__\" is not a string".into(),
        Value::Object(_) => "an object without \"__type__\"".into(),
    }
}

/// Turns `null` fields into absent ones, recursively, for comparing wire values.
///
/// Pyodide converts Python `None` to JS `undefined`, which disappears from a message; the native
/// runner sees JSON `null` instead. Optional fields decode both as `None`, so a value and its
/// re-encoding are equal once both went through this.
pub fn strip_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, field| !field.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// Defines a `__type__`-tagged union whose unknown members decode to `Unsupported(raw JSON)`.
///
/// serde's `#[serde(other)]` only keeps unit variants, which would lose the raw JSON, and an
/// untagged fallback would hide malformed known members. So the public enum carries `Unsupported`,
/// and a private mirror without it does the tagged (de)serialisation of the known members.
macro_rules! tagged_union {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident($payload:ty) = $tag:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        #[allow(
            clippy::large_enum_variant,
            reason = "wire mirrors, decoded once per command and matched in place; boxing would only change the API"
        )]
        pub enum $name {
            $( $(#[$variant_meta])* #[doc = concat!("\n\nWire name: `", $tag, "`.")] $variant($payload), )*
            /// A `__type__` this version does not know, kept as the raw JSON.
            Unsupported(serde_json::Value),
        }

        impl $name {
            /// Every `__type__` this union decodes to a typed variant.
            pub const KNOWN_TYPES: &'static [&'static str] = &[$($tag),*];

            /// The `__type__` on the wire; `"?"` for an unsupported value without one.
            pub fn wire_type(&self) -> &str {
                match self {
                    $( $name::$variant(_) => $tag, )*
                    $name::Unsupported(raw) => raw.get("__type__").and_then(serde_json::Value::as_str).unwrap_or("?"),
                }
            }

            /// Decodes a wire value: unknown `__type__` → `Unsupported`, malformed known one → error.
            pub fn from_value(value: serde_json::Value) -> Result<$name, crate::DecodeError> {
                // Dispatching by hand (not through serde's internal tagging, which buffers the
                // value) keeps the field path of an error.
                let wire_type = crate::decode::wire_type(&value)?.to_owned();
                match wire_type.as_str() {
                    $( $tag => Ok($name::$variant(crate::decode::decode_known(&wire_type, value)?)), )*
                    _ => Ok($name::Unsupported(value)),
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                #[derive(serde::Serialize)]
                #[serde(tag = "__type__")]
                enum WireRef<'a> { $( #[serde(rename = $tag)] $variant(&'a $payload), )* }

                match self {
                    $( $name::$variant(inner) => WireRef::$variant(inner).serialize(serializer), )*
                    $name::Unsupported(raw) => raw.serialize(serializer),
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<$name, D::Error> {
                let value = <serde_json::Value as serde::Deserialize>::deserialize(deserializer)?;
                $name::from_value(value).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use tagged_union;

/// Deserialises `null` as the type's default, because Python's `None` reaches us as `null`.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + serde::Deserialize<'de>,
{
    use serde::Deserialize;
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}
