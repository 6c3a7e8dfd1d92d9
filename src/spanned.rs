//! Reading cronguard's own YAML files (the config file, policy files) with the spanned
//! loader, so every unknown key or wrong type is an error that points at the exact place in
//! the file, rendered with miette like a finding.

use crate::yaml::{self, Document, Kind, NodeId, Span};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource};
use std::sync::Arc;

/// An error at a place in one of cronguard's own files.
#[derive(Clone, Debug)]
pub struct FileError {
    pub path: String,
    pub text: Arc<str>,
    pub span: Span,
    pub message: String,
    pub label: String,
    pub help: Option<String>,
}

impl FileError {
    /// The error as miette renders it (file, line, a label on the offending key or value).
    pub fn render(&self, color: bool) -> String {
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_width(100)
            .with_links(false)
            .with_context_lines(1);
        let mut d = MietteDiagnostic::new(self.message.clone()).with_labels([LabeledSpan::at(
            self.span.start as usize..self.span.end as usize,
            self.label.clone(),
        )]);
        if let Some(h) = &self.help {
            d = d.with_help(h.clone());
        }
        let report = miette::Report::new(d)
            .with_source_code(NamedSource::new(self.path.clone(), self.text.to_string()));
        let mut out = String::new();
        let _ = handler.render_report(&mut out, report.as_ref());
        out
    }
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let li = yaml::LineIndex::new(&self.text);
        let (l, c) = li.line_col(&self.text, self.span.start as usize);
        write!(f, "{}:{l}:{c}: {}", self.path, self.message)
    }
}

/// A loaded file of cronguard's own, with error helpers.
pub struct Reader {
    pub path: String,
    pub text: Arc<str>,
    pub doc: Document,
}

/// What a node is, for "expected X, found Y" messages.
pub fn describe(doc: &Document, n: NodeId) -> &'static str {
    match &doc.node(n).kind {
        Kind::Map(_) => "a mapping",
        Kind::Seq(_) => "a list",
        Kind::Scalar { .. } => match doc.to_json(n) {
            serde_json::Value::Null => "null",
            serde_json::Value::Bool(_) => "a boolean",
            serde_json::Value::Number(_) => "a number",
            _ => "a string",
        },
    }
}

impl Reader {
    /// Load the single document of `text`; an empty file is an empty mapping.
    pub fn load(path: &str, text: &str) -> Result<Reader, FileError> {
        let text: Arc<str> = Arc::from(text);
        let loaded = yaml::load(&text, &yaml::Limits::default());
        let err = |span: Span, message: String| FileError {
            path: path.to_string(),
            text: text.clone(),
            span,
            message,
            label: "here".into(),
            help: None,
        };
        if let Some(i) = loaded.issues.first() {
            return Err(err(i.span, i.message.clone()));
        }
        if loaded.docs.len() > 1 {
            return Err(err(
                loaded.docs[1].span,
                "expected one YAML document, found several".into(),
            ));
        }
        let doc = loaded.docs.into_iter().next().unwrap_or_default();
        if let Some(d) = doc.duplicates.first() {
            return Err(err(d.last, format!("key `{}` is written twice", d.key)));
        }
        Ok(Reader {
            path: path.to_string(),
            text,
            doc,
        })
    }

    pub fn error(
        &self,
        n: NodeId,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> FileError {
        self.error_at(self.doc.span(n), message, label)
    }

    pub fn error_at(
        &self,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> FileError {
        FileError {
            path: self.path.clone(),
            text: self.text.clone(),
            span,
            message: message.into(),
            label: label.into(),
            help: None,
        }
    }

    fn wrong_type(&self, n: NodeId, key: &str, expected: &str) -> FileError {
        self.error(
            n,
            format!(
                "`{key}` must be {expected}, found {}",
                describe(&self.doc, n)
            ),
            format!("expected {expected}"),
        )
    }

    /// The entries of a mapping, each key checked against `allowed`.
    pub fn map(
        &self,
        n: NodeId,
        key: &str,
        allowed: &[&str],
    ) -> Result<Vec<(String, NodeId, NodeId)>, FileError> {
        if !self.doc.is_map(n) {
            return Err(self.wrong_type(n, key, "a mapping"));
        }
        let mut out = Vec::new();
        for &(k, v) in self.doc.map(n) {
            let name = self.doc.str(k).unwrap_or_default().to_string();
            if !allowed.contains(&name.as_str()) {
                let mut e = self.error(
                    k,
                    format!("unknown key `{name}` in {key}"),
                    "not a known key",
                );
                e.help = Some(match crate::util::closest(&name, allowed.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("known keys: {}", allowed.join(", ")),
                });
                return Err(e);
            }
            out.push((name, k, v));
        }
        Ok(out)
    }

    pub fn string(&self, n: NodeId, key: &str) -> Result<String, FileError> {
        match (&self.doc.node(n).kind, self.doc.to_json(n)) {
            (Kind::Scalar { text, .. }, serde_json::Value::String(_)) => Ok(text.to_string()),
            _ => Err(self.wrong_type(n, key, "a string")),
        }
    }

    pub fn bool(&self, n: NodeId, key: &str) -> Result<bool, FileError> {
        match self.doc.to_json(n) {
            serde_json::Value::Bool(b) => Ok(b),
            _ => Err(self.wrong_type(n, key, "a boolean (true or false)")),
        }
    }

    pub fn u64(&self, n: NodeId, key: &str) -> Result<u64, FileError> {
        match self.doc.to_json(n) {
            serde_json::Value::Number(x) if x.as_u64().is_some() => Ok(x.as_u64().unwrap_or(0)),
            _ => Err(self.wrong_type(n, key, "a non-negative integer")),
        }
    }

    /// A list of strings; each item with its node.
    pub fn strings(&self, n: NodeId, key: &str) -> Result<Vec<(String, NodeId)>, FileError> {
        if !matches!(self.doc.node(n).kind, Kind::Seq(_)) {
            return Err(self.wrong_type(n, key, "a list of strings"));
        }
        self.doc
            .seq(n)
            .iter()
            .map(|&i| Ok((self.string(i, key)?, i)))
            .collect()
    }

    pub fn severity(&self, n: NodeId, key: &str) -> Result<crate::finding::Severity, FileError> {
        let s = self.string(n, key)?;
        crate::finding::Severity::parse(&s).ok_or_else(|| {
            let mut e = self.error(
                n,
                format!("unknown severity `{s}` in `{key}`"),
                "not a severity",
            );
            e.help = Some("expected critical, high, medium, low or info".into());
            e
        })
    }
}
