//! pod-security: what lets a pod (and whoever controls its command) reach the node.
//!
//! privileged-container, host-pid, host-ipc and host-network are declarative policies
//! (policies/*.yaml).

use super::{Check, Ctx, Rule, effective, normalize_path};
use crate::declare_rule;
use crate::finding::Finding;
use crate::k8s::ContainerRef;
use crate::yaml::NodeId;

pub static RULES: &[&Rule] = &[
    &HOSTPATH_SENSITIVE,
    &CONTAINER_RUNTIME_SOCKET,
    &CAPABILITIES_DANGEROUS,
    &HOST_PORT,
    &SECCOMP_UNCONFINED,
    &PROC_MOUNT_UNMASKED,
    &HOST_PROCESS,
];

/// Host paths whose mount gives the node away (the path and everything below it, unless
/// marked as exact).
const SENSITIVE: &[(&str, bool)] = &[
    ("/", true),
    ("/etc", false),
    ("/root", false),
    ("/home", false),
    ("/boot", false),
    ("/dev", false),
    ("/proc", false),
    ("/sys", false),
    ("/usr", false),
    ("/lib", false),
    ("/lib64", false),
    ("/bin", false),
    ("/sbin", false),
    ("/var", true),
    ("/var/lib/kubelet", false),
    ("/var/lib/docker", false),
    ("/var/lib/containerd", false),
    ("/var/lib/etcd", false),
    ("/var/log", true),
    ("/run", true),
    ("/var/run", true),
    ("/etc/kubernetes", false),
    ("/.aws", false),
    ("/.config/gcloud", false),
    ("/.azure", false),
];

/// Container runtime sockets and their directories.
const RUNTIME_SOCKETS: &[&str] = &[
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/var/run/containerd/containerd.sock",
    "/run/containerd/containerd.sock",
    "/var/run/crio/crio.sock",
    "/run/crio/crio.sock",
    "/var/run/cri-dockerd.sock",
    "/run/cri-dockerd.sock",
    "/var/run/dockershim.sock",
    "/run/k3s/containerd/containerd.sock",
    "/var/run/containerd",
    "/run/containerd",
    "/var/run/crio",
    "/run/crio",
    "/var/run/docker",
    "/run/k3s/containerd",
];

pub(super) fn is_runtime_socket(p: &str) -> bool {
    RUNTIME_SOCKETS.contains(&p)
        || p.ends_with("/docker.sock")
        || p.ends_with("/containerd.sock")
        || p.ends_with("/crio.sock")
        || p.ends_with("/cri-dockerd.sock")
}

/// Why a normalised host path is sensitive.
pub(super) fn sensitive(p: &str) -> Option<&'static str> {
    // The longest matching entry names the place best (`/etc/kubernetes`, not `/etc`).
    let best = SENSITIVE
        .iter()
        .filter(|(s, exact)| {
            p == *s || (!exact && p.starts_with(s) && p.as_bytes().get(s.len()) == Some(&b'/'))
        })
        .max_by_key(|(s, _)| s.len());
    if let Some((s, _)) = best {
        return Some(s);
    }
    // Cloud credentials anywhere (a home directory's .aws, .kube).
    for cred in [
        "/.aws",
        "/.kube",
        "/.docker",
        "/.ssh",
        "/.config/gcloud",
        "/.azure",
    ] {
        if p.ends_with(cred) || p.contains(&format!("{cred}/")) {
            return Some("credentials directory");
        }
    }
    None
}

/// Every hostPath volume of a pod: (volume name, `path` value node, normalised path).
pub(super) fn host_paths(ctx: &Ctx, pod: &crate::k8s::PodView) -> Vec<(String, NodeId, String)> {
    let mut out = Vec::new();
    if let Some(vols) = pod.field(ctx.doc, "volumes") {
        for &v in ctx.doc.seq(vols) {
            if let Some(hp) = ctx.doc.get(v, "hostPath")
                && let Some(p) = ctx.doc.get(hp, "path")
                && let Some(s) = ctx.doc.str(p)
            {
                let name = ctx.doc.get_str(v, "name").unwrap_or("").to_string();
                out.push((name, p, normalize_path(s)));
            }
        }
    }
    out
}

