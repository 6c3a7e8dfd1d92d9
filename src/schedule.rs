//! Cron semantics exactly as the Kubernetes CronJob controller has them: robfig/cron v3's
//! `ParseStandard` (5 fields, names, ranges, steps, lists, `?`, descriptors and
//! `@every <Go duration>`), its day-of-month/day-of-week rule (ANDed when either field starts
//! with `*`/`?` — the "star bit" — ORed when both are restricted), and next-run computation.
//!
//! No crate matched the controller (croner, cron, cron-parser and saffron disagree with it on
//! 10-22 of 45 reference cases), so this is written from robfig's source semantics.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike};
use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::Range;

/// A schedule error: the byte range of the offending field or token inside the expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CronError {
    pub range: Range<usize>,
    pub message: String,
}

/// A parsed schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// Five fields as bit sets (bit n = value n), with robfig's star bits for dom/dow.
    Standard {
        minute: u64,
        hour: u64,
        dom: u64,
        month: u64,
        dow: u64,
        dom_star: bool,
        dow_star: bool,
    },
    /// `@every <duration>`, in whole seconds (at least 1, as robfig rounds).
    Every(u64),
}

const FIELDS: [(&str, u32, u32); 5] = [
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day-of-month", 1, 31),
    ("month", 1, 12),
    ("day-of-week", 0, 6),
];

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

fn err(range: Range<usize>, message: impl Into<String>) -> CronError {
    CronError {
        range,
        message: message.into(),
    }
}

/// The byte range of a leading `TZ=...` or `CRON_TZ=...` prefix (the API server rejects any
/// schedule containing `TZ` since Kubernetes 1.25; use `spec.timeZone`).
pub fn timezone_prefix(expr: &str) -> Option<Range<usize>> {
    let start = expr.len() - expr.trim_start().len();
    let rest = &expr[start..];
    if rest.starts_with("TZ=") || rest.starts_with("CRON_TZ=") {
        let len = rest.find(char::is_whitespace).unwrap_or(rest.len());
        return Some(start..start + len);
    }
    None
}

/// Byte ranges of the whitespace-separated fields of `expr` (for labels on one field).
pub fn field_ranges(expr: &str) -> Vec<Range<usize>> {
    fields(expr).into_iter().map(|(r, _)| r).collect()
}

/// Split on ASCII/Unicode whitespace, keeping byte ranges.
fn fields(expr: &str) -> Vec<(Range<usize>, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in expr.char_indices() {
        if c.is_whitespace() {
            if let Some(s) = start.take() {
                out.push((s..i, &expr[s..i]));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push((s..expr.len(), &expr[s..]));
    }
    out
}

fn parse_int_or_name(
    s: &str,
    range: Range<usize>,
    names: Option<&[&str]>,
    base: u32,
) -> Result<u32, CronError> {
    if let Some(names) = names
        && let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(s))
    {
        return Ok(i as u32 + base);
    }
    if s.is_empty() {
        return Err(err(range, "empty value"));
    }
    if s.starts_with('-') {
        return Err(err(range, format!("negative number ({s}) not allowed")));
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(
            range,
            format!(
                "{s:?} is not a number{}",
                names.map_or("", |_| " or a name")
            ),
        ));
    }
    s.parse::<u32>()
        .map_err(|_| err(range, format!("{s} is too large")))
}

