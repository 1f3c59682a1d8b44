//! Builds the extension without the `port` CLI: `cargo run -p port-builder --example build [-- --release]`.

fn main() -> std::process::ExitCode {
    let repo_root =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the repository");
    let kind = if std::env::args().any(|argument| argument == "--release") {
        port_builder::BuildKind::Release
    } else {
        port_builder::BuildKind::Development
    };
    let out_dir = repo_root.join(kind.out_dir());
    let options = port_builder::BuildOptions { kind, out_dir, repo_root, host_page_origins: Vec::new(), log: None };
    match port_builder::build(options) {
        Ok(report) => {
            println!("{}", report.extension_dir.display());
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
