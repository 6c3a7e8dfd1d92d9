//! The config file, `.cronguard.yaml`: found by walking up from the first scanned path (up
//! to the repository root, the directory holding `.git`), or named with `--config FILE`.
//!
//! It is read with cronguard's own spanned YAML loader, so an unknown key, a wrong type, a
//! bad severity or an unknown rule id is an error that points into the file (exit 2).
//! Precedence: command line over file over defaults (see docs/configuration.md). The JSON
//! Schema of the file is docs/cronguard.schema.json; a test keeps it and [`KEYS`] in step.

use crate::finding::Severity;
use crate::rules::{Category, Rule};
use crate::spanned::{FileError, Reader};
use crate::yaml::Span;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// File names looked for, in this order, in each directory.
pub const FILE_NAMES: &[&str] = &[".cronguard.yaml", ".cronguard.yml"];

pub const TOP_KEYS: &[&str] = &[
    "rules",
    "thresholds",
    "include",
    "exclude",
    "kubernetes-version",
    "fail-on",
    "policy-dirs",
    "inline-suppressions",
];
pub const RULES_KEYS: &[&str] = &["enable", "disable", "severity"];
pub const THRESHOLD_KEYS: &[&str] = &[
    "min-schedule-interval-seconds",
    "min-ttl-seconds",
    "allowed-registries",
    "allowed-system-namespaces",
    "expected-static-pods",
    "indicators",
];

/// `thresholds.indicators`: additions to the command rules' built-in lists.
const INDICATOR_KEYS: &[&str] = &[
    "miner-binaries",
    "pool-hosts",
    "metadata-hosts",
    "log-files",
    "secret-prefixes",
];

/// Every key the loader accepts, as dotted paths (`rules.enable`); `rules.severity` maps
/// rule ids or categories to severities.
pub fn keys() -> Vec<String> {
    let mut v: Vec<String> = TOP_KEYS.iter().map(|k| (*k).to_string()).collect();
    v.extend(RULES_KEYS.iter().map(|k| format!("rules.{k}")));
    v.extend(THRESHOLD_KEYS.iter().map(|k| format!("thresholds.{k}")));
    v.extend(
        INDICATOR_KEYS
            .iter()
            .map(|k| format!("thresholds.indicators.{k}")),
    );
    v.sort();
    v
}

/// A rule id or category as written in the file, with its place.
#[derive(Clone, Debug)]
pub struct Named {
    pub name: String,
    pub span: Span,
}

/// What a config file says. Everything is optional; `None`/empty means "not set".
#[derive(Clone, Debug, Default)]
pub struct FileConfig {
    pub path: String,
    pub text: Arc<str>,
    /// The directory of the file (relative policy directories start there).
    pub dir: PathBuf,
    pub enable: Vec<Named>,
    pub disable: Vec<Named>,
    pub severity: Vec<(Named, Severity)>,
    pub min_schedule_interval_secs: Option<u64>,
    pub min_ttl_secs: Option<u64>,
    pub allowed_registries: Option<Vec<String>>,
    pub allowed_system_namespaces: Option<Vec<String>>,
    pub expected_static_pods: Option<Vec<String>>,
    pub indicators: Option<crate::rules::indicators::Extra>,
    pub include: Option<Vec<String>>,
    pub exclude: Option<Vec<String>>,
    pub kubernetes_version: Option<String>,
    pub fail_on: Option<Severity>,
    pub policy_dirs: Vec<PathBuf>,
    pub inline_suppressions: Option<bool>,
}

/// Why a config could not be used.
#[derive(Debug)]
pub enum ConfigError {
    /// At a place in the file (rendered with miette).
    File(FileError),
    /// Reading failed, or something without a place.
    Other(String),
}

impl From<FileError> for ConfigError {
    fn from(e: FileError) -> Self {
        ConfigError::File(e)
    }
}

/// The config file that applies to `start` (a file or directory): the nearest
/// `.cronguard.yaml` in it or above it, not above the repository root.
pub fn discover(start: &Path) -> Option<PathBuf> {
    let abs = if start.is_absolute() {
        start.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(start)
    };
    let abs = abs.canonicalize().unwrap_or(abs);
    let mut dir = if abs.is_dir() {
        abs.as_path()
    } else {
        abs.parent()?
    };
    loop {
        for name in FILE_NAMES {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
        if dir.join(".git").exists() {
            return None;
        }
        dir = dir.parent()?;
    }
}

/// Read and parse a config file.
pub fn load(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::Other(format!("cannot read config file {}: {e}", path.display()))
    })?;
    let mut c = parse(&path.to_string_lossy(), &text)?;
    c.dir = path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    c.policy_dirs = c.policy_dirs.iter().map(|d| c.dir.join(d)).collect();
    Ok(c)
}

