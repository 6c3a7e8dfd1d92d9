//! The command line. `run` takes the arguments and the three streams, so tests drive the
//! whole CLI in-process.
//!
//! Exit codes (a contract): 0 no finding at or above `--fail-on`; 1 there is one; 2 usage,
//! configuration or I/O error that stopped the run. A bad file is not exit 2: it is skipped
//! with a reason and the rest is scanned.

use crate::finding::Severity;
use crate::report;
use crate::rules;
use crate::scan::{self, Options, Outcome};
use crate::source::{self, Data, Discovery, Source};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

pub const EXIT_CLEAN: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_ERROR: i32 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "cronguard",
    version,
    about = "Stop malicious or risky Kubernetes scheduled workloads before they reach a cluster",
    long_about = None,
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Scan manifest files and directories (default `.`; `-` reads stdin)
    Scan(ScanArgs),
    /// Scan a node's static-pod directory (what the kubelet runs outside the API server)
    Node(NodeArgs),
    /// Compare a live cluster export, audit log or events with the repository (drift)
    Drift(crate::drift::DriftArgs),
    /// List every rule: id, category, severity, enabled, ATT&CK
    Rules,
    /// Show a rule's documentation
    Explain {
        /// Rule id, e.g. privileged-container
        id: String,
    },
    /// Compare two git revisions: what the change adds to what runs on a schedule
    Diff(crate::history::cmd::DiffArgs),
    /// Timeline of every scheduled workload's definition through the git history
    History(crate::history::cmd::HistoryArgs),
    /// Baseline files: accepted findings that later scans suppress
    #[command(subcommand)]
    Baseline(crate::history::cmd::BaselineCommand),
    /// Declarative policies (see docs/policies.md)
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// Run each policy file's own examples: flagged must be reported, clean must not
    Test {
        /// Directory of policy files (default: the built-in policies)
        dir: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    /// SARIF 2.1.0 (GitHub code scanning)
    Sarif,
    /// GitHub Actions annotations (workflow commands)
    Github,
    /// JUnit XML
    Junit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Args, Debug, Clone)]
#[allow(clippy::struct_excessive_bools)] // command-line switches are booleans
pub struct CommonArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Rules or categories to enable (comma-separated ids, categories, or `all`)
    #[arg(long, value_name = "LIST")]
    pub enable: Vec<String>,
    /// Run only these rules or categories (comma-separated); others are off
    #[arg(long, value_name = "LIST")]
    pub only: Vec<String>,
    /// Rules or categories to disable (comma-separated ids, categories, or `all`)
    #[arg(long, value_name = "LIST")]
    pub disable: Vec<String>,
    /// Exit 1 when a finding has at least this severity [default: high, or the config file's]
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,
    /// Only scan files matching this glob (repeatable)
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Do not scan files matching this glob (repeatable)
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Do not honour .gitignore/.ignore files and scan hidden files too
    #[arg(long)]
    pub no_ignore: bool,
    /// Skip files larger than this many bytes
    #[arg(long, value_name = "BYTES", default_value_t = 8 * 1024 * 1024)]
    pub max_file_size: u64,
    /// Skip documents nested deeper than this (mappings and sequences)
    #[arg(long, value_name = "N", default_value_t = crate::yaml::Limits::default().max_depth)]
    pub max_depth: usize,
    /// Nodes that YAML aliases may copy per document (a billion-laughs guard)
    #[arg(long, value_name = "N", default_value_t = crate::yaml::Limits::default().max_alias_nodes)]
    pub max_alias_nodes: usize,
    /// Documents read per file; the rest of the file is skipped with a reason
    #[arg(long, value_name = "N", default_value_t = crate::yaml::Limits::default().max_documents)]
    pub max_documents: usize,
    /// Worker threads (default: one per core)
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// Colour in the human report
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Width of the human report (default 100)
    #[arg(long, value_name = "COLUMNS")]
    pub width: Option<usize>,
    /// Show suppressed findings in the human report (JSON and SARIF always list them)
    #[arg(long)]
    pub show_suppressed: bool,
    /// Append a markdown job summary to FILE (e.g. "$GITHUB_STEP_SUMMARY")
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,
    /// Config file [default: the nearest .cronguard.yaml from the first path up to the repository root]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Read no config file
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    /// Add the declarative policies of this directory (repeatable)
    #[arg(long, value_name = "DIR")]
    pub policy_dir: Vec<PathBuf>,
    /// Ignore cronguard-ignore comments and cronguard.io/ignore annotations
    #[arg(long)]
    pub no_inline_suppressions: bool,
    /// Target Kubernetes version for schema and removed-API checks (default: newest bundled)
    #[arg(long, value_name = "X.Y")]
    pub kubernetes_version: Option<String>,
    /// Directory of extra JSON Schemas (kubeconform naming, e.g. cronworkflow-argoproj-v1alpha1.json)
    #[arg(long, value_name = "DIR")]
    pub schema_dir: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Files or directories to scan; `-` reads a manifest from stdin
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub git: crate::history::cmd::ScanGitArgs,
    /// Only read and load the YAML, then print counts (the benchmark's parse floor)
    #[arg(long, hide = true)]
    pub parse_only: bool,
}

