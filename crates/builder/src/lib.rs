//! Builds the browser extension into `<out_dir>/extension` (and, for [`BuildKind::Release`], a Web
//! Store zip).
//!
//! Steps, each printed as it runs, each skipped when its output is up to date:
//! 1. `wasm`: `cargo build --target wasm32-unknown-unknown` of the wasm crates, in `target/wasm`
//!    (cargo itself decides what is stale).
//! 2. `bindgen`: wasm-bindgen (`--target web`) as a library, pinned to the version the crates use,
//!    into `extension/wasm/`; when the kind optimises, then npm binaryen's `wasm-opt -Oz`. Debian's wasm-opt
//!    (v108) produces broken wasm, so only `node_modules/.bin/wasm-opt` is used.
//! 3. `npm`: `npm ci` when `node_modules` lacks the pinned Pyodide.
//! 4. `pyodide`: the runtime files from npm `pyodide`, plus micropip from PyPI (`pip download`,
//!    cached in `.cache/`), with the lock file's micropip sha256 patched to the downloaded wheel:
//!    otherwise `loadPackage('micropip')` fails quietly.
//! 5. `runtime`: the `port` runtime wheel that `port-native` embeds.
//! 6. `static`: `extension/**`, the demo study, and `manifest.json` with the version stamped; then
//!    `snapshot`: the runtime snapshot the extension ships, made under Node by `make_snapshot.mjs`
//!    (the snapshot maker's steps), and `build.json` naming it and the snapshot key.
//! 7. `zip` (release only): `<out_dir>/port-extension-<version>.zip`, without the manifest `key`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The version stamped into the manifest: the workspace version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The npm Pyodide version that is bundled (`package.json` pins the same).
pub const PYODIDE_VERSION: &str = "314.0.7";
/// The micropip wheel bundled next to Pyodide; its version must match `pyodide-lock.json`.
pub const MICROPIP_WHEEL: &str = "micropip-0.11.1-py3-none-any.whl";
/// The wasm crates built for the extension: (package, whether it must exist).
const WASM_CRATES: &[(&str, &str)] = &[
    ("port-background", "crates/background"),
    ("port-offscreen", "crates/offscreen"),
    ("port-worker", "crates/worker"),
    ("port-ui", "crates/ui"),
];
/// Origins of the local dev host (`port host`). Development and optimised builds admit them as host
/// pages and as HTTP targets; release builds never do, so a published extension only talks to the hosts
/// `manifest.json` lists.
const DEV_ORIGINS: &[&str] = &["http://127.0.0.1/*", "http://localhost/*"];

/// Adds the dev origins to `externally_connectable.matches` and `host_permissions` (`admit`), or
/// removes them; a list left empty is dropped, because Chrome reads an absent list as "none".
fn admit_dev_origins(manifest: &mut serde_json::Value, admit: bool) {
    let Some(manifest) = manifest.as_object_mut() else { return };
    let mut externally_connectable = manifest.remove("externally_connectable").unwrap_or_else(|| serde_json::json!({}));
    update_origin_list(&mut externally_connectable, "matches", admit);
    if externally_connectable.get("matches").is_some() {
        manifest.insert("externally_connectable".into(), externally_connectable);
    }
    let mut host_permissions = serde_json::json!({"list": manifest.remove("host_permissions")});
    update_origin_list(&mut host_permissions, "list", admit);
    if let Some(list) = host_permissions.get("list").filter(|list| !list.is_null()) {
        manifest.insert("host_permissions".into(), list.clone());
    }
}

