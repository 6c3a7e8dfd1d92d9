#!/usr/bin/env python3
"""Fail when a committed insta snapshot is no longer produced by any test.

insta names a snapshot `<test file>__<name>.snap`; this lists the names the tests ask for
by scanning the sources for assert_snapshot!(...) names and format patterns, and compares.
A cheap stand-in for `cargo insta test --unreferenced=reject` without installing cargo-insta.
"""
import pathlib, re, sys

root = pathlib.Path(__file__).resolve().parent.parent
bad = []
for snap in sorted((root / "tests" / "snapshots").glob("*.snap")):
    test_file, _, name = snap.stem.partition("__")
    src = (root / "tests" / f"{test_file}.rs")
    if not src.exists():
        bad.append(f"{snap.name}: no tests/{test_file}.rs")
        continue
    text = src.read_text()
    literal = f'"{name}"' in text
    # format!("rule__{}", r.id) style names: check the prefix and that the rest is a rule id
    prefixed = any(
        name.startswith(m.group(1)) and (root / "testdata" / "rules" / name[len(m.group(1)):]).is_dir()
        for m in re.finditer(r'format!\("([a-z_]+__)\{\}"', text)
    )
    if not (literal or prefixed):
        bad.append(f"{snap.name}: no test produces it")
for pending in (root / "tests" / "snapshots").glob("*.snap.new"):
    bad.append(f"{pending.name}: pending snapshot left behind")
if bad:
    print("unreferenced snapshots:\n  " + "\n  ".join(bad))
    sys.exit(1)
print("snapshots: all referenced")
