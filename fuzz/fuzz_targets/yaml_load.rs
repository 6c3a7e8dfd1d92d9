//! The spanned YAML loader: never panics, every span lies inside the input on char
//! boundaries, and the JSON view of every document can be built.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let loaded = cronguard::yaml::load(text, &cronguard::yaml::Limits::default());
    for doc in &loaded.docs {
        for node in &doc.nodes {
            let r = node.span.range();
            assert!(r.start <= r.end && r.end <= text.len(), "span out of input");
            assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
        }
        if let Some(root) = doc.root {
            let _ = doc.to_json(root);
            let _ = doc.locator(root);
        }
    }
    for issue in &loaded.issues {
        assert!(issue.span.range().end <= text.len());
    }
});