#[derive(Args, Debug)]
pub struct NodeArgs {
    /// The static-pod directory (default: the kubelet config's staticPodPath, else
    /// /etc/kubernetes/manifests)
    #[arg(long, value_name = "DIR")]
    pub manifests: Option<PathBuf>,
    /// The kubelet config file to read staticPodPath from
    #[arg(long, value_name = "FILE")]
    pub kubelet_config: Option<PathBuf>,
    /// Compare with a node baseline written by --write-baseline
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record names, hashes, owners and modes of the static-pod files, then exit
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Static pod names that are expected besides the control-plane components
    #[arg(long, value_name = "NAME")]
    pub expect: Vec<String>,
    /// Watch the directory and print one JSON line per change
    #[arg(long)]
    pub watch: bool,
    /// Stop watching after this many change lines (for tests and one-shot checks)
    #[arg(long, value_name = "N", hide = true)]
    pub max_events: Option<usize>,
    #[command(flatten)]
    pub common: CommonArgs,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::parse(s).ok_or_else(|| {
        format!("unknown severity `{s}` (expected critical, high, medium, low or info)")
    })
}

/// The process's streams.
pub struct Io<'a> {
    pub stdin: &'a mut dyn Read,
    pub stdout: &'a mut dyn Write,
    pub stderr: &'a mut dyn Write,
    /// Whether stdout is a terminal (colour and width decisions).
    pub stdout_tty: bool,
}

/// An error that stops the run (exit 2).
#[derive(Debug)]
pub struct Fatal(pub String);

impl<T: std::fmt::Display> From<T> for Fatal {
    fn from(e: T) -> Self {
        Fatal(e.to_string())
    }
}

/// Run the CLI; returns the exit code.
pub fn run<I, T>(args: I, io: &mut Io) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                EXIT_ERROR
            } else {
                EXIT_CLEAN
            };
            let text = e.render().to_string();
            let w: &mut dyn Write = if e.use_stderr() {
                &mut *io.stderr
            } else {
                &mut *io.stdout
            };
            let _ = w.write_all(text.as_bytes());
            return code;
        }
    };
    let result = match cli.command {
        Command::Scan(a) => cmd_scan(&a, io),
        Command::Node(a) => cmd_node(&a, io),
        Command::Drift(a) => crate::drift::cmd(&a, io),
        Command::Rules => cmd_rules(io).map(|()| EXIT_CLEAN),
        Command::Explain { id } => cmd_explain(&id, io).map(|()| EXIT_CLEAN),
        Command::Diff(a) => crate::history::cmd::diff(&a, io),
        Command::History(a) => crate::history::cmd::history(&a, io),
        Command::Baseline(b) => crate::history::cmd::baseline(&b, io),
        Command::Policy {
            command: PolicyCommand::Test { dir },
        } => crate::config_file::cmd_policy_test(dir.as_deref(), io),
    };
    match result {
        Ok(code) => code,
        Err(Fatal(msg)) => {
            if msg.contains("Broken pipe") {
                return EXIT_CLEAN;
            }
            let _ = writeln!(io.stderr, "error: {msg}");
            EXIT_ERROR
        }
    }
}

/// Build scan options from the common arguments (and `--config`, if given; no discovery).
pub fn options(c: &CommonArgs) -> Result<Options, Fatal> {
    crate::config_file::prepare(c, None, false)
        .map(|(o, _)| o)
        .map_err(|e| match e {
            crate::config_file::ConfigError::File(f) => Fatal(f.render(false)),
            crate::config_file::ConfigError::Other(m) => Fatal(m),
        })
}

