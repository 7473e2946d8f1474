//! Where the shared data (NIST StRD files, BAL problems) lives, and the
//! error type of every loader in this crate.
//!
//! The data are not part of the crate: they sit in the project's shared
//! folder (`../shared/data` next to the workspace root), or wherever
//! `$TRUSTFIT_DATA_DIR` points. Callers that can run without data (tests,
//! optional benchmarks) match on [`DataError::Missing`] and skip.

use std::fmt;
use std::path::{Path, PathBuf};

/// Environment variable that overrides [`default_data_dir`].
pub const DATA_DIR_ENV: &str = "TRUSTFIT_DATA_DIR";

/// Failure to find, read or parse a data file.
#[derive(Debug)]
pub enum DataError {
    /// The folder or file is not there; `hint` says how to get it.
    Missing {
        /// The path that was tried.
        path: PathBuf,
        /// How to obtain the data or point the loader at it.
        hint: String,
    },
    /// The file exists but could not be read.
    Io {
        /// The file being read.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The file was read but its contents do not have the expected form.
    Parse {
        /// The file being parsed.
        path: PathBuf,
        /// 1-based line number of the problem (0 when it concerns the whole file).
        line: usize,
        /// What was wrong.
        reason: String,
    },
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataError::Missing { path, hint } => {
                write!(f, "data not found at {}: {}", path.display(), hint)
            }
            DataError::Io { path, source } => {
                write!(f, "cannot read {}: {}", path.display(), source)
            }
            DataError::Parse { path, line, reason } => {
                if *line > 0 {
                    write!(f, "{}:{}: {}", path.display(), line, reason)
                } else {
                    write!(f, "{}: {}", path.display(), reason)
                }
            }
        }
    }
}

impl std::error::Error for DataError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DataError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl DataError {
    /// The path the error is about.
    pub fn path(&self) -> &Path {
        match self {
            DataError::Missing { path, .. }
            | DataError::Io { path, .. }
            | DataError::Parse { path, .. } => path,
        }
    }

    /// True for [`DataError::Missing`] (callers skip instead of failing).
    pub fn is_missing(&self) -> bool {
        matches!(self, DataError::Missing { .. })
    }
}

/// How to get the NIST files (used in [`DataError::Missing`] hints).
pub(crate) const NIST_HINT: &str = "expected the 27 NIST StRD nonlinear regression .dat files \
     (Misra1a.dat ... Bennett5.dat) in a folder `nist-strd`; they ship in the project's \
     shared data folder (`../shared/data/nist-strd` next to the workspace root) or can be \
     downloaded from https://www.itl.nist.gov/div898/strd/nls/nls_main.shtml; set \
     TRUSTFIT_DATA_DIR to the folder that contains `nist-strd/`";

/// How to get the BAL files (used in [`DataError::Missing`] hints).
pub(crate) const BAL_HINT: &str = "expected bundle-adjustment problems (`problem-*.txt`, \
     `*.txt.gz`, `*.txt.bz2` in the BAL text format) in a folder `bal`; they ship in the \
     project's shared data folder (`../shared/data/bal` next to the workspace root, see \
     shared/bench-peers/README.md) or come from https://grail.cs.washington.edu/projects/bal/; \
     set TRUSTFIT_DATA_DIR to the folder that contains `bal/`";

/// The shared data folder: $TRUSTFIT_DATA_DIR if set, else ../shared/data relative to the workspace root.
///
/// The fallback is computed from this crate's manifest directory
/// (`crates/trustfit-problems` → `../../../shared/data`) and canonicalised
/// when it exists, so it works from any current directory. The folder is
/// not required to exist; the suite-specific functions ([`nist_dir`],
/// [`bal_dir`]) report a missing folder.
///
/// ```
/// let dir = trustfit_problems::data::default_data_dir();
/// assert!(dir.is_absolute() || std::env::var_os("TRUSTFIT_DATA_DIR").is_some());
/// ```
pub fn default_data_dir() -> PathBuf {
    if let Some(v) = std::env::var_os(DATA_DIR_ENV)
        && !v.is_empty()
    {
        return PathBuf::from(v);
    }
    let guess = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    guess.canonicalize().unwrap_or(guess)
}

/// `data_dir/nist-strd` if it holds .dat files, else [`DataError::Missing`] naming the path tried.
///
/// ```
/// use trustfit_problems::data::nist_dir;
/// let err = nist_dir(std::path::Path::new("/nonexistent/data")).unwrap_err();
/// assert!(err.is_missing());
/// assert!(err.to_string().contains("/nonexistent/data/nist-strd"));
/// ```
pub fn nist_dir(data_dir: &Path) -> Result<PathBuf, DataError> {
    let dir = data_dir.join("nist-strd");
    if dir_has_file(&dir, |name| name.ends_with(".dat")) {
        Ok(dir)
    } else {
        Err(DataError::Missing {
            path: dir,
            hint: NIST_HINT.to_string(),
        })
    }
}

/// `data_dir/bal` if it holds BAL problem files (.txt, .txt.gz, .txt.bz2), else [`DataError::Missing`].
pub fn bal_dir(data_dir: &Path) -> Result<PathBuf, DataError> {
    let dir = data_dir.join("bal");
    let is_bal = |name: &str| {
        name.ends_with(".txt") || name.ends_with(".txt.gz") || name.ends_with(".txt.bz2")
    };
    if dir_has_file(&dir, is_bal) {
        Ok(dir)
    } else {
        Err(DataError::Missing {
            path: dir,
            hint: BAL_HINT.to_string(),
        })
    }
}

/// True when `dir` is a readable folder with at least one regular file whose name passes `pred`.
fn dir_has_file(dir: &Path, pred: impl Fn(&str) -> bool) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries
        .flatten()
        .any(|e| e.path().is_file() && e.file_name().to_str().is_some_and(&pred))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn missing_dirs_name_the_path_and_hint() {
        let base = Path::new("/definitely/not/here");
        let e = nist_dir(base).unwrap_err();
        assert!(e.is_missing());
        assert_eq!(e.path(), base.join("nist-strd"));
        let msg = e.to_string();
        assert!(msg.contains("/definitely/not/here/nist-strd"), "{msg}");
        assert!(msg.contains("TRUSTFIT_DATA_DIR"), "{msg}");
        let e = bal_dir(base).unwrap_err();
        assert!(e.is_missing());
        assert!(e.to_string().contains("/definitely/not/here/bal"));
    }

    #[test]
    fn empty_dir_is_missing() {
        let tmp =
            std::env::temp_dir().join(format!("trustfit-problems-empty-{}", std::process::id()));
        std::fs::create_dir_all(tmp.join("nist-strd")).unwrap();
        let e = nist_dir(&tmp).unwrap_err();
        assert!(e.is_missing());
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn error_display_and_source() {
        use std::error::Error;
        let e = DataError::Parse {
            path: PathBuf::from("x.dat"),
            line: 7,
            reason: "bad number".into(),
        };
        assert_eq!(e.to_string(), "x.dat:7: bad number");
        assert!(e.source().is_none());
        let e = DataError::Io {
            path: PathBuf::from("y.dat"),
            source: std::io::Error::other("boom"),
        };
        assert!(e.to_string().starts_with("cannot read y.dat: "));
        assert!(e.source().is_some());
    }

    #[test]
    fn shared_data_dir_is_found_when_present() {
        let dir = default_data_dir();
        match nist_dir(&dir) {
            Ok(p) => assert!(p.ends_with("nist-strd")),
            Err(e) => eprintln!("skipping: {e}"),
        }
    }
}