/// Label the container mounts of a volume (secondary labels).
fn label_mounts(ctx: &Ctx, pod: &crate::k8s::PodView, volume: &str, mut f: Finding) -> Finding {
    for c in &pod.containers {
        if let Some(mounts) = ctx.doc.get(c.node, "volumeMounts") {
            for &m in ctx.doc.seq(mounts) {
                if ctx.doc.get_str(m, "name") == Some(volume) {
                    let at = ctx.doc.get(m, "mountPath").unwrap_or(m);
                    let ro =
                        ctx.doc.get(m, "readOnly").and_then(|r| ctx.doc.as_bool(r)) == Some(true);
                    f = f.with_label(
                        ctx.doc.span(at),
                        format!(
                            "mounted here by {}{}",
                            ctx.container_name(c),
                            if ro { " (read-only)" } else { " (writable)" }
                        ),
                    );
                }
            }
        }
    }
    f
}

declare_rule! {
    /// ## What it does
    /// Flags hostPath volumes at sensitive node paths: `/`, `/etc`, `/root`, `/home`, `/boot`,
    /// `/dev`, `/proc`, `/sys`, `/usr`, `/lib`, `/var`, `/var/lib/kubelet`, `/var/lib/docker`,
    /// `/etc/kubernetes` (and below the non-root ones), and cloud or cluster credential
    /// directories. Paths are normalised first, so `//etc/` and `/etc/../etc` count.
    ///
    /// ## Why is this bad?
    /// A job that mounts the node's `/etc` can add a user or a cron entry on the node; with
    /// `/var/lib/kubelet` it reads every pod's secrets; with `/etc/kubernetes` it can drop a
    /// static pod that the kubelet runs outside the API server's control (MITRE ATT&CK T1611).
    /// Read-only mounts still leak credentials, so they are flagged too.
    ///
    /// ## Example
    /// ```yaml
    /// volumes:
    /// - name: host
    ///   hostPath: {path: /etc}
    /// ```
    ///
    /// ## Use instead
    /// Use a ConfigMap, Secret, or a PersistentVolumeClaim; if a node path is unavoidable,
    /// mount the narrowest file read-only.
    ///
    /// ## References
    /// - Pod Security Standards, Baseline: HostPath Volumes
    /// - Peers: Trivy KSV121, KICS "Volume Mount With OS Directory Write Permissions",
    ///   Kubescape C-0048/C-0020. cronguard normalises the path before matching; peers compare
    ///   strings and miss `//etc/`.
    pub static HOSTPATH_SENSITIVE = {
        id: "hostpath-sensitive",
        category: PodSecurity,
        severity: Critical,
        enabled: true,
        attack: ["T1611"],
        summary: "a hostPath volume mounts a sensitive node path",
        check: Check::Object(check_hostpath_sensitive),
    }
}

fn check_hostpath_sensitive(ctx: &Ctx, out: &mut Vec<Finding>) {
    for pod in ctx.pods() {
        for (name, node, p) in host_paths(ctx, pod) {
            if is_runtime_socket(&p) {
                continue; // container-runtime-socket reports it
            }
            if let Some(why) = sensitive(&p) {
                let raw = ctx.doc.str(node).unwrap_or_default();
                let shown = if raw == p {
                    format!("`{p}`")
                } else {
                    format!("`{raw}` (that is `{p}`)")
                };
                let mut f = ctx.finding(
                    &HOSTPATH_SENSITIVE,
                    node,
                    format!("hostPath volume {name:?} mounts the node's {shown}"),
                );
                f.value.clone_from(&p);
                f.label = if why == "credentials directory" {
                    "a credentials directory on the node".into()
                } else {
                    format!("the node's {why}")
                };
                let f = label_mounts(ctx, pod, &name, f);
                out.push(f.with_help(
                    "do not mount node system paths; use a ConfigMap, Secret or PersistentVolumeClaim",
                ));
            }
        }
    }
}