/// Options and arguments with the config file applied: the one named by `--config`, else
/// the nearest `.cronguard.yaml` from `start` up to the repository root.
pub fn configured(c: &CommonArgs, start: &std::path::Path) -> Result<(Options, CommonArgs), Fatal> {
    crate::config_file::prepare(c, Some(start), true).map_err(|e| match e {
        crate::config_file::ConfigError::File(f) => Fatal(f.render(false)),
        crate::config_file::ConfigError::Other(m) => Fatal(m),
    })
}

/// Gather the sources named on the command line.
pub fn gather(
    paths: &[PathBuf],
    c: &CommonArgs,
    io: &mut Io,
) -> Result<(Vec<Source>, Vec<source::Skipped>), Fatal> {
    let disc = Discovery {
        include: c.include.clone(),
        exclude: c.exclude.clone(),
        respect_ignore: !c.no_ignore,
    };
    let mut fs_paths = Vec::new();
    let mut sources = Vec::new();
    let default = [PathBuf::from(".")];
    for p in if paths.is_empty() {
        &default[..]
    } else {
        paths
    } {
        if p.as_os_str() == "-" {
            let mut buf = Vec::new();
            io.stdin
                .take(c.max_file_size + 1)
                .read_to_end(&mut buf)
                .map_err(|e| Fatal(format!("cannot read stdin: {e}")))?;
            sources.push(Source {
                path: Arc::from("<stdin>"),
                data: Data::Memory(Arc::from(buf)),
            });
        } else {
            fs_paths.push(p.clone());
        }
    }
    let (found, skipped) = source::discover(&fs_paths, &disc)?;
    sources.extend(found);
    Ok((sources, skipped))
}

pub fn with_threads<R: Send>(
    threads: Option<usize>,
    f: impl FnOnce() -> R + Send,
) -> Result<R, Fatal> {
    match threads {
        None => Ok(f()),
        Some(n) => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(n.max(1))
                .build()
                .map_err(|e| Fatal(format!("cannot start threads: {e}")))?;
            Ok(pool.install(f))
        }
    }
}

/// Write the outcome in the chosen format and compute the exit code. With `--summary`, the
/// summary lists the scheduled workloads of the files with findings, and the change
/// findings when there are any (see `finish_with`).
pub fn finish(o: &Outcome, c: &CommonArgs, io: &mut Io) -> Result<i32, Fatal> {
    finish_with(o, c, io, None, None)
}

/// `finish`, with the summary's inputs given: `workloads` (default: those in the files with
/// findings) and `changes` (`Some` for a diff: its change findings, even when empty).
pub fn finish_with(
    o: &Outcome,
    c: &CommonArgs,
    io: &mut Io,
    workloads: Option<Vec<report::github::WorkloadRow>>,
    changes: Option<Vec<&crate::finding::Finding>>,
) -> Result<i32, Fatal> {
    if let Some(path) = &c.summary {
        let rows = workloads
            .unwrap_or_else(|| report::github::inventory_of_outcome(o, &Options::default()));
        let changes = changes.or_else(|| {
            let found: Vec<_> = o
                .findings
                .iter()
                .filter(|f| report::github::is_change(f))
                .collect();
            (!found.is_empty()).then_some(found)
        });
        report::github::append_summary(path, o, &rows, changes.as_deref())
            .map_err(|e| Fatal(format!("cannot write summary {}: {e}", path.display())))?;
    }
    // Rendering is parallel too (the JSON and human reports), on `-j` threads.
    let par = crate::util::Par::new(c.threads)
        .map_err(|e| Fatal(format!("cannot start threads: {e}")))?;
    match c.format {
        Format::Json => report::json::write_par(io.stdout, o, &par)?,
        Format::Sarif => report::sarif::write(io.stdout, o)?,
        Format::Github => report::github::write(io.stdout, o)?,
        Format::Junit => report::junit::write(io.stdout, o)?,
        Format::Human => {
            let color = match c.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => io.stdout_tty && std::env::var_os("NO_COLOR").is_none(),
            };
            let width = c.width.unwrap_or(100);
            report::human::write_par(
                io.stdout,
                o,
                report::human::Style {
                    color,
                    width,
                    show_suppressed: c.show_suppressed,
                },
                &par,
            )?;
        }
    }
    io.stdout.flush()?;
    let fail_on = c.fail_on.unwrap_or(Severity::High);
    let failing = o
        .findings
        .iter()
        .any(|f| f.suppressed.is_none() && f.severity >= fail_on);
    Ok(if failing { EXIT_FINDINGS } else { EXIT_CLEAN })
}

