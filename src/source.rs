//! Inputs: discovery of manifest files (ripgrep's `ignore` walker: .gitignore and hidden-file
//! rules, include/exclude globs), stdin, and in-memory sources (git blobs). Every input ends
//! as read text or as skipped with a reason; nothing disappears silently.

use globset::{Glob, GlobSet, GlobSetBuilder};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where a source's bytes come from.
#[derive(Clone, Debug)]
pub enum Data {
    Disk(PathBuf),
    Memory(Arc<[u8]>),
}

/// One input file before it is read.
#[derive(Clone, Debug)]
pub struct Source {
    /// The path shown in reports (relative as the user gave it, `/`-separated).
    pub path: Arc<str>,
    pub data: Data,
}

/// An input that was not scanned (or only partly), and why.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

#[derive(Clone, Debug)]
pub struct Discovery {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// Honour .gitignore/.ignore and skip hidden files (default true).
    pub respect_ignore: bool,
}

impl Default for Discovery {
    fn default() -> Self {
        Discovery {
            include: Vec::new(),
            exclude: Vec::new(),
            respect_ignore: true,
        }
    }
}

fn globset(globs: &[String]) -> Result<Option<GlobSet>, String> {
    if globs.is_empty() {
        return Ok(None);
    }
    let mut b = GlobSetBuilder::new();
    for g in globs {
        // A pattern without a slash matches at any depth, like .gitignore.
        let pat = if g.contains('/') {
            g.clone()
        } else {
            format!("**/{g}")
        };
        b.add(Glob::new(&pat).map_err(|e| format!("invalid glob `{g}`: {e}"))?);
        if !g.contains('/') {
            b.add(Glob::new(g).map_err(|e| format!("invalid glob `{g}`: {e}"))?);
        }
    }
    b.build().map(Some).map_err(|e| e.to_string())
}

/// Is this a manifest by its name?
pub fn is_manifest_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "yaml" | "yml" | "json"))
}

fn display(path: &Path) -> Arc<str> {
    let s = path.to_string_lossy().replace('\\', "/");
    let s = s.strip_prefix("./").unwrap_or(&s).to_string();
    Arc::from(s)
}

/// Find the manifest files under `paths`. Files named explicitly are taken whatever their
/// extension; directories are walked for `.yaml`, `.yml` and `.json`.
pub fn discover(
    paths: &[PathBuf],
    opts: &Discovery,
) -> Result<(Vec<Source>, Vec<Skipped>), String> {
    let include = globset(&opts.include)?;
    let exclude = globset(&opts.exclude)?;
    let mut sources = Vec::new();
    let mut skipped = Vec::new();
    for root in paths {
        let meta =
            std::fs::metadata(root).map_err(|e| format!("cannot read {}: {e}", root.display()))?;
        if meta.is_file() {
            sources.push(Source {
                path: display(root),
                data: Data::Disk(root.clone()),
            });
            continue;
        }
        let canon_root = root
            .canonicalize()
            .map_err(|e| format!("cannot read {}: {e}", root.display()))?;
        let mut walker = ignore::WalkBuilder::new(root);
        walker
            .follow_links(false)
            .hidden(opts.respect_ignore)
            .git_ignore(opts.respect_ignore)
            .git_global(false)
            .git_exclude(opts.respect_ignore)
            .ignore(opts.respect_ignore)
            .parents(opts.respect_ignore)
            .require_git(false)
            .sort_by_file_path(std::cmp::Ord::cmp);
        for entry in walker.build() {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    skipped.push(Skipped {
                        path: root.to_string_lossy().into_owned(),
                        reason: format!("cannot walk: {e}"),
                    });
                    continue;
                }
            };
            let path = entry.path();
            let Some(ft) = entry.file_type() else {
                continue;
            };
            let rel = path.strip_prefix(root).unwrap_or(path);
            let rel_s = rel.to_string_lossy().replace('\\', "/");
            if ft.is_dir() {
                continue;
            }
            if !is_manifest_name(path) {
                continue;
            }
            if let Some(ex) = &exclude
                && ex.is_match(&rel_s)
            {
                continue;
            }
            if let Some(inc) = &include
                && !inc.is_match(&rel_s)
            {
                continue;
            }
            if ft.is_symlink() {
                // Never read outside the scanned root through a symlink.
                match path.canonicalize() {
                    Ok(target) if target.starts_with(&canon_root) && target.is_file() => {}
                    Ok(target) if target.starts_with(&canon_root) => {
                        skipped.push(Skipped {
                            path: display(path).to_string(),
                            reason: "symlink to a directory is not followed".into(),
                        });
                        continue;
                    }
                    Ok(_) => {
                        skipped.push(Skipped {
                            path: display(path).to_string(),
                            reason: "symlink points outside the scanned root; not followed".into(),
                        });
                        continue;
                    }
                    Err(e) => {
                        skipped.push(Skipped {
                            path: display(path).to_string(),
                            reason: format!("broken or looping symlink: {e}"),
                        });
                        continue;
                    }
                }
            } else if !ft.is_file() {
                continue;
            }
            sources.push(Source {
                path: display(path),
                data: Data::Disk(path.to_path_buf()),
            });
        }
    }
    Ok((sources, skipped))
}

