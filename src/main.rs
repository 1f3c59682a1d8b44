//! The `port` command: runs data donation study scripts in the terminal, and hosts donations.
//!
//! `main` parses the command line ([`args`]), resolves it (the only step doing I/O on the
//! arguments), runs it, and prints the error chain once.
//!
//! Exit status: 0 when the study script ended with exit code 0; 1 when it exited with another code,
//! its runtime failed or a page could not be answered; 2 for wrong arguments or a script that
//! cannot be started (clap's usage errors are 2 as well); 3 when `--fail-on-review` is set and a
//! donation needed the participant's review. `port study check` exits 0 for a valid
//! config, 1 for an invalid one and 2 when the file cannot be read.

mod args;
mod dev_host;
mod extension;
mod file_names;
mod script_run;
mod study;
mod terminal_world;
mod transcript;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, ScriptCommand, StudyCommand, TopCommand};
use crate::script_run::{RunPlan, RunResult};
use crate::study::{StudyCheckPlan, StudyCheckResult};

const EXIT_SCRIPT_FAILED: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_REVIEW_NEEDED: u8 = 3;
const EXIT_STUDY_INVALID: u8 = 1;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(error_exit_code(&error))
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        TopCommand::Script(ScriptCommand::Run(run_args)) => {
            let plan = RunPlan::resolve(run_args)?;
            Ok(match script_run::run(plan)? {
                RunResult::Completed => ExitCode::SUCCESS,
                RunResult::ExitedWithFailure => ExitCode::from(EXIT_SCRIPT_FAILED),
            })
        }
        TopCommand::Build(build_args) => {
            extension::build(build_args.kind(), build_args.host_page_origins, None)?;
            Ok(ExitCode::SUCCESS)
        }
        TopCommand::Run(run_args) => {
            extension::run(run_args.port, run_args.dir, run_args.browser)?;
            Ok(ExitCode::SUCCESS)
        }
        TopCommand::Study(StudyCommand::Check(check_args)) => {
            let plan = StudyCheckPlan::resolve(check_args)?;
            Ok(match study::check(plan) {
                StudyCheckResult::Valid => ExitCode::SUCCESS,
                StudyCheckResult::Invalid => ExitCode::from(EXIT_STUDY_INVALID),
            })
        }
        TopCommand::Host(host_args) => {
            let behaviour = dev_host::HostBehaviour::resolve(&host_args)?;
            let has_study = behaviour.study.is_some();
            let host = dev_host::DevHost::bind(host_args.port, &host_args.dir, behaviour)?;
            eprintln!("port host: listening on {}", host.url());
            eprintln!("port host: donations are written to {}", host.donation_dir().display());
            if has_study {
                eprintln!("port host: study page at {}/study", host.url());
            }
            host.serve_forever();
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Failures of the run itself are 1, a review that `--fail-on-review` refused is 3; everything before
/// the run could start is a usage error.
fn error_exit_code(error: &anyhow::Error) -> u8 {
    if error.downcast_ref::<script_run::ReviewNeeded>().is_some() {
        EXIT_REVIEW_NEEDED
    } else if error.downcast_ref::<port_engine::RunError>().is_some()
        || error.downcast_ref::<script_run::RuntimeFailed>().is_some()
    {
        EXIT_SCRIPT_FAILED
    } else {
        EXIT_USAGE
    }
}
