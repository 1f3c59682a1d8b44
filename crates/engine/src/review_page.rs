//! The engine's review page: it shows the participant a donation that the consent ledger did not
//! find among their answers, before anything is sent.
//!
//! The page is made of the protocol's own prompts, so every UI that renders a study renders it:
//! - a text saying that the extension asks, not the study, with the donation's key and size;
//! - the content as a `ConsentFormViz` with one read-only table (`delete_option: false`) of
//!   (field, value) rows, which the UI can search and page through;
//! - that form's buttons as the decision: "Send" (its donate button) and the UI's decline button, which says "Don't send" on the extension's own pages.
//!
//! Why a `ConsentFormViz` and not a `Confirm` under a table: no consent table renders without
//! controls of its own. An upstream `ConsentFormTable` always gets delete buttons, and deleting
//! rows here would change nothing that is sent; a `ConsentFormViz` always gets its donate and
//! decline buttons, which next to a `Confirm` would ask the same question twice. So the form's own
//! buttons ask it, once. Its donate answer (`PayloadJSON` of the rows shown) or `PayloadTrue` (what
//! a `Confirm` and `--answers` files give) means "Send"; any other answer means "Don't send".
//!
//! Huge content is cut for display only: at most [`MAX_ROWS`] rows of at most
//! [`MAX_ENTRY_CHARS`] characters each, with a note saying how much is not shown. The donation
//! itself is sent whole or not at all.

use port_protocol::{
    ConsentFormTableViz, ConsentFormViz, ConsentVizTable, DataFrameField, DonateCommand, Header, Page, PageBody,
    Payload, Prompt, Text, TextPrompt,
};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::consent::{self, Deletions};

/// The most rows the review table shows.
pub(crate) const MAX_ROWS: usize = 500;

/// The most characters of a field name or value the review table shows.
pub(crate) const MAX_ENTRY_CHARS: usize = 2000;

/// The review table's id, which the form's donate answer is keyed by.
const TABLE_ID: &str = "port-review";

/// The field shown for the whole donation, when it is not a JSON object or array.
const WHOLE_DONATION_FIELD: &str = "—";

/// The page that asks the participant whether `donation` may be sent.
pub(crate) fn review_page(donation: &DonateCommand) -> Page {
    let rows = ReviewRows::of(&donation.json_string);
    let key = &donation.key;
    let n_bytes = donation.json_string.len();
    let explanation = Prompt::Text(TextPrompt {
        text: Text::en_nl(
            &format!(
                "The study wants to send data to its researchers that you have not approved on one of its own \
                 pages. The extension shows it to you first: nothing is sent unless you choose Send.\n\n\
                 Name of the data: {key}\nSize: {}",
                size_text(n_bytes, '.')
            ),
            &format!(
                "De studie wil gegevens naar de onderzoekers sturen die u niet op een van haar eigen pagina's heeft \
                 goedgekeurd. De extensie laat ze u eerst zien: er wordt niets verstuurd tenzij u kiest voor \
                 Versturen.\n\nNaam van de gegevens: {key}\nGrootte: {}",
                size_text(n_bytes, ',')
            ),
        ),
        title: None,
    });
    let table = ConsentFormTableViz {
        id: TABLE_ID.into(),
        title: Text::en_nl("What would be sent", "Wat verstuurd zou worden"),
        data_frame: DataFrameField::Object(rows.data_frame()),
        description: Some(rows.note()),
        visualizations: None,
        headers: Some(
            [("field".to_owned(), Text::en_nl("Field", "Veld")), ("value".to_owned(), Text::en_nl("Value", "Waarde"))]
                .into_iter()
                .collect(),
        ),
        folded: false,
        delete_option: false,
    };
    let form = Prompt::ConsentFormViz(ConsentFormViz {
        tables: vec![ConsentVizTable::Table(table)],
        description: None,
        donate_question: Some(Text::en_nl("Send this to the researchers?", "Dit naar de onderzoekers versturen?")),
        donate_button: Some(Text::en_nl("Send", "Versturen")),
    });
    Page::DataSubmission(PageBody {
        platform: "review".into(),
        header: Header {
            title: Text::en_nl(
                "A question from the extension, not from the study",
                "Een vraag van de extensie, niet van de studie",
            ),
        },
        body: vec![explanation, form],
        footer: None,
    })
}

/// Whether `answer` to the review `page` means "Send": `PayloadTrue`, or exactly the answer the
/// page's form gives when its donate button is pressed. Anything else means "Don't send".
pub(crate) fn is_send(page: &Page, answer: &Payload) -> bool {
    match answer {
        Payload::True => true,
        Payload::Json(text) => form_send_answer(page).is_some_and(|expected| expected == *text),
        _ => false,
    }
}

