//! The JUnit XML report, for CI systems other than GitHub (GitLab, Jenkins, Azure, ...).
//!
//! One `<testsuite>` per file with findings or skipped (named by its path), one
//! `<testcase>` per finding (`<failure>`; `<skipped>` when suppressed), and a file that could
//! not be scanned is a `<testcase name="scan">` with `<skipped>`. A final suite `cronguard`
//! holds one passing testcase for the run itself, so a clean scan is a passing report
//! rather than an empty one (which some CI systems treat as an error).
//! Characters XML 1.0 cannot carry, and invisible ones, are written as `\u{..}`.

use super::{PathResolver, escape_display, summary_line};
use crate::finding::Finding;
use crate::scan::Outcome;
use std::collections::BTreeMap;
use std::io::Write;

/// Escape text for XML attributes and content.
pub fn xml(s: &str) -> String {
    let mut vis = String::with_capacity(s.len());
    for ch in s.chars() {
        escape_display(ch, &mut vis);
    }
    let mut out = String::with_capacity(vis.len());
    for ch in vis.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\u{FFFE}' | '\u{FFFF}' => out.push_str(&format!("\\u{{{:04X}}}", ch as u32)),
            c => out.push(c),
        }
    }
    out
}

fn details(f: &Finding, path: &str) -> String {
    let mut d = format!(
        "{}:{}:{}: {} [{}] {}\nobject: {}",
        path,
        f.line,
        f.column,
        f.rule,
        f.severity,
        f.message,
        f.object.display()
    );
    if let Some(h) = &f.help {
        d.push_str(&format!("\nhelp: {h}"));
    }
    if !f.attack.is_empty() {
        d.push_str(&format!("\nATT&CK: {}", f.attack.join(", ")));
    }
    d.push_str(&format!("\nfingerprint: {}", f.fingerprint()));
    d
}

enum Case<'a> {
    Finding(&'a Finding),
    Skipped(&'a str),
}

pub fn write(out: &mut dyn Write, o: &Outcome) -> std::io::Result<()> {
    write_with(out, o, &mut PathResolver::default())
}

pub fn write_with(
    out: &mut dyn Write,
    o: &Outcome,
    paths: &mut PathResolver,
) -> std::io::Result<()> {
    let mut files: BTreeMap<String, Vec<Case>> = BTreeMap::new();
    for f in &o.findings {
        files
            .entry(paths.resolve(&f.path).as_str().to_string())
            .or_default()
            .push(Case::Finding(f));
    }
    for s in &o.skipped {
        files
            .entry(paths.resolve(&s.path).as_str().to_string())
            .or_default()
            .push(Case::Skipped(&s.reason));
    }
    let failures = o.findings.iter().filter(|f| f.suppressed.is_none()).count();
    let skipped = o.findings.len() - failures + o.skipped.len();
    let tests = o.findings.len() + o.skipped.len() + 1;
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="cronguard" tests="{tests}" failures="{failures}" errors="0" skipped="{skipped}">"#
    )?;
    for (path, cases) in &files {
        let fails = cases
            .iter()
            .filter(|c| matches!(c, Case::Finding(f) if f.suppressed.is_none()))
            .count();
        let p = xml(path);
        writeln!(
            out,
            r#"  <testsuite name="{p}" tests="{}" failures="{fails}" errors="0" skipped="{}">"#,
            cases.len(),
            cases.len() - fails
        )?;
        for c in cases {
            match c {
                Case::Finding(f) => {
                    writeln!(
                        out,
                        r#"    <testcase name="{} at {}:{}" classname="{p}" file="{p}" line="{}">"#,
                        xml(f.rule),
                        f.line,
                        f.column,
                        f.line
                    )?;
                    match &f.suppressed {
                        Some(s) => writeln!(
                            out,
                            r#"      <skipped message="suppressed ({}): {}"/>"#,
                            xml(s.kind),
                            xml(&s.justification)
                        )?,
                        None => writeln!(
                            out,
                            r#"      <failure message="{}" type="{}">{}</failure>"#,
                            xml(&f.message),
                            f.severity,
                            xml(&details(f, path))
                        )?,
                    }
                    writeln!(out, "    </testcase>")?;
                }
                Case::Skipped(reason) => {
                    writeln!(
                        out,
                        r#"    <testcase name="scan" classname="{p}" file="{p}">"#
                    )?;
                    writeln!(out, r#"      <skipped message="{}"/>"#, xml(reason))?;
                    writeln!(out, "    </testcase>")?;
                }
            }
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(
        out,
        r#"  <testsuite name="cronguard" tests="1" failures="0" errors="0" skipped="0">"#
    )?;
    writeln!(out, r#"    <testcase name="scan" classname="cronguard">"#)?;
    writeln!(
        out,
        "      <system-out>{}</system-out>",
        xml(&summary_line(o))
    )?;
    writeln!(out, "    </testcase>")?;
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Suppression;
    use crate::rules::testing::scan_all;

    #[test]
    fn xml_escapes_markup_and_controls() {
        assert_eq!(
            xml("<a href=\"x\">&'\u{1b}"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;\\u{001B}"
        );
    }

    #[test]
    fn findings_fail_suppressed_are_skipped() {
        let mut o = scan_all(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostPID: true\n  containers: [{name: a, image: alpine}]\n",
        );
        let n = o.findings.len();
        assert!(n >= 2);
        o.findings[0].suppressed = Some(Suppression {
            kind: "comment",
            justification: "ok <here>".into(),
        });
        let mut out = Vec::new();
        write_with(&mut out, &o, &mut PathResolver::new(None)).unwrap();
        let x = String::from_utf8(out).unwrap();
        assert!(x.contains(&format!(
            r#"<testsuites name="cronguard" tests="{}" failures="{}" errors="0" skipped="1">"#,
            n + 1,
            n - 1
        )));
        assert_eq!(x.matches("<failure ").count(), n - 1);
        assert!(x.contains(r#"<skipped message="suppressed (comment): ok &lt;here&gt;"/>"#));
        assert!(x.contains(r#"<testsuite name="test.yaml" "#));
        assert!(x.contains("host-pid at 5:3"), "{x}");
    }
}
