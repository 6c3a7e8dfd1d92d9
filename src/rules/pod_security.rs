//! pod-security: what lets a pod (and whoever controls its command) reach the node.
//!
//! privileged-container, host-pid, host-ipc and host-network are declarative policies
//! (policies/*.yaml).

use super::{Check, Ctx, Rule, normalize_path};
use crate::declare_rule;
use crate::finding::Finding;
use crate::yaml::NodeId;

pub static RULES: &[&Rule] = &[
    &HOSTPATH_SENSITIVE,
    &CONTAINER_RUNTIME_SOCKET,
    &CAPABILITIES_DANGEROUS,
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
    /// - Peers: Checkov CKV_K8S_39 (SYS_ADMIN only), Trivy KSV005, Kubescape C-0046.
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
}
