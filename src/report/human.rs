//! The human report: miette's graphical diagnostics (file, source lines, a label on the exact
//! key or value, help, rule id, ATT&CK ids).
//!
//! Source lines are never printed raw: the renderer takes a window of whole lines around the
//! labels, escapes control characters, terminal escape sequences and invisible characters,
//! and cuts overlong lines around the label, so a manifest cannot rewrite the reviewer's
//! terminal or flood a CI log.

use super::{attack_name, escape_display};
use crate::finding::{Finding, Severity};
use crate::scan::Outcome;
use crate::yaml::{LineIndex, Span};
use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError,
    MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};
use std::fmt;
use std::io::Write;

/// At most this many characters of one source line are shown.
pub const MAX_LINE_CHARS: usize = 240;
/// Secondary labels further than this many lines from the primary one are listed as notes.
const MAX_LABEL_DISTANCE: usize = 3;

#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub color: bool,
    pub width: usize,
    /// Render suppressed findings too (they are always counted in the summary).
    pub show_suppressed: bool,
}

/// A sanitized window of source lines that maps original offsets to window offsets.
struct Snippet {
    name: String,
    text: String,
    /// 0-based number of the window's first line in the file.
    first_line: usize,
}

impl SourceCode for Snippet {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let c = self.text.read_span(span, before, after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            c.data(),
            *c.span(),
            c.line() + self.first_line,
            c.column(),
            c.line_count(),
        )))
    }
}

/// Builds the window text and translates offsets.
struct Window {
    text: String,
    /// (original offset, window offset) at every point where the mapping changes.
    marks: Vec<(usize, usize)>,
}

impl Window {
    fn map(&self, orig: usize) -> usize {
        let i = match self.marks.binary_search_by_key(&orig, |m| m.0) {
            Ok(i) => i,
            Err(0) => return 0,
            Err(i) => i - 1,
        };
        let (o, w) = self.marks[i];
        // Inside a replaced or cut piece: clamp to its start in the window.
        let next = self.marks.get(i + 1).map_or(usize::MAX, |m| m.1);
        (w + (orig - o)).min(next).min(self.text.len())
    }
}

fn build_window(src: &str, li: &LineIndex, first: usize, last: usize, focus: &[usize]) -> Window {
    let mut text = String::new();
    let mut marks = Vec::new();
    for line in first..=last {
        let r = li.line_range(src, line);
        let line_text = &src[r.clone()];
        // Pick which part of a long line to show: around the first label on it.
        let chars: Vec<(usize, char)> = line_text.char_indices().collect();
        let (from, to) = if chars.len() > MAX_LINE_CHARS {
            let anchor = focus
                .iter()
                .find(|f| (r.start..=r.end).contains(*f))
                .map_or(0, |f| {
                    chars
                        .iter()
                        .position(|(i, _)| r.start + i >= *f)
                        .unwrap_or(0)
                });
            let from = anchor.saturating_sub(MAX_LINE_CHARS / 3);
            (from, (from + MAX_LINE_CHARS).min(chars.len()))
        } else {
            (0, chars.len())
        };
        if from > 0 {
            marks.push((r.start, text.len()));
            text.push('…');
        }
        for &(i, ch) in &chars[from..to] {
            let orig = r.start + i;
            marks.push((orig, text.len()));
            escape_display(ch, &mut text);
        }
        let end_orig = r.start + chars.get(to).map_or(line_text.len(), |c| c.0);
        marks.push((end_orig, text.len()));
        if to < chars.len() {
            text.push('…');
            marks.push((r.end, text.len()));
        }
        if line != last {
            text.push('\n');
        }
        // Line break(s) of the original map onto the one we wrote.
        marks.push((li.line_range(src, line + 1).start, text.len()));
    }
    marks.sort_by_key(|m| m.0);
    marks.dedup_by_key(|m| m.0);
    Window { text, marks }
}

struct Diag {
    message: String,
    code: String,
    severity: miette::Severity,
    help: Option<String>,
    labels: Vec<LabeledSpan>,
    snippet: Option<Snippet>,
    related: Vec<Diag>,
}

impl fmt::Debug for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl fmt::Display for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for Diag {}

impl Diagnostic for Diag {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        if self.code.is_empty() {
            return None;
        }
        Some(Box::new(&self.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.snippet.as_ref().map(|s| s as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(self.related.iter().map(|d| d as &dyn Diagnostic)))
        }
    }
}

fn miette_severity(s: Severity) -> miette::Severity {
    match s {
        Severity::Critical | Severity::High => miette::Severity::Error,
        Severity::Medium => miette::Severity::Warning,
        Severity::Low | Severity::Info => miette::Severity::Advice,
    }
}

fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        escape_display(ch, &mut out);
    }
    out
}

