//! Booting the study's runtime from a memory snapshot: which snapshot to trust, and when.
//!
//! A snapshot is Pyodide's memory after the runtime wheel (every module imported) and the glue,
//! made in the worker by a normal boot and kept by the extension (the sandbox's origin is
//! opaque and has no storage). It saves most of a boot, but it is memory the worker wrote, and the
//! worker also runs study scripts, which are untrusted. So:
//!
//! - a snapshot is stored under the build's `snapshot_key`, which names the Pyodide version, the
//!   runtime wheel and the worker's glue: another build never loads it;
//! - a stored snapshot is loaded only when its digest holds; one that fails, or that the worker
//!   refuses, is dropped, the boot goes on without it, and a new one replaces it;
//! - the worker's `snapshotMade` is believed only when this boot asked for one, once, and before
//!   the study's boot step: from then on the worker's messages may be the study's, and a study
//!   must never plant its own state in the next study's runtime.

use port_protocol::worker_message::{STUDY_BOOT_STEP, SnapshotRequest};

/// What the offscreen document found in its snapshot store under the build's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredSnapshot {
    /// A snapshot whose digest holds.
    Found,
    /// Nothing under this key.
    Missing,
    /// Something whose digest does not match what was stored with it.
    Corrupt,
}

/// What the offscreen document does with the snapshot store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotStoreEffect {
    /// Keep the snapshot the worker's message carries under `key`, replacing any other.
    Store { key: String },
    /// Remove what is stored under `key`.
    Drop { key: String },
}

/// The snapshot side of one boot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotBoot {
    /// What `initialise` asked; after a refused load, a make under the same key.
    request: Option<SnapshotRequest>,
    /// Whether a snapshot of this boot was taken already.
    taken: bool,
    /// Whether the study's boot step began; never reset, whatever the worker says later.
    study_began: bool,
}

impl SnapshotBoot {
    /// The request that goes with `initialise`, for a build whose key is `key` (`None`: the build
    /// has no key, so no snapshot is used or made), plus what to do with the store first.
    pub fn plan(
        &mut self,
        key: Option<&str>,
        stored: StoredSnapshot,
    ) -> (Option<SnapshotRequest>, Vec<SnapshotStoreEffect>) {
        let Some(key) = key else { return (None, Vec::new()) };
        let mut effects = Vec::new();
        let request = match stored {
            StoredSnapshot::Found => SnapshotRequest::Load { key: key.to_owned() },
            StoredSnapshot::Missing => SnapshotRequest::Make { key: key.to_owned() },
            StoredSnapshot::Corrupt => {
                effects.push(SnapshotStoreEffect::Drop { key: key.to_owned() });
                SnapshotRequest::Make { key: key.to_owned() }
            }
        };
        self.request = Some(request.clone());
        (Some(request), effects)
    }

    /// The worker reported a boot step (or the end of boot, as `STUDY_BOOT_STEP`).
    pub fn on_boot_step(&mut self, step_idx: u32) {
        self.study_began |= step_idx >= STUDY_BOOT_STEP;
    }

