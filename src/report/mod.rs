//! Renderers: each takes the scan outcome and a writer.

use crate::finding::Severity;
use crate::scan::Outcome;

pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod sarif;

/// Append `ch` to `out` so that it is safe and visible on a terminal: C0/C1 controls (ESC,
/// BEL, ...) and invisible or bidi characters are written as `\u{..}`; tabs stay.
pub fn escape_display(ch: char, out: &mut String) {
    let c = ch as u32;
    let invisible = matches!(c,
        0x00AD | 0x061C | 0x115F | 0x1160 | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E
        | 0x2028 | 0x2029 | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F | 0xFEFF | 0xFFA0
        | 0xFFF9..=0xFFFB | 0xE0000..=0xE007F);
    if (ch.is_control() && ch != '\t' && ch != '\n') || invisible {
        out.push_str(&format!("\\u{{{c:04X}}}"));
    } else {
        out.push(ch);
    }
}

/// Names of the MITRE ATT&CK techniques cronguard maps to.
pub fn attack_name(id: &str) -> Option<&'static str> {
    Some(match id {
        "T1053.007" => "Scheduled Task/Job: Container Orchestration Job",
        "T1053.003" => "Scheduled Task/Job: Cron",
        "T1611" => "Escape to Host",
        "T1610" => "Deploy Container",
        "T1557" => "Adversary-in-the-Middle",
        "T1496" => "Resource Hijacking",
        "T1070" => "Indicator Removal",
        "T1525" => "Implant Internal Image",
        "T1105" => "Ingress Tool Transfer",
        "T1548" => "Abuse Elevation Control Mechanism",
        "T1528" => "Steal Application Access Token",
        "T1078" => "Valid Accounts",
        "T1036" => "Masquerading",
        "T1036.005" => "Masquerading: Match Legitimate Name or Location",
        "T1027" => "Obfuscated Files or Information",
        "T1140" => "Deobfuscate/Decode Files or Information",
        "T1059" => "Command and Scripting Interpreter",
        "T1059.004" => "Command and Scripting Interpreter: Unix Shell",
        "T1552.001" => "Unsecured Credentials: Credentials In Files",
        "T1552.005" => "Unsecured Credentials: Cloud Instance Metadata API",
        "T1098" => "Account Manipulation",
        "T1098.004" => "Account Manipulation: SSH Authorized Keys",
        "T1222" => "File and Directory Permissions Modification",
        _ => return None,
    })
}

/// Counts by severity, highest first, for summaries.
pub fn by_severity(o: &Outcome) -> Vec<(Severity, usize)> {
    Severity::ALL
        .iter()
        .map(|s| {
            (
                *s,
                o.findings
                    .iter()
                    .filter(|f| f.severity == *s && f.suppressed.is_none())
                    .count(),
            )
        })
        .collect()
}

/// One line: `3 findings (1 critical, 2 high) in 12 files, 4 workloads; 1 skipped`.
pub fn summary_line(o: &Outcome) -> String {
    let active = o.findings.iter().filter(|f| f.suppressed.is_none()).count();
    let parts: Vec<String> = by_severity(o)
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    let mut line = if active == 0 {
        "no findings".to_string()
    } else {
        format!(
            "{active} finding{} ({})",
            if active == 1 { "" } else { "s" },
            parts.join(", ")
        )
    };
    line.push_str(&format!(
        " in {} file{}, {} workload{}",
        o.stats.files,
        if o.stats.files == 1 { "" } else { "s" },
        o.stats.workloads,
        if o.stats.workloads == 1 { "" } else { "s" }
    ));
    let suppressed = o.findings.len() - active;
    if suppressed > 0 {
        line.push_str(&format!("; {suppressed} suppressed"));
    }
    if !o.skipped.is_empty() {
        line.push_str(&format!("; {} skipped", o.skipped.len()));
    }
    line
}

