//! Findings: plain data that every report renders.

use crate::k8s::ObjectId;
use crate::yaml::Span;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// How bad a finding is. Ordered: `Info < Low < Medium < High < Critical`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    #[default]
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A secondary label: another place in the same file that explains the finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub text: String,
}

/// A place in another file that explains the finding (a RoleBinding, a ConfigMap script).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    pub path: Arc<str>,
    pub span: Span,
    pub text: String,
}

/// Why a finding is suppressed, when it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Suppression {
    /// `annotation`, `comment` or `baseline`.
    pub kind: &'static str,
    pub justification: String,
}

#[derive(Clone, Debug)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    pub path: Arc<str>,
    /// The offending key or value.
    pub span: Span,
    /// Text of the primary label (what is wrong at that spot).
    pub label: String,
    pub labels: Vec<Label>,
    pub related: Vec<Related>,
    pub help: Option<String>,
    pub object: ObjectId,
    pub attack: &'static [&'static str],
    /// Line-independent locator of the offending node (`spec.containers[name=app].image`).
    pub locator: String,
    /// The normalised offending value, part of the fingerprint.
    pub value: String,
    pub suppressed: Option<Suppression>,
    /// 1-based position, filled by the pipeline from the span.
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

impl Finding {
    /// A stable fingerprint: rule, object identity, locator and normalised value. It does
    /// not depend on line numbers or the file path, so unrelated edits and file moves keep it.
    pub fn fingerprint(&self) -> String {
        let mut h = Fnv::new();
        for part in [self.rule, &self.object.key(), &self.locator, &self.value] {
            h.write(part.as_bytes());
            h.write(&[0]);
        }
        format!("{:016x}", h.finish())
    }

    /// The span of a secret value the finding points at, which renderers must mask when
    /// they show source text (the finding's own message, label and value never hold it).
    pub fn secret_span(&self) -> Option<Span> {
        (self.rule == "env-secret-literal").then_some(self.span)
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_label(mut self, span: Span, text: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            text: text.into(),
        });
        self
    }
}

/// FNV-1a 64: tiny, stable across platforms and releases (unlike `DefaultHasher`).
pub struct Fnv(u64);

impl Fnv {
    pub fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    pub fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
    pub fn finish(&self) -> u64 {
        self.0
    }
}

impl Default for Fnv {
    fn default() -> Self {
        Fnv::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_order_and_parse() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Low > Severity::Info);
        assert_eq!(Severity::parse("HIGH"), Some(Severity::High));
        assert_eq!(Severity::parse("severe"), None);
    }

    #[test]
    fn fnv_is_the_published_function() {
        let mut h = Fnv::new();
        h.write(b"a");
        assert_eq!(h.finish(), 0xaf63_dc4c_8601_ec8c);
    }
}