/// Parse one field into a bit set; returns (bits, star).
fn parse_field(
    text: &str,
    at: Range<usize>,
    (name, min, max): (&str, u32, u32),
    names: Option<&[&str]>,
    base: u32,
) -> Result<(u64, bool), CronError> {
    let mut bits = 0u64;
    let mut star = false;
    let mut off = at.start;
    for part in text.split(',') {
        let prange = off..off + part.len();
        off += part.len() + 1;
        let (range_part, step_part) = match part.split_once('/') {
            Some((r, s)) => {
                if s.contains('/') {
                    return Err(err(prange, format!("too many slashes in {name} field")));
                }
                (r, Some(s))
            }
            None => (part, None),
        };
        let rr = prange.start..prange.start + range_part.len();
        let (mut start, mut end, is_star) = if range_part == "*" || range_part == "?" {
            (min, max, true)
        } else {
            let mut it = range_part.splitn(3, '-');
            let lo = it.next().unwrap_or("");
            let hi = it.next();
            if it.next().is_some() {
                return Err(err(rr, format!("too many hyphens in {name} field")));
            }
            if lo.is_empty() && hi.is_some() {
                return Err(err(
                    rr,
                    format!("negative number ({range_part}) not allowed in {name} field"),
                ));
            }
            let lo_r = rr.start..rr.start + lo.len();
            let s = parse_int_or_name(lo, lo_r, names, base)?;
            match hi {
                Some(h) => {
                    let hr = rr.start + lo.len() + 1..rr.end;
                    (s, parse_int_or_name(h, hr, names, base)?, false)
                }
                None => (s, s, false),
            }
        };
        let mut step = 1u32;
        if let Some(st) = step_part {
            let sr = rr.end + 1..prange.end;
            step = parse_int_or_name(st, sr.clone(), None, 0)?;
            if step == 0 {
                return Err(err(
                    sr,
                    format!("step of the {name} field must be a positive number"),
                ));
            }
            // "N/step" means "N-max/step".
            if !is_star && !range_part.contains('-') {
                end = max;
            }
        }
        if start < min {
            return Err(err(
                rr,
                format!("{name} value {start} is below the minimum {min}"),
            ));
        }
        if end > max {
            let hint = if name == "day-of-week" && end == 7 {
                " (Sunday is 0; robfig/cron, which Kubernetes uses, rejects 7)"
            } else {
                ""
            };
            return Err(err(
                rr,
                format!("{name} value {end} is above the maximum {max}{hint}"),
            ));
        }
        if start > end {
            return Err(err(
                rr,
                format!("{name} range starts at {start}, beyond its end {end}"),
            ));
        }
        if is_star && step == 1 {
            star = true;
        }
        while start <= end {
            bits |= 1 << start;
            start += step;
        }
    }
    Ok((bits, star))
}

/// Go's `time.ParseDuration`, in nanoseconds.
fn go_duration(s: &str) -> Option<i128> {
    let (neg, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let num_len = rest
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        if num_len == 0 {
            return None;
        }
        let num = &rest[..num_len];
        rest = &rest[num_len..];
        let unit_len = rest
            .char_indices()
            .find(|(_, c)| c.is_ascii_digit() || *c == '.')
            .map_or(rest.len(), |(i, _)| i);
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let scale: i128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        let (int, frac) = num.split_once('.').unwrap_or((num, ""));
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        let int: i128 = if int.is_empty() { 0 } else { int.parse().ok()? };
        let mut v = int.checked_mul(scale)?;
        let mut div: i128 = 1;
        for d in frac.bytes().take(18) {
            div *= 10;
            v = v.checked_add(i128::from(d - b'0') * scale / div)?;
        }
        total = total.checked_add(v)?;
        if total > i128::from(i64::MAX) {
            return None;
        }
    }
    Some(if neg { -total } else { total })
}

fn all(min: u32, max: u32) -> u64 {
    (min..=max).fold(0, |b, i| b | (1 << i))
}