declare_rule! {
    /// ## What it does
    /// Flags hostPath volumes that expose a container runtime socket (docker.sock,
    /// containerd.sock, crio.sock, cri-dockerd.sock) or its directory.
    ///
    /// ## Why is this bad?
    /// Whoever talks to the runtime socket can start a privileged container on the node, mount
    /// its root file system, and read every container's secrets: root on the node without any
    /// privileged setting in the manifest (MITRE ATT&CK T1611, T1610 Deploy Container).
    ///
    /// ## Example
    /// ```yaml
    /// volumes:
    /// - name: docker
    ///   hostPath: {path: /var/run/docker.sock}
    /// ```
    ///
    /// ## Use instead
    /// Build images with a rootless builder (kaniko, buildkit rootless) instead of the node's
    /// runtime.
    ///
    /// ## References
    /// - Peers: Checkov CKV_K8S_27, Trivy KSV006, Kubescape C-0074. cronguard also matches the
    ///   socket directories and normalised forms such as `/var/run/../run/docker.sock`.
    pub static CONTAINER_RUNTIME_SOCKET = {
        id: "container-runtime-socket",
        category: PodSecurity,
        severity: Critical,
        enabled: true,
        attack: ["T1611", "T1610"],
        summary: "a hostPath volume exposes the container runtime socket",
        check: Check::Object(check_runtime_socket),
    }
}

fn check_runtime_socket(ctx: &Ctx, out: &mut Vec<Finding>) {
    for pod in ctx.pods() {
        for (name, node, p) in host_paths(ctx, pod) {
            if is_runtime_socket(&p) {
                let mut f = ctx.finding(
                    &CONTAINER_RUNTIME_SOCKET,
                    node,
                    format!("hostPath volume {name:?} exposes the container runtime at `{p}`"),
                );
                f.value.clone_from(&p);
                f.label = "the node's container runtime socket".into();
                let f = label_mounts(ctx, pod, &name, f);
                out.push(f.with_help(
                    "do not mount the runtime socket; build images with a rootless builder",
                ));
            }
        }
    }
}

/// Capabilities that break container isolation.
pub const DANGEROUS_CAPS: &[&str] = &[
    "ALL",
    "SYS_ADMIN",
    "SYS_PTRACE",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_BOOT",
    "NET_ADMIN",
    "NET_RAW",
    "DAC_READ_SEARCH",
    "DAC_OVERRIDE",
    "BPF",
    "PERFMON",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
    "SETPCAP",
    "SYSLOG",
];

/// Normalise a capability name: `cap_sys_admin` → `SYS_ADMIN` (the runtime accepts both).
pub fn normalize_cap(c: &str) -> String {
    let up = c.trim().to_ascii_uppercase();
    up.strip_prefix("CAP_").map_or(up.clone(), str::to_string)
}

declare_rule! {
    /// ## What it does
    /// Flags `securityContext.capabilities.add` entries that break isolation: SYS_ADMIN,
    /// SYS_PTRACE, SYS_MODULE, SYS_RAWIO, SYS_BOOT, NET_ADMIN, NET_RAW, DAC_READ_SEARCH,
    /// DAC_OVERRIDE, BPF, PERFMON, MAC_ADMIN, MAC_OVERRIDE, SETPCAP, SYSLOG and ALL (with or
    /// without the `CAP_` prefix, in any case, as the runtime accepts them).
    ///
    /// ## Why is this bad?
    /// SYS_ADMIN alone allows mounting file systems and cgroup release-agent escapes;
    /// SYS_MODULE loads kernel modules; SYS_PTRACE injects into processes; DAC_READ_SEARCH
    /// reads any file by handle (the "shocker" escape) (MITRE ATT&CK T1611).
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   capabilities:
    ///     add: [SYS_ADMIN]
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// securityContext:
    ///   capabilities:
    ///     drop: [ALL]
    ///     add: [NET_BIND_SERVICE]   # only if the job needs it
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, Baseline: Capabilities
    /// - Peers: Checkov CKV_K8S_39 (SYS_ADMIN only), Trivy KSV005, Kubescape C-0046. cronguard
    ///   normalises the names first (`cap_sys_admin` is SYS_ADMIN, as the runtime reads it)
    ///   and checks init and ephemeral containers too.
    pub static CAPABILITIES_DANGEROUS = {
        id: "capabilities-dangerous",
        category: PodSecurity,
        severity: High,
        enabled: true,
        attack: ["T1611"],
        summary: "a container adds a capability that breaks isolation",
        check: Check::Object(check_caps),
    }
}

