//! Consent-form answers: the tables a page shows, and the JSON a donation of them produces.
//!
//! The UI and the autopilot both build their `PayloadJSON` here, so the shape of a donation is
//! decided once. Cells are formatted as JavaScript's `String(v)` formats them, because that is what
//! feldspar's UI donates and what downstream pipelines parse.

use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexMap;
use port_protocol::{
    ConsentFormTable, ConsentFormViz, ConsentTable, ConsentVizTable, ConsentVizTableDonation, DataFrameField,
    DataSubmissionTableDonation, PageBody, Payload, Prompt, consent_viz_json, data_submission_json,
};
use serde_json::Value;

/// A consent table shows, and donates, at most this many rows, as D3I's UI does: a page of more
/// would not draw, and what cannot be shown cannot be consented to. The participant is told.
pub const MAX_TABLE_ROWS: usize = 50_000;

/// A table's data in display form: column names and rows of cell texts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TableData {
    pub columns: Vec<String>,
    /// The first [`MAX_TABLE_ROWS`] rows.
    pub rows: Vec<Vec<String>>,
    /// How many rows the study sent beyond [`MAX_TABLE_ROWS`]: neither shown nor donated.
    pub n_cut: usize,
}

/// A table's `data_frame` is not the columnar shape `{"col": {"0": v, …}}`. The page stays up; the
/// participant cannot donate that table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    #[error("table {table_id}: data_frame is not valid JSON")]
    InvalidJson { table_id: String },
    #[error("table {table_id}: data_frame must map column names to {{\"0\": value, …}} objects")]
    NotColumnar { table_id: String },
}

/// Row indices the participant deleted, per table id.
pub type Deletions = BTreeMap<String, BTreeSet<usize>>;

impl TableData {
    /// Reads pandas' "columns" orient. As in feldspar, the row count is the first column's key count
    /// and rows are looked up by the keys `"0"..n-1`; a missing cell prints as `undefined`.
    pub fn parse(table_id: &str, field: &DataFrameField) -> Result<TableData, TableError> {
        let parsed;
        let value = match field {
            DataFrameField::Json(text) => {
                parsed = serde_json::from_str::<Value>(text)
                    .map_err(|_| TableError::InvalidJson { table_id: table_id.to_owned() })?;
                &parsed
            }
            DataFrameField::Object(value) => value,
        };
        let not_columnar = || TableError::NotColumnar { table_id: table_id.to_owned() };
        let columns = value.as_object().ok_or_else(not_columnar)?;
        let mut cells_by_column = Vec::with_capacity(columns.len());
        for cells in columns.values() {
            cells_by_column.push(cells.as_object().ok_or_else(not_columnar)?);
        }
        let n_rows = cells_by_column.first().map_or(0, |cells| cells.len());
        let n_kept = n_rows.min(MAX_TABLE_ROWS);
        let rows = (0..n_kept)
            .map(|row_idx| {
                let key = row_idx.to_string();
                cells_by_column
                    .iter()
                    .map(|cells| cells.get(&key).map_or_else(|| "undefined".to_owned(), js_string))
                    .collect()
            })
            .collect();
        Ok(TableData { columns: columns.keys().cloned().collect(), rows, n_cut: n_rows - n_kept })
    }

    fn kept_rows(&self, deleted: Option<&BTreeSet<usize>>, keys: &[String]) -> (Vec<IndexMap<String, String>>, usize) {
        let is_deleted = |row_idx: &usize| deleted.is_some_and(|deleted| deleted.contains(row_idx));
        let rows = (0..self.rows.len())
            .filter(|row_idx| !is_deleted(row_idx))
            .map(|row_idx| keys.iter().cloned().zip(self.rows[row_idx].iter().cloned()).collect())
            .collect();
        let n_deleted = (0..self.rows.len()).filter(is_deleted).count();
        (rows, n_deleted)
    }
}