fn names(r: &Reader, n: crate::yaml::NodeId, key: &str) -> Result<Vec<Named>, FileError> {
    Ok(r.strings(n, key)?
        .into_iter()
        .map(|(name, node)| Named {
            name,
            span: r.doc.span(node),
        })
        .collect())
}

fn plain(r: &Reader, n: crate::yaml::NodeId, key: &str) -> Result<Vec<String>, FileError> {
    Ok(r.strings(n, key)?.into_iter().map(|(s, _)| s).collect())
}

/// Parse config text (`path` is for messages). Rule ids are checked later, by
/// [`FileConfig::apply_rules`], once user policies are loaded.
pub fn parse(path: &str, text: &str) -> Result<FileConfig, FileError> {
    let r = Reader::load(path, text)?;
    let mut c = FileConfig {
        path: path.to_string(),
        text: r.text.clone(),
        ..FileConfig::default()
    };
    let Some(root) = r.doc.root else {
        return Ok(c);
    };
    if matches!(r.doc.to_json(root), serde_json::Value::Null) {
        return Ok(c);
    }
    for (key, _, v) in r.map(root, "the config file", TOP_KEYS)? {
        match key.as_str() {
            "rules" => {
                for (k, _, v) in r.map(v, "rules", RULES_KEYS)? {
                    match k.as_str() {
                        "enable" => c.enable = names(&r, v, "rules.enable")?,
                        "disable" => c.disable = names(&r, v, "rules.disable")?,
                        _ => {
                            if !r.doc.is_map(v) {
                                return Err(r.error(
                                    v,
                                    format!(
                                        "`rules.severity` must be a mapping of rule ids to severities, found {}",
                                        crate::spanned::describe(&r.doc, v)
                                    ),
                                    "expected a mapping",
                                ));
                            }
                            for &(rk, rv) in r.doc.map(v) {
                                let name = r.string(rk, "rules.severity")?;
                                let sev = r.severity(rv, &format!("rules.severity.{name}"))?;
                                c.severity.push((
                                    Named {
                                        name,
                                        span: r.doc.span(rk),
                                    },
                                    sev,
                                ));
                            }
                        }
                    }
                }
            }
            "thresholds" => {
                for (k, _, v) in r.map(v, "thresholds", THRESHOLD_KEYS)? {
                    let key = format!("thresholds.{k}");
                    match k.as_str() {
                        "min-schedule-interval-seconds" => {
                            c.min_schedule_interval_secs = Some(r.u64(v, &key)?);
                        }
                        "min-ttl-seconds" => c.min_ttl_secs = Some(r.u64(v, &key)?),
                        "allowed-registries" => c.allowed_registries = Some(plain(&r, v, &key)?),
                        "allowed-system-namespaces" => {
                            c.allowed_system_namespaces = Some(plain(&r, v, &key)?);
                        }
                        "expected-static-pods" => {
                            c.expected_static_pods = Some(plain(&r, v, &key)?);
                        }
                        _ => {
                            let mut extra = crate::rules::indicators::Extra::default();
                            for (ik, _, iv) in r.map(v, &key, INDICATOR_KEYS)? {
                                let list = plain(&r, iv, &format!("{key}.{ik}"))?;
                                match ik.as_str() {
                                    "miner-binaries" => extra.miner_binaries = list,
                                    "pool-hosts" => extra.pool_hosts = list,
                                    "metadata-hosts" => extra.metadata_hosts = list,
                                    "log-files" => extra.log_files = list,
                                    _ => extra.secret_prefixes = list,
                                }
                            }
                            c.indicators = Some(extra);
                        }
                    }
                }
            }
            "include" => c.include = Some(plain(&r, v, "include")?),
            "exclude" => c.exclude = Some(plain(&r, v, "exclude")?),
            "kubernetes-version" => {
                // `1.35` is a number to YAML: take the text as written.
                let t = r
                    .doc
                    .node(v)
                    .kind
                    .scalar_text()
                    .unwrap_or_default()
                    .to_string();
                let ok = t.split_once('.').is_some_and(|(a, b)| {
                    !a.is_empty()
                        && !b.is_empty()
                        && a.bytes().all(|x| x.is_ascii_digit())
                        && b.bytes().all(|x| x.is_ascii_digit())
                });
                if !ok {
                    let mut e = r.error(
                        v,
                        "`kubernetes-version` must be a version like \"1.35\"".to_string(),
                        "expected major.minor",
                    );
                    e.help = Some("write it quoted: kubernetes-version: \"1.35\"".into());
                    return Err(e);
                }
                c.kubernetes_version = Some(t);
            }
            "fail-on" => c.fail_on = Some(r.severity(v, "fail-on")?),
            "policy-dirs" => {
                c.policy_dirs = plain(&r, v, "policy-dirs")?
                    .into_iter()
                    .map(PathBuf::from)
                    .collect();
            }
            _ => c.inline_suppressions = Some(r.bool(v, "inline-suppressions")?),
        }
    }
    Ok(c)
}

