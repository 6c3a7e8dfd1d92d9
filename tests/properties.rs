//! Property tests for the pipeline's invariants (issue: hostile input):
//! - output is identical whatever the thread count;
//! - every input is either scanned or skipped with a reason, and nothing panics;
//! - fingerprints do not move when unrelated lines are added elsewhere in the file;
//! - the span of every scalar slices exactly that scalar out of the source.

// Test-data builders read better as map + collect than as fold + write!.
#![allow(clippy::format_collect)]

use cronguard::report::json;
use cronguard::scan::{self, Options, Outcome};
use cronguard::source::{Data, Source};
use cronguard::yaml::{self, Kind, Limits};
use proptest::prelude::*;
use std::sync::Arc;

fn mem(path: &str, bytes: Vec<u8>) -> Source {
    Source {
        path: Arc::from(path),
        data: Data::Memory(Arc::from(bytes)),
    }
}

fn scan_in(threads: usize, sources: &[Source]) -> Outcome {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| scan::scan(sources, &Options::default()))
}

fn json_of(o: &Outcome) -> String {
    let mut out = Vec::new();
    json::write(&mut out, o).unwrap();
    String::from_utf8(out).unwrap()
}

/// Fragments of risky and benign pod specs; a manifest is a random pick of them.
const RISKS: &[&str] = &[
    "      hostPID: true\n",
    "      hostNetwork: true\n",
    "      volumes:\n      - name: s\n        hostPath: {path: /var/run/docker.sock}\n",
    "      securityContext: {runAsUser: 0}\n",
    "      serviceAccountName: default\n",
];
const CONTAINERS: &[&str] = &[
    "      - name: a\n        image: alpine\n        securityContext: {privileged: true}\n",
    "      - name: b\n        image: registry.example.com/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n        securityContext: {runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL], add: [SYS_ADMIN]}}\n",
    "      - name: c\n        image: nginx:latest\n",
];

fn manifest(kind: u8, name: &str, risks: &[usize], containers: &[usize]) -> String {
    let mut pod = String::new();
    for r in risks {
        pod.push_str(RISKS[*r % RISKS.len()]);
    }
    pod.push_str("      containers:\n");
    for c in containers {
        pod.push_str(CONTAINERS[*c % CONTAINERS.len()]);
    }
    let indent = |s: &str, n: usize| {
        s.lines()
            .map(|l| format!("{}{l}\n", " ".repeat(n)))
            .collect::<String>()
    };
    match kind % 3 {
        0 => format!(
            "apiVersion: batch/v1\nkind: CronJob\nmetadata: {{name: {name}, namespace: ns}}\nspec:\n  schedule: \"*/10 * * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n{}",
            indent(&pod, 4)
        ),
        1 => format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata: {{name: {name}, namespace: ns}}\nspec:\n  template:\n    spec:\n{}",
            indent(&pod, 0)
        ),
        _ => format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: ns}}\nspec:\n{}",
            pod.lines()
                .map(|l| format!("{}\n", &l[4..]))
                .collect::<String>()
        ),
    }
}