fn update_origin_list(object: &mut serde_json::Value, key: &str, admit: bool) {
    let mut origins: Vec<String> = object
        .get(key)
        .and_then(|list| list.as_array())
        .map(|list| list.iter().filter_map(|origin| origin.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    origins.retain(|origin| !DEV_ORIGINS.contains(&origin.as_str()));
    if admit {
        origins.extend(DEV_ORIGINS.iter().map(|origin| (*origin).to_owned()));
    }
    let Some(object) = object.as_object_mut() else { return };
    if origins.is_empty() {
        object.remove(key);
    } else {
        object.insert(key.into(), serde_json::json!(origins));
    }
}

/// A host-page origin must be a Chrome match pattern for a whole site: `https://host/*`.
fn check_origin_pattern(origin: &str) -> Result<(), BuildError> {
    let host = origin.strip_prefix("https://").and_then(|rest| rest.strip_suffix("/*"));
    match host {
        Some(host) if !host.is_empty() && !host.contains('/') => Ok(()),
        _ => Err(BuildError::Invalid(format!(
            "host page origin {origin:?} must look like https://host.example/* (https, a host, then /*)"
        ))),
    }
}

fn add_host_page_origins(manifest: &mut serde_json::Value, origins: &[String]) {
    if origins.is_empty() {
        return;
    }
    let externally_connectable = &mut manifest["externally_connectable"];
    if !externally_connectable.is_object() {
        *externally_connectable = serde_json::json!({});
    }
    let matches = &mut externally_connectable["matches"];
    if !matches.is_array() {
        *matches = serde_json::json!([]);
    }
    let list = matches.as_array_mut().expect("made an array above");
    for origin in origins {
        if !list.iter().any(|known| known == origin) {
            list.push(serde_json::json!(origin));
        }
    }
}

/// The runtime snapshot the build ships (see `Builder::bundled_snapshot`), in the extension.
pub const BUNDLED_SNAPSHOT_FILE: &str = "pyodide/runtime.snapshot";

/// Points the background's bridge at a dev host; see `static_files`.
pub const DEV_BRIDGE_FILE: &str = "dev-bridge.json";
/// `pyodide.js` is the classic-script build that the sandbox's worker loads with `importScripts`.
const PYODIDE_FILES: &[&str] =
    &["pyodide.js", "pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip"];

/// Crates whose glue is a classic script (`--target no-modules`) rather than an ES module. The
/// study's worker is a classic `blob:` worker of the sandbox page: its opaque origin may not start
/// a worker from an extension URL, and a module worker from a `blob:` URL cannot import the
/// extension's modules (platform-notes: the sandbox spike).
const CLASSIC_SCRIPT_CRATES: &[&str] = &["port-worker"];

/// Which extension a build makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildKind {
    /// Debug wasm, the local dev host admitted: what `port run` and the browser tests load.
    Development,
    /// The release build's optimised wasm with the local dev host still admitted, and no zip: what
    /// benchmarks measure, so that a host page's boot and a donation to a loopback host are timed
    /// in the code participants run.
    Optimised,
    /// Optimised wasm (`cargo --release`, `wasm-opt -Oz`), no dev host, and a Web Store zip.
    Release,
}

impl BuildKind {
    fn optimises(self) -> bool {
        self != BuildKind::Development
    }

    fn admits_dev_origins(self) -> bool {
        self != BuildKind::Release
    }

    /// Where `port build` puts this kind, relative to the repository, so that switching between
    /// kinds never rebuilds another.
    pub fn out_dir(self) -> &'static str {
        match self {
            BuildKind::Development => "dist",
            BuildKind::Optimised => "dist/optimised",
            BuildKind::Release => "dist/release",
        }
    }
}

#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub kind: BuildKind,
    /// Where `extension/` (and the zip) go, usually `<repo>/dist`.
    pub out_dir: PathBuf,
    /// The repository: `Cargo.toml`, `manifest.json`, `extension/`, `studies/`, `package.json`.
    pub repo_root: PathBuf,
    /// Origins of host platforms whose pages may push studies (`externally_connectable`), added to
    /// those `manifest.json` lists, e.g. `https://next.eyra.co/*`.
    pub host_page_origins: Vec<String>,
    /// Where the build's progress and its tools' output go; `None`: the terminal (stderr).
    pub log: Option<PathBuf>,
}

/// What a build did.
#[derive(Debug, Clone, Default)]
pub struct BuildReport {
    /// The unpacked extension, loadable with `--load-extension`.
    pub extension_dir: PathBuf,
    /// The Web Store zip, for [`BuildKind::Release`].
    pub zip: Option<PathBuf>,
    /// Files written (not counting cargo's own output); 0 when everything was up to date.
    pub n_files_written: usize,
}

/// A build that failed. None of them leaves a half-written file in place of a good one.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    #[error("`{command}` failed: {detail}")]
    Command { command: String, detail: String },
    #[error("wasm-bindgen failed for {crate_name}: {detail}")]
    Bindgen { crate_name: String, detail: String },
    #[error("{0}")]
    Invalid(String),
}

