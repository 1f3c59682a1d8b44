//! Integration tests of the `port` binary: one test binary (style.md §12), run with `cargo test`.
//!
//! Every test runs the real binary on a study in its own temporary folder; fixtures the tests
//! generate (zips, answers, small studies) are written there, never into the repository.

// `port script run` as a user meets it: the demo study, answers, transcripts, donations, errors
// the CLI must report clearly, and the exit status.
mod cli;
// The corpus of bad and unusual data packages: each gets its page or its data, within memory and
// time bounds.
mod corpus;
// `./dev test`'s suite runner: a failing, crashing or silent runner fails the test command.
mod dev_script;
// `port host`: donations over HTTP land as files and in the index; logs and exits are accepted.
mod dev_host;
// A D3I-style study package (FlowBuilder, pandas, error flow) runs unchanged on the native runner.
mod d3i_style;
// What a study script sees of the embedded runtime: feldspar-style packages run unchanged, the
// `js` stand-in, lazy file readers, VIRTUAL_ENV and PYTHONPATH, and which Python is embedded.
mod native_script;
// `port study check`: study configs, valid and not, with each problem's path and the exit status.
mod study;
// Codebase rules a test can check: module docs, no debugging leftovers.
mod tidy;
// The per-test temporary folder, the `port` command builder and shared fixture writers.
mod util;