/// Build a snippet showing `spans` (primary first) of `src`.
fn snippet_for(
    path: &str,
    src: &str,
    li: &LineIndex,
    spans: &[(Span, String, bool)],
) -> (Snippet, Vec<LabeledSpan>) {
    let lines: Vec<(usize, usize)> = spans
        .iter()
        .map(|(s, _, _)| {
            (
                li.line_col(src, s.start as usize).0,
                li.line_col(src, s.end as usize).0,
            )
        })
        .collect();
    let first = lines
        .iter()
        .map(|l| l.0)
        .min()
        .unwrap_or(1)
        .saturating_sub(1)
        .max(1);
    let last = (lines.iter().map(|l| l.1).max().unwrap_or(1) + 1).min(li.line_count());
    let focus: Vec<usize> = spans.iter().map(|s| s.0.start as usize).collect();
    let w = build_window(src, li, first, last, &focus);
    let base = li.line_range(src, first).start;
    let labels = spans
        .iter()
        .map(|(s, text, primary)| {
            let a = w.map(s.start as usize);
            let b = w.map(s.end as usize).max(a);
            let label = (!text.is_empty()).then(|| clean(text));
            let sp = SourceSpan::new(a.into(), b - a);
            if *primary {
                LabeledSpan::new_primary_with_span(label, sp)
            } else {
                LabeledSpan::new_with_span(label, sp)
            }
        })
        .collect();
    let _ = base;
    (
        Snippet {
            name: clean(path),
            text: w.text,
            first_line: first - 1,
        },
        labels,
    )
}

