//! Translatable text: `{"translations": {"en": "…", "nl": "…"}}`, or a plain string.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// Feldspar's `Translatable`: one text in several locales.
///
/// Feldspar's `Translator` falls back only when a locale maps to `null`, so a missing locale renders
/// `undefined`. We fall back on purpose: requested locale → `en` → `nl` → the first translation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Translatable {
    /// Keeps the script's order, because the last fallback is "the first value".
    pub translations: IndexMap<String, String>,
}

impl Translatable {
    pub fn new<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Translatable {
        Translatable {
            translations: pairs.into_iter().map(|(locale, text)| (locale.to_owned(), text.to_owned())).collect(),
        }
    }

    /// The text for `locale`, with the fallback chain above; `""` only when there are no translations.
    pub fn resolve(&self, locale: &str) -> &str {
        let language = locale.split(['-', '_']).next().unwrap_or(locale);
        [locale, language, "en", "nl"]
            .into_iter()
            .find_map(|candidate| self.translations.get(candidate))
            .or_else(|| self.translations.values().next())
            .map(String::as_str)
            .unwrap_or("")
    }
}

/// Feldspar's `Text = Translatable | string`. The wire has no tag, so this is untagged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Text {
    Plain(String),
    Translatable(Translatable),
}

impl Text {
    pub fn resolve(&self, locale: &str) -> &str {
        match self {
            Text::Plain(text) => text,
            Text::Translatable(translatable) => translatable.resolve(locale),
        }
    }

    /// The same text in English and Dutch; used for texts the engine writes itself.
    pub fn en_nl(en: &str, nl: &str) -> Text {
        Text::Translatable(Translatable::new([("en", en), ("nl", nl)]))
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Text {
        Text::Plain(text.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(json: &str, locale: &str, expect: &str) {
        let text: Text = serde_json::from_str(json).unwrap();
        assert_eq!(text.resolve(locale), expect);
    }

    #[test]
    fn translatable_requested_locale_wins() {
        check(r#"{"translations":{"en":"Hello","nl":"Hallo"}}"#, "nl", "Hallo");
    }

    #[test]
    fn translatable_missing_locale_falls_back_to_en() {
        check(r#"{"translations":{"nl":"Hallo","en":"Hello"}}"#, "de", "Hello");
    }

    #[test]
    fn translatable_without_en_falls_back_to_nl() {
        check(r#"{"translations":{"es":"Hola","nl":"Hallo"}}"#, "de", "Hallo");
    }

    #[test]
    fn translatable_without_en_or_nl_falls_back_to_first() {
        check(r#"{"translations":{"es":"Hola","fr":"Salut"}}"#, "de", "Hola");
    }

    #[test]
    fn translatable_region_locale_uses_language() {
        check(r#"{"translations":{"en":"Hello","nl":"Hallo"}}"#, "nl-BE", "Hallo");
    }

    #[test]
    fn translatable_empty_is_empty_string() {
        check(r#"{"translations":{}}"#, "en", "");
    }

    #[test]
    fn plain_string_is_returned_unchanged() {
        check(r#""Just text""#, "nl", "Just text");
    }
}
