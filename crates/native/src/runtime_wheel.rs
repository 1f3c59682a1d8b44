//! The runtime package `python/port`, embedded as a pure-Python wheel, and its copy on disk.
//!
//! The build script zips the package into a wheel; at run time it is written to a cache file and
//! put first on `sys.path`, because `zipimport` imports a pure-Python wheel directly. Writing it out
//! (rather than importing from memory) keeps tracebacks pointing at real files inside the wheel.

use std::io::Write;
use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/runtime_wheel.rs"));

/// The runtime wheel on disk, written on first use: `<cache>/port/runtime-<sha256 prefix>/<wheel>`.
///
/// The cache is `$XDG_CACHE_HOME`, else `$HOME/.cache`, else the temp folder. An existing file is
/// reused only when its bytes equal the embedded wheel, so a truncated or stale copy is replaced.
pub fn installed_runtime_wheel() -> std::io::Result<PathBuf> {
    let cache_root = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    let directory = cache_root.join("port").join(format!("runtime-{}", &RUNTIME_WHEEL_SHA256[..16]));
    let wheel_path = directory.join(RUNTIME_WHEEL_NAME);
    if std::fs::read(&wheel_path).is_ok_and(|bytes| bytes == RUNTIME_WHEEL) {
        return Ok(wheel_path);
    }
    std::fs::create_dir_all(&directory)?;
    write_atomically(&directory, &wheel_path)?;
    Ok(wheel_path)
}

/// Writes to a unique temporary file and renames it, because several `port` processes (parallel
/// tests) may install the wheel at once and none may import a half-written file.
fn write_atomically(directory: &Path, wheel_path: &Path) -> std::io::Result<()> {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_nanos());
    let temporary_path = directory.join(format!(".{RUNTIME_WHEEL_NAME}.{}.{nanos}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temporary_path)?;
        file.write_all(RUNTIME_WHEEL)?;
        file.sync_all()?;
        std::fs::rename(&temporary_path, wheel_path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary_path);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_wheel_name_is_a_pure_python_wheel() {
        assert!(RUNTIME_WHEEL_NAME.starts_with("port-"), "{RUNTIME_WHEEL_NAME}");
        assert!(RUNTIME_WHEEL_NAME.ends_with("-py3-none-any.whl"), "{RUNTIME_WHEEL_NAME}");
        assert_eq!(RUNTIME_WHEEL_SHA256.len(), 64);
    }

    #[test]
    fn runtime_wheel_holds_the_package_and_dist_info_but_no_pycache() {
        let listing = String::from_utf8_lossy(RUNTIME_WHEEL);
        let version = RUNTIME_WHEEL_NAME.trim_start_matches("port-").trim_end_matches("-py3-none-any.whl");
        for expected in [
            "port/__init__.py".to_owned(),
            "port/main.py".to_owned(),
            "port/api/commands.py".to_owned(),
            format!("port-{version}.dist-info/METADATA"),
            format!("port-{version}.dist-info/WHEEL"),
            format!("port-{version}.dist-info/RECORD"),
        ] {
            assert!(listing.contains(&expected), "the wheel lacks {expected}");
        }
        assert!(!listing.contains("__pycache__"), "the wheel holds __pycache__");
    }
}
