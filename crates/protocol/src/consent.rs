//! The JSON a consent form donates (`PayloadJSON.value`), in the exact shapes of feldspar's UIs.

use indexmap::IndexMap;
use serde_json::{Map, Value, json};

/// One table as a D3I `ConsentFormViz` donates it: the rows the participant kept, keyed by the raw
/// column names, every cell as JS `String(v)` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentVizTableDonation {
    pub table_id: String,
    pub rows: Vec<IndexMap<String, String>>,
    pub deleted_row_count: usize,
}

/// `[{"<table id>": [rows], "deleted row count": "<n>"}, …]`, one object per table, in order.
/// The count is a string, as D3I sends it.
pub fn consent_viz_json(tables: &[ConsentVizTableDonation]) -> String {
    let tables: Vec<Value> = tables
        .iter()
        .map(|table| {
            let mut object = Map::new();
            object.insert(table.table_id.clone(), json!(table.rows));
            object.insert("deleted row count".into(), json!(table.deleted_row_count.to_string()));
            Value::Object(object)
        })
        .collect();
    Value::Array(tables).to_string()
}

/// One table as upstream's `DataSubmissionButtons` donates it: rows keyed by the *translated* header
/// text (so the keys depend on the locale, as upstream does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSubmissionTableDonation {
    pub table_id: String,
    pub rows: Vec<IndexMap<String, String>>,
    pub deleted_row_count: usize,
}

/// `{"<table id>": {"data": [rows], "metadata": {"deletedRowCount": n}}}`.
pub fn data_submission_json(tables: &[DataSubmissionTableDonation]) -> String {
    let object: Map<String, Value> = tables
        .iter()
        .map(|table| {
            let entry = json!({"data": table.rows, "metadata": {"deletedRowCount": table.deleted_row_count}});
            (table.table_id.clone(), entry)
        })
        .collect();
    Value::Object(object).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[(&str, &str)]) -> IndexMap<String, String> {
        cells.iter().map(|(column, cell)| (column.to_string(), cell.to_string())).collect()
    }

    #[test]
    fn consent_viz_json_has_d3i_shape() {
        let tables = [ConsentVizTableDonation {
            table_id: "watch".into(),
            rows: vec![row(&[("title", "A"), ("count", "1")])],
            deleted_row_count: 2,
        }];
        assert_eq!(consent_viz_json(&tables), r#"[{"watch":[{"title":"A","count":"1"}],"deleted row count":"2"}]"#);
    }

    #[test]
    fn data_submission_json_has_upstream_shape() {
        let tables = [DataSubmissionTableDonation {
            table_id: "t1".into(),
            rows: vec![row(&[("Title", "A")])],
            deleted_row_count: 0,
        }];
        assert_eq!(
            data_submission_json(&tables),
            r#"{"t1":{"data":[{"Title":"A"}],"metadata":{"deletedRowCount":0}}}"#
        );
    }
}