/// Read limits.
#[derive(Clone, Copy, Debug)]
pub struct ReadLimits {
    pub max_file_bytes: u64,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_file_bytes: 8 * 1024 * 1024,
        }
    }
}

/// Read a source as UTF-8 text, or say why not.
pub fn read_text(src: &Source, limits: &ReadLimits) -> Result<Arc<str>, String> {
    let bytes: Vec<u8> = match &src.data {
        Data::Disk(p) => {
            use std::io::Read;
            let f = std::fs::File::open(p).map_err(|e| format!("cannot read: {e}"))?;
            let len = f.metadata().map_or(0, |m| m.len());
            if len > limits.max_file_bytes {
                return Err(too_big(len, *limits));
            }
            let mut buf = Vec::with_capacity(len as usize);
            // Read at most one byte past the limit, in case the file grows while we read.
            f.take(limits.max_file_bytes + 1)
                .read_to_end(&mut buf)
                .map_err(|e| format!("cannot read: {e}"))?;
            if buf.len() as u64 > limits.max_file_bytes {
                return Err(too_big(buf.len() as u64, *limits));
            }
            buf
        }
        Data::Memory(b) => {
            if b.len() as u64 > limits.max_file_bytes {
                return Err(too_big(b.len() as u64, *limits));
            }
            b.to_vec()
        }
    };
    decode(bytes)
}

fn too_big(len: u64, limits: ReadLimits) -> String {
    format!(
        "file is {len} bytes, over the limit of {} bytes (--max-file-size)",
        limits.max_file_bytes
    )
}

/// Bytes to text: UTF-8 only (with or without BOM); binary and UTF-16 are refused clearly.
pub fn decode(bytes: Vec<u8>) -> Result<Arc<str>, String> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err("UTF-16 encoded; convert to UTF-8 to scan it".into());
    }
    if let Some(pos) = memchr::memchr(0, &bytes) {
        return Err(format!("binary file (NUL byte at offset {pos})"));
    }
    match String::from_utf8(bytes) {
        Ok(s) => Ok(Arc::from(s)),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let b = e.as_bytes();
            let line = b[..at].split(|c| *c == b'\n').count();
            let col = at
                - b[..at]
                    .iter()
                    .rposition(|c| *c == b'\n')
                    .map_or(0, |p| p + 1)
                + 1;
            Err(format!(
                "not valid UTF-8 (invalid byte at line {line}, column {col})"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_reports_where_utf8_breaks() {
        let e = decode(b"a: 1\nb: \xff\n".to_vec()).unwrap_err();
        assert_eq!(e, "not valid UTF-8 (invalid byte at line 2, column 4)");
        assert!(
            decode(b"a\0b".to_vec())
                .unwrap_err()
                .starts_with("binary file")
        );
        assert!(
            decode(b"\xff\xfea\0".to_vec())
                .unwrap_err()
                .starts_with("UTF-16")
        );
        assert_eq!(
            &*decode(b"\xef\xbb\xbfa: 1".to_vec()).unwrap(),
            "\u{feff}a: 1"
        );
    }

    #[test]
    fn memory_sources_respect_the_size_limit() {
        let s = Source {
            path: "x.yaml".into(),
            data: Data::Memory(Arc::from(vec![b'a'; 11])),
        };
        let e = read_text(&s, &ReadLimits { max_file_bytes: 10 }).unwrap_err();
        assert!(e.contains("over the limit of 10 bytes"), "{e}");
    }
}