/// Parse a schedule the way the CronJob controller does.
pub fn parse(expr: &str) -> Result<Schedule, CronError> {
    let lead = expr.len() - expr.trim_start().len();
    let t = expr.trim();
    if t.is_empty() {
        return Err(err(0..expr.len(), "empty schedule"));
    }
    if let Some(d) = t.strip_prefix('@') {
        let whole = lead..lead + t.len();
        let std =
            |m: u64, h: u64, dom: u64, mon: u64, dow: u64, ds: bool, ws: bool| Schedule::Standard {
                minute: m,
                hour: h,
                dom,
                month: mon,
                dow,
                dom_star: ds,
                dow_star: ws,
            };
        return match d {
            "yearly" | "annually" => Ok(std(1, 1, 1 << 1, 1 << 1, all(0, 6), false, true)),
            "monthly" => Ok(std(1, 1, 1 << 1, all(1, 12), all(0, 6), false, true)),
            "weekly" => Ok(std(1, 1, all(1, 31), all(1, 12), 1, true, false)),
            "daily" | "midnight" => Ok(std(1, 1, all(1, 31), all(1, 12), all(0, 6), true, true)),
            "hourly" => Ok(std(
                1,
                all(0, 23),
                all(1, 31),
                all(1, 12),
                all(0, 6),
                true,
                true,
            )),
            _ => {
                if let Some(dur) = d.strip_prefix("every ") {
                    let dur = dur.trim();
                    let at = lead + t.len() - dur.len()..lead + t.len();
                    return match go_duration(dur) {
                        Some(ns) => {
                            let secs = (ns / 1_000_000_000).max(1);
                            Ok(Schedule::Every(u64::try_from(secs).unwrap_or(u64::MAX)))
                        }
                        None => Err(err(
                            at,
                            format!("{dur:?} is not a Go duration (e.g. 90s, 1h30m)"),
                        )),
                    };
                }
                let hint = if [
                    "yearly", "annually", "monthly", "weekly", "daily", "midnight", "hourly",
                ]
                .iter()
                .any(|x| x.eq_ignore_ascii_case(d))
                {
                    " (descriptors are lowercase)"
                } else {
                    ""
                };
                Err(err(whole, format!("unrecognized descriptor @{d}{hint}")))
            }
        };
    }
    let f = fields(expr);
    if f.len() != 5 {
        let range = if f.len() > 5 {
            f[5].0.start..f[f.len() - 1].0.end
        } else {
            lead..lead + t.len()
        };
        return Err(err(
            range,
            format!(
                "expected exactly 5 fields (minute hour day-of-month month day-of-week), found {}",
                f.len()
            ),
        ));
    }
    let (minute, _) = parse_field(f[0].1, f[0].0.clone(), FIELDS[0], None, 0)?;
    let (hour, _) = parse_field(f[1].1, f[1].0.clone(), FIELDS[1], None, 0)?;
    let (dom, dom_star) = parse_field(f[2].1, f[2].0.clone(), FIELDS[2], None, 0)?;
    let (month, _) = parse_field(f[3].1, f[3].0.clone(), FIELDS[3], Some(&MONTHS), 1)?;
    let (dow, dow_star) = parse_field(f[4].1, f[4].0.clone(), FIELDS[4], Some(&DAYS), 0)?;
    Ok(Schedule::Standard {
        minute,
        hour,
        dom,
        month,
        dow,
        dom_star,
        dow_star,
    })
}

/// Check a `spec.timeZone` the way the API server does: an IANA name, not `Local`.
pub fn check_timezone(name: &str) -> Result<chrono_tz::Tz, String> {
    if name.is_empty() {
        return Err("the time zone is empty".into());
    }
    if name == "Local" {
        return Err(
            "`Local` is rejected by the API server; name an IANA zone such as `Etc/UTC`".into(),
        );
    }
    if let Ok(tz) = name.parse::<chrono_tz::Tz>() {
        return Ok(tz);
    }
    Err(match suggest_timezone(name) {
        Some(c) => format!("{name:?} is not an IANA time zone (did you mean {c:?}?)"),
        None => format!("{name:?} is not an IANA time zone"),
    })
}

/// The IANA zone a misspelt name most likely means (same letters in another case first,
/// then the closest by edit distance).
pub fn suggest_timezone(name: &str) -> Option<&'static str> {
    // Zone names are short; a hostile megabyte value gets no (quadratic) suggestion.
    if name.len() > 64 {
        return None;
    }
    chrono_tz::TZ_VARIANTS
        .iter()
        .map(|t| t.name())
        .find(|n| n.eq_ignore_ascii_case(name))
        .or_else(|| crate::util::closest(name, chrono_tz::TZ_VARIANTS.iter().map(|t| t.name())))
}

/// Days of a 28-year window (a full cycle of weekdays and leap years within a century).
fn window() -> impl Iterator<Item = NaiveDate> {
    let start = NaiveDate::from_ymd_opt(2001, 1, 1).unwrap_or_default();
    start.iter_days().take(10_227)
}

const WINDOW_DAYS: u32 = 10_227;

#[derive(Clone, Copy, Debug)]
struct DayStats {
    count: usize,
    min_gap: Option<i64>,
}

