//! `port study check FILE`: reads a study config and reports whether it is valid.
//!
//! Resolving reads the file, the only I/O; the checking is `port_protocol::StudyConfig::parse`, the
//! same code the extension runs, so a config that passes here passes there.

use std::path::PathBuf;

use anyhow::Context;
use port_protocol::{StudyConfig, StudyOrigin};

use crate::args::StudyCheckArgs;

/// `StudyCheckArgs` resolved: the config's text read.
#[derive(Debug)]
pub struct StudyCheckPlan {
    /// As typed, for the `FILE: ` prefix of each problem.
    pub path: PathBuf,
    pub config_text: String,
    pub origin: StudyOrigin,
}

impl StudyCheckPlan {
    pub fn resolve(args: StudyCheckArgs) -> anyhow::Result<StudyCheckPlan> {
        let config_text = std::fs::read_to_string(&args.file)
            .with_context(|| format!("cannot read the study config {}", args.file.display()))?;
        let origin = if args.external { StudyOrigin::External } else { StudyOrigin::Embedded };
        Ok(StudyCheckPlan { path: args.file, config_text, origin })
    }
}

/// Whether the config passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StudyCheckResult {
    Valid,
    Invalid,
}

/// Prints `ok: <id> <version> (<title in English>)`, or every problem as `FILE: <path>: <message>`,
/// on stdout: either is the command's answer.
pub fn check(plan: StudyCheckPlan) -> StudyCheckResult {
    match StudyConfig::parse(&plan.config_text, plan.origin) {
        Ok(config) => {
            println!("ok: {} {} ({})", config.id, config.version, config.title.resolve("en"));
            StudyCheckResult::Valid
        }
        Err(errors) => {
            for error in errors {
                println!("{}: {error}", plan.path.display());
            }
            StudyCheckResult::Invalid
        }
    }
}
