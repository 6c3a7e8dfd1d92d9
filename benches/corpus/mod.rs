//! A deterministic manifest corpus for benchmarks: `generate(dir, files, seed)` writes
//! `files` YAML files (CronJobs, Jobs, Deployments, DaemonSets, StatefulSets, Services,
//! ConfigMaps, ServiceAccounts, RBAC, and a few custom resources; some files hold several
//! documents, about 2% carry a typo or a wrong type) under `dir`, spread over subdirectories
//! of 100 files. The same seed gives the same bytes.

use std::fmt::Write as _;
use std::path::Path;

/// A small xorshift generator (no dependency, stable across platforms).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn container(r: &mut Rng, out: &mut String, indent: &str, name: &str) {
    let typo = r.below(100) < 2;
    let _ = write!(
        out,
        "{indent}- name: {name}\n\
         {indent}  image: registry.example.com/team{}/{name}:1.{}.{}\n\
         {indent}  {}: IfNotPresent\n\
         {indent}  args: [\"--level\", \"{}\"]\n\
         {indent}  env:\n\
         {indent}    - name: MODE\n\
         {indent}      value: batch\n\
         {indent}  resources:\n\
         {indent}    requests:\n\
         {indent}      cpu: {}m\n\
         {indent}      memory: {}Mi\n\
         {indent}    limits:\n\
         {indent}      memory: {}\n\
         {indent}  securityContext:\n\
         {indent}    runAsNonRoot: true\n\
         {indent}    allowPrivilegeEscalation: false\n\
         {indent}    readOnlyRootFilesystem: true\n\
         {indent}    capabilities:\n\
         {indent}      drop: [ALL]\n",
        r.below(20),
        r.below(10),
        r.below(30),
        if typo {
            "imagePulPolicy"
        } else {
            "imagePullPolicy"
        },
        r.below(5),
        50 + r.below(900),
        64 + r.below(900),
        if r.below(100) < 1 {
            "1GB".to_string()
        } else {
            format!("{}Mi", 256 + r.below(2000))
        },
    );
}

fn pod_spec(r: &mut Rng, out: &mut String, indent: &str, restart: &str) {
    let _ = write!(
        out,
        "{indent}restartPolicy: {restart}\n\
         {indent}serviceAccountName: worker\n\
         {indent}securityContext:\n\
         {indent}  runAsUser: {}\n\
         {indent}  seccompProfile:\n\
         {indent}    type: RuntimeDefault\n\
         {indent}containers:\n",
        10000 + r.below(1000)
    );
    let n = 1 + r.below(2);
    for i in 0..n {
        container(r, out, indent, &format!("c{i}"));
    }
}

fn document(r: &mut Rng, i: usize, out: &mut String) {
    let name = format!("obj-{i}");
    match r.below(12) {
        0..=3 => {
            let _ = write!(
                out,
                "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: {name}\n  namespace: ns{}\n  labels:\n    app: {name}\nspec:\n  schedule: \"{} {} * * *\"\n  concurrencyPolicy: Forbid\n  startingDeadlineSeconds: 300\n  jobTemplate:\n    spec:\n      backoffLimit: 2\n      activeDeadlineSeconds: 3600\n      ttlSecondsAfterFinished: 86400\n      template:\n        spec:\n",
                r.below(50),
                r.below(60),
                r.below(24)
            );
            pod_spec(r, out, "          ", "OnFailure");
        }
        4 => {
            let _ = write!(
                out,
                "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}\nspec:\n  activeDeadlineSeconds: 600\n  ttlSecondsAfterFinished: 3600\n  template:\n    spec:\n"
            );
            pod_spec(r, out, "      ", "Never");
        }
        5..=6 => {
            let kind = ["Deployment", "StatefulSet", "DaemonSet"][r.below(3) as usize];
            let _ = write!(
                out,
                "apiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: {name}\nspec:\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n"
            );
            pod_spec(r, out, "      ", "Always");
        }
        7 => {
            let _ = write!(
                out,
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  selector:\n    app: {name}\n  ports:\n    - name: http\n      port: 80\n      targetPort: http\n"
            );
        }
        8 => {
            let _ = write!(
                out,
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  LEVEL: \"{}\"\n  config.yaml: |\n    retries: 3\n",
                r.below(9)
            );
        }
        9 => {
            let _ = write!(
                out,
                "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}\nautomountServiceAccountToken: false\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: {name}\nrules:\n  - apiGroups: [\"\"]\n    resources: [configmaps]\n    verbs: [get, list]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: {name}\nsubjects:\n  - kind: ServiceAccount\n    name: {name}\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: {name}\n"
            );
        }
        10 => {
            let _ = write!(
                out,
                "apiVersion: argoproj.io/v1alpha1\nkind: CronWorkflow\nmetadata:\n  name: {name}\nspec:\n  schedule: \"0 {} * * *\"\n  workflowSpec:\n    entrypoint: main\n    templates:\n      - name: main\n        container:\n          image: registry.example.com/argo:1.0\n",
                r.below(24)
            );
        }
        _ => {
            let _ = write!(
                out,
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n"
            );
            pod_spec(r, out, "  ", "Never");
        }
    }
}

/// Write `files` manifest files under `dir`; returns the total bytes written.
pub fn generate(dir: &Path, files: usize, seed: u64) -> std::io::Result<u64> {
    let mut r = Rng::new(seed);
    let mut total = 0u64;
    for i in 0..files {
        let sub = dir.join(format!("d{:03}", i / 100));
        if i % 100 == 0 {
            std::fs::create_dir_all(&sub)?;
        }
        let mut text = String::new();
        let docs = if r.below(10) == 0 { 3 } else { 1 };
        for d in 0..docs {
            if d > 0 {
                text.push_str("---\n");
            }
            document(&mut r, i * 3 + d, &mut text);
        }
        total += text.len() as u64;
        std::fs::write(sub.join(format!("m{i:05}.yaml")), text)?;
    }
    Ok(total)
}