/// The answer of D3I's `ConsentFormViz` when the participant donates: rows keyed by raw column names.
pub fn consent_viz_answer(form: &ConsentFormViz, deletions: &Deletions) -> Result<Payload, TableError> {
    let mut donations = Vec::with_capacity(form.tables.len());
    for table in &form.tables {
        let ConsentVizTable::Table(table) = table else { continue };
        let data = TableData::parse(&table.id, &table.data_frame)?;
        let (rows, deleted_row_count) = data.kept_rows(deletions.get(&table.id), &data.columns);
        donations.push(ConsentVizTableDonation { table_id: table.id.clone(), rows, deleted_row_count });
    }
    Ok(Payload::Json(consent_viz_json(&donations)))
}

/// The answer of upstream's `DataSubmissionButtons` (or a `ConsentForm`): the page's tables with rows
/// keyed by the translated header text, as upstream does.
pub fn data_submission_answer(
    tables: &[&ConsentFormTable],
    locale: &str,
    deletions: &Deletions,
) -> Result<Payload, TableError> {
    let mut donations = Vec::with_capacity(tables.len());
    for table in tables {
        let data = TableData::parse(&table.id, &DataFrameField::Json(table.data_frame.clone()))?;
        let keys: Vec<String> = data
            .columns
            .iter()
            .map(|column| {
                table
                    .headers
                    .as_ref()
                    .and_then(|headers| headers.get(column))
                    .map_or_else(|| column.clone(), |header| header.resolve(locale).to_owned())
            })
            .collect();
        let (rows, deleted_row_count) = data.kept_rows(deletions.get(&table.id), &keys);
        donations.push(DataSubmissionTableDonation { table_id: table.id.clone(), rows, deleted_row_count });
    }
    Ok(Payload::Json(data_submission_json(&donations)))
}

/// The upstream consent tables on a page, which `DataSubmissionButtons` donates.
pub fn page_consent_tables(page: &PageBody) -> Vec<&ConsentFormTable> {
    page.body
        .iter()
        .filter_map(|prompt| match prompt {
            Prompt::ConsentFormTable(table) => Some(table),
            _ => None,
        })
        .collect()
}

/// The tables of an upstream `ConsentForm`.
pub fn consent_form_tables(tables: &[ConsentTable]) -> Vec<&ConsentFormTable> {
    tables
        .iter()
        .filter_map(|table| match table {
            ConsentTable::Table(table) => Some(table),
            ConsentTable::Unsupported(_) => None,
        })
        .collect()
}

