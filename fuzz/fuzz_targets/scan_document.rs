//! The whole scan of one file (loader, objects, workload views, every rule, both
//! renderers): never panics, and every finding's span lies inside the file.
#![no_main]
use cronguard::scan::{self, Options};
use cronguard::source::{Data, Source};
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};

fuzz_target!(|data: &[u8]| {
    static OPTS: OnceLock<Options> = OnceLock::new();
    let opts = OPTS.get_or_init(|| {
        let mut o = Options::default();
        o.selection
            .apply_list("all", true)
            .expect("all is a valid list");
        o
    });
    let src = Source {
        path: Arc::from("fuzz.yaml"),
        data: Data::Memory(Arc::from(data)),
    };
    let out = scan::scan(std::slice::from_ref(&src), opts);
    for f in &out.findings {
        assert!(f.span.range().end <= data.len());
    }
    let mut sink = Vec::new();
    cronguard::report::json::write(&mut sink, &out).expect("writing to a Vec");
    let style = cronguard::report::human::Style {
        color: false,
        width: 100,
        show_suppressed: true,
    };
    sink.clear();
    cronguard::report::human::write(&mut sink, &out, style).expect("writing to a Vec");
});
