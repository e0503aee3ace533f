//! The node's secret key, kept in its data directory so it stays the same author across
//! restarts. The file holds the key as 64 hex characters and a newline, readable by its owner
//! only (mode 0600).

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use p2panda_core::identity::KeyPair;

use super::{io_error, sync_dir, StorageError};

/// The key file's name in the data directory.
pub const KEY_FILE: &str = "secret-key";

/// The key in `dir`, or a new one written there (atomically: a temporary file, synced, then
/// renamed, so a crash never leaves half a key). Returns whether it was made now. A key file
/// that others can read is tightened to 0600, with a warning on stderr.
pub fn load_or_create(dir: &Path) -> Result<(KeyPair, bool), StorageError> {
    let path = dir.join(KEY_FILE);
    match fs::read_to_string(&path) {
        Ok(text) => {
            let key = KeyPair::from_secret_hex(&text).map_err(|e| StorageError::Key {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            let mode = fs::metadata(&path)
                .map_err(|e| io_error("reading the key file's mode", &path, e))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                eprintln!(
                    "p2panda-node: {} was readable by others (mode {:o}); set to 0600",
                    path.display(),
                    mode & 0o777
                );
                fs::set_permissions(&path, fs::Permissions::from_mode(0o600))
                    .map_err(|e| io_error("restricting the key file", &path, e))?;
            }
            Ok((key, false))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let key = KeyPair::generate();
            let temporary = dir.join(format!("{KEY_FILE}.new"));
            let write = || -> io::Result<()> {
                let mut file = OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .mode(0o600)
                    .open(&temporary)?;
                // `mode` applies only when the file is created; a leftover is reset too.
                file.set_permissions(fs::Permissions::from_mode(0o600))?;
                writeln!(file, "{}", key.export_secret_hex())?;
                file.sync_all()
            };
            write().map_err(|e| io_error("writing the key file", &temporary, e))?;
            fs::rename(&temporary, &path)
                .map_err(|e| io_error("renaming the key file", &path, e))?;
            sync_dir(dir)?;
            Ok((key, true))
        }
        Err(e) => Err(io_error("reading the key file", &path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_made_once_kept_private_and_read_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (key, created) = load_or_create(dir.path()).expect("made");
        assert!(created);
        let mode = fs::metadata(dir.path().join(KEY_FILE))
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let (again, created) = load_or_create(dir.path()).expect("read");
        assert!(!created);
        assert_eq!(again.public_key(), key.public_key());

        fs::set_permissions(dir.path().join(KEY_FILE), fs::Permissions::from_mode(0o644))
            .expect("chmod");
        load_or_create(dir.path()).expect("read");
        let mode = fs::metadata(dir.path().join(KEY_FILE))
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "tightened");

        fs::write(dir.path().join(KEY_FILE), "not a key\n").expect("write");
        assert!(matches!(
            load_or_create(dir.path()),
            Err(StorageError::Key { .. })
        ));
    }
}
