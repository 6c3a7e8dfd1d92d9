//! The cron parser (robfig/cron v3 semantics): never panics, error ranges lie inside the
//! expression, and every accepted schedule can be described and stepped.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(expr) = std::str::from_utf8(data) else {
        return;
    };
    match cronguard::schedule::parse(expr) {
        Ok(s) => {
            let _ = s.describe();
            let _ = s.never_runs();
            let _ = s.min_interval_secs();
            let _ = s.runs_per_day();
        }
        Err(e) => {
            assert!(e.range.start <= e.range.end && e.range.end <= expr.len());
            assert!(expr.is_char_boundary(e.range.start) && expr.is_char_boundary(e.range.end));
        }
    }
    let _ = cronguard::schedule::timezone_prefix(expr);
    let _ = cronguard::schedule::check_timezone(expr);
});
