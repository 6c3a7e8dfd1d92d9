//! The shell tokenizer/parser: never panics, stays within its work limits, and every span
//! it reports lies inside the script.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

fuzz_target!(|data: &[u8]| {
    let Ok(script) = std::str::from_utf8(data) else {
        return;
    };
    let mut env = BTreeMap::new();
    env.insert("URL".to_string(), "https://example.com/x.sh".to_string());
    env.insert("IFS".to_string(), " ".to_string());
    let parsed = cronguard::shell::parse(script, &env);
    assert!(parsed.cmds.len() <= cronguard::shell::MAX_COMMANDS + 1);
    for c in &parsed.cmds {
        assert!(
            c.span.start <= c.span.end && c.span.end <= script.len(),
            "{:?}",
            c.span
        );
        for w in &c.words {
            assert!(
                w.span.start <= w.span.end && w.span.end <= script.len(),
                "{:?}",
                w.span
            );
        }
    }
});
