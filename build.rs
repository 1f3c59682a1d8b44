//! Build script of the `port` package: pins the libpython that `port-native` links.
//!
//! pyo3 links the libpython of `PYO3_PYTHON` (or `python3`), but without an rpath the loader may pick
//! Debian's `/usr/lib/x86_64-linux-gnu/libpython3.11.so` at run time, another patch release with
//! another prefix and other site-packages. `rustc-link-arg` from `port-native`'s build script does
//! not reach this package's binaries, so the `port` binary and the integration tests get it here.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PYO3_PYTHON");
    let interpreter = std::env::var("PYO3_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let libdir = Command::new(&interpreter)
        .args(["-c", "import sysconfig; print(sysconfig.get_config_var('LIBDIR') or '')"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .map(|libdir| libdir.trim().to_owned())
        .filter(|libdir| !libdir.is_empty());
    match libdir {
        Some(libdir) => println!("cargo:rustc-link-arg=-Wl,-rpath,{libdir}"),
        None => println!(
            "cargo:warning=could not ask {interpreter} for its LIBDIR; libpython is found by the default search"
        ),
    }
}