fn cmd_scan(a: &ScanArgs, io: &mut Io) -> Result<i32, Fatal> {
    if a.git.new_only || a.git.base.is_some() {
        return crate::history::cmd::scan_new_only(a, io);
    }
    let first = a.paths.first().filter(|p| p.as_os_str() != "-");
    let (mut opts, common) =
        match crate::config_file::prepare(&a.common, first.map(PathBuf::as_path), true) {
            Ok(x) => x,
            Err(e) => return crate::config_file::report_error(&e, io),
        };
    // Only the human report shows source snippets.
    opts.drop_sources = common.format == Format::Json;
    let (sources, skipped) = gather(&a.paths, &common, io)?;
    if a.parse_only {
        let (st, issues) =
            with_threads(common.threads, || crate::perf::parse_only(&sources, &opts))?;
        writeln!(
            io.stdout,
            "parse-only: {} files, {} documents, {issues} load issues or unreadable files",
            st.files, st.documents
        )?;
        return Ok(EXIT_CLEAN);
    }
    let mut outcome = with_threads(common.threads, || scan::scan(&sources, &opts))?;
    outcome.skipped.extend(skipped);
    outcome.skipped.sort();
    crate::history::cmd::apply_baseline(a.git.baseline.as_deref(), &mut outcome, None, io)?;
    let workloads = common
        .summary
        .as_ref()
        .map(|_| report::github::inventory(&sources, &opts));
    finish_with(&outcome, &common, io, workloads, None)
}

fn cmd_node(a: &NodeArgs, io: &mut Io) -> Result<i32, Fatal> {
    let (opts, common) = match crate::config_file::prepare(&a.common, None, false) {
        Ok(x) => x,
        Err(e) => return crate::config_file::report_error(&e, io),
    };
    let dir = match &a.manifests {
        Some(d) => d.clone(),
        None => crate::node::manifest_dir(a.kubelet_config.as_deref())?,
    };
    if let Some(out) = &a.write_baseline {
        let files = crate::node::snapshot(&dir)?;
        let b = crate::node::Baseline { version: 1, files };
        let text = serde_json::to_string_pretty(&b)? + "\n";
        std::fs::write(out, text)
            .map_err(|e| Fatal(format!("cannot write {}: {e}", out.display())))?;
        writeln!(
            io.stderr,
            "wrote baseline of {} files to {}",
            b.files.len(),
            out.display()
        )?;
        return Ok(EXIT_CLEAN);
    }
    let baseline = match &a.baseline {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| Fatal(format!("cannot read baseline {}: {e}", p.display())))?;
            Some(
                serde_json::from_str(&text)
                    .map_err(|e| Fatal(format!("invalid baseline {}: {e}", p.display())))?,
            )
        }
        None => None,
    };
    let node = crate::node::NodeOptions {
        expected: if a.expect.is_empty() {
            opts.settings.expected_static_pods.clone()
        } else {
            a.expect.clone()
        },
        baseline,
    };
    if a.watch {
        crate::node::watch(&dir, &opts, &node, io.stdout, a.max_events)?;
        return Ok(EXIT_CLEAN);
    }
    let outcome = with_threads(common.threads, || crate::node::scan_dir(&dir, &opts, &node))??;
    finish(&outcome, &common, io)
}

fn cmd_rules(io: &mut Io) -> Result<(), Fatal> {
    writeln!(
        io.stdout,
        "{:<34} {:<13} {:<9} {:<8} ATT&CK",
        "ID", "CATEGORY", "SEVERITY", "ENABLED"
    )?;
    for r in rules::registry() {
        writeln!(
            io.stdout,
            "{:<34} {:<13} {:<9} {:<8} {}",
            r.id,
            r.category.as_str(),
            r.severity.as_str(),
            if r.default_enabled { "yes" } else { "no" },
            r.attack.join(",")
        )?;
    }
    Ok(())
}

fn cmd_explain(id: &str, io: &mut Io) -> Result<(), Fatal> {
    let Some(r) = rules::find(id) else {
        let hint = crate::util::closest(id, rules::registry().iter().map(|r| r.id))
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        return Err(Fatal(format!("unknown rule `{id}`{hint}")));
    };
    write!(io.stdout, "{}", rules::docs_markdown(r))?;
    Ok(())
}