impl FileConfig {
    fn error(&self, span: Span, message: String, label: &str, help: Option<String>) -> FileError {
        FileError {
            path: self.path.clone(),
            text: self.text.clone(),
            span,
            message,
            label: label.to_string(),
            help,
        }
    }

    /// Resolve a rule id or category against `rules`.
    fn resolve(&self, n: &Named, rules: &[&'static Rule]) -> Result<Vec<&'static str>, FileError> {
        if n.name == "all" {
            return Ok(rules.iter().map(|r| r.id).collect());
        }
        if let Some(cat) = Category::ALL.iter().find(|c| c.as_str() == n.name) {
            return Ok(rules
                .iter()
                .filter(|r| r.category == *cat)
                .map(|r| r.id)
                .collect());
        }
        if let Some(r) = rules.iter().find(|r| r.id == n.name) {
            return Ok(vec![r.id]);
        }
        let help = crate::util::closest(
            &n.name,
            rules
                .iter()
                .map(|r| r.id)
                .chain(Category::ALL.iter().map(|c| c.as_str())),
        )
        .map(|s| format!("did you mean `{s}`?"))
        .or_else(|| Some("`cronguard rules` lists the rule ids and categories".into()));
        Err(self.error(
            n.span,
            format!("unknown rule or category `{}`", n.name),
            "not a rule id or category",
            help,
        ))
    }

    /// Apply the file's rule selection and severity overrides (before the command line's).
    pub fn apply_rules(
        &self,
        sel: &mut crate::config::RuleSelection,
        rules: &[&'static Rule],
    ) -> Result<(), FileError> {
        for n in &self.enable {
            for id in self.resolve(n, rules)? {
                sel.enabled.insert(id, true);
            }
        }
        for n in &self.disable {
            for id in self.resolve(n, rules)? {
                sel.enabled.insert(id, false);
            }
        }
        for (n, sev) in &self.severity {
            for id in self.resolve(n, rules)? {
                sel.severity.insert(id, *sev);
            }
        }
        Ok(())
    }

    /// Apply thresholds and lists to the settings.
    pub fn apply_settings(&self, s: &mut crate::config::Settings) {
        if let Some(v) = self.min_schedule_interval_secs {
            s.min_schedule_interval_secs = v;
        }
        if let Some(v) = self.min_ttl_secs {
            s.min_ttl_secs = i64::try_from(v).unwrap_or(i64::MAX);
        }
        if let Some(v) = &self.allowed_registries {
            s.allowed_registries.clone_from(v);
        }
        if let Some(v) = &self.allowed_system_namespaces {
            s.allowed_system_namespaces.clone_from(v);
        }
        if let Some(v) = &self.expected_static_pods {
            s.expected_static_pods.clone_from(v);
        }
        if let Some(v) = &self.indicators {
            s.command_indicators.clone_from(v);
        }
        if let Some(v) = &self.kubernetes_version {
            s.kubernetes_version = Some(v.clone());
        }
    }
}

/// The config file to use for a run, if any.
fn select(
    c: &crate::cli::CommonArgs,
    first: Option<&Path>,
    discover_file: bool,
) -> Result<Option<FileConfig>, ConfigError> {
    if c.no_config {
        return Ok(None);
    }
    if let Some(p) = &c.config {
        return load(p).map(Some);
    }
    if !discover_file {
        return Ok(None);
    }
    match discover(first.unwrap_or_else(|| Path::new("."))) {
        Some(p) => load(&p).map(Some),
        None => Ok(None),
    }
}

/// Load the policies of `dirs`; ids must be new.
pub fn load_policies(dirs: &[PathBuf]) -> Result<Vec<&'static Rule>, ConfigError> {
    let mut out: Vec<&'static Rule> = Vec::new();
    for d in dirs {
        let rules = crate::policy::load_dir(d).map_err(|e| match e {
            crate::policy::PolicyError::Io(m) => ConfigError::Other(m),
            crate::policy::PolicyError::File(f) => ConfigError::File(f),
        })?;
        for r in rules {
            if crate::rules::find(r.id).is_some() || out.iter().any(|o| o.id == r.id) {
                let path = match r.check {
                    crate::rules::Check::Policy(p) => p.path.clone(),
                    _ => String::new(),
                };
                return Err(ConfigError::Other(format!(
                    "policy {path}: `{}` is already a rule; give the policy its own id",
                    r.id
                )));
            }
            out.push(r);
        }
    }
    Ok(out)
}

/// Resolve the run's options: defaults, then the config file, then the command line. Returns
/// the options and the common arguments with the file's globs and fail-on filled in where
/// the command line left them unset.
pub fn prepare(
    c: &crate::cli::CommonArgs,
    first: Option<&Path>,
    discover_file: bool,
) -> Result<(crate::scan::Options, crate::cli::CommonArgs), ConfigError> {
    let file = select(c, first, discover_file)?;
    let mut dirs: Vec<PathBuf> = file
        .as_ref()
        .map(|f| f.policy_dirs.clone())
        .unwrap_or_default();
    dirs.extend(c.policy_dir.iter().cloned());
    let user = load_policies(&dirs)?;
    let all: Vec<&'static Rule> = crate::rules::registry()
        .iter()
        .copied()
        .chain(user.iter().copied())
        .collect();
    let mut opts = crate::scan::Options::default();
    let mut common = c.clone();
    if let Some(f) = &file {
        f.apply_settings(&mut opts.settings);
        f.apply_rules(&mut opts.selection, &all)?;
        if common.include.is_empty()
            && let Some(v) = &f.include
        {
            common.include.clone_from(v);
        }
        if common.exclude.is_empty()
            && let Some(v) = &f.exclude
        {
            common.exclude.clone_from(v);
        }
        common.fail_on = common.fail_on.or(f.fail_on);
        if f.inline_suppressions == Some(false) {
            common.no_inline_suppressions = true;
        }
    }
    let sel = &mut opts.selection;
    if !c.only.is_empty() {
        sel.apply_list_in("all", false, &all)
            .map_err(ConfigError::Other)?;
        for list in &c.only {
            sel.apply_list_in(list, true, &all)
                .map_err(ConfigError::Other)?;
        }
    }
    for list in &c.enable {
        sel.apply_list_in(list, true, &all)
            .map_err(ConfigError::Other)?;
    }
    for list in &c.disable {
        sel.apply_list_in(list, false, &all)
            .map_err(ConfigError::Other)?;
    }
    opts.read_limits.max_file_bytes = c.max_file_size;
    opts.yaml_limits = crate::yaml::Limits {
        max_depth: c.max_depth,
        max_alias_nodes: c.max_alias_nodes,
        max_documents: c.max_documents,
    };
    // The command line's --kubernetes-version overrides the file's kubernetes-version.
    crate::schemas::configure(
        &mut opts.settings,
        c.kubernetes_version.as_deref(),
        c.schema_dir.as_deref(),
    )
    .map_err(ConfigError::Other)?;
    opts.extra_rules = user;
    opts.no_inline_suppressions = common.no_inline_suppressions;
    Ok((opts, common))
}

/// The error as text for stderr.
pub fn error_text(e: &ConfigError) -> String {
    match e {
        ConfigError::File(f) => f.render(false),
        ConfigError::Other(m) => format!("error: {m}\n"),
    }
}

/// Write a configuration error to stderr; exit code 2.
pub fn report_error(e: &ConfigError, io: &mut crate::cli::Io) -> Result<i32, crate::cli::Fatal> {
    io.stderr.write_all(error_text(e).as_bytes())?;
    Ok(crate::cli::EXIT_ERROR)
}

/// `cronguard policy test [DIR]`.
pub fn cmd_policy_test(
    dir: Option<&Path>,
    io: &mut crate::cli::Io,
) -> Result<i32, crate::cli::Fatal> {
    let rules: Vec<&'static Rule> = match dir {
        Some(d) => match crate::policy::load_dir(d) {
            Ok(r) => r,
            Err(crate::policy::PolicyError::Io(m)) => {
                return report_error(&ConfigError::Other(m), io);
            }
            Err(crate::policy::PolicyError::File(f)) => {
                return report_error(&ConfigError::File(f), io);
            }
        },
        None => crate::rules::registry()
            .iter()
            .copied()
            .filter(|r| matches!(r.check, crate::rules::Check::Policy(_)))
            .collect(),
    };
    if rules.is_empty() {
        return report_error(
            &ConfigError::Other("no policy files (*.yaml, *.yml) found".into()),
            io,
        );
    }
    let results: Vec<_> = rules
        .into_iter()
        .filter_map(crate::policy::test_rule)
        .collect();
    let ok = crate::policy::write_test_report(io.stdout, &results)?;
    Ok(if ok {
        crate::cli::EXIT_CLEAN
    } else {
        crate::cli::EXIT_FINDINGS
    })
}
