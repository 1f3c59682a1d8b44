//! Build script of `port-native`: packs the Python runtime into a wheel, and pins libpython.
//!
//! The wheel: `python/port/**/*.py` is zipped into `port-<version>-py3-none-any.whl` in `OUT_DIR`,
//! with a minimal `port-<version>.dist-info/` (METADATA, WHEEL, RECORD). The crate embeds it as
//! `RUNTIME_WHEEL`, so the `port` binary carries its own runtime and needs no `pip install`; the
//! extension build ships the same wheel to Pyodide.
//!
//! The rpath: pyo3 links the libpython of `PYO3_PYTHON` (or `python3`), but without an rpath the
//! loader may pick Debian's `/usr/lib/x86_64-linux-gnu/libpython3.11.so` at run time, a different
//! patch release with another prefix and other site-packages. `rustc-link-arg` from this script
//! reaches only this package's own test binaries; the root package's build script does the same
//! for the `port` binary and the integration tests.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use sha2::{Digest, Sha256};

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let python_root = manifest_dir.join("../../python");
    let package_dir = python_root.join("port");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));

    println!("cargo:rerun-if-changed={}", package_dir.display());
    println!("cargo:rerun-if-changed={}", python_root.join("pyproject.toml").display());
    println!("cargo:rerun-if-env-changed=PYO3_PYTHON");

    let version = python_package_version(&python_root.join("pyproject.toml"))
        .unwrap_or_else(|| std::env::var("CARGO_PKG_VERSION").expect("cargo sets CARGO_PKG_VERSION"));
    let wheel_name = format!("port-{version}-py3-none-any.whl");
    let wheel_bytes = build_wheel(&package_dir, &version);
    std::fs::write(out_dir.join(&wheel_name), &wheel_bytes).expect("write the runtime wheel to OUT_DIR");
    let wheel_sha256: String = Sha256::digest(&wheel_bytes).iter().map(|byte| format!("{byte:02x}")).collect();

    let constants = format!(
        "/// File name of the embedded runtime wheel.\n\
         pub const RUNTIME_WHEEL_NAME: &str = {wheel_name:?};\n\
         /// SHA-256 of the embedded runtime wheel, in hex; names its cache folder.\n\
         pub const RUNTIME_WHEEL_SHA256: &str = {wheel_sha256:?};\n\
         /// The runtime package `python/port` as a pure-Python wheel.\n\
         pub const RUNTIME_WHEEL: &[u8] = include_bytes!(concat!(env!(\"OUT_DIR\"), \"/{wheel_name}\"));\n"
    );
    std::fs::write(out_dir.join("runtime_wheel.rs"), constants).expect("write runtime_wheel.rs to OUT_DIR");

    if let Some(libdir) = python_libdir() {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{libdir}");
    }
}

/// `version = "…"` from the `[project]` table of pyproject.toml; a line scan is enough for our file.
fn python_package_version(pyproject: &Path) -> Option<String> {
    let text = std::fs::read_to_string(pyproject).ok()?;
    let mut in_project = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_project = line == "[project]";
        } else if in_project && let Some(rest) = line.strip_prefix("version") {
            let value = rest.trim_start().strip_prefix('=')?.trim().trim_matches('"');
            return Some(value.to_owned());
        }
    }
    None
}

/// Every `.py` file under `package_dir`, as paths relative to its parent, sorted so that the wheel
/// is byte-identical for the same sources.
fn python_sources(package_dir: &Path) -> Vec<PathBuf> {
    fn walk(directory: &Path, found: &mut Vec<PathBuf>) {
        let entries =
            std::fs::read_dir(directory).unwrap_or_else(|error| panic!("read {}: {error}", directory.display()));
        for entry in entries {
            let path = entry.expect("read a directory entry").path();
            let file_name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
            if path.is_dir() {
                if file_name != "__pycache__" {
                    walk(&path, found);
                }
            } else if file_name.ends_with(".py") {
                found.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(package_dir, &mut found);
    found.sort();
    found
}

fn build_wheel(package_dir: &Path, version: &str) -> Vec<u8> {
    let archive_root = package_dir.parent().expect("python/port has a parent");
    let mut files: Vec<(String, Vec<u8>)> = python_sources(package_dir)
        .into_iter()
        .map(|path| {
            let relative = path.strip_prefix(archive_root).expect("source lies under python/");
            let name = relative.to_str().expect("source paths are UTF-8").replace('\\', "/");
            let bytes = std::fs::read(&path).unwrap_or_else(|error| panic!("read {}: {error}", path.display()));
            (name, bytes)
        })
        .collect();

    let dist_info = format!("port-{version}.dist-info");
    let metadata = format!(
        "Metadata-Version: 2.1\nName: port\nVersion: {version}\n\
         Summary: Python runtime for data-donation study scripts (feldspar-compatible)\nRequires-Python: >=3.11\n"
    );
    let wheel = "Wheel-Version: 1.0\nGenerator: port-native build.rs\nRoot-Is-Purelib: true\nTag: py3-none-any\n";
    files.push((format!("{dist_info}/METADATA"), metadata.into_bytes()));
    files.push((format!("{dist_info}/WHEEL"), wheel.as_bytes().to_vec()));

    // RECORD lists every other file with its urlsafe, unpadded base64 SHA-256 (the wheel spec).
    let mut record = String::new();
    for (name, bytes) in &files {
        let digest = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(bytes));
        record.push_str(&format!("{name},sha256={digest},{}\n", bytes.len()));
    }
    record.push_str(&format!("{dist_info}/RECORD,,\n"));
    files.push((format!("{dist_info}/RECORD"), record.into_bytes()));

    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    // A fixed date keeps the wheel reproducible; stored entries need no compression code.
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    for (name, bytes) in &files {
        writer.start_file(name.as_str(), options).expect("start a wheel entry");
        writer.write_all(bytes).expect("write a wheel entry");
    }
    writer.finish().expect("finish the wheel").into_inner()
}

/// `sysconfig.get_config_var('LIBDIR')` of the interpreter pyo3 links against.
fn python_libdir() -> Option<String> {
    let interpreter = std::env::var("PYO3_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let output = Command::new(&interpreter)
        .args(["-c", "import sysconfig; print(sysconfig.get_config_var('LIBDIR') or '')"])
        .output()
        .ok()?;
    let libdir = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    if !output.status.success() || libdir.is_empty() {
        println!("cargo:warning=could not ask {interpreter} for its LIBDIR; libpython is found by the default search");
        return None;
    }
    Some(libdir)
}
