//! The generated rule reference, docs/rules.md: an index table, then every rule's full
//! documentation (the text `cronguard explain ID` prints). `tests/docs.rs` fails when the
//! committed file differs; `UPDATE_DOCS=1 cargo test --test docs` rewrites it.

use super::{docs_markdown, registry};

/// Demote markdown headings one level (outside code fences), so each rule's `# id` becomes a
/// section of the reference.
fn demote(md: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in md.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        if !fenced && line.starts_with('#') {
            out.push('#');
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The whole of docs/rules.md.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Rule reference\n\n\
         Generated from each rule's own documentation (the text `cronguard explain ID` prints).\n\
         Do not edit by hand: regenerate with `UPDATE_DOCS=1 cargo test --test docs`.\n\n\
         | Rule | Category | Severity | Enabled | ATT&CK | Flags |\n\
         |---|---|---|---|---|---|\n",
    );
    for r in registry() {
        out.push_str(&format!(
            "| [{id}](#{id}) | {} | {} | {} | {} | {} |\n",
            r.category.as_str(),
            r.severity,
            if r.default_enabled { "yes" } else { "no" },
            if r.attack.is_empty() {
                "—".to_string()
            } else {
                r.attack.join(", ")
            },
            r.summary.replace('|', "\\|"),
            id = r.id,
        ));
    }
    for r in registry() {
        out.push('\n');
        out.push_str(demote(&docs_markdown(r)).trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_are_demoted_outside_code_only() {
        let md = "# a\n## b\n```yaml\n# comment\n```\ntext\n";
        assert_eq!(demote(md), "## a\n### b\n```yaml\n# comment\n```\ntext\n");
    }

    #[test]
    fn every_rule_has_a_row_and_a_section() {
        let md = markdown();
        for r in registry() {
            assert!(md.contains(&format!("| [{0}](#{0}) |", r.id)), "{}", r.id);
            assert!(md.contains(&format!("\n## {}\n", r.id)), "{}", r.id);
        }
    }
}
