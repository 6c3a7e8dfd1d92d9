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
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Args, Debug, Clone)]
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
    /// Exit 1 when a finding has at least this severity
    #[arg(long, value_name = "SEVERITY", default_value = "high", value_parser = parse_severity)]
    pub fail_on: Severity,
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
}

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Files or directories to scan; `-` reads a manifest from stdin
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
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

/// Build scan options from the common arguments.
pub fn options(c: &CommonArgs) -> Result<Options, Fatal> {
    let mut opts = Options::default();
    if !c.only.is_empty() {
        opts.selection.apply_list("all", false)?;
        for list in &c.only {
            opts.selection.apply_list(list, true)?;
        }
    }
    for list in &c.enable {
        opts.selection.apply_list(list, true)?;
    }
    for list in &c.disable {
        opts.selection.apply_list(list, false)?;
    }
    opts.read_limits.max_file_bytes = c.max_file_size;
    Ok(opts)
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

/// Write the outcome in the chosen format and compute the exit code.
pub fn finish(o: &Outcome, c: &CommonArgs, io: &mut Io) -> Result<i32, Fatal> {
    match c.format {
        Format::Json => report::json::write(io.stdout, o)?,
        Format::Human => {
            let color = match c.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => io.stdout_tty && std::env::var_os("NO_COLOR").is_none(),
            };
            let width = c.width.unwrap_or(100);
            report::human::write(
                io.stdout,
                o,
                report::human::Style {
                    color,
                    width,
                    show_suppressed: c.show_suppressed,
                },
            )?;
        }
    }
    io.stdout.flush()?;
    let failing = o
        .findings
        .iter()
        .any(|f| f.suppressed.is_none() && f.severity >= c.fail_on);
    Ok(if failing { EXIT_FINDINGS } else { EXIT_CLEAN })
}

fn cmd_scan(a: &ScanArgs, io: &mut Io) -> Result<i32, Fatal> {
    let mut opts = options(&a.common)?;
    opts.drop_sources = a.common.format == Format::Json;
    let (sources, skipped) = gather(&a.paths, &a.common, io)?;
    if a.parse_only {
        let (st, issues) = with_threads(a.common.threads, || {
            crate::perf::parse_only(&sources, &opts)
        })?;
        writeln!(
            io.stdout,
            "parse-only: {} files, {} documents, {issues} load issues or unreadable files",
            st.files, st.documents
        )?;
        return Ok(EXIT_CLEAN);
    }
    let mut outcome = with_threads(a.common.threads, || scan::scan(&sources, &opts))?;
    outcome.skipped.extend(skipped);
    outcome.skipped.sort();
    finish(&outcome, &a.common, io)
}

fn cmd_node(a: &NodeArgs, io: &mut Io) -> Result<i32, Fatal> {
    let opts = options(&a.common)?;
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
        expected: a.expect.clone(),
        baseline,
    };
    if a.watch {
        crate::node::watch(&dir, &opts, &node, io.stdout, a.max_events)?;
        return Ok(EXIT_CLEAN);
    }
    let outcome = with_threads(a.common.threads, || {
        crate::node::scan_dir(&dir, &opts, &node)
    })??;
    finish(&outcome, &a.common, io)
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