impl Schedule {
    fn day_matches(&self, d: NaiveDate) -> bool {
        let Schedule::Standard {
            dom,
            month,
            dow,
            dom_star,
            dow_star,
            ..
        } = self
        else {
            return true;
        };
        if month & (1 << d.month()) == 0 {
            return false;
        }
        let dm = dom & (1 << d.day()) != 0;
        let wm = dow & (1 << d.weekday().num_days_from_sunday()) != 0;
        if *dom_star || *dow_star {
            dm && wm
        } else {
            dm || wm
        }
    }

    /// Minutes of the day at which it fires (standard schedules).
    fn times(&self) -> Vec<u32> {
        let Schedule::Standard { minute, hour, .. } = self else {
            return Vec::new();
        };
        let mut v = Vec::new();
        for h in 0..24 {
            if hour & (1 << h) != 0 {
                for m in 0..60 {
                    if minute & (1 << m) != 0 {
                        v.push(h * 60 + m);
                    }
                }
            }
        }
        v
    }

    fn run_days(&self) -> Vec<i64> {
        window()
            .enumerate()
            .filter(|(_, d)| self.day_matches(*d))
            .map(|(i, _)| i64::try_from(i).unwrap_or(i64::MAX))
            .collect()
    }

    /// How many days of the window it runs on, and the shortest gap between two of them.
    /// They depend only on the day fields, which repeat across a corpus, so they are
    /// computed once per distinct day fields and thread (walking 10,227 days per schedule
    /// was a fifth of a whole scan).
    fn day_stats(&self) -> DayStats {
        type Key = (u64, u64, u64, bool, bool);
        thread_local! {
            static CACHE: RefCell<HashMap<Key, DayStats>> = RefCell::new(HashMap::new());
        }
        let compute = || {
            let days = self.run_days();
            DayStats {
                count: days.len(),
                min_gap: days.windows(2).map(|w| w[1] - w[0]).min(),
            }
        };
        let Schedule::Standard {
            dom,
            month,
            dow,
            dom_star,
            dow_star,
            ..
        } = self
        else {
            return compute();
        };
        let key = (*dom, *month, *dow, *dom_star, *dow_star);
        if let Some(hit) = CACHE.with(|c| c.borrow().get(&key).copied()) {
            return hit;
        }
        let stats = compute();
        CACHE.with(|c| {
            let mut c = c.borrow_mut();
            if c.len() >= 4096 {
                c.clear(); // bounded memory whatever the input
            }
            c.insert(key, stats);
        });
        stats
    }

    /// Valid, but never fires (`0 0 30 2 *`).
    pub fn never_runs(&self) -> bool {
        match self {
            Schedule::Every(_) => false,
            Schedule::Standard { .. } => self.times().is_empty() || self.day_stats().count == 0,
        }
    }

    /// The shortest gap between two consecutive runs, in seconds (UTC).
    pub fn min_interval_secs(&self) -> Option<u64> {
        if let Schedule::Every(s) = self {
            return Some(*s);
        }
        let times = self.times();
        let days = self.day_stats();
        if times.is_empty() || days.count == 0 {
            return None;
        }
        let mut best = u64::MAX;
        for w in times.windows(2) {
            best = best.min(u64::from(w[1] - w[0]) * 60);
        }
        let min_day_gap = days.min_gap;
        if let (Some(g), Some(first), Some(last)) = (min_day_gap, times.first(), times.last()) {
            let gap = g * 1440 - i64::from(*last) + i64::from(*first);
            best = best.min(u64::try_from(gap).unwrap_or(u64::MAX) * 60);
        }
        (best != u64::MAX).then_some(best)
    }

    /// Average runs per day (over a 28-year cycle of calendars).
    pub fn runs_per_day(&self) -> f64 {
        match self {
            #[allow(clippy::cast_precision_loss)]
            Schedule::Every(s) => 86_400.0 / (*s as f64),
            Schedule::Standard { .. } => {
                #[allow(clippy::cast_precision_loss)]
                let r =
                    (self.day_stats().count * self.times().len()) as f64 / f64::from(WINDOW_DAYS);
                r
            }
        }
    }