/// `src` with the bytes of `span` (but line breaks) replaced by `*`: same offsets, no secret.
fn mask(src: &str, span: Span) -> String {
    let mut b = src.as_bytes().to_vec();
    for x in b.get_mut(span.range()).into_iter().flatten() {
        if *x != b'\n' {
            *x = b'*';
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

fn diag_for(f: &Finding, src: Option<&str>, sources: Option<&Sources>) -> Diag {
    let masked;
    let src = match (src, f.secret_span()) {
        (Some(s), Some(span)) => {
            masked = mask(s, span);
            Some(masked.as_str())
        }
        _ => src,
    };
    let mut help = f.help.clone().map(|h| clean(&h));
    let mut notes = vec![format!("in {}", clean(&f.object.display()))];
    if !f.attack.is_empty() {
        let att: Vec<String> = f
            .attack
            .iter()
            .map(|a| match attack_name(a) {
                Some(n) => format!("{a} {n}"),
                None => (*a).to_string(),
            })
            .collect();
        notes.push(format!("MITRE ATT&CK {}", att.join(", ")));
    }
    if let Some(s) = &f.suppressed {
        notes.push(format!(
            "suppressed ({}): {}",
            s.kind,
            clean(&s.justification)
        ));
    }
    let note = notes.join(" · ");
    help = Some(match help {
        Some(h) => format!("{h}\n{note}"),
        None => note,
    });
    let mut related = Vec::new();
    let (snippet, labels) = match src {
        Some(src) => {
            let li = LineIndex::new(src);
            let pline = li.line_col(src, f.span.start as usize).0;
            let mut spans = vec![(f.span, f.label.clone(), true)];
            for l in &f.labels {
                let line = li.line_col(src, l.span.start as usize).0;
                if line.abs_diff(pline) <= MAX_LABEL_DISTANCE {
                    spans.push((l.span, l.text.clone(), false));
                } else {
                    let (snip, labels) =
                        snippet_for(&f.path, src, &li, &[(l.span, l.text.clone(), true)]);
                    related.push(Diag {
                        message: clean(&l.text),
                        code: String::new(),
                        severity: miette::Severity::Advice,
                        help: None,
                        labels,
                        snippet: Some(snip),
                        related: Vec::new(),
                    });
                }
            }
            let (s, l) = snippet_for(&f.path, src, &li, &spans);
            (Some(s), l)
        }
        None => (None, Vec::new()),
    };
    for r in &f.related {
        // A related place in another file (or this one): shown with its source lines when
        // the report has that file's text, otherwise named by path.
        let rsrc = if *r.path == *f.path {
            src
        } else {
            sources.and_then(|m| m.get(&r.path)).map(|s| &**s)
        };
        let (message, snippet, labels) = match rsrc.filter(|s| r.span.end as usize <= s.len()) {
            Some(rsrc) => {
                let li = LineIndex::new(rsrc);
                // A block mapping's span ends after its last line break: show its lines only.
                let text = rsrc.get(r.span.range()).unwrap_or("");
                let start = r.span.start as usize;
                let end = (start + text.trim_end().len())
                    .max(start + 1)
                    .min(rsrc.len());
                let span = Span::new(start, end);
                let (snip, labels) =
                    snippet_for(&r.path, rsrc, &li, &[(span, String::new(), true)]);
                (clean(&r.text), Some(snip), labels)
            }
            None => (
                format!("{} ({})", clean(&r.text), clean(&r.path)),
                None,
                Vec::new(),
            ),
        };
        related.push(Diag {
            message,
            code: String::new(),
            severity: miette::Severity::Advice,
            help: None,
            labels,
            snippet,
            related: Vec::new(),
        });
    }
    Diag {
        message: format!("[{}] {}", f.severity, clean(&f.message)),
        code: f.rule.to_string(),
        severity: miette_severity(f.severity),
        help,
        labels,
        snippet,
        related,
    }
}

/// Render one finding as text. Related places in other files are named, not shown; use
/// [`render_finding_in`] to show their lines.
pub fn render_finding(f: &Finding, src: Option<&str>, style: Style) -> String {
    render(f, src, None, style)
}

/// Render one finding, taking source text (its own and its related places') from `sources`.
pub fn render_finding_in(f: &Finding, sources: &Sources, style: Style) -> String {
    let src = sources.get(&f.path).map(|s| &**s);
    render(f, src, Some(sources), style)
}

/// Source text by path, as the scan outcome keeps it.
pub type Sources = std::collections::BTreeMap<std::sync::Arc<str>, std::sync::Arc<str>>;

fn render(f: &Finding, src: Option<&str>, sources: Option<&Sources>, style: Style) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false)
        .with_urls(false)
        .with_context_lines(1)
        .with_primary_span_start();
    let d = diag_for(f, src, sources);
    let mut out = String::new();
    let _ = handler.render_report(&mut out, &d);
    out
}

/// Write the whole human report (findings rendered on rayon's global pool).
pub fn write(out: &mut dyn Write, o: &Outcome, style: Style) -> std::io::Result<()> {
    write_par(out, o, style, &crate::util::Par::default())
}

/// Write the whole human report, rendering the findings in parallel on `par`, a batch at a
/// time, and writing them in report order.
pub fn write_par(
    out: &mut dyn Write,
    o: &Outcome,
    style: Style,
    par: &crate::util::Par,
) -> std::io::Result<()> {
    let shown: Vec<&Finding> = o
        .findings
        .iter()
        .filter(|f| style.show_suppressed || f.suppressed.is_none())
        .collect();
    for batch in shown.chunks(1024) {
        let chunks: Vec<&[&Finding]> = batch.chunks(64).collect();
        let rendered = par.map(&chunks, |chunk| {
            let mut text = String::new();
            for f in *chunk {
                text.push_str(&render_finding_in(f, &o.sources, style));
                text.push('\n');
            }
            text
        });
        for text in rendered {
            out.write_all(text.as_bytes())?;
        }
    }
    for s in &o.skipped {
        writeln!(out, "skipped {}: {}", clean(&s.path), clean(&s.reason))?;
    }
    writeln!(out, "{}", super::summary_line(o))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_escapes_terminal_sequences_and_maps_offsets() {
        let src = "a: 1\nb: \"\x1b[2Jx\"\nc: 3\n";
        let li = LineIndex::new(src);
        let w = build_window(src, &li, 1, 3, &[]);
        assert!(!w.text.contains('\x1b'), "{:?}", w.text);
        let x = src.find('x').unwrap();
        assert_eq!(&w.text[w.map(x)..=w.map(x)], "x");
        let c = src.find("c:").unwrap();
        assert_eq!(&w.text[w.map(c)..w.map(c) + 2], "c:");
    }

    #[test]
    fn secret_spans_are_masked_with_offsets_kept() {
        let src = "a: 1\nv: s3cr\u{e9}t\nb: 2\n";
        let start = src.find("s3").unwrap();
        let end = src.find("\nb").unwrap();
        let m = mask(src, Span::new(start, end));
        assert_eq!(m.len(), src.len());
        assert!(!m.contains("s3cr"));
        assert!(m.ends_with("\nb: 2\n"));
    }

    #[test]
    fn related_places_show_their_lines_when_the_source_is_known() {
        let src = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\nspec:\n  serviceAccountName: s\n  containers: [{name: a, image: alpine}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: {kind: ClusterRole, name: cluster-admin}\nsubjects:\n- {kind: ServiceAccount, name: s, namespace: n}\n";
        let o = crate::rules::testing::scan_all(src);
        let f = o
            .findings
            .iter()
            .find(|f| f.rule == "service-account-privileged")
            .unwrap();
        let style = Style {
            color: false,
            width: 100,
            show_suppressed: true,
        };
        let shown = render_finding_in(f, &o.sources, style);
        assert!(shown.contains("ClusterRoleBinding b binds it to ClusterRole cluster-admin"));
        assert!(shown.contains("test.yaml:13:3"), "{shown}");
        assert!(shown.contains("- {kind: ServiceAccount, name: s, namespace: n}"));
        // Without the other file's text the place is still named.
        let mut elsewhere = f.clone();
        elsewhere.related[0].path = "other.yaml".into();
        let named = render_finding(&elsewhere, Some(src), style);
        assert!(named.contains("cluster-admin (other.yaml)"), "{named}");
    }

    #[test]
    fn long_lines_are_cut_around_the_label() {
        let src = format!("k: {}TARGET{}\n", "a".repeat(5000), "b".repeat(5000));
        let li = LineIndex::new(&src);
        let t = src.find("TARGET").unwrap();
        let w = build_window(&src, &li, 1, 1, &[t]);
        assert!(w.text.chars().count() <= MAX_LINE_CHARS + 2);
        assert_eq!(&w.text[w.map(t)..w.map(t) + 6], "TARGET");
    }
}