/// JavaScript's `String(v)` for a JSON value.
pub fn js_string(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => match (number.as_i64(), number.as_u64()) {
            (Some(integer), _) => integer.to_string(),
            (None, Some(integer)) => integer.to_string(),
            (None, None) => js_number(number.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(text) => text.clone(),
        // `Array.prototype.toString`: elements joined by commas, null and undefined as empty.
        Value::Array(items) => items
            .iter()
            .map(|item| if item.is_null() { String::new() } else { js_string(item) })
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(_) => "[object Object]".into(),
    }
}

/// `Number.prototype.toString()`: integers without a fraction, exponents from 1e21 and below 1e-6.
fn js_number(number: f64) -> String {
    if number.is_nan() {
        return "NaN".into();
    }
    if number.is_infinite() {
        return if number > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    let magnitude = number.abs();
    if magnitude != 0.0 && !(1e-6..1e21).contains(&magnitude) {
        let formatted = format!("{number:e}");
        return match formatted.split_once('e') {
            Some((mantissa, exponent)) if !exponent.starts_with('-') => format!("{mantissa}e+{exponent}"),
            _ => formatted,
        };
    }
    if number.fract() == 0.0 { format!("{}", number as i128) } else { format!("{number}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn js_string_matches_javascript() {
        let cases = [
            (json!(null), "null"),
            (json!(true), "true"),
            (json!(1), "1"),
            (json!(1.0), "1"),
            (json!(1.5), "1.5"),
            (json!(-0.25), "-0.25"),
            (json!(1e21), "1e+21"),
            (json!(1.5e-7), "1.5e-7"),
            (json!(123456789012.0), "123456789012"),
            (json!("text"), "text"),
            (json!([1, null, "a"]), "1,,a"),
            (json!({"a": 1}), "[object Object]"),
        ];
        for (value, expected) in cases {
            assert_eq!(js_string(&value), expected, "String({value})");
        }
    }

    #[test]
    fn table_rows_follow_first_column_keys() {
        let field = DataFrameField::Json(r#"{"a":{"0":"x","1":"y"},"b":{"0":1}}"#.into());
        let data = TableData::parse("t", &field).unwrap();
        assert_eq!(data.columns, ["a", "b"]);
        assert_eq!(data.rows, [["x", "1"], ["y", "undefined"]]);
    }

    #[test]
    fn table_not_columnar_is_an_error() {
        let error = TableData::parse("t", &DataFrameField::Json("[1,2]".into())).unwrap_err();
        assert_eq!(error.to_string(), "table t: data_frame must map column names to {\"0\": value, …} objects");
        let error = TableData::parse("t", &DataFrameField::Json("{".into())).unwrap_err();
        assert_eq!(error, TableError::InvalidJson { table_id: "t".into() });
    }

    #[test]
    fn consent_viz_answer_drops_deleted_rows_and_counts_them() {
        let form: ConsentFormViz = serde_json::from_value(json!({
            "tables": [{
                "__type__": "PropsUIPromptConsentFormTableViz", "id": "watch",
                "title": {"translations": {"en": "Watched"}},
                "data_frame": "{\"title\":{\"0\":\"A\",\"1\":\"B\",\"2\":\"C\"},\"n\":{\"0\":1,\"1\":2.0,\"2\":null}}"
            }]
        }))
        .unwrap();
        let deletions = Deletions::from([("watch".to_owned(), BTreeSet::from([1]))]);
        let Payload::Json(json) = consent_viz_answer(&form, &deletions).unwrap() else { panic!() };
        assert_eq!(json, r#"[{"watch":[{"title":"A","n":"1"},{"title":"C","n":"null"}],"deleted row count":"1"}]"#);
    }

    #[test]
    fn a_table_over_the_row_limit_is_cut_for_display_and_donation_alike() {
        let n_rows = MAX_TABLE_ROWS + 7;
        let cells: serde_json::Map<String, Value> = (0..n_rows).map(|idx| (idx.to_string(), json!(idx))).collect();
        let data_frame = json!({ "n": cells }).to_string();
        let form: ConsentFormViz = serde_json::from_value(json!({
            "tables": [{"__type__": "PropsUIPromptConsentFormTableViz", "id": "big", "title": "Big", "data_frame": data_frame}]
        }))
        .unwrap();
        let ConsentVizTable::Table(table) = &form.tables[0] else { panic!() };
        let data = TableData::parse("big", &table.data_frame).unwrap();
        assert_eq!((data.rows.len(), data.n_cut), (MAX_TABLE_ROWS, 7));
        let Payload::Json(json) = consent_viz_answer(&form, &Deletions::new()).unwrap() else { panic!() };
        let donated: Value = serde_json::from_str(&json).unwrap();
        let rows = donated[0]["big"].as_array().unwrap();
        assert_eq!(rows.len(), MAX_TABLE_ROWS);
        assert_eq!(rows.last().unwrap()["n"], (MAX_TABLE_ROWS - 1).to_string());
    }

    #[test]
    fn data_submission_answer_keys_rows_by_translated_headers() {
        let table: ConsentFormTable = serde_json::from_value(json!({
            "id": "t1", "number": 1, "title": "T", "data_frame": "{\"c\":{\"0\":\"v\"}}",
            "headers": {"c": {"translations": {"en": "Column", "nl": "Kolom"}}}
        }))
        .unwrap();
        let Payload::Json(json) = data_submission_answer(&[&table], "nl", &Deletions::new()).unwrap() else { panic!() };
        assert_eq!(json, r#"{"t1":{"data":[{"Kolom":"v"}],"metadata":{"deletedRowCount":0}}}"#);
    }
}
