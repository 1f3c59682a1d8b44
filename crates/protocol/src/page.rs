//! Pages a script renders with `CommandUIRender` (fact sheet §2.2).

use serde::{Deserialize, Deserializer, Serialize};

use crate::decode::{null_as_default, tagged_union};
use crate::prompt::Prompt;
use crate::translatable::Text;

tagged_union! {
    /// A page. Unknown `__type__`s are kept as [`Page::Unsupported`].
    pub enum Page {
        /// The page D3I renders: a header and a body of prompts.
        DataSubmission(PageBody) = "PropsUIPageDataSubmission",
        /// The legacy name of `PropsUIPageDataSubmission` (renamed in D3I, October 2025); same fields.
        Donation(PageBody) = "PropsUIPageDonation",
        /// Upstream's "thank you" end page. Feldspar never resolves it, which hangs the flow; our UI
        /// shows it as final and the engine answers nothing until the script is replaced.
        End(EndPage) = "PropsUIPageEnd",
    }
}

impl Page {
    /// The body of a page that has one.
    pub fn body(&self) -> Option<&PageBody> {
        match self {
            Page::DataSubmission(body) | Page::Donation(body) => Some(body),
            Page::End(_) | Page::Unsupported(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageBody {
    /// Feldspar's `render_page` sets `"does not matter"`; the error flow sets the platform name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub platform: String,
    pub header: Header,
    /// Feldspar wraps a single body item into a list; so do we.
    #[serde(deserialize_with = "one_or_many")]
    pub body: Vec<Prompt>,
    /// Python's `PropsUIFooter`. Feldspar has no slot for it on the page; we keep it so that it
    /// round-trips, and may show it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer: Option<Footer>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "__type__", rename = "PropsUIHeader")]
pub struct Header {
    pub title: Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "__type__", rename = "PropsUIFooter")]
pub struct Footer {
    #[serde(rename = "progressPercentage", default, skip_serializing_if = "Option::is_none")]
    pub progress_percentage: Option<serde_json::Number>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct EndPage {}

fn one_or_many<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Prompt>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        Many(Vec<serde_json::Value>),
        One(serde_json::Value),
    }
    let items = match OneOrMany::deserialize(deserializer)? {
        OneOrMany::Many(items) => items,
        OneOrMany::One(item) => vec![item],
    };
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            Prompt::from_value(item).map_err(|error| serde::de::Error::custom(format!("item {index}: {error}")))
        })
        .collect()
}
