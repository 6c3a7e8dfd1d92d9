//! The git subcommands and flags: `diff`, `history`, `baseline write`, and `scan --base
//! --new-only --baseline`. `cli.rs` only names these types.

use super::{DiffRequest, HeadSpec, baseline};
use crate::cli::{self, CommonArgs, EXIT_CLEAN, Fatal, Format, Io, ScanArgs};
use crate::scan::Outcome;
use crate::source::Discovery;
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};

#[derive(Args, Debug, Clone, Default)]
pub struct ScanGitArgs {
    /// With --new-only: the base revision (default: the merge base with the upstream branch)
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// Report only findings whose fingerprint is absent at the base revision
    #[arg(long)]
    pub new_only: bool,
    /// Suppress the findings recorded in this baseline file (`cronguard baseline write`)
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// With --base: do not use the index cache kept in the git directory
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(Args, Debug)]
#[allow(clippy::struct_excessive_bools)] // command-line switches are booleans
pub struct DiffArgs {
    /// Only compare files under these paths
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Base revision (default: merge base of HEAD and GITHUB_BASE_REF, origin/HEAD,
    /// origin/main or origin/master)
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// Head revision (default: the working tree)
    #[arg(long, value_name = "REV", conflicts_with = "staged")]
    pub head: Option<String>,
    /// Compare the index (staged changes), for pre-commit hooks
    #[arg(long)]
    pub staged: bool,
    /// Report only scan findings whose fingerprint is absent at base
    #[arg(long)]
    pub new_only: bool,
    /// Suppress the findings recorded in this baseline file
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Run as if started in DIR (the repository or a directory inside it)
    #[arg(short = 'C', long = "repo", value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// Do not use the index cache kept in the git directory (neither read nor write it)
    #[arg(long)]
    pub no_cache: bool,
    /// Print run counters (blobs read, files scanned) to stderr
    #[arg(long, hide = true)]
    pub stats: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Args, Debug)]
pub struct HistoryArgs {
    /// Only follow files under these paths
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Run as if started in DIR (the repository or a directory inside it)
    #[arg(short = 'C', long = "repo", value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// Print run counters to stderr
    #[arg(long, hide = true)]
    pub stats: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Subcommand, Debug)]
pub enum BaselineCommand {
    /// Record the fingerprints of the current findings (sorted, stable JSON)
    Write(BaselineWriteArgs),
}

#[derive(Args, Debug)]
pub struct BaselineWriteArgs {
    /// Files or directories to scan
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Where to write the baseline (`-` for stdout)
    #[arg(
        long,
        short = 'o',
        value_name = "FILE",
        default_value = ".cronguard-baseline.json"
    )]
    pub output: PathBuf,
    #[command(flatten)]
    pub common: CommonArgs,
}

fn discovery(c: &CommonArgs) -> Discovery {
    Discovery {
        include: c.include.clone(),
        exclude: c.exclude.clone(),
        respect_ignore: !c.no_ignore,
    }
}

fn github_base_ref() -> Option<String> {
    std::env::var("GITHUB_BASE_REF")
        .ok()
        .filter(|s| !s.trim().is_empty())
}

fn print_stats(io: &mut Io, s: &super::RunStats) -> Result<(), Fatal> {
    writeln!(io.stderr, "stats: {}", serde_json::to_string(s)?)?;
    Ok(())
}

/// `cronguard diff`.
pub fn diff(a: &DiffArgs, io: &mut Io) -> Result<i32, Fatal> {
    let dir = a.repo.clone().unwrap_or_else(|| PathBuf::from("."));
    let (opts, common) = cli::configured(&a.common, &dir)?;
    let head = match (&a.head, a.staged) {
        (Some(r), _) => HeadSpec::Rev(r.clone()),
        (None, true) => HeadSpec::Staged,
        (None, false) => HeadSpec::WorkTree,
    };
    let req = DiffRequest {
        dir,
        paths: a.paths.clone(),
        base: a.base.clone(),
        head,
        new_only: a.new_only,
        scan_mode: false,
        github_base_ref: github_base_ref(),
        discovery: discovery(&common),
        no_cache: a.no_cache,
    };
    let mut report = cli::with_threads(common.threads, || super::diff(&req, &opts))??;
    if a.stats {
        print_stats(io, &report.stats)?;
    }
    let reported = std::mem::take(&mut report.reported_paths);
    let in_run = |p: &str| reported.contains(p);
    apply_baseline(
        a.baseline.as_deref(),
        &mut report.outcome,
        Some(&in_run),
        io,
    )?;
    // The job summary of a diff lists its changes, and says so when there are none.
    let changes: Vec<&crate::finding::Finding> = report
        .outcome
        .findings
        .iter()
        .filter(|f| crate::report::github::is_change(f))
        .collect();
    cli::finish_with(&report.outcome, &common, io, None, Some(changes))
}