    /// The next run strictly after `after`, in `after`'s time zone (wall-clock matching; a
    /// wall time that does not exist is skipped, an ambiguous one takes the earlier instant).
    /// Gives up after 5 years, like robfig.
    pub fn next_after<Tz: TimeZone>(
        &self,
        after: &chrono::DateTime<Tz>,
    ) -> Option<chrono::DateTime<Tz>> {
        let tz = after.timezone();
        if let Schedule::Every(s) = self {
            return Some(after.clone() + Duration::seconds(i64::try_from(*s).ok()?));
        }
        let times = self.times();
        let local = after.naive_local();
        let mut day = local.date();
        let start_min = local.hour() * 60 + local.minute();
        for i in 0..(366 * 5) {
            if self.day_matches(day) {
                for &t in &times {
                    if i == 0 && t <= start_min {
                        continue;
                    }
                    let naive = NaiveDateTime::new(
                        day,
                        chrono::NaiveTime::from_hms_opt(t / 60, t % 60, 0)?,
                    );
                    match tz.from_local_datetime(&naive) {
                        chrono::LocalResult::Single(dt) => return Some(dt),
                        chrono::LocalResult::Ambiguous(a, _) => return Some(a),
                        chrono::LocalResult::None => {}
                    }
                }
            }
            day = day.succ_opt()?;
        }
        None
    }

    /// A human reading for reviews: "every 5 minutes", "at 02:30 every day", ...
    pub fn describe(&self) -> String {
        let Schedule::Standard {
            minute,
            hour,
            dom,
            month,
            dow,
            dom_star,
            dow_star,
        } = self
        else {
            let Schedule::Every(s) = self else {
                return String::new();
            };
            return format!("every {}", human_secs(*s));
        };
        let mins = bits(*minute, 0, 59);
        let hours = bits(*hour, 0, 23);
        let time = if mins.len() == 60 && hours.len() == 24 {
            "every minute".to_string()
        } else if hours.len() == 24
            && let Some(step) = even_step(&mins, 60)
        {
            format!("every {step} minutes")
        } else if hours.len() == 24 {
            format!("at minute {} past every hour", list(&mins))
        } else if mins.len() * hours.len() <= 4 {
            let mut t = Vec::new();
            for h in &hours {
                for m in &mins {
                    t.push(format!("{h:02}:{m:02}"));
                }
            }
            format!("at {}", join_and(&t))
        } else if mins.len() == 60 {
            format!("every minute during hour {}", list(&hours))
        } else {
            format!("at minute {} past hour {}", list(&mins), list(&hours))
        };
        let days_of_week = bits(*dow, 0, 6);
        let day_names: Vec<String> = days_of_week
            .iter()
            .map(|d| {
                [
                    "Sunday",
                    "Monday",
                    "Tuesday",
                    "Wednesday",
                    "Thursday",
                    "Friday",
                    "Saturday",
                ][*d as usize]
                    .to_string()
            })
            .collect();
        let doms = bits(*dom, 1, 31);
        let dom_all = doms.len() == 31;
        let dow_all = days_of_week.len() == 7;
        let day = match (dom_all, dow_all) {
            (true, true) => {
                if time.starts_with("every") || time.ends_with("past every hour") {
                    String::new()
                } else {
                    " every day".into()
                }
            }
            (true, false) => format!(" on {}", join_and(&day_names)),
            (false, true) => format!(" on day {} of the month", list(&doms)),
            (false, false) => {
                let join = if *dom_star || *dow_star { "and" } else { "or" };
                format!(
                    " on day {} of the month {join} on {}",
                    list(&doms),
                    join_and(&day_names)
                )
            }
        };
        let months = bits(*month, 1, 12);
        let month_part = if months.len() == 12 {
            String::new()
        } else {
            let names: Vec<String> = months
                .iter()
                .map(|m| {
                    [
                        "January",
                        "February",
                        "March",
                        "April",
                        "May",
                        "June",
                        "July",
                        "August",
                        "September",
                        "October",
                        "November",
                        "December",
                    ][(*m - 1) as usize]
                        .to_string()
                })
                .collect();
            format!(" in {}", join_and(&names))
        };
        format!("{time}{day}{month_part}")
    }
}

fn bits(b: u64, min: u32, max: u32) -> Vec<u32> {
    (min..=max).filter(|i| b & (1 << i) != 0).collect()
}

fn even_step(v: &[u32], modulo: u32) -> Option<u32> {
    if v.len() < 2 || v[0] != 0 {
        return None;
    }
    let step = v[1] - v[0];
    let even = v.windows(2).all(|w| w[1] - w[0] == step) && modulo % step == 0;
    even.then_some(step)
}