fn form_send_answer(page: &Page) -> Option<String> {
    let form = page.body()?.body.iter().find_map(|prompt| match prompt {
        Prompt::ConsentFormViz(form) => Some(form),
        _ => None,
    })?;
    match consent::consent_viz_answer(form, &Deletions::new()) {
        Ok(Payload::Json(text)) => Some(text),
        _ => None,
    }
}

/// `512 bytes`, `4.2 KB (4301 bytes)`, `11.0 MB (11534336 bytes)`; `decimal_separator` is the
/// locale's.
pub(crate) fn size_text(n_bytes: usize, decimal_separator: char) -> String {
    let (amount, unit) = match n_bytes {
        0..1024 => return format!("{n_bytes} bytes"),
        1024..1_048_576 => (n_bytes as f64 / 1024.0, "KB"),
        _ => (n_bytes as f64 / 1_048_576.0, "MB"),
    };
    format!("{} {unit} ({n_bytes} bytes)", format!("{amount:.1}").replace('.', &decimal_separator.to_string()))
}

/// The donation as (field, value) rows, cut for display.
#[derive(Debug, Default)]
struct ReviewRows {
    rows: Vec<(String, String)>,
    /// Every value in the donation, shown or not.
    n_values: usize,
    /// Shown fields and values that were shortened to [`MAX_ENTRY_CHARS`].
    n_shortened: usize,
}

impl ReviewRows {
    /// JSON is flattened to one row per value: `[0].watch[3].title`, `Everything`. Text that is not
    /// JSON, and JSON that is neither an object nor an array, is one row.
    ///
    /// The JSON is walked as it is read, never held as a tree: a donation of hundreds of megabytes
    /// costs the rows shown and one value at a time.
    fn of(content: &str) -> ReviewRows {
        let mut rows = ReviewRows::default();
        let mut deserializer = serde_json::Deserializer::from_str(content);
        let walked = RowsSeed { rows: &mut rows, path: String::new() }
            .deserialize(&mut deserializer)
            .and_then(|()| deserializer.end());
        if walked.is_err() {
            rows = ReviewRows::default();
            rows.add_row("", content);
        }
        rows
    }

    fn add_row(&mut self, path: &str, value: &str) {
        self.n_values += 1;
        if self.rows.len() >= MAX_ROWS {
            return;
        }
        let field = if path.is_empty() { WHOLE_DONATION_FIELD } else { path };
        let field = self.shortened(field);
        let value = self.shortened(value);
        self.rows.push((field, value));
    }

    fn shortened(&mut self, text: &str) -> String {
        match text.char_indices().nth(MAX_ENTRY_CHARS) {
            Some((cut_at, _)) => {
                self.n_shortened += 1;
                format!("{}…", &text[..cut_at])
            }
            None => text.to_owned(),
        }
    }

    /// pandas' "columns" orient, which the consent table reads: `{"field": {"0": …}, "value": …}`.
    fn data_frame(&self) -> Value {
        let column = |pick: fn(&(String, String)) -> &String| -> Value {
            let cells: Map<String, Value> = self
                .rows
                .iter()
                .enumerate()
                .map(|(row_idx, row)| (row_idx.to_string(), pick(row).clone().into()))
                .collect();
            Value::Object(cells)
        };
        let mut columns = Map::new();
        columns.insert("field".into(), column(|(field, _)| field));
        columns.insert("value".into(), column(|(_, value)| value));
        Value::Object(columns)
    }

    /// What the table shows of the donation.
    fn note(&self) -> Text {
        let n_shown = self.rows.len();
        let n_hidden = self.n_values - n_shown;
        let mut en = vec!["Everything the study would send, value by value.".to_owned()];
        let mut nl = vec!["Alles wat de studie zou versturen, waarde voor waarde.".to_owned()];
        if n_hidden > 0 {
            en.push(format!(
                "Only the first {n_shown} of its {} values are shown here; the other {n_hidden} would be sent too.",
                self.n_values
            ));
            nl.push(format!(
                "Alleen de eerste {n_shown} van de {} waarden staan hier; de andere {n_hidden} zouden ook \
                 verstuurd worden.",
                self.n_values
            ));
        }
        match self.n_shortened {
            0 => {}
            1 => {
                en.push("One long entry is shortened here (…); it would be sent in full.".to_owned());
                nl.push("Eén lang item is hier ingekort (…); het zou volledig verstuurd worden.".to_owned());
            }
            n_shortened => {
                en.push(format!("{n_shortened} long entries are shortened here (…); they would be sent in full."));
                nl.push(format!(
                    "{n_shortened} lange items zijn hier ingekort (…); ze zouden volledig verstuurd worden."
                ));
            }
        }
        Text::en_nl(&en.join(" "), &nl.join(" "))
    }
}