fn check_caps(ctx: &Ctx, out: &mut Vec<Finding>) {
    for (_, c) in ctx.containers() {
        let Some(add) = ctx
            .doc
            .get(c.node, "securityContext")
            .and_then(|sc| ctx.doc.path(sc, &["capabilities", "add"]))
        else {
            continue;
        };
        for &cap in ctx.doc.seq(add) {
            let Some(name) = ctx.doc.str(cap) else {
                continue;
            };
            let norm = normalize_cap(name);
            if DANGEROUS_CAPS.contains(&norm.as_str()) {
                let mut f = ctx.finding(
                    &CAPABILITIES_DANGEROUS,
                    cap,
                    format!("{} adds capability {norm}", ctx.container_name(c)),
                );
                f.value.clone_from(&norm);
                f.label = match norm.as_str() {
                    "ALL" => "every capability, as good as privileged".into(),
                    "SYS_ADMIN" => "mount, namespaces, cgroup escapes".into(),
                    "SYS_MODULE" => "loads kernel modules".into(),
                    "SYS_PTRACE" => "traces and injects into processes".into(),
                    "NET_RAW" | "NET_ADMIN" => "raw packets, spoofing, traffic redirection".into(),
                    "DAC_READ_SEARCH" | "DAC_OVERRIDE" => "bypasses file permission checks".into(),
                    _ => "breaks container isolation".into(),
                };
                out.push(f.with_help(format!(
                    "remove {norm} from capabilities.add; drop ALL and add back only what the job needs"
                )));
            }
        }
    }
}

declare_rule! {
    /// ## What it does
    /// Flags container ports that set `hostPort` (any container list; a `hostPort` of 0 is
    /// unset).
    ///
    /// ## Why is this bad?
    /// A host port binds the port on the node's own addresses: the pod is reachable from
    /// outside the cluster network, around Services and NetworkPolicies, and only one pod
    /// per node can hold the port. A compromised job with a host port can also impersonate
    /// a node service on that port.
    ///
    /// ## Example
    /// ```yaml
    /// ports:
    /// - containerPort: 8080
    ///   hostPort: 8080
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// ports:
    /// - containerPort: 8080   # reached through a Service
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, Baseline: Host Ports
    /// - Peers: Checkov CKV_K8S_26, Trivy KSV024. Like them, cronguard flags every host
    ///   port; the Pod Security Standards' allow-list of known ports is not applied.
    pub static HOST_PORT = {
        id: "host-port",
        category: PodSecurity,
        severity: Medium,
        enabled: true,
        attack: [],
        summary: "a container binds a port on the node",
        check: Check::Object(check_host_port),
    }
}

fn check_host_port(ctx: &Ctx, out: &mut Vec<Finding>) {
    for (_, c) in ctx.containers() {
        let Some(ports) = ctx.doc.get(c.node, "ports") else {
            continue;
        };
        for &p in ctx.doc.seq(ports) {
            let Some((k, v)) = ctx.doc.entry(p, "hostPort") else {
                continue;
            };
            let Some(n) = ctx.doc.as_i64(v) else { continue };
            if n == 0 {
                continue;
            }
            let mut f = ctx.finding_on_key(
                &HOST_PORT,
                k,
                v,
                format!("{} binds port {n} on the node", ctx.container_name(c)),
            );
            f.label = format!("hostPort {n}: reachable on the node's addresses");
            out.push(f.with_help("remove `hostPort` and reach the container through a Service"));
        }
    }
}

/// Settings that apply to several containers are reported once, on the node that sets
/// them, naming every container it applies to (in order).
fn group_by_node<'a>(
    items: impl Iterator<Item = (NodeId, NodeId, bool, &'a ContainerRef)>,
) -> Vec<(NodeId, NodeId, bool, Vec<&'a ContainerRef>)> {
    let mut out: Vec<(NodeId, NodeId, bool, Vec<&ContainerRef>)> = Vec::new();
    for (key, value, from_container, c) in items {
        match out.iter_mut().find(|(_, v, _, _)| *v == value) {
            Some(g) => g.3.push(c),
            None => out.push((key, value, from_container, vec![c])),
        }
    }
    out
}