    /// The worker refused the snapshot it was sent: drop it; the worker makes a new one.
    pub fn on_refused(&mut self, key: &str) -> Result<Vec<SnapshotStoreEffect>, &'static str> {
        if self.study_began {
            return Err("a snapshotRefused sent once the study was loading was ignored");
        }
        match &self.request {
            Some(SnapshotRequest::Load { key: asked }) if asked == key => {
                self.request = Some(SnapshotRequest::Make { key: key.to_owned() });
                Ok(vec![SnapshotStoreEffect::Drop { key: key.to_owned() }])
            }
            _ => Err("a snapshotRefused the boot did not expect was ignored"),
        }
    }

    /// The worker made a snapshot: store it if this boot asked for one under that key, none was
    /// taken yet, and the study's boot step has not begun.
    pub fn on_made(&mut self, key: &str) -> Result<Vec<SnapshotStoreEffect>, &'static str> {
        if self.study_began {
            return Err("a snapshot sent once the study was loading was ignored");
        }
        if self.taken {
            return Err("a second snapshot of one boot was ignored");
        }
        match &self.request {
            Some(SnapshotRequest::Make { key: asked }) if asked == key => {
                self.taken = true;
                Ok(vec![SnapshotStoreEffect::Store { key: key.to_owned() }])
            }
            _ => Err("a snapshot the boot did not ask for was ignored"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of(request: &Option<SnapshotRequest>) -> &str {
        match request {
            Some(SnapshotRequest::Load { key } | SnapshotRequest::Make { key }) => key,
            None => "",
        }
    }

    #[test]
    fn a_verified_snapshot_is_loaded_and_a_missing_one_is_made() {
        let mut boot = SnapshotBoot::default();
        assert_eq!(
            boot.plan(Some("k1"), StoredSnapshot::Found),
            (Some(SnapshotRequest::Load { key: "k1".into() }), vec![])
        );
        let mut boot = SnapshotBoot::default();
        let (request, effects) = boot.plan(Some("k1"), StoredSnapshot::Missing);
        assert_eq!(request, Some(SnapshotRequest::Make { key: "k1".into() }));
        assert!(effects.is_empty());
        assert_eq!(boot.on_made("k1"), Ok(vec![SnapshotStoreEffect::Store { key: "k1".into() }]));
    }

    #[test]
    fn a_build_without_a_key_uses_no_snapshot() {
        let mut boot = SnapshotBoot::default();
        assert_eq!(boot.plan(None, StoredSnapshot::Found), (None, vec![]));
        assert!(boot.on_made("k1").is_err());
    }

    #[test]
    fn a_corrupt_snapshot_is_dropped_and_replaced() {
        let mut boot = SnapshotBoot::default();
        let (request, effects) = boot.plan(Some("k1"), StoredSnapshot::Corrupt);
        assert_eq!(key_of(&request), "k1");
        assert!(matches!(request, Some(SnapshotRequest::Make { .. })));
        assert_eq!(effects, vec![SnapshotStoreEffect::Drop { key: "k1".into() }]);
        assert_eq!(boot.on_made("k1"), Ok(vec![SnapshotStoreEffect::Store { key: "k1".into() }]));
    }

    #[test]
    fn a_refused_snapshot_is_dropped_and_the_new_one_stored() {
        let mut boot = SnapshotBoot::default();
        boot.plan(Some("k1"), StoredSnapshot::Found);
        // A snapshot made without a refusal is not what a load asked for.
        assert!(boot.on_made("k1").is_err());
        assert_eq!(boot.on_refused("k1"), Ok(vec![SnapshotStoreEffect::Drop { key: "k1".into() }]));
        assert_eq!(boot.on_made("k1"), Ok(vec![SnapshotStoreEffect::Store { key: "k1".into() }]));
    }

    #[test]
    fn the_study_cannot_plant_a_snapshot() {
        let mut boot = SnapshotBoot::default();
        boot.plan(Some("k1"), StoredSnapshot::Missing);
        // Once the study's step began, the worker's messages may be the study's, even if it
        // claims an earlier step afterwards.
        boot.on_boot_step(STUDY_BOOT_STEP);
        boot.on_boot_step(1);
        assert!(boot.on_made("k1").is_err());
        assert!(boot.on_refused("k1").is_err());
        let mut boot = SnapshotBoot::default();
        boot.plan(Some("k1"), StoredSnapshot::Missing);
        assert!(boot.on_made("k1").is_ok());
        assert!(boot.on_made("k1").is_err(), "one snapshot per boot");
        let mut boot = SnapshotBoot::default();
        boot.plan(Some("k1"), StoredSnapshot::Missing);
        assert!(boot.on_made("another-key").is_err());
    }
}
