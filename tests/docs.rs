//! Generated documentation stays in step with the code.
//!
//! `docs/rules.md` is generated from the rule registry. This test fails when the committed
//! file is stale; regenerate it with `UPDATE_DOCS=1 cargo test --test docs` and commit it.

use std::path::Path;

#[test]
fn rule_reference_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md");
    let want = cronguard::rules::reference::markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let got = std::fs::read_to_string(&path)
        .unwrap_or_default()
        .replace("\r\n", "\n");
    if got != want {
        let line = got
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| got.lines().count().min(want.lines().count()))
            + 1;
        panic!(
            "docs/rules.md is stale (first difference at line {line}); regenerate it with \
             `UPDATE_DOCS=1 cargo test --test docs` and commit it"
        );
    }
}