/// `container "a" runs` or `containers "a" and "b" run`, for a setting several share.
fn subject(ctx: &Ctx, cs: &[&ContainerRef]) -> String {
    if let [c] = cs {
        return format!("{} runs", ctx.container_name(c));
    }
    let v: Vec<String> = cs
        .iter()
        .map(|c| match ctx.doc.get_str(c.node, "name") {
            Some(n) => format!("{n:?}"),
            None => format!("a {} entry", c.list.key()),
        })
        .collect();
    let list = match v.as_slice() {
        [rest @ .., last] if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => v.join(""),
    };
    format!("containers {list} run")
}

/// The legacy AppArmor annotation key for a container.
const APPARMOR_ANNOTATION: &str = "container.apparmor.security.beta.kubernetes.io/";

/// The `type` node of a profile (`seccompProfile`/`appArmorProfile`) when it is Unconfined.
fn unconfined_type(ctx: &Ctx, profile: NodeId) -> Option<(NodeId, NodeId)> {
    let (k, v) = ctx.doc.entry(profile, "type")?;
    (ctx.doc.str(v) == Some("Unconfined")).then_some((k, v))
}

declare_rule! {
    /// ## What it does
    /// Flags containers whose effective seccomp or AppArmor profile is `Unconfined`:
    /// `seccompProfile.type: Unconfined` or `appArmorProfile.type: Unconfined` on the
    /// container, or on the pod for containers that do not set their own (the kubelet's
    /// merge: a container's profile replaces the pod's), and the legacy annotation
    /// `container.apparmor.security.beta.kubernetes.io/<container>: unconfined`, which ranks
    /// between the container's field and the pod's. A pod-level setting is reported once,
    /// naming the containers it applies to.
    ///
    /// ## Why is this bad?
    /// Unconfined turns off the runtime's default syscall filter (seccomp) or mandatory
    /// access control (AppArmor): kernel interfaces used by container escapes
    /// (`unshare`, `keyctl`, `bpf`, mounting) become reachable from the job.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   seccompProfile: {type: Unconfined}
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// securityContext:
    ///   seccompProfile: {type: RuntimeDefault}
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, Baseline: Seccomp and AppArmor
    /// - Peers: Checkov CKV_K8S_31, Trivy KSV104. Checkov asks for a profile to be set
    ///   (cronguard's off-by-default `seccomp-profile-missing`); this rule flags only an
    ///   explicit Unconfined, evaluated per container after the pod/container merge, so a
    ///   container that overrides an Unconfined pod default is not reported. The seccomp
    ///   annotations deprecated since 1.19 are not read.
    pub static SECCOMP_UNCONFINED = {
        id: "seccomp-unconfined",
        category: PodSecurity,
        severity: Medium,
        enabled: true,
        attack: [],
        summary: "a container runs without seccomp or AppArmor confinement",
        check: Check::Object(check_unconfined),
    }
}

fn check_unconfined(ctx: &Ctx, out: &mut Vec<Finding>) {
    let mut seccomp = Vec::new();
    let mut apparmor = Vec::new();
    for (pod, c) in ctx.containers() {
        if let Some(e) = effective(ctx.doc, pod, c, "seccompProfile")
            && let Some((k, v)) = unconfined_type(ctx, e.value)
        {
            seccomp.push((k, v, e.from_container, c));
        }
        let field = ctx
            .doc
            .get(c.node, "securityContext")
            .and_then(|sc| ctx.doc.get(sc, "appArmorProfile"));
        let annotation = ctx.doc.get_str(c.node, "name").and_then(|n| {
            pod.metadata
                .and_then(|m| ctx.doc.get(m, "annotations"))
                .and_then(|a| ctx.doc.entry(a, &format!("{APPARMOR_ANNOTATION}{n}")))
        });
        if let Some(p) = field {
            if let Some((k, v)) = unconfined_type(ctx, p) {
                apparmor.push((k, v, true, c));
            }
        } else if let Some((k, v)) = annotation {
            if ctx.doc.str(v) == Some("unconfined") {
                apparmor.push((k, v, true, c));
            }
        } else if let Some(e) = effective(ctx.doc, pod, c, "appArmorProfile")
            && let Some((k, v)) = unconfined_type(ctx, e.value)
        {
            apparmor.push((k, v, e.from_container, c));
        }
    }
    for (what, groups) in [
        ("seccomp", group_by_node(seccomp.into_iter())),
        ("AppArmor", group_by_node(apparmor.into_iter())),
    ] {
        for (k, v, from_container, cs) in groups {
            let is_annotation = ctx
                .doc
                .str(k)
                .is_some_and(|s| s.starts_with(APPARMOR_ANNOTATION));
            let field = if what == "seccomp" {
                "seccompProfile"
            } else {
                "appArmorProfile"
            };
            let message = if is_annotation {
                format!(
                    "{} without AppArmor confinement (legacy annotation: unconfined)",
                    subject(ctx, &cs)
                )
            } else if from_container {
                format!(
                    "{} without {what} confinement ({field} type Unconfined)",
                    subject(ctx, &cs)
                )
            } else {
                format!(
                    "{} without {what} confinement (the pod's {field} type Unconfined)",
                    subject(ctx, &cs)
                )
            };
            let mut f = ctx.finding_on_key(&SECCOMP_UNCONFINED, k, v, message);
            f.label = if what == "seccomp" {
                "Unconfined: every syscall is allowed".into()
            } else {
                "unconfined: no AppArmor profile".into()
            };
            let help = if is_annotation {
                "set `appArmorProfile: {type: RuntimeDefault}` and drop the legacy annotation"
                    .to_string()
            } else if what == "seccomp" {
                "use `seccompProfile: {type: RuntimeDefault}` (or a Localhost profile)".into()
            } else {
                "use `appArmorProfile: {type: RuntimeDefault}` (or a Localhost profile)".into()
            };
            out.push(f.with_help(help));
        }
    }
}

