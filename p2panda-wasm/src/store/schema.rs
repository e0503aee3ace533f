//! Object stores of the database and how they are created.

use wasm_bindgen::JsValue;
use web_sys::IdbDatabase;

/// Schema version of the database.
///
/// Starts at 2, not 1: `indexedDB.open(name)` without a version creates an empty version-1
/// database, so a stray open (devtools, an old build) must not be mistaken for our schema;
/// at 2 our upgrade always runs and creates the stores.
pub(crate) const SCHEMA_VERSION: u32 = 2;

/// Log entries with payloads; key: 48-byte position (see `codec`), value: entry ‖ payload.
pub(crate) const ENTRIES: &str = "entries";
/// Entries that fork a log; key: position ‖ entry bytes (so several forks at one position
/// are kept, and storing the same evidence twice is a no-op), value as in `entries`.
pub(crate) const FORK_EVIDENCE: &str = "fork_evidence";
/// Single values of this node; key: a name such as [`SECRET_KEY`].
pub(crate) const META: &str = "meta";
/// Joined festivals; key: the 64-byte festival (topic) id, value: `true`.
pub(crate) const FESTIVALS: &str = "festivals";

/// Key in [`META`] of the node's 32 secret key bytes.
pub(crate) const SECRET_KEY: &str = "secret_key";
/// Private festivals' keys this node was given (invite links) or made: one value of
/// `topic (64) ‖ key (32)` records. Keys that came in key shares are not kept here: they are
/// opened again from the stored shares.
pub(crate) const FESTIVAL_KEYS: &str = "festival_keys";

/// Create whatever object stores are missing. Runs inside `upgradeneeded`; future schema
/// versions migrate here, keyed on `old_version`.
pub(crate) fn upgrade(db: &IdbDatabase, _old_version: f64) -> Result<(), JsValue> {
    let existing = db.object_store_names();
    for name in [ENTRIES, FORK_EVIDENCE, META, FESTIVALS] {
        if !existing.contains(name) {
            db.create_object_store(name)?;
        }
    }
    Ok(())
}