fn io_error(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> BuildError {
    let context = context.into();
    move |source| BuildError::Io { context, source }
}

/// Builds the extension; see the crate doc for the steps.
pub fn build(options: BuildOptions) -> Result<BuildReport, BuildError> {
    for origin in &options.host_page_origins {
        check_origin_pattern(origin)?;
    }
    let log = match &options.log {
        Some(path) => Some(std::fs::File::create(path).map_err(io_error(format!("creating {}", path.display())))?),
        None => None,
    };
    let mut builder = Builder {
        log,
        host_page_origins: options.host_page_origins.clone(),
        repo: options.repo_root.clone(),
        extension: options.out_dir.join("extension"),
        kind: options.kind,
        n_files_written: 0,
    };
    std::fs::create_dir_all(&builder.extension).map_err(io_error("creating the output folder"))?;
    builder.wasm()?;
    builder.bindgen()?;
    builder.npm()?;
    builder.pyodide()?;
    builder.runtime()?;
    builder.static_files()?;
    let zip = if options.kind == BuildKind::Release { Some(builder.zip(&options.out_dir)?) } else { None };
    builder.step("done", &format!("{} ({} files written)", builder.extension.display(), builder.n_files_written));
    Ok(BuildReport { extension_dir: builder.extension, zip, n_files_written: builder.n_files_written })
}

struct Builder {
    /// The build log, when the caller asked for one instead of the terminal.
    log: Option<std::fs::File>,
    host_page_origins: Vec<String>,
    repo: PathBuf,
    extension: PathBuf,
    kind: BuildKind,
    n_files_written: usize,
}

impl Builder {
    fn step(&mut self, name: &str, message: &str) {
        use std::io::Write;
        let line = format!("[build] {name}: {message}");
        match &mut self.log {
            Some(log) => {
                let _ = writeln!(log, "{line}");
            }
            None => eprintln!("{line}"),
        }
    }

    /// Runs a tool of the build, with its output in the build log when there is one.
    fn run(&mut self, command: &mut Command) -> Result<(), BuildError> {
        if let Some(log) = &self.log {
            let stdout = log.try_clone().map_err(io_error("sharing the build log"))?;
            let stderr = log.try_clone().map_err(io_error("sharing the build log"))?;
            command.stdout(stdout).stderr(stderr);
        }
        run(command)
    }

    fn wasm_crates(&self) -> Vec<&'static str> {
        WASM_CRATES
            .iter()
            .filter(|(_, dir)| self.repo.join(dir).join("Cargo.toml").exists())
            .map(|(name, _)| *name)
            .collect()
    }

    fn wasm_target_dir(&self) -> PathBuf {
        self.repo.join("target").join("wasm")
    }

    fn wasm(&mut self) -> Result<(), BuildError> {
        self.ensure_wasm_target()?;
        let crates = self.wasm_crates();
        self.step("wasm", &format!("cargo build --target wasm32-unknown-unknown ({})", crates.join(", ")));
        let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        command.current_dir(&self.repo).arg("build").arg("--target").arg("wasm32-unknown-unknown");
        if self.kind.optimises() {
            command.arg("--release");
        }
        for name in &crates {
            command.arg("-p").arg(name);
        }
        command.env("CARGO_TARGET_DIR", self.wasm_target_dir());
        self.run(&mut command)
    }

    fn bindgen(&mut self) -> Result<(), BuildError> {
        let profile = if self.kind.optimises() { "release" } else { "debug" };
        let out_dir = self.extension.join("wasm");
        for name in self.wasm_crates() {
            let stem = name.replace('-', "_");
            let input =
                self.wasm_target_dir().join("wasm32-unknown-unknown").join(profile).join(format!("{stem}.wasm"));
            let output = out_dir.join(format!("{stem}_bg.wasm"));
            // A stamp names the profile, so switching between debug and release rebuilds.
            let target = if CLASSIC_SCRIPT_CRATES.contains(&name) { "no-modules" } else { "web" };
            let stamp_text = format!("{profile} {target}");
            let stamp = out_dir.join(format!(".{stem}.stamp"));
            if is_newer_or_equal(&output, &input)
                && std::fs::read_to_string(&stamp).is_ok_and(|text| text == stamp_text)
            {
                self.step("bindgen", &format!("{stem}: up to date"));
                continue;
            }
            self.step("bindgen", &format!("{stem}: wasm-bindgen --target {target}"));
            let mut bindgen = wasm_bindgen_cli_support::Bindgen::new();
            // The library defaults to omitting the `new URL(…_bg.wasm, import.meta.url)` fallback that the CLI
            // emits; our module bootstraps call `init()` without arguments and rely on it.
            bindgen.input_path(&input).out_name(&stem).typescript(false).omit_default_module_path(false);
            let chosen = if target == "web" { bindgen.web(true) } else { bindgen.no_modules(true) };
            chosen.map_err(|error| BuildError::Bindgen { crate_name: stem.clone(), detail: format!("{error:#}") })?;
            bindgen
                .generate(&out_dir)
                .map_err(|error| BuildError::Bindgen { crate_name: stem.clone(), detail: format!("{error:#}") })?;
            if self.kind.optimises() {
                self.wasm_opt(&output)?;
            }
            std::fs::write(&stamp, &stamp_text).map_err(io_error("writing a stamp"))?;
            self.n_files_written += 2;
        }
        Ok(())
    }

    fn wasm_opt(&mut self, wasm: &Path) -> Result<(), BuildError> {
        self.ensure_node_modules()?;
        let wasm_opt = self.repo.join("node_modules").join(".bin").join("wasm-opt");
        self.step("wasm-opt", &format!("-Oz {}", wasm.display()));
        self.run(
            Command::new(wasm_opt)
                .arg("-Oz")
                .arg("--enable-bulk-memory")
                .arg("--enable-nontrapping-float-to-int")
                .arg("--enable-sign-ext")
                .arg("--enable-reference-types")
                .arg("--enable-multivalue")
                .arg(wasm)
                .arg("-o")
                .arg(wasm),
        )
    }

    fn ensure_node_modules(&mut self) -> Result<(), BuildError> {
        let package = self.repo.join("node_modules").join("pyodide").join("package.json");
        let installed = std::fs::read_to_string(&package)
            .ok()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            .and_then(|json| json["version"].as_str().map(str::to_owned));
        if installed.as_deref() == Some(PYODIDE_VERSION) && self.repo.join("node_modules/.bin/wasm-opt").exists() {
            return Ok(());
        }
        let subcommand = if self.repo.join("package-lock.json").exists() { "ci" } else { "install" };
        self.step("npm", &format!("npm {subcommand}"));
        self.run(Command::new("npm").current_dir(&self.repo).args([subcommand, "--no-audit", "--no-fund"]))
    }

    fn npm(&mut self) -> Result<(), BuildError> {
        self.ensure_node_modules()?;
        self.step("npm", &format!("pyodide {PYODIDE_VERSION} present"));
        Ok(())
    }

    fn pyodide(&mut self) -> Result<(), BuildError> {
        let n_before = self.n_files_written;
        let source = self.repo.join("node_modules").join("pyodide");
        let target = self.extension.join("pyodide");
        for file in PYODIDE_FILES {
            self.copy_if_newer(&source.join(file), &target.join(file))?;
        }
        let micropip = self.micropip_wheel()?;
        let micropip_bytes = std::fs::read(&micropip).map_err(io_error("reading the micropip wheel"))?;
        self.write_if_changed(&target.join(MICROPIP_WHEEL), &micropip_bytes)?;
        let lock_text =
            std::fs::read_to_string(source.join("pyodide-lock.json")).map_err(io_error("reading pyodide-lock.json"))?;
        let mut lock: serde_json::Value = serde_json::from_str(&lock_text)
            .map_err(|error| BuildError::Invalid(format!("pyodide-lock.json: {error}")))?;
        let entry = &mut lock["packages"]["micropip"];
        if entry["file_name"].as_str() != Some(MICROPIP_WHEEL) {
            return Err(BuildError::Invalid(format!("pyodide-lock.json does not list {MICROPIP_WHEEL}")));
        }
        entry["sha256"] = serde_json::Value::String(sha256_hex(&micropip_bytes));
        let lock_text = serde_json::to_string(&lock).expect("a JSON value serialises");
        self.write_if_changed(&target.join("pyodide-lock.json"), lock_text.as_bytes())?;
        self.step(
            "pyodide",
            &format!(
                "{PYODIDE_VERSION} with {MICROPIP_WHEEL}, lock sha256 patched ({} written)",
                self.n_files_written - n_before
            ),
        );
        Ok(())
    }

    /// The micropip wheel, downloaded once into `.cache/pip/`.
    fn micropip_wheel(&mut self) -> Result<PathBuf, BuildError> {
        let cache = self.repo.join(".cache").join("pip");
        let wheel = cache.join(MICROPIP_WHEEL);
        if wheel.exists() {
            return Ok(wheel);
        }
        self.step("pyodide", "pip download micropip==0.11.1");
        let pip = std::env::var("PIP").unwrap_or_else(|_| "pip".into());
        self.run(
            Command::new(pip)
                .args([
                    "download",
                    "micropip==0.11.1",
                    "--no-deps",
                    "--python-version",
                    "3.14",
                    "--only-binary=:all:",
                    "-d",
                ])
                .arg(&cache),
        )?;
        if !wheel.exists() {
            return Err(BuildError::Invalid(format!("pip did not produce {}", wheel.display())));
        }
        Ok(wheel)
    }

    fn runtime(&mut self) -> Result<(), BuildError> {
        let n_before = self.n_files_written;
        let target = self.extension.join("pyodide").join(port_native::RUNTIME_WHEEL_NAME);
        self.write_if_changed(&target, port_native::RUNTIME_WHEEL)?;
        self.step(
            "runtime",
            &format!("{} ({} written)", port_native::RUNTIME_WHEEL_NAME, self.n_files_written - n_before),
        );
        Ok(())
    }

    fn static_files(&mut self) -> Result<(), BuildError> {
        let n_before = self.n_files_written;
        self.copy_tree(&self.repo.join("extension"), &self.extension.clone())?;
        for file_name in ["script.py", "study.json"] {
            self.copy_if_newer(
                &self.repo.join("studies").join("demo").join(file_name),
                &self.extension.join("studies").join("demo").join(file_name),
            )?;
        }
        let manifest_text =
            std::fs::read_to_string(self.repo.join("manifest.json")).map_err(io_error("reading manifest.json"))?;
        let mut manifest: serde_json::Value = serde_json::from_str(&manifest_text)
            .map_err(|error| BuildError::Invalid(format!("manifest.json: {error}")))?;
        manifest["version"] = serde_json::Value::String(VERSION.into());
        admit_dev_origins(&mut manifest, self.kind.admits_dev_origins());
        add_host_page_origins(&mut manifest, &self.host_page_origins);
        let manifest_text = serde_json::to_string_pretty(&manifest).expect("a JSON value serialises");
        self.write_if_changed(&self.extension.join("manifest.json"), manifest_text.as_bytes())?;
        // `port run` points it at its dev host after building; every build resets it, so a build never
        // sends donations to a host that was running once. It always exists so that the background's
        // fetch of it never logs a missing file; `null` means "no dev host".
        self.write_if_changed(&self.extension.join(DEV_BRIDGE_FILE), b"null")?;
        let snapshot_key = self.snapshot_key()?;
        self.bundled_snapshot(&snapshot_key)?;
        let build_info = serde_json::json!({
            "version": VERSION,
            "runtime_wheel": format!("pyodide/{}", port_native::RUNTIME_WHEEL_NAME),
            "pyodide": PYODIDE_VERSION,
            "snapshot_key": snapshot_key,
            "bundled_snapshot": BUNDLED_SNAPSHOT_FILE,
        });
        let build_info = serde_json::to_string_pretty(&build_info).expect("a JSON value serialises");
        self.write_if_changed(&self.extension.join("build.json"), build_info.as_bytes())?;
        self.step(
            "static",
            &format!("extension/, studies/demo, manifest {VERSION} ({} written)", self.n_files_written - n_before),
        );
        Ok(())
    }

    /// The runtime snapshot the extension ships, so that even the first boot on a profile starts
    /// from one: `make_snapshot.mjs` takes the snapshot maker's steps under Node, from this build's
    /// Pyodide files, wheel and glue. Made again only when `key` changed (the stamp keeps it).
    fn bundled_snapshot(&mut self, key: &str) -> Result<(), BuildError> {
        let file = self.extension.join(BUNDLED_SNAPSHOT_FILE);
        let stamp = self.extension.join("pyodide").join(".runtime.snapshot.stamp");
        if std::fs::read_to_string(&stamp).is_ok_and(|stamped| stamped == key) && file.exists() {
            self.step("snapshot", &format!("{BUNDLED_SNAPSHOT_FILE}: up to date"));
            return Ok(());
        }
        self.step("snapshot", &format!("{BUNDLED_SNAPSHOT_FILE}: node crates/builder/make_snapshot.mjs"));
        let python_files =
            ["crates/protocol/src/command_json.py", "crates/worker/src/glue.py", "crates/worker/src/warm_up.py"];
        let mut command = Command::new("node");
        command
            .arg(self.repo.join("crates/builder/make_snapshot.mjs"))
            .arg(self.extension.join("pyodide"))
            .arg(self.extension.join("pyodide").join(port_native::RUNTIME_WHEEL_NAME))
            .arg(&file);
        for python_file in python_files {
            command.arg(self.repo.join(python_file));
        }
        self.run(&mut command)?;
        std::fs::write(&stamp, key).map_err(io_error("writing a stamp"))?;
        self.n_files_written += 1;
        Ok(())
    }

    /// Names everything a runtime snapshot holds: Pyodide (by version; Pyodide itself refuses a
    /// snapshot of another build), the runtime wheel, and the worker (its glue and the modules it
    /// imports before the snapshot). A build that changes any of them gets
    /// another key, so it never boots from an older build's snapshot.
    fn snapshot_key(&self) -> Result<String, BuildError> {
        let mut parts = PYODIDE_VERSION.as_bytes().to_vec();
        for file in [
            format!("pyodide/{}", port_native::RUNTIME_WHEEL_NAME),
            "wasm/port_worker_bg.wasm".to_owned(),
            "worker.js".to_owned(),
        ] {
            let bytes = std::fs::read(self.extension.join(&file)).map_err(io_error(format!("reading {file}")))?;
            parts.extend_from_slice(sha256_hex(&bytes).as_bytes());
        }
        Ok(format!("{PYODIDE_VERSION}-{}", &sha256_hex(&parts)[..24]))
    }

    fn zip(&mut self, out_dir: &Path) -> Result<PathBuf, BuildError> {
        use std::io::Write;
        let zip_path = out_dir.join(format!("port-extension-{VERSION}.zip"));
        self.step("zip", &zip_path.display().to_string());
        let mut files = Vec::new();
        list_files(&self.extension, &mut files).map_err(io_error("listing the extension"))?;
        files.sort();
        let temporary = zip_path.with_extension("zip.tmp");
        let file = std::fs::File::create(&temporary).map_err(io_error("creating the zip"))?;
        let mut writer = zip::ZipWriter::new(file);
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for path in files {
            let relative = path.strip_prefix(&self.extension).expect("listed under the extension");
            let name = relative.to_string_lossy().replace('\\', "/");
            if name.rsplit('/').next().is_some_and(|base| base.starts_with('.')) {
                continue;
            }
            let mut bytes = std::fs::read(&path).map_err(io_error(format!("reading {name}")))?;
            if name == "manifest.json" {
                // The Web Store assigns the id itself and refuses a manifest `key`.
                let mut manifest: serde_json::Value = serde_json::from_slice(&bytes)
                    .map_err(|error| BuildError::Invalid(format!("manifest.json: {error}")))?;
                if let Some(object) = manifest.as_object_mut() {
                    object.remove("key");
                }
                bytes = serde_json::to_vec_pretty(&manifest).expect("a JSON value serialises");
            }
            if name == DEV_BRIDGE_FILE {
                // A published extension never points at a developer's host.
                bytes = b"null".to_vec();
            }
            writer.start_file(name.as_str(), options).map_err(|error| BuildError::Invalid(format!("zip: {error}")))?;
            writer.write_all(&bytes).map_err(io_error("writing the zip"))?;
        }
        writer.finish().map_err(|error| BuildError::Invalid(format!("zip: {error}")))?;
        std::fs::rename(&temporary, &zip_path).map_err(io_error("renaming the zip"))?;
        Ok(zip_path)
    }

    fn copy_tree(&mut self, source: &Path, target: &Path) -> Result<(), BuildError> {
        let mut files = Vec::new();
        list_files(source, &mut files).map_err(io_error(format!("listing {}", source.display())))?;
        for file in files {
            let relative = file.strip_prefix(source).expect("listed under the source");
            self.copy_if_newer(&file, &target.join(relative))?;
        }
        Ok(())
    }

    /// Copies when the target is missing, of another size, or older than the source.
    fn copy_if_newer(&mut self, source: &Path, target: &Path) -> Result<(), BuildError> {
        let source_meta = std::fs::metadata(source).map_err(io_error(format!("reading {}", source.display())))?;
        if let Ok(target_meta) = std::fs::metadata(target)
            && target_meta.len() == source_meta.len()
            && is_newer_or_equal(target, source)
        {
            return Ok(());
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(io_error(format!("creating {}", parent.display())))?;
        }
        std::fs::copy(source, target).map_err(io_error(format!("copying {}", source.display())))?;
        self.n_files_written += 1;
        Ok(())
    }

    /// Writes when the content differs, so unchanged files keep their mtime.
    fn write_if_changed(&mut self, target: &Path, bytes: &[u8]) -> Result<(), BuildError> {
        if std::fs::read(target).is_ok_and(|existing| existing == bytes) {
            return Ok(());
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(io_error(format!("creating {}", parent.display())))?;
        }
        std::fs::write(target, bytes).map_err(io_error(format!("writing {}", target.display())))?;
        self.n_files_written += 1;
        Ok(())
    }

    /// Adds the wasm32 target with rustup when the toolchain lacks it.
    fn ensure_wasm_target(&mut self) -> Result<(), BuildError> {
        let output =
            Command::new("rustc").args(["--print", "target-libdir", "--target", "wasm32-unknown-unknown"]).output();
        let has_target = output
            .ok()
            .filter(|output| output.status.success())
            .and_then(|output| String::from_utf8(output.stdout).ok())
            .is_some_and(|libdir| Path::new(libdir.trim()).exists());
        if has_target {
            return Ok(());
        }
        self.step("wasm", "rustup target add wasm32-unknown-unknown");
        self.run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
    }
}