fn manifest_strategy() -> impl Strategy<Value = String> {
    (
        any::<u8>(),
        "[a-z]{1,8}",
        prop::collection::vec(0usize..16, 0..4),
        prop::collection::vec(0usize..16, 1..3),
    )
        .prop_map(|(k, n, r, c)| {
            let mut c = c;
            // Container names must be unique in a pod for the locators to be meaningful.
            c.sort_unstable_by_key(|i| i % CONTAINERS.len());
            c.dedup_by_key(|i| *i % CONTAINERS.len());
            manifest(k, &n, &r, &c)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn output_is_identical_whatever_the_thread_count(
        files in prop::collection::vec(manifest_strategy(), 1..12)
    ) {
        let sources: Vec<Source> = files
            .iter()
            .enumerate()
            .map(|(i, t)| mem(&format!("m/{i:02}.yaml"), t.clone().into_bytes()))
            .collect();
        let one = json_of(&scan_in(1, &sources));
        let many = json_of(&scan_in(4, &sources));
        prop_assert_eq!(&one, &many);
        // And the run found something: the generator always emits risky containers.
        prop_assert!(one.contains("\"rule\""), "{}", one);
    }

    #[test]
    fn every_input_is_scanned_or_skipped_with_a_reason(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        text in "[ -~\\t\\n:{}\\[\\]&*!|>'\"#%@`-]{0,400}",
    ) {
        for (i, data) in [bytes, text.into_bytes()].into_iter().enumerate() {
            let path = format!("in/{i}.yaml");
            let o = scan::scan(&[mem(&path, data)], &Options::default());
            let skipped_here = o.skipped.iter().any(|s| s.path == path && !s.reason.is_empty());
            prop_assert!(o.stats.files == 1 || skipped_here, "neither scanned nor skipped: {:?}", o.skipped);
            for s in &o.skipped {
                prop_assert_eq!(&s.path, &path);
                prop_assert!(!s.reason.trim().is_empty());
            }
        }
    }

    #[test]
    fn fingerprints_do_not_move_with_edits_elsewhere(
        doc in manifest_strategy(),
        filler in prop::collection::vec("[a-z ]{0,30}", 1..20),
        before_doc in manifest_strategy(),
    ) {
        let base = scan::scan(&[mem("f.yaml", doc.clone().into_bytes())], &Options::default());
        let comments: String = filler.iter().map(|l| format!("# {l}\n")).collect();
        // Comments and blank lines above, and another (differently named) object before it.
        let other = before_doc.replacen("name: ", "name: zz-other-", 1);
        let edited = format!("{comments}\n{other}---\n{comments}{doc}");
        let after = scan::scan(&[mem("moved/g.yaml", edited.into_bytes())], &Options::default());
        let key = |o: &Outcome| {
            let mut v: Vec<(String, String)> = o
                .findings
                .iter()
                .filter(|f| !f.object.name.as_deref().unwrap_or("").starts_with("zz-other-"))
                .map(|f| (f.rule.to_string(), f.fingerprint()))
                .collect();
            v.sort();
            v
        };
        prop_assert!(!base.findings.is_empty());
        prop_assert_eq!(key(&base), key(&after));
    }

    #[test]
    fn scalar_spans_slice_out_the_scalar(
        entries in prop::collection::vec(("[a-z][a-z0-9]{0,6}", "[a-zA-Z0-9][a-zA-Z0-9./_-]{0,11}", 0u8..4), 1..12),
    ) {
        let mut src = String::from("top:\n");
        for (k, v, style) in &entries {
            match style {
                0 => src.push_str(&format!("  {k}: {v}\n")),
                1 => src.push_str(&format!("  {k}: \"{v}\"\n")),
                2 => src.push_str(&format!("  {k}: '{v}'\n")),
                _ => src.push_str(&format!("  {k}: [{v}, x{v}]\n")),
            }
        }
        let loaded = yaml::load(&src, &Limits::default());
        prop_assert!(loaded.issues.is_empty(), "{:?}", loaded.issues);
        prop_assert_eq!(loaded.docs.len(), 1);
        let doc = &loaded.docs[0];
        let mut seen = 0;
        for node in &doc.nodes {
            if let Kind::Scalar { text, plain } = &node.kind {
                let raw = &src[node.span.range()];
                let unquoted = if *plain {
                    raw
                } else {
                    &raw[1..raw.len() - 1]
                };
                prop_assert_eq!(unquoted, &**text, "span {:?} of {:?}", node.span, src);
                seen += 1;
            }
        }
        prop_assert!(seen > entries.len());
    }
}

/// Regression (found by the git-history work): a finding about a setting a container lacks
/// must keep its fingerprint when an unrelated `securityContext` or `resources` mapping is
/// added, or `--new-only` and baselines report it as new.
#[test]
fn missing_setting_fingerprints_do_not_move_when_the_parent_mapping_appears() {
    let bare = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j, namespace: team}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: app\n        image: registry.example.com/app:1.0.0\n";
    let with_parents = bare.replace(
        "        image: registry.example.com/app:1.0.0\n",
        "        image: registry.example.com/app:1.0.0\n        securityContext: {runAsGroup: 1000}\n        resources: {requests: {cpu: 10m}}\n",
    );
    let mut opts = Options::default();
    opts.selection.apply_list("all", true).unwrap();
    let prints = |text: &str| {
        let o = scan::scan(&[mem("j.yaml", text.as_bytes().to_vec())], &opts);
        let mut v: Vec<(String, String)> = o
            .findings
            .iter()
            .map(|f| (f.rule.to_string(), f.fingerprint()))
            .collect();
        v.sort();
        v
    };
    let (a, b) = (prints(bare), prints(&with_parents));
    for rule in [
        "run-as-root",
        "root-filesystem-writable",
        "capabilities-not-dropped",
        "privilege-escalation-allowed",
        "seccomp-profile-missing",
        "resources-unbounded",
    ] {
        let fa: Vec<_> = a.iter().filter(|(r, _)| r == rule).collect();
        let fb: Vec<_> = b.iter().filter(|(r, _)| r == rule).collect();
        assert_eq!(fa.len(), 1, "{rule} fires on the bare container: {a:?}");
        assert_eq!(fa, fb, "{rule}");
    }
    // And the fingerprint still tells containers apart.
    let two = bare.replace(
        "      - name: app\n",
        "      - name: side\n        image: registry.example.com/side:1.0.0\n      - name: app\n",
    );
    let c = prints(&two);
    for rule in [
        "root-filesystem-writable",
        "capabilities-not-dropped",
        "run-as-root",
    ] {
        let mut f: Vec<_> = c
            .iter()
            .filter(|(r, _)| r == rule)
            .map(|(_, p)| p)
            .collect();
        f.dedup();
        assert_eq!(f.len(), 2, "{rule}: {c:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// `imperative-job-creation` names the script file and the command: its fingerprint
    /// does not move when unrelated lines are added around the command.
    #[test]
    fn imperative_job_fingerprints_do_not_move_with_edits_elsewhere(
        above in prop::collection::vec("[a-z ]{0,30}", 0..12),
        below in prop::collection::vec("[a-z ]{0,30}", 0..12),
        name in "[a-z]{1,8}",
    ) {
        use cronguard::history::changes::imperative;
        let cmd = format!("kubectl create job {name} --image=busybox\n");
        let run = |text: String| {
            let head = vec![(String::from("bin/run.sh"), Arc::<str>::from(text))];
            let (f, _) = imperative(&[], &head, &Options::default());
            f
        };
        let plain = run(format!("#!/bin/sh\n{cmd}"));
        let lines = |v: &[String]| v.iter().map(|l| format!("echo {l}\n")).collect::<String>();
        let edited = run(format!("#!/bin/sh\nset -eu\n{}{cmd}{}", lines(&above), lines(&below)));
        prop_assert_eq!(plain.len(), 1, "{:?}", plain);
        prop_assert_eq!(edited.len(), 1, "{:?}", edited);
        prop_assert_eq!(plain[0].fingerprint(), edited[0].fingerprint());
        prop_assert_eq!(plain[0].object.display(), "file bin/run.sh");
        // A different command is a different finding.
        let other = run(format!("#!/bin/sh\nkubectl create job {name}x --image=busybox\n"));
        prop_assert_ne!(plain[0].fingerprint(), other[0].fingerprint());
    }
}
