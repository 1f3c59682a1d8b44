//! Rules of this codebase that a test can check (style.md): every Rust module opens with a `//!`
//! doc that says what it is, and no source file keeps a `dbg!` or a `todo!`.

use std::path::{Path, PathBuf};

use crate::util::repo_root;

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if name != "target" && name != "node_modules" && name != "fixtures" {
                rust_files(&path, files);
            }
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            files.push(path);
        }
    }
}

fn project_rust_files() -> Vec<PathBuf> {
    let root = repo_root();
    let mut files = Vec::new();
    for dir in ["crates", "src", "tests"] {
        rust_files(&root.join(dir), &mut files);
    }
    files.push(root.join("build.rs"));
    files.sort();
    files
}

#[test]
fn every_rust_module_opens_with_a_module_doc() {
    let missing: Vec<String> = project_rust_files()
        .into_iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            let first = text.lines().find(|line| !line.trim().is_empty()).unwrap_or("");
            !(first.starts_with("//!") || first.starts_with("#![doc"))
        })
        .map(|path| path.strip_prefix(repo_root()).unwrap_or(&path).display().to_string())
        .collect();
    assert!(missing.is_empty(), "these files lack a `//!` module doc: {missing:#?}");
}

#[test]
fn no_debugging_leftovers() {
    let leftovers: Vec<String> = project_rust_files()
        .into_iter()
        .filter(|path| !path.ends_with("tests/tidy.rs"))
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            text.contains("dbg!(") || text.contains("todo!(")
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(leftovers.is_empty(), "remove dbg!/todo! from: {leftovers:#?}");
}
