//! `port build` and `port run`: the extension for developers.
//!
//! `port run` is the README's main job: build if needed, start the dev host, and open Chromium
//! with the unpacked extension, which sends its donations to that host.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;
use sha2::{Digest, Sha256};

use crate::dev_host::DevHost;
use port_builder::BuildKind;

/// The file in the unpacked extension that points the background's bridge at a dev host. Builds
/// hold `null` (donations stay local); only `port run` fills it in.
use port_builder::DEV_BRIDGE_FILE;

/// The repository `port` works in: the nearest folder up from here holding `manifest.json` and
/// `Cargo.toml`, else the one this binary was built from.
pub fn repo_root() -> PathBuf {
    let here = std::env::current_dir().unwrap_or_default();
    here.ancestors()
        .find(|folder| folder.join("manifest.json").is_file() && folder.join("Cargo.toml").is_file())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// Builds into [`BuildKind::out_dir`]. `log`: write the build's progress there, not to stderr.
pub fn build(
    kind: BuildKind,
    host_page_origins: Vec<String>,
    log: Option<PathBuf>,
) -> anyhow::Result<port_builder::BuildReport> {
    let repo_root = repo_root();
    let out_dir = repo_root.join(kind.out_dir());
    let failure = match &log {
        Some(log) => format!("building the extension failed; its log is {}", log.display()),
        None => "building the extension failed".to_owned(),
    };
    let options = port_builder::BuildOptions { kind, out_dir, repo_root, host_page_origins, log };
    let report = port_builder::build(options).context(failure)?;
    eprintln!("extension: {}", report.extension_dir.display());
    if let Some(zip) = &report.zip {
        eprintln!("web store zip: {}", zip.display());
    }
    Ok(report)
}

/// The terminal shows what a researcher needs (where donations land, how to inspect and stop the
/// browser); the build's progress and Chromium's own messages (dozens of dbus errors on a machine
/// without a session bus) go to log files under `.cache/`, whose paths are printed.
pub fn run(host_port: u16, donation_dir: Option<PathBuf>, browser: Option<PathBuf>) -> anyhow::Result<()> {
    let repo_root = repo_root();
    let logs = repo_root.join(".cache/port-run");
    std::fs::create_dir_all(&logs).with_context(|| format!("cannot create {}", logs.display()))?;
    let build_log = logs.join("build.log");
    eprintln!("building the extension (log: {})", build_log.display());
    let report = build(BuildKind::Development, Vec::new(), Some(build_log))?;
    let donation_dir = donation_dir.unwrap_or_else(|| repo_root.join(".cache/dev-host/donations"));
    let host = DevHost::bind(host_port, &donation_dir, crate::dev_host::HostBehaviour::default())?;
    let bridge = serde_json::json!({"kind": "dev-host", "url": host.url()});
    std::fs::write(report.extension_dir.join(DEV_BRIDGE_FILE), bridge.to_string())
        .context("cannot point the extension at the dev host")?;
    eprintln!("dev host: {}", host.url());
    eprintln!("donations land in: {}", host.donation_dir().display());

    let ui_url = format!("chrome-extension://{}/ui.html", manifest_extension_id(&repo_root)?);

    let browser = browser
        .or_else(find_chromium)
        .context("Chromium not found: install it (`apt-get install chromium`) or pass --browser PATH")?;
    let profile = repo_root.join(".cache/chromium-profile");
    let headed = std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
    let mut command = Command::new(&browser);
    command
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--load-extension={}", report.extension_dir.display()))
        .arg(format!("--disable-extensions-except={}", report.extension_dir.display()))
        // Chromium's background services only produce refused connections on a closed network.
        .args(["--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        .args(["--disable-quic", "--no-default-browser-check"]);
    if !headed {
        command.args(["--headless=new", "--disable-gpu", "--remote-debugging-port=9222"]);
        eprintln!("no display: Chromium runs headless; inspect it at http://127.0.0.1:9222");
    }
    if is_root() {
        // Chromium refuses to run as root with its sandbox.
        command.arg("--no-sandbox");
    }
    command.arg(&ui_url);
    let browser_log_path = logs.join("chromium.log");
    let browser_log = std::fs::File::create(&browser_log_path)
        .with_context(|| format!("cannot create {}", browser_log_path.display()))?;
    command.stdout(browser_log.try_clone()?).stderr(browser_log);
    eprintln!("opening {ui_url} in {}", browser.display());
    eprintln!("browser log: {}", browser_log_path.display());
    eprintln!("stop: press Ctrl-C here, or close Chromium");
    let mut chromium = command.spawn().with_context(|| format!("cannot start {}", browser.display()))?;
    std::thread::spawn(move || host.serve_forever());
    let status = chromium.wait()?;
    // The unpacked build outlives this run; it must not keep sending donations to a host that stops.
    std::fs::write(report.extension_dir.join(DEV_BRIDGE_FILE), "null")
        .context("cannot reset the extension's dev bridge")?;
    eprintln!("Chromium exited ({status}); donations are in {}", donation_dir.display());
    Ok(())
}

/// The extension id the repository's `manifest.json` fixes with its `key`.
pub fn manifest_extension_id(repo_root: &Path) -> anyhow::Result<String> {
    let manifest_path = repo_root.join("manifest.json");
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&manifest_path).with_context(|| format!("cannot read {}", manifest_path.display()))?,
    )
    .with_context(|| format!("{} is not JSON", manifest_path.display()))?;
    let key = manifest["key"].as_str().context("manifest.json has no \"key\", so the extension id is unknown")?;
    extension_id(key)
}

/// Chrome's extension id for a manifest `key`: the first 32 hex digits of the SHA-256 of the
/// public key, written with the letters a–p instead of 0–f.
pub fn extension_id(manifest_key: &str) -> anyhow::Result<String> {
    use base64::Engine;
    let der =
        base64::engine::general_purpose::STANDARD.decode(manifest_key).context("the manifest \"key\" is not base64")?;
    let digest = Sha256::digest(der);
    Ok(digest.iter().take(16).flat_map(|byte| [byte >> 4, byte & 0xf]).map(|nibble| (b'a' + nibble) as char).collect())
}

fn find_chromium() -> Option<PathBuf> {
    let path_dirs: Vec<PathBuf> = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).collect();
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| path_dirs.iter().map(move |dir| dir.join(name)))
        .find(|path| path.is_file())
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|output| output.stdout.starts_with(b"0\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_id_matches_chrome() {
        // The id Chromium reports for the key in manifest.json (checked by tests/e2e).
        let id = manifest_extension_id(&repo_root()).unwrap();
        assert_eq!(id, "majacjgmojmpgjbcioomhloafcikglkl");
    }
}
