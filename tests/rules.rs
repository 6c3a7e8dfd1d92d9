//! The contract every rule meets: docs with all sections, a flagged and a clean fixture,
//! findings exactly on the lines the fixture marks with `# expect: <rule-id>`, messages in
//! the agreed style, and a snapshot of the rendered diagnostics.

use cronguard::config::RuleSelection;
use cronguard::report::human::{Style, render_finding_in};
use cronguard::rules::{self, Rule};
use cronguard::scan::{self, Options, Outcome};
use cronguard::source::{Data, Source};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn fixtures_dir(rule: &Rule) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/rules")
        .join(rule.id)
}

fn fixtures(rule: &Rule, prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(fixtures_dir(rule))
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(prefix))
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The files of a fixture: the file itself, or every file of a fixture directory (scanned
/// together, so cross-file references such as a RoleBinding in another file resolve).
fn fixture_files(path: &Path) -> Vec<PathBuf> {
    if !path.is_dir() {
        return vec![path.to_path_buf()];
    }
    let mut v: Vec<PathBuf> = std::fs::read_dir(path)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

fn rel(path: &Path) -> String {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/")
}

/// Scan one fixture (a file or a directory of files) with only `rule` enabled.
fn scan_only(rule: &Rule, path: &Path) -> Outcome {
    let mut selection = RuleSelection::default();
    selection.apply_list("all", false).unwrap();
    selection.apply_list(rule.id, true).unwrap();
    let mut opts = Options {
        selection,
        ..Options::default()
    };
    // A fixture directory may carry settings.json for rules that need configuration.
    let settings = path.parent().unwrap().join("settings.json");
    if let Ok(text) = std::fs::read_to_string(&settings) {
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        if let Some(list) = v["allowed_registries"].as_array() {
            opts.settings.allowed_registries = list
                .iter()
                .map(|s| s.as_str().unwrap().to_string())
                .collect();
        }
        if let Some(n) = v["min_schedule_interval_secs"].as_u64() {
            opts.settings.min_schedule_interval_secs = n;
        }
    }
    let sources: Vec<Source> = fixture_files(path)
        .iter()
        .map(|p| Source {
            path: Arc::from(rel(p)),
            data: Data::Memory(Arc::from(std::fs::read(p).unwrap())),
        })
        .collect();
    scan::scan(&sources, &opts)
}

/// Lines marked `# expect: <id>` (one entry per marker).
fn expected_lines(text: &str, id: &str) -> Vec<usize> {
    let marker = format!("# expect: {id}");
    text.lines()
        .enumerate()
        .flat_map(|(i, l)| {
            l.match_indices(&marker)
                .filter(|(at, _)| {
                    // whole id, not a prefix of a longer one
                    !l[at + marker.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '-')
                })
                .map(move |_| i + 1)
        })
        .collect()
}

fn object_rules() -> Vec<&'static Rule> {
    rules::registry()
        .iter()
        .copied()
        .filter(|r| r.check.scans_files())
        .collect()
}

#[test]
fn every_rule_has_documentation_with_all_sections() {
    for r in rules::registry() {
        for section in [
            "## What it does",
            "## Why is this bad?",
            "## Example",
            "## Use instead",
            "## References",
        ] {
            assert!(r.docs.contains(section), "{} docs lack `{section}`", r.id);
        }
        if !r.attack.is_empty() {
            assert!(
                r.docs.contains(r.attack[0]),
                "{} docs do not name its ATT&CK technique {}",
                r.id,
                r.attack[0]
            );
        }
        let first = r.summary.chars().next().unwrap();
        assert!(
            first.is_lowercase(),
            "{} summary must start lowercase",
            r.id
        );
        assert!(
            !r.summary.ends_with('.'),
            "{} summary ends with a period",
            r.id
        );
    }
}

#[test]
fn every_rule_flags_exactly_the_marked_lines_of_its_fixtures() {
    let mut problems = Vec::new();
    for r in object_rules() {
        let flagged = fixtures(r, "flagged");
        let clean = fixtures(r, "clean");
        if flagged.is_empty() || clean.is_empty() {
            problems.push(format!("{}: needs flagged*.yaml and clean*.yaml", r.id));
            continue;
        }
        for p in flagged.iter().chain(&clean) {
            let out = scan_only(r, p);
            assert!(out.skipped.is_empty(), "{}: {:?}", p.display(), out.skipped);
            let mut got: Vec<(String, usize)> = out
                .findings
                .iter()
                .filter(|f| f.rule == r.id)
                .map(|f| (f.path.to_string(), f.line))
                .collect();
            got.sort_unstable();
            let mut want: Vec<(String, usize)> = fixture_files(p)
                .iter()
                .flat_map(|file| {
                    let text = std::fs::read_to_string(file).unwrap();
                    let name = rel(file);
                    expected_lines(&text, r.id)
                        .into_iter()
                        .map(move |l| (name.clone(), l))
                })
                .collect();
            want.sort_unstable();
            let is_flagged = p
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("flagged");
            if is_flagged && want.is_empty() {
                problems.push(format!("{}: flagged fixture marks no line", p.display()));
            }
            if got != want {
                problems.push(format!(
                    "{}: {} found on lines {got:?}, fixture marks {want:?}",
                    p.display(),
                    r.id
                ));
            }
            for f in &out.findings {
                let first = f.message.chars().next().unwrap();
                if !first.is_lowercase() || f.message.ends_with('.') {
                    problems.push(format!("{}: message style: {:?}", r.id, f.message));
                }
                if f.help.is_none() {
                    problems.push(format!("{}: finding without help", r.id));
                }
                if f.label.is_empty() {
                    problems.push(format!("{}: finding without a primary label", r.id));
                }
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn every_rule_has_a_snapshot_of_its_rendered_diagnostics() {
    for r in object_rules() {
        let Some(p) = fixtures(r, "flagged").into_iter().next() else {
            panic!("{} has no flagged fixture", r.id)
        };
        let out = scan_only(r, &p);
        let style = Style {
            color: false,
            width: 100,
            show_suppressed: true,
        };
        let rendered: String = out
            .findings
            .iter()
            .filter(|f| f.rule == r.id)
            .map(|f| render_finding_in(f, &out.sources, style))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(!rendered.is_empty(), "{} rendered nothing", r.id);
        insta::assert_snapshot!(format!("rule__{}", r.id), rendered);
    }
}