/// `cronguard scan --base REV --new-only` (the working tree against a revision).
pub fn scan_new_only(a: &ScanArgs, io: &mut Io) -> Result<i32, Fatal> {
    if !a.git.new_only {
        return Err(Fatal(
            "--base needs --new-only (or use `cronguard diff`)".into(),
        ));
    }
    if a.paths.iter().any(|p| p.as_os_str() == "-") {
        return Err(Fatal(
            "--new-only compares with git: it cannot read stdin".into(),
        ));
    }
    // The repository of the first PATH (the current directory's when none).
    let dir = a.paths.first().map_or_else(
        || PathBuf::from("."),
        |p| {
            if p.is_dir() {
                p.clone()
            } else {
                p.parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
            }
        },
    );
    let (opts, common) = cli::configured(&a.common, &dir)?;
    let paths = a
        .paths
        .iter()
        .map(|p| std::env::current_dir().map_or_else(|_| p.clone(), |c| c.join(p)))
        .collect();
    let req = DiffRequest {
        dir,
        paths,
        base: a.git.base.clone(),
        head: HeadSpec::WorkTree,
        new_only: true,
        scan_mode: true,
        github_base_ref: github_base_ref(),
        discovery: discovery(&common),
        no_cache: a.git.no_cache,
    };
    let mut report = cli::with_threads(common.threads, || super::diff(&req, &opts))??;
    apply_baseline(a.git.baseline.as_deref(), &mut report.outcome, None, io)?;
    cli::finish(&report.outcome, &common, io)
}

/// Apply `--baseline FILE`: suppress matching findings; note stale entries on stderr and
/// list them in the outcome (the JSON report's `stale_baseline`).
/// `reported`: the paths this run could report (None: everything was scanned).
pub fn apply_baseline(
    file: Option<&Path>,
    outcome: &mut Outcome,
    reported: Option<&dyn Fn(&str) -> bool>,
    io: &mut Io,
) -> Result<(), Fatal> {
    let Some(file) = file else { return Ok(()) };
    let text = std::fs::read_to_string(file)
        .map_err(|e| Fatal(format!("cannot read baseline {}: {e}", file.display())))?;
    let b = baseline::parse(&text)
        .map_err(|e| Fatal(format!("invalid baseline {}: {e}", file.display())))?;
    let scanned = |p: &str| reported.is_none_or(|r| r(p));
    let stale = baseline::apply(&b, &mut outcome.findings, &scanned);
    let mut listed: Vec<baseline::Entry> = stale.iter().map(|e| (*e).clone()).collect();
    listed.sort();
    listed.dedup();
    outcome.stale_baseline = Some(listed);
    for e in &stale {
        writeln!(
            io.stderr,
            "note: stale baseline entry {} ({} {} at {}, fingerprint {}): no finding matches it any more; remove it or re-write the baseline",
            clean(&e.rule),
            clean(&e.object),
            clean(&e.locator),
            clean(&e.path),
            clean(&e.fingerprint)
        )?;
    }
    if !stale.is_empty() {
        writeln!(
            io.stderr,
            "note: {} stale baseline entr{} in {}",
            stale.len(),
            if stale.len() == 1 { "y" } else { "ies" },
            file.display()
        )?;
    }
    Ok(())
}

fn clean(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars() {
        crate::report::escape_display(ch, &mut out);
    }
    out
}

/// `cronguard history`.
pub fn history(a: &HistoryArgs, io: &mut Io) -> Result<i32, Fatal> {
    let opts = cli::options(&a.common)?;
    let dir = a.repo.clone().unwrap_or_else(|| PathBuf::from("."));
    let repo = super::open(&dir)?;
    let filter = super::filter_for(&repo, &dir, &a.paths, !a.common.no_ignore)?
        .with_globs(&discovery(&a.common))?;
    let h = super::timeline::history(&repo, &filter, &opts)?;
    if a.stats {
        print_stats(io, &h.stats)?;
    }
    match a.common.format {
        Format::Json => super::timeline::write_json(&h, io.stdout)?,
        Format::Human => super::timeline::write_human(&h, io.stdout)?,
        Format::Sarif | Format::Github | Format::Junit => {
            return Err(Fatal(
                "`cronguard history` writes human or json (a timeline has no findings)".into(),
            ));
        }
    }
    io.stdout.flush()?;
    Ok(EXIT_CLEAN)
}

/// `cronguard baseline write`.
pub fn baseline(cmd: &BaselineCommand, io: &mut Io) -> Result<i32, Fatal> {
    let BaselineCommand::Write(a) = cmd;
    let opts = cli::options(&a.common)?;
    let (sources, _skipped) = cli::gather(&a.paths, &a.common, io)?;
    let outcome = cli::with_threads(a.common.threads, || crate::scan::scan(&sources, &opts))?;
    let b = baseline::from_findings(&outcome.findings);
    let text = baseline::to_json(&b);
    if a.output.as_os_str() == "-" {
        io.stdout.write_all(text.as_bytes())?;
    } else {
        std::fs::write(&a.output, text)
            .map_err(|e| Fatal(format!("cannot write {}: {e}", a.output.display())))?;
        writeln!(
            io.stderr,
            "wrote a baseline of {} findings to {}",
            b.entries.len(),
            a.output.display()
        )?;
    }
    Ok(EXIT_CLEAN)
}