declare_rule! {
    /// ## What it does
    /// Flags containers with `securityContext.procMount: Unmasked` (a container-level field;
    /// the pod has no default for it).
    ///
    /// ## Why is this bad?
    /// The runtime normally masks and makes read-only parts of `/proc` and `/sys`
    /// (`/proc/kcore`, `/proc/sysrq-trigger`, `/proc/sys`...). Unmasked exposes them: kernel
    /// memory, the node's sysrq, and kernel tunables are a short step to escaping the
    /// container (MITRE ATT&CK T1611).
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   procMount: Unmasked
    /// ```
    ///
    /// ## Use instead
    /// Remove `procMount` (it defaults to `Default`).
    ///
    /// ## References
    /// - Pod Security Standards, Baseline: /proc Mount Type
    /// - Peers: Trivy KSV027. cronguard flags it whatever `hostUsers` says: newer API
    ///   servers require a user namespace for it, older ones do not.
    pub static PROC_MOUNT_UNMASKED = {
        id: "proc-mount-unmasked",
        category: PodSecurity,
        severity: High,
        enabled: true,
        attack: ["T1611"],
        summary: "a container mounts /proc unmasked",
        check: Check::Object(check_proc_mount),
    }
}

fn check_proc_mount(ctx: &Ctx, out: &mut Vec<Finding>) {
    for (_, c) in ctx.containers() {
        let Some((k, v)) = ctx
            .doc
            .get(c.node, "securityContext")
            .and_then(|sc| ctx.doc.entry(sc, "procMount"))
        else {
            continue;
        };
        if ctx.doc.str(v) != Some("Unmasked") {
            continue;
        }
        let mut f = ctx.finding_on_key(
            &PROC_MOUNT_UNMASKED,
            k,
            v,
            format!("{} sees the node's unmasked /proc", ctx.container_name(c)),
        );
        f.label = "Unmasked: /proc/kcore, sysrq and kernel tunables exposed".into();
        out.push(f.with_help("remove `procMount: Unmasked` (the default masks /proc)"));
    }
}

declare_rule! {
    /// ## What it does
    /// Flags Windows HostProcess containers: `securityContext.windowsOptions.hostProcess:
    /// true` on a container, or on the pod for containers that do not set it (the kubelet
    /// merges `windowsOptions` field by field). A pod-level setting is reported once.
    ///
    /// ## Why is this bad?
    /// A HostProcess container runs directly on the Windows node as a process, with the
    /// node's network and file system and, typically, SYSTEM or an administrator account: it
    /// is the Windows equivalent of a privileged container with host namespaces (MITRE
    /// ATT&CK T1611).
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   windowsOptions:
    ///     hostProcess: true
    ///     runAsUserName: "NT AUTHORITY\\SYSTEM"
    /// hostNetwork: true
    /// ```
    ///
    /// ## Use instead
    /// Run the job as a normal Windows container; node administration belongs to the node's
    /// own tooling.
    ///
    /// ## References
    /// - Pod Security Standards, Baseline: HostProcess
    /// - Peers: Trivy KSV103. cronguard evaluates the pod/container merge, so a container that
    ///   sets `hostProcess: false` under a pod-level `true` is reported through the others only.
    pub static HOST_PROCESS = {
        id: "host-process",
        category: PodSecurity,
        severity: Critical,
        enabled: true,
        attack: ["T1611"],
        summary: "a container runs as a Windows HostProcess on the node",
        check: Check::Object(check_host_process),
    }
}

