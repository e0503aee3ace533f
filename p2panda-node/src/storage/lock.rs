//! One node process per data directory: an exclusive `flock` on a lock file, held for as long
//! as the node runs. The kernel drops it when the process ends, however it ends, so a killed
//! node never leaves a stale lock behind.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::Path;

use super::{io_error, StorageError};

/// The lock file's name in the data directory.
pub const LOCK_FILE: &str = "lock";

/// Takes the directory's lock, or fails with [`StorageError::Locked`] if another process holds
/// it. The file names the holder's process id (for the error message of the next one).
pub fn acquire(dir: &Path) -> Result<File, StorageError> {
    let path = dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| io_error("opening the lock file", &path, e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            return Err(StorageError::Locked {
                dir: dir.to_path_buf(),
                holder: holder.trim().to_owned(),
            });
        }
        Err(TryLockError::Error(e)) => return Err(io_error("locking", &path, e)),
    }
    let noted = file
        .set_len(0)
        .and_then(|()| writeln!(file, "{}", std::process::id()));
    noted.map_err(|e| io_error("writing the lock file", &path, e))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = acquire(dir.path()).expect("first");
        match acquire(dir.path()) {
            Err(StorageError::Locked { holder, .. }) => {
                assert_eq!(holder, std::process::id().to_string())
            }
            other => panic!("expected Locked, got {other:?}"),
        }
        drop(first);
        acquire(dir.path()).expect("free again");
    }
}
