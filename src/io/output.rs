//! Where a run's file is written, and when it takes the place of the output path.
//!
//! A run never writes its output path directly. It holds a lock beside the target
//! (`.<name>.lock`), so that a second run on the same path is refused before it touches
//! anything, and writes `<name>.partial`. Only a run that ends with a file that says what
//! happened (complete, interrupted, or cut at a divergence) renames it into place; an
//! existing file at the output path is replaced in one rename, never truncated. A run that
//! fails otherwise leaves the output path as it was.

use crate::error::{Error, Result};
use std::fs::File;
use std::path::{Path, PathBuf};

/// The claim on an output path for the length of one run.
pub struct OutputTarget {
    target: PathBuf,
    partial: PathBuf,
    lock_path: PathBuf,
    /// Held open: the lock lasts as long as the file description.
    _lock: File,
    force: bool,
}

/// `dir/name` → `dir/<prefix>name<suffix>`.
fn beside(path: &Path, prefix: &str, suffix: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!("{prefix}{name}{suffix}"))
}

/// The file a run writes before it is renamed to `target`.
pub fn partial_path(target: &Path) -> PathBuf {
    beside(target, "", ".partial")
}

fn io_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Io {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

/// Refuses what no run could write to: a directory, or an existing file without `force`.
/// Cheap, so that a run can say so before it builds anything.
pub fn check_target(target: &Path, force: bool) -> Result<()> {
    if target.is_dir() {
        return Err(Error::OutputIsDirectory(target.to_owned()));
    }
    if target.as_os_str().is_empty() {
        return Err(Error::config("output.path", "is empty; give a file path (here or with --output), e.g. out/run.h5"));
    }
    // `Path` drops a trailing separator (`run.h5/` has the file name `run.h5`), but the OS
    // takes it for a directory: the rename would fail only after the whole run.
    let text = target.as_os_str().to_string_lossy();
    if target.file_name().is_none() || text.ends_with('/') || text.ends_with(std::path::MAIN_SEPARATOR) {
        return Err(io_error(
            target,
            format!("names a directory, not a file; give a file path, e.g. {}", Path::new(text.trim_end_matches(['/', std::path::MAIN_SEPARATOR])).join("run.h5").display()),
        ));
    }
    if target.exists() && !force {
        return Err(Error::OutputExists(target.to_owned()));
    }
    Ok(())
}

impl OutputTarget {
    /// Checks the target, creates its directory, and takes the lock beside it; a stale partial
    /// file of a run that was killed is removed (nobody else can be writing it).
    pub fn claim(target: &Path, force: bool) -> Result<OutputTarget> {
        check_target(target, force)?;
        if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        }
        let lock_path = beside(target, ".", ".lock");
        let lock = lock_file(&lock_path, target)?;
        let partial = partial_path(target);
        if partial.exists() {
            std::fs::remove_file(&partial).map_err(|e| io_error(&partial, e))?;
        }
        Ok(OutputTarget {
            target: target.to_owned(),
            partial,
            lock_path,
            _lock: lock,
            force,
        })
    }

    pub fn target(&self) -> &Path {
        &self.target
    }

    /// The file the run writes.
    pub fn partial(&self) -> &Path {
        &self.partial
    }

    /// Puts the finished file in place of the target: one rename, so a reader of the old file
    /// keeps reading it and nobody sees a half-written one. Without `force`, a target that
    /// appeared during the run is not replaced.
    pub fn commit(self) -> Result<PathBuf> {
        let placed = if self.force {
            std::fs::rename(&self.partial, &self.target)
        } else {
            std::fs::hard_link(&self.partial, &self.target)
                .and_then(|()| std::fs::remove_file(&self.partial))
        };
        match placed {
            Ok(()) => Ok(self.target.clone()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(Error::io(
                &self.target,
                format!(
                    "appeared while the run was going and was not replaced; the result is in {}",
                    self.partial.display()
                ),
            )),
            Err(e) => Err(Error::io(
                &self.target,
                format!("{e}; the result is in {}", self.partial.display()),
            )),
        }
    }

    /// Gives the run up: the target stays as it was; the partial file is kept (when it holds
    /// readable steps worth having) or removed.
    pub fn abandon(self, keep_partial: bool) -> Option<PathBuf> {
        if keep_partial && self.partial.exists() {
            Some(self.partial.clone())
        } else {
            let _ = std::fs::remove_file(&self.partial);
            None
        }
    }
}

impl Drop for OutputTarget {
    fn drop(&mut self) {
        // Removed while still locked: a run that opened the old lock file sees it is gone
        // (`lock_file` compares the inode) and takes a new one.
        let _ = std::fs::remove_file(&self.lock_path);
    }
}

/// Opens and locks `path`, refusing while another process holds it.
fn lock_file(path: &Path, target: &Path) -> Result<File> {
    loop {
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| io_error(path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::OutputBusy(target.to_owned()))
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io_error(path, e)),
        }
        if same_file(&file, path) {
            return Ok(file);
        }
    }
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &File, path: &Path) -> bool {
    path.exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_claim_on_the_same_target_is_refused_until_the_first_ends() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("sub/out.h5");
        let first = OutputTarget::claim(&target, false).unwrap();
        assert!(matches!(
            OutputTarget::claim(&target, true),
            Err(Error::OutputBusy(_))
        ));
        std::fs::write(first.partial(), b"result").unwrap();
        assert_eq!(first.commit().unwrap(), target);
        assert_eq!(std::fs::read(&target).unwrap(), b"result");
        assert!(!partial_path(&target).exists());
        // The lock is gone with the run.
        let again = OutputTarget::claim(&target, true).unwrap();
        assert!(again.abandon(false).is_none());
        assert_eq!(std::fs::read(&target).unwrap(), b"result");
    }

    #[test]
    fn directories_and_existing_files_without_force_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            check_target(dir.path(), true),
            Err(Error::OutputIsDirectory(_))
        ));
        let file = dir.path().join("x.h5");
        std::fs::write(&file, b"old").unwrap();
        assert!(matches!(
            check_target(&file, false),
            Err(Error::OutputExists(_))
        ));
        assert!(check_target(&file, true).is_ok());
        // A trailing separator names a directory, existing file or not; so does nothing.
        for written in [format!("{}/", file.display()), format!("{}/new/", dir.path().display()), String::new()] {
            let e = check_target(Path::new(&written), true).unwrap_err().to_string();
            assert!(e.contains("give a file path"), "{written}: {e}");
        }
        let e = check_target(Path::new("runs/"), true).unwrap_err().to_string();
        assert!(e.contains("names a directory") && e.contains("runs/run.h5"), "{e}");
    }

    #[test]
    fn without_force_a_target_that_appeared_meanwhile_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("x.h5");
        let claim = OutputTarget::claim(&target, false).unwrap();
        std::fs::write(claim.partial(), b"new").unwrap();
        std::fs::write(&target, b"theirs").unwrap();
        let e = claim.commit().unwrap_err();
        assert!(e.to_string().contains("x.h5.partial"), "{e}");
        assert_eq!(std::fs::read(&target).unwrap(), b"theirs");
        assert_eq!(std::fs::read(partial_path(&target)).unwrap(), b"new");
    }
}
