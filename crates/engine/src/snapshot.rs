//! Booting the study's runtime from a memory snapshot: which snapshot to trust, and who makes one.
//!
//! A snapshot is Pyodide's memory after the runtime wheel (every module imported) and the glue. It
//! saves most of a boot, but it is memory a worker wrote, and the study's worker runs untrusted
//! code. So:
//!
//! - the build ships one (made by `port build` before any study exists); when the store holds
//!   none, the offscreen document reports it as [`StoredSnapshot::Found`] and the worker reads it;
//! - snapshots are made by a worker of their own (the *maker*), which boots afresh and never loads
//!   a study; it starts once the study's worker has loaded its study, so it does not slow the
//!   participant's first page. Only the maker's `snapshotMade` is stored; the study's worker can
//!   post one, and it is ignored;
//! - a snapshot is stored under the build's `snapshot_key`, which names the Pyodide version, the
//!   runtime wheel and the worker's glue: another build never loads it;
//! - a stored snapshot is loaded only when its digest holds; one that fails, or that the study's
//!   worker refuses before its study loads, is dropped, that boot goes on without it, and the
//!   maker makes a new one.

use port_protocol::worker_message::STUDY_BOOT_STEP;

/// What the offscreen document found in its snapshot store under the build's key (or, when the
/// store holds nothing, the snapshot the build ships).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredSnapshot {
    /// A snapshot whose digest holds.
    Found,
    /// Nothing under this key.
    Missing,
    /// Something whose digest does not match what was stored with it.
    Corrupt,
}

/// What the offscreen document does about snapshots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotEffect {
    /// Start the maker: a sandbox of its own whose worker gets `makeSnapshot` for `key`.
    StartMaker { key: String },
    /// Keep the snapshot the maker's message carries under `key`, replacing any other; the maker
    /// is done.
    Store { key: String },
    /// The maker is done without a snapshot.
    StopMaker,
    /// Remove what is stored under `key`.
    Drop { key: String },
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Maker {
    /// The stored snapshot is good, or the build has no key.
    #[default]
    NotNeeded,
    /// A snapshot is to be made once the study has loaded.
    Needed,
    /// The maker runs.
    Running,
    /// The maker's snapshot was stored, or the maker failed: not again in this session.
    Done,
}

/// The snapshot side of one session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotBoot {
    key: Option<String>,
    /// The study's worker was sent the stored snapshot to boot from.
    loading: bool,
    maker: Maker,
    /// Whether the study's boot step began; never reset, whatever the worker says later.
    study_began: bool,
}

impl SnapshotBoot {
    /// The key of the snapshot `initialise` carries (`None`: boot afresh), for a build whose key is
    /// `key` (`None`: the build has none, so no snapshot is used or made), plus what to do first.
    pub fn plan(&mut self, key: Option<&str>, stored: StoredSnapshot) -> (Option<String>, Vec<SnapshotEffect>) {
        let Some(key) = key else { return (None, Vec::new()) };
        self.key = Some(key.to_owned());
        match stored {
            StoredSnapshot::Found => {
                self.loading = true;
                (Some(key.to_owned()), Vec::new())
            }
            StoredSnapshot::Missing => {
                self.maker = Maker::Needed;
                (None, Vec::new())
            }
            StoredSnapshot::Corrupt => {
                self.maker = Maker::Needed;
                (None, vec![SnapshotEffect::Drop { key: key.to_owned() }])
            }
        }
    }

    /// The study's worker reported a boot step.
    pub fn on_boot_step(&mut self, step_idx: u32) {
        self.study_began |= step_idx >= STUDY_BOOT_STEP;
    }