/// Where a finding's file is, for tools that resolve paths against the repository root
/// (GitHub annotations, SARIF `%SRCROOT%`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RepoPath {
    /// `/`-separated, relative to the root of the git repository that holds the file (or
    /// to the working directory when the file is in none).
    Relative(String),
    /// Outside both (or `<stdin>`): the path as given.
    Other(String),
}

impl RepoPath {
    pub fn as_str(&self) -> &str {
        match self {
            RepoPath::Relative(s) | RepoPath::Other(s) => s,
        }
    }
}

/// Resolves report paths against the repository root, caching the root per directory.
#[derive(Debug)]
pub struct PathResolver {
    cwd: Option<std::path::PathBuf>,
    roots: std::collections::BTreeMap<std::path::PathBuf, Option<std::path::PathBuf>>,
}

impl Default for PathResolver {
    fn default() -> Self {
        PathResolver::new(std::env::current_dir().ok())
    }
}

impl PathResolver {
    pub fn new(cwd: Option<std::path::PathBuf>) -> PathResolver {
        PathResolver {
            cwd: cwd.map(|c| lexical_normalize(&c)),
            roots: std::collections::BTreeMap::new(),
        }
    }

    /// The nearest ancestor of `dir` with a `.git` entry (a directory, or a worktree's file).
    /// Lexical only: symlinks are not resolved.
    fn root_of(&mut self, dir: &std::path::Path) -> Option<std::path::PathBuf> {
        if let Some(r) = self.roots.get(dir) {
            return r.clone();
        }
        let found = dir
            .ancestors()
            .find(|a| std::fs::symlink_metadata(a.join(".git")).is_ok())
            .map(std::path::Path::to_path_buf);
        self.roots.insert(dir.to_path_buf(), found.clone());
        found
    }

    pub fn resolve(&mut self, path: &str) -> RepoPath {
        let p = std::path::Path::new(path);
        if path.starts_with('<') {
            return RepoPath::Other(path.to_string());
        }
        let abs = if p.is_absolute() {
            lexical_normalize(p)
        } else if let Some(cwd) = &self.cwd {
            lexical_normalize(&cwd.join(p))
        } else {
            return RepoPath::Relative(slash(&lexical_normalize(p)));
        };
        let root = abs.parent().and_then(|d| self.root_of(d));
        for base in root.iter().chain(self.cwd.iter()) {
            if let Ok(rel) = abs.strip_prefix(base) {
                return RepoPath::Relative(slash(rel));
            }
        }
        RepoPath::Other(slash(&abs))
    }
}

fn slash(p: &std::path::Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
        .replace("//", "/")
}

/// Remove `.` and resolve `..` without touching the file system.
fn lexical_normalize(p: &std::path::Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// A scanned file's line and column of byte `offset`, when its text is known.
pub fn line_col(o: &Outcome, path: &str, offset: usize) -> Option<(usize, usize)> {
    let text = o.sources.get(path)?;
    Some(crate::yaml::LineIndex::new(text).line_col(text, offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_against_the_repository_root() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(repo.join("deploy/sub")).unwrap();
        std::fs::create_dir(repo.join(".git")).unwrap();
        let mut r = PathResolver::new(Some(repo.join("deploy")));
        assert_eq!(
            r.resolve("./sub/../cron.yaml"),
            RepoPath::Relative("deploy/cron.yaml".into())
        );
        let abs = repo.join("deploy/sub/a.yaml");
        assert_eq!(
            r.resolve(abs.to_str().unwrap()),
            RepoPath::Relative("deploy/sub/a.yaml".into())
        );
        assert_eq!(r.resolve("<stdin>"), RepoPath::Other("<stdin>".into()));
        let outside = dir.path().join("elsewhere/x.yaml");
        assert_eq!(
            r.resolve(outside.to_str().unwrap()),
            RepoPath::Other(outside.to_string_lossy().into_owned())
        );
        // Without a repository, paths are relative to the working directory.
        let mut r = PathResolver::new(Some(dir.path().to_path_buf()));
        assert_eq!(
            r.resolve("elsewhere/x.yaml"),
            RepoPath::Relative("elsewhere/x.yaml".into())
        );
    }
}