fn list(v: &[u32]) -> String {
    let s: Vec<String> = v.iter().map(ToString::to_string).collect();
    join_and(&s)
}

fn join_and(v: &[String]) -> String {
    match v {
        [] => String::new(),
        [a] => a.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// `90` → `1m30s`, `3600` → `1h` (Go duration style, as `@every` takes it).
pub fn human_secs(s: u64) -> String {
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if sec > 0 || out.is_empty() {
        out.push_str(&format!("{sec}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    /// (expression, Ok, or Err with the text of the offending range)
    const CASES: &[(&str, Result<(), &str>)] = &[
        ("*/5 * * * *", Ok(())),
        ("0 0 * * 0", Ok(())),
        ("0 0 * * 7", Err("7")),
        ("0 0 * * SUN", Ok(())),
        ("0 0 * * sun-sat", Ok(())),
        ("0 0 ? * MON-FRI", Ok(())),
        ("5/15 * * * *", Ok(())),
        ("*/0 * * * *", Err("0")),
        ("60 * * * *", Err("60")),
        ("0 24 * * *", Err("24")),
        ("0 0 0 * *", Err("0")),
        ("0 0 32 * *", Err("32")),
        ("0 0 1 13 *", Err("13")),
        ("0 0 1 0 *", Err("0")),
        ("0 0 * * * *", Err("*")),
        ("0 0 * *", Err("0 0 * *")),
        ("@daily", Ok(())),
        ("@DAILY", Err("@DAILY")),
        ("@midnight", Ok(())),
        ("@annually", Ok(())),
        ("@every 1h30m", Ok(())),
        ("@every 90s", Ok(())),
        ("@every 1.5h", Ok(())),
        ("@every 0s", Ok(())),
        ("@every 5x", Err("5x")),
        ("@every", Err("@every")),
        ("@reboot", Err("@reboot")),
        ("1-5/2 * * * *", Ok(())),
        ("5-1 * * * *", Err("5-1")),
        ("a * * * *", Err("a")),
        ("1,,2 * * * *", Err("")),
        ("0 0 L * *", Err("L")),
        ("0 0 * * 1#2", Err("1#2")),
        ("1-2-3 * * * *", Err("1-2-3")),
        ("*/5/2 * * * *", Err("*/5/2")),
        ("-1 * * * *", Err("-1")),
        ("0 0 1 jan,JUL *", Ok(())),
        ("0 0 1 JANUARY *", Err("JANUARY")),
        ("  */5   *  *  *  *  ", Ok(())),
        ("0\t0\t*\t*\t*", Ok(())),
        ("0 0 30 2 *", Ok(())),
        ("*/1 * * * *", Ok(())),
        ("0 */2 * * *", Ok(())),
        ("59 23 31 12 6", Ok(())),
        ("0 0 * jan-dec/3 *", Ok(())),
        ("", Err("")),
    ];

    #[test]
    fn reference_cases_accept_and_reject_like_robfig() {
        for (expr, want) in CASES {
            let got = parse(expr);
            match (want, &got) {
                (Ok(()), Ok(_)) => {}
                (Err(text), Err(e)) => {
                    assert_eq!(&&expr[e.range.clone()], text, "{expr:?}: {}", e.message);
                }
                _ => panic!("{expr:?}: expected {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn step_from_value_means_to_max() {
        let Schedule::Standard { minute, .. } = parse("5/15 * * * *").unwrap() else {
            panic!()
        };
        assert_eq!(bits(minute, 0, 59), [5, 20, 35, 50]);
    }

    #[test]
    fn sunday_seven_explains_itself() {
        let e = parse("0 0 * * 7").unwrap_err();
        assert!(e.message.contains("Sunday is 0"), "{}", e.message);
    }

    #[test]
    fn never_runs_respects_dom_dow_or() {
        assert!(parse("0 0 30 2 *").unwrap().never_runs());
        assert!(parse("0 0 31 4,6,9,11 *").unwrap().never_runs());
        assert!(!parse("0 0 31 2 MON").unwrap().never_runs());
        assert!(!parse("0 0 29 2 *").unwrap().never_runs());
        assert!(
            parse("0 0 30 2 */1").unwrap().never_runs(),
            "*/1 keeps the star bit: AND"
        );
    }

    #[test]
    fn intervals_and_rates() {
        assert_eq!(parse("*/5 * * * *").unwrap().min_interval_secs(), Some(300));
        assert_eq!(parse("0,1 * * * *").unwrap().min_interval_secs(), Some(60));
        assert_eq!(
            parse("0 0 * * *").unwrap().min_interval_secs(),
            Some(86_400)
        );
        assert_eq!(
            parse("59 23 * * *").unwrap().min_interval_secs(),
            Some(86_400)
        );
        assert_eq!(
            parse("0 0 * * 1,2").unwrap().min_interval_secs(),
            Some(86_400)
        );
        assert_eq!(parse("@every 30s").unwrap().min_interval_secs(), Some(30));
        assert_eq!(parse("@every 0s").unwrap().min_interval_secs(), Some(1));
        assert_eq!(parse("0 0 30 2 *").unwrap().min_interval_secs(), None);
        assert!((parse("@hourly").unwrap().runs_per_day() - 24.0).abs() < 1e-9);
        assert!((parse("*/5 * * * *").unwrap().runs_per_day() - 288.0).abs() < 1e-9);
        let weekly = parse("@weekly").unwrap().runs_per_day();
        assert!((weekly - 1.0 / 7.0).abs() < 1e-3, "{weekly}");
    }

    #[test]
    fn next_after_in_utc_and_across_dst() {
        let s = parse("30 2 * * *").unwrap();
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 3, 0, 0).unwrap();
        assert_eq!(
            s.next_after(&t).unwrap(),
            Utc.with_ymd_and_hms(2026, 1, 2, 2, 30, 0).unwrap()
        );
        // 02:30 does not exist in Berlin on 2026-03-29: skipped to the next day.
        let berlin: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
        let t = berlin.with_ymd_and_hms(2026, 3, 28, 12, 0, 0).unwrap();
        let n = s.next_after(&t).unwrap();
        assert_eq!((n.month(), n.day(), n.hour()), (3, 30, 2));
        assert!(parse("0 0 30 2 *").unwrap().next_after(&t).is_none());
    }

    #[test]
    fn descriptions() {
        assert_eq!(parse("*/5 * * * *").unwrap().describe(), "every 5 minutes");
        assert_eq!(
            parse("30 2 * * *").unwrap().describe(),
            "at 02:30 every day"
        );
        assert_eq!(
            parse("0 * * * *").unwrap().describe(),
            "at minute 0 past every hour"
        );
        assert_eq!(
            parse("0 3 * * 1,5").unwrap().describe(),
            "at 03:00 on Monday and Friday"
        );
        assert_eq!(
            parse("0 0 1 * *").unwrap().describe(),
            "at 00:00 on day 1 of the month"
        );
        assert_eq!(
            parse("0 0 1 1,7 *").unwrap().describe(),
            "at 00:00 on day 1 of the month in January and July"
        );
        assert_eq!(parse("@every 1h30m").unwrap().describe(), "every 1h30m");
        assert_eq!(parse("* * * * *").unwrap().describe(), "every minute");
    }

    #[test]
    fn timezones() {
        assert!(check_timezone("Europe/Paris").is_ok());
        assert!(check_timezone("Local").unwrap_err().contains("rejected"));
        assert!(
            check_timezone("europe/paris")
                .unwrap_err()
                .contains("did you mean \"Europe/Paris\"")
        );
        assert!(check_timezone("").is_err());
        assert_eq!(timezone_prefix("CRON_TZ=UTC 0 * * * *"), Some(0..11));
        assert_eq!(timezone_prefix(" TZ=Europe/Paris 0 * * * *"), Some(1..16));
        assert_eq!(timezone_prefix("0 * * * *"), None);
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        for s in [
            "\u{2007}* * * * *",
            "*/99999999999999999999 * * * *",
            "@every 999999999999999999h",
            "@every .",
            "@every 1.",
            "é-ü * * * *",
            "9999999999-1 * * * *",
        ] {
            let _ = parse(s);
        }
        let big = "1,".repeat(50_000) + "2 * * * *";
        assert!(parse(&big).is_ok());
        let huge = "x".repeat(100_000);
        assert!(parse(&huge).is_err());
    }
}