    /// The study's worker refused the snapshot it was sent: drop it; the maker makes a new one.
    pub fn on_refused(&mut self, key: &str) -> Result<Vec<SnapshotEffect>, &'static str> {
        if self.study_began || !self.loading || self.key.as_deref() != Some(key) {
            return Err("a snapshotRefused the boot did not expect was ignored");
        }
        self.loading = false;
        if self.maker == Maker::NotNeeded {
            self.maker = Maker::Needed;
        }
        Ok(vec![SnapshotEffect::Drop { key: key.to_owned() }])
    }

    /// The study's worker loaded its study: the maker may start now.
    pub fn on_study_loaded(&mut self) -> Vec<SnapshotEffect> {
        self.study_began = true;
        match (&self.key, self.maker) {
            (Some(key), Maker::Needed) => {
                self.maker = Maker::Running;
                vec![SnapshotEffect::StartMaker { key: key.clone() }]
            }
            _ => Vec::new(),
        }
    }

    /// The maker sent its snapshot: store it if it is the one asked for.
    pub fn on_made(&mut self, key: &str) -> Result<Vec<SnapshotEffect>, &'static str> {
        if self.maker != Maker::Running || self.key.as_deref() != Some(key) {
            return Err("a snapshot the session did not ask for was ignored");
        }
        self.maker = Maker::Done;
        Ok(vec![SnapshotEffect::Store { key: key.to_owned() }])
    }

    /// The maker failed: the next session tries again.
    pub fn on_maker_failed(&mut self) -> Vec<SnapshotEffect> {
        if self.maker != Maker::Running {
            return Vec::new();
        }
        self.maker = Maker::Done;
        vec![SnapshotEffect::StopMaker]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verified_snapshot_is_loaded_and_no_maker_starts() {
        let mut boot = SnapshotBoot::default();
        assert_eq!(boot.plan(Some("k1"), StoredSnapshot::Found), (Some("k1".into()), vec![]));
        assert_eq!(boot.on_study_loaded(), vec![]);
    }

    #[test]
    fn a_missing_snapshot_is_made_by_the_maker_once_the_study_loaded() {
        let mut boot = SnapshotBoot::default();
        assert_eq!(boot.plan(Some("k1"), StoredSnapshot::Missing), (None, vec![]));
        assert!(boot.on_made("k1").is_err(), "nobody asked the maker yet");
        assert_eq!(boot.on_study_loaded(), vec![SnapshotEffect::StartMaker { key: "k1".into() }]);
        assert_eq!(boot.on_made("k1"), Ok(vec![SnapshotEffect::Store { key: "k1".into() }]));
        assert!(boot.on_made("k1").is_err(), "one snapshot per session");
    }

    #[test]
    fn a_build_without_a_key_uses_and_makes_no_snapshot() {
        let mut boot = SnapshotBoot::default();
        assert_eq!(boot.plan(None, StoredSnapshot::Found), (None, vec![]));
        assert_eq!(boot.on_study_loaded(), vec![]);
    }

    #[test]
    fn a_corrupt_snapshot_is_dropped_and_replaced() {
        let mut boot = SnapshotBoot::default();
        assert_eq!(
            boot.plan(Some("k1"), StoredSnapshot::Corrupt),
            (None, vec![SnapshotEffect::Drop { key: "k1".into() }])
        );
        assert_eq!(boot.on_study_loaded(), vec![SnapshotEffect::StartMaker { key: "k1".into() }]);
        assert_eq!(boot.on_made("k1"), Ok(vec![SnapshotEffect::Store { key: "k1".into() }]));
    }

    #[test]
    fn a_refused_snapshot_is_dropped_and_replaced() {
        let mut boot = SnapshotBoot::default();
        boot.plan(Some("k1"), StoredSnapshot::Found);
        assert_eq!(boot.on_refused("k1"), Ok(vec![SnapshotEffect::Drop { key: "k1".into() }]));
        assert_eq!(boot.on_study_loaded(), vec![SnapshotEffect::StartMaker { key: "k1".into() }]);
        assert_eq!(boot.on_made("k1"), Ok(vec![SnapshotEffect::Store { key: "k1".into() }]));
    }

    #[test]
    fn the_study_cannot_refuse_a_snapshot_or_stop_a_maker_it_did_not_start() {
        let mut boot = SnapshotBoot::default();
        boot.plan(Some("k1"), StoredSnapshot::Found);
        boot.on_boot_step(STUDY_BOOT_STEP);
        boot.on_boot_step(1);
        assert!(boot.on_refused("k1").is_err(), "once the study loads, its worker's word counts for nothing");
        assert_eq!(boot.on_maker_failed(), vec![]);
        let mut boot = SnapshotBoot::default();
        boot.plan(Some("k1"), StoredSnapshot::Missing);
        boot.on_study_loaded();
        assert!(boot.on_made("another-key").is_err());
        assert_eq!(boot.on_maker_failed(), vec![SnapshotEffect::StopMaker]);
        assert!(boot.on_made("k1").is_err(), "a failed maker's session makes no more");
    }
}