fn list_files(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            list_files(&entry.path(), files)?;
        } else {
            files.push(entry.path());
        }
    }
    Ok(())
}

fn is_newer_or_equal(target: &Path, source: &Path) -> bool {
    let modified = |path: &Path| std::fs::metadata(path).and_then(|meta| meta.modified()).ok();
    matches!((modified(target), modified(source)), (Some(target), Some(source)) if target >= source)
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|byte| format!("{byte:02x}")).collect()
}

fn run(command: &mut Command) -> Result<(), BuildError> {
    let description = format!("{command:?}");
    let status = command
        .status()
        .map_err(|error| BuildError::Command { command: description.clone(), detail: error.to_string() })?;
    if !status.success() {
        return Err(BuildError::Command { command: description, detail: status.to_string() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_hex_of_empty_input() {
        assert_eq!(sha256_hex(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    #[test]
    fn dev_builds_admit_the_local_dev_host() {
        let mut manifest = serde_json::json!({"externally_connectable": {"matches": ["https://next.eyra.co/*"]}});
        admit_dev_origins(&mut manifest, true);
        assert_eq!(
            manifest,
            serde_json::json!({
                "externally_connectable": {"matches": ["https://next.eyra.co/*", "http://127.0.0.1/*", "http://localhost/*"]},
                "host_permissions": ["http://127.0.0.1/*", "http://localhost/*"]
            })
        );
    }

    #[test]
    fn host_page_origins_are_added_once_and_checked() {
        let mut manifest = serde_json::json!({});
        add_host_page_origins(&mut manifest, &["https://next.eyra.co/*".into(), "https://next.eyra.co/*".into()]);
        assert_eq!(manifest, serde_json::json!({"externally_connectable": {"matches": ["https://next.eyra.co/*"]}}));
        assert!(check_origin_pattern("https://next.eyra.co/*").is_ok());
        let error = check_origin_pattern("http://next.eyra.co").unwrap_err().to_string();
        assert_eq!(
            error,
            "host page origin \"http://next.eyra.co\" must look like https://host.example/* (https, a host, then /*)"
        );
    }

    #[test]
    fn only_release_builds_refuse_the_dev_host_and_only_development_builds_are_unoptimised() {
        let kinds = [BuildKind::Development, BuildKind::Optimised, BuildKind::Release];
        assert_eq!(kinds.map(BuildKind::admits_dev_origins), [true, true, false]);
        assert_eq!(kinds.map(BuildKind::optimises), [false, true, true]);
    }

    #[test]
    fn release_builds_drop_the_dev_host_and_empty_lists() {
        let mut manifest = serde_json::json!({
            "externally_connectable": {"matches": ["http://127.0.0.1/*", "http://localhost/*"]},
            "host_permissions": ["http://localhost/*", "https://data.example.org/*"]
        });
        admit_dev_origins(&mut manifest, false);
        assert_eq!(manifest, serde_json::json!({"host_permissions": ["https://data.example.org/*"]}));
    }
}