fn check_host_process(ctx: &Ctx, out: &mut Vec<Finding>) {
    let mut hits = Vec::new();
    for (pod, c) in ctx.containers() {
        let own = ctx
            .doc
            .get(c.node, "securityContext")
            .and_then(|sc| ctx.doc.path(sc, &["windowsOptions"]))
            .and_then(|w| ctx.doc.entry(w, "hostProcess"))
            .map(|e| (e, true));
        let inherited = || {
            pod.field(ctx.doc, "securityContext")
                .and_then(|sc| ctx.doc.get(sc, "windowsOptions"))
                .and_then(|w| ctx.doc.entry(w, "hostProcess"))
                .map(|e| (e, false))
        };
        if let Some(((k, v), from_container)) = own.or_else(inherited)
            && ctx.doc.as_bool(v) == Some(true)
        {
            hits.push((k, v, from_container, c));
        }
    }
    for (k, v, from_container, cs) in group_by_node(hits.into_iter()) {
        let mut f = ctx.finding_on_key(
            &HOST_PROCESS,
            k,
            v,
            format!(
                "{} as a Windows HostProcess on the node{}",
                subject(ctx, &cs),
                if from_container {
                    ""
                } else {
                    " (from the pod's securityContext)"
                }
            ),
        );
        f.label = "hostProcess: a process on the node, outside any container".into();
        out.push(f.with_help("remove `hostProcess: true`; run a normal Windows container"));
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::run;

    #[test]
    fn hostpath_normalised_and_sockets_are_separate() {
        let src = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  template:\n    spec:\n      containers: [{name: a, image: x}]\n      volumes:\n      - {name: e, hostPath: {path: //etc/}}\n      - {name: s, hostPath: {path: /var/run/../run/docker.sock}}\n      - {name: ok, hostPath: {path: /data/cache}}\n      - {name: varrun, hostPath: {path: /var/log/app}}\n";
        let f = run("hostpath-sensitive", src);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("`//etc/` (that is `/etc`)"));
        let s = run("container-runtime-socket", src);
        assert_eq!(s.len(), 1);
        assert!(s[0].message.contains("/var/run/docker.sock"));
    }

    #[test]
    fn caps_normalised() {
        let f = run(
            "capabilities-dangerous",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    securityContext: {capabilities: {add: [cap_sys_admin, NET_BIND_SERVICE, CHOWN]}}\n",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].value, "SYS_ADMIN");
    }

    #[test]
    fn unconfined_follows_the_merge_and_is_reported_once_per_setting() {
        let src = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext: {seccompProfile: {type: Unconfined}}\n  containers:\n  - {name: a, image: x}\n  - {name: b, image: x}\n  - {name: c, image: x, securityContext: {seccompProfile: {type: RuntimeDefault}}}\n";
        let f = run("seccomp-unconfined", src);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].message.starts_with("containers \"a\" and \"b\" run"),
            "{}",
            f[0].message
        );
        let all_override = src.replace("- {name: a, image: x}\n  - {name: b, image: x}\n", "");
        assert!(run("seccomp-unconfined", &all_override).is_empty());
    }

    #[test]
    fn host_process_merges_windows_options_field_by_field() {
        let src = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext: {windowsOptions: {hostProcess: true}}\n  containers:\n  - {name: a, image: x, securityContext: {windowsOptions: {runAsUserName: u}}}\n  - {name: b, image: x, securityContext: {windowsOptions: {hostProcess: false}}}\n";
        let f = run("host-process", src);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message.starts_with("container \"a\" runs"),
            "{}",
            f[0].message
        );
    }
}