/// The number of rows `value` would flatten to.
/// Adds the rows of the JSON value it reads at `path` to `rows`.
struct RowsSeed<'r> {
    rows: &'r mut ReviewRows,
    path: String,
}

impl RowsSeed<'_> {
    /// The seed of a value inside this one; once no more rows are shown, values are only
    /// counted, so their paths are not built.
    fn child(&mut self, path: impl FnOnce(&str) -> String) -> RowsSeed<'_> {
        let path = if self.rows.rows.len() >= MAX_ROWS { String::new() } else { path(&self.path) };
        RowsSeed { rows: self.rows, path }
    }

    /// Numbers, booleans, null, and empty objects and arrays, as JSON.
    fn add_json(self, value: Value) {
        self.rows.add_row(&self.path, &value.to_string());
    }
}

impl<'de> DeserializeSeed<'de> for RowsSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RowsSeed<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("JSON")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<(), E> {
        self.rows.add_row(&self.path, text);
        Ok(())
    }

    fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<(), E> {
        self.add_json(value.into());
        Ok(())
    }

    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<(), E> {
        self.add_json(value.into());
        Ok(())
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<(), E> {
        self.add_json(value.into());
        Ok(())
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<(), E> {
        self.add_json(value.into());
        Ok(())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.add_json(Value::Null);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut items: A) -> Result<(), A::Error> {
        let mut item_idx = 0;
        while items.next_element_seed(self.child(|path| format!("{path}[{item_idx}]")))?.is_some() {
            item_idx += 1;
        }
        if item_idx == 0 {
            self.add_json(Value::Array(Vec::new()));
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut fields: A) -> Result<(), A::Error> {
        let mut n_fields = 0;
        while let Some(name) = fields.next_key::<std::borrow::Cow<'de, str>>()? {
            n_fields += 1;
            fields.next_value_seed(
                self.child(|path| if path.is_empty() { name.to_string() } else { format!("{path}.{name}") }),
            )?;
        }
        if n_fields == 0 {
            self.add_json(Value::Object(Map::new()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    /// The review page of a donation of `content`, as text: the explanation, the table's note and
    /// its rows (`field = value`), in English.
    #[track_caller]
    fn check(content: &str, expect: Expect) {
        let page = review_page(&DonateCommand { key: "1-demo".into(), json_string: content.into() });
        let body = page.body().expect("a data submission page");
        let mut text = format!("# {}\n", body.header.title.resolve("en"));
        for prompt in &body.body {
            match prompt {
                Prompt::Text(explanation) => text.push_str(&format!("{}\n", explanation.text.resolve("en"))),
                Prompt::ConsentFormViz(form) => {
                    let ConsentVizTable::Table(table) = &form.tables[0] else { panic!("one table") };
                    assert!(!table.delete_option, "the review table is read-only");
                    let data = consent::TableData::parse(&table.id, &table.data_frame).unwrap();
                    let description = table.description.as_ref().map_or("", |note| note.resolve("en"));
                    text.push_str(&format!("## {}\n{description}\n", table.title.resolve("en")));
                    for row in &data.rows {
                        text.push_str(&format!("{}\n", row.join(" = ")));
                    }
                    let question = form.donate_question.as_ref().map_or("", |question| question.resolve("en"));
                    let button = form.donate_button.as_ref().map_or("", |button| button.resolve("en"));
                    text.push_str(&format!("{question} [{button}]\n"));
                }
                other => panic!("unexpected prompt {}", other.wire_type()),
            }
        }
        expect.assert_eq(&text);
    }

    #[test]
    fn review_page_flattens_json_into_field_value_rows() {
        check(
            r#"{"platform":"Demo","tables":[{"watch":[{"title":"A","minutes":1.5},{"title":"B","minutes":null}]}],"flags":{},"tags":[],"ok":true}"#,
            expect![[r#"
                # A question from the extension, not from the study
                The study wants to send data to its researchers that you have not approved on one of its own pages. The extension shows it to you first: nothing is sent unless you choose Send.

                Name of the data: 1-demo
                Size: 130 bytes
                ## What would be sent
                Everything the study would send, value by value.
                platform = Demo
                tables[0].watch[0].title = A
                tables[0].watch[0].minutes = 1.5
                tables[0].watch[1].title = B
                tables[0].watch[1].minutes = null
                flags = {}
                tags = []
                ok = true
                Send this to the researchers? [Send]
            "#]],
        );
    }

    #[test]
    fn review_page_shows_text_that_is_not_json_as_one_row() {
        check(
            "plain text, not JSON",
            expect![[r#"
                # A question from the extension, not from the study
                The study wants to send data to its researchers that you have not approved on one of its own pages. The extension shows it to you first: nothing is sent unless you choose Send.

                Name of the data: 1-demo
                Size: 20 bytes
                ## What would be sent
                Everything the study would send, value by value.
                — = plain text, not JSON
                Send this to the researchers? [Send]
            "#]],
        );
        check(
            r#""a JSON string""#,
            expect![[r#"
                # A question from the extension, not from the study
                The study wants to send data to its researchers that you have not approved on one of its own pages. The extension shows it to you first: nothing is sent unless you choose Send.

                Name of the data: 1-demo
                Size: 15 bytes
                ## What would be sent
                Everything the study would send, value by value.
                — = a JSON string
                Send this to the researchers? [Send]
            "#]],
        );
    }

    #[test]
    fn review_page_of_huge_content_shows_the_first_rows_and_says_how_many_are_not_shown() {
        let items: Vec<String> = (0..1234).map(|item_idx| format!(r#"{{"n":{item_idx}}}"#)).collect();
        let page = review_page(&DonateCommand { key: "k".into(), json_string: format!("[{}]", items.join(",")) });
        let Some(Prompt::ConsentFormViz(form)) = page.body().unwrap().body.get(1) else { panic!("a form") };
        let ConsentVizTable::Table(table) = &form.tables[0] else { panic!("a table") };
        let data = consent::TableData::parse(&table.id, &table.data_frame).unwrap();
        assert_eq!(data.rows.len(), MAX_ROWS);
        assert_eq!(data.rows.last().unwrap(), &["[499].n", "499"]);
        expect!["Everything the study would send, value by value. Only the first 500 of its 1234 values are shown here; the other 734 would be sent too."]
        .assert_eq(table.description.as_ref().unwrap().resolve("en"));
        expect!["Alles wat de studie zou versturen, waarde voor waarde. Alleen de eerste 500 van de 1234 waarden staan hier; de andere 734 zouden ook verstuurd worden."]
        .assert_eq(table.description.as_ref().unwrap().resolve("nl"));
    }

    #[test]
    fn review_page_shortens_long_values_for_display() {
        let content = serde_json::json!({"traceback": "t".repeat(MAX_ENTRY_CHARS + 10), "short": "s"}).to_string();
        let page = review_page(&DonateCommand { key: "error-report".into(), json_string: content });
        let Some(Prompt::ConsentFormViz(form)) = page.body().unwrap().body.get(1) else { panic!("a form") };
        let ConsentVizTable::Table(table) = &form.tables[0] else { panic!("a table") };
        let data = consent::TableData::parse(&table.id, &table.data_frame).unwrap();
        assert_eq!(data.rows[0][1].chars().count(), MAX_ENTRY_CHARS + 1, "cut, with an ellipsis");
        assert_eq!(data.rows[1], ["short", "s"]);
        expect!["Everything the study would send, value by value. One long entry is shortened here (…); it would be sent in full."]
        .assert_eq(table.description.as_ref().unwrap().resolve("en"));
    }

    #[test]
    fn review_page_sizes_read_in_bytes_kb_and_mb() {
        assert_eq!(size_text(512, '.'), "512 bytes");
        assert_eq!(size_text(4301, '.'), "4.2 KB (4301 bytes)");
        assert_eq!(size_text(4301, ','), "4,2 KB (4301 bytes)");
        assert_eq!(size_text(11 * 1024 * 1024, '.'), "11.0 MB (11534336 bytes)");
    }

    #[test]
    fn review_answer_sends_only_for_true_or_the_form_answer_as_it_is() {
        let page = review_page(&DonateCommand { key: "k".into(), json_string: r#"{"a":[1,2]}"#.into() });
        let Some(Prompt::ConsentFormViz(form)) = page.body().unwrap().body.get(1) else { panic!("a form") };
        let Payload::Json(form_answer) = consent::consent_viz_answer(form, &Deletions::new()).unwrap() else {
            panic!("the form answers JSON")
        };
        assert!(is_send(&page, &Payload::True));
        assert!(is_send(&page, &Payload::Json(form_answer.clone())));
        let with_a_row_deleted = consent::consent_viz_answer(
            form,
            &Deletions::from([(TABLE_ID.to_owned(), std::collections::BTreeSet::from([0]))]),
        )
        .unwrap();
        for answer in [
            Payload::False,
            Payload::Void,
            with_a_row_deleted,
            Payload::Json(form_answer.replace("1", "3")),
            Payload::String("Send".into()),
        ] {
            assert!(!is_send(&page, &answer), "{answer:?}");
        }
    }
}
