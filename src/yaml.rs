//! A YAML loader that keeps the exact byte span of every key and value.
//!
//! It drives `granit-parser`'s event stream (byte offsets, comment events, nesting limits)
//! and builds an arena tree **iteratively**, so a 100,000-deep document cannot overflow the
//! stack. While building it records what the evasion rules need: duplicate keys (both
//! spans), values that arrived through an alias or a `<<` merge key, and comments. It
//! enforces an alias-expansion budget (a billion-laughs document stays cheap), a nesting
//! limit and a document-count limit; hitting one is a [`LoadIssue`], never a panic.
//!
//! Scalars keep their raw text and style; their meaning is resolved the way Kubernetes
//! resolves it (sigs.k8s.io/yaml on go-yaml: YAML 1.1 booleans such as `yes`/`on` are
//! booleans), see [`Document::as_bool`].

use granit_parser::{Event, Parser, ScalarStyle, ScanError};

/// A byte range in the source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end.max(start) as u32,
        }
    }
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }
    pub fn is_empty(self) -> bool {
        self.end == self.start
    }
    /// A sub-range of this span, given relative byte offsets.
    pub fn slice(self, r: std::ops::Range<usize>) -> Span {
        Span::new(self.start as usize + r.start, self.start as usize + r.end)
    }
}

pub type NodeId = u32;

/// How a node got where it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Written inline at its span.
    Inline,
    /// Copied from an anchor by the alias `*x` at `alias` (the node's own span still points
    /// at the anchored original).
    Alias { alias: Span },
    /// Merged into a mapping by the `<<` key at `merge_key`.
    Merge { merge_key: Span },
}

#[derive(Clone, Debug)]
pub enum Kind {
    Scalar { text: Box<str>, plain: bool },
    Seq(Vec<NodeId>),
    Map(Vec<(NodeId, NodeId)>),
}

#[derive(Clone, Debug)]
pub struct Node {
    pub span: Span,
    pub kind: Kind,
    pub origin: Origin,
    pub parent: Option<NodeId>,
}

/// A mapping key written twice in the same mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateKey {
    pub key: String,
    /// What a reviewer reads first.
    pub first: Span,
    /// What applies (the last occurrence wins in Kubernetes' YAML-to-JSON conversion).
    pub last: Span,
    /// The mapping that holds both.
    pub map: NodeId,
}

/// One YAML document, as an arena of nodes.
#[derive(Clone, Debug, Default)]
pub struct Document {
    pub nodes: Vec<Node>,
    pub root: Option<NodeId>,
    pub duplicates: Vec<DuplicateKey>,
    /// Index of the document in its file (0-based).
    pub index: usize,
    /// Span of the whole document.
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub span: Span,
    pub text: String,
}

/// Why (part of) a file could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadIssue {
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug, Default)]
pub struct Loaded {
    pub docs: Vec<Document>,
    pub comments: Vec<Comment>,
    pub issues: Vec<LoadIssue>,
}

/// Resource limits of the loader.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_depth: usize,
    /// Nodes that aliases may copy, per document.
    pub max_alias_nodes: usize,
    pub max_documents: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 200,
            max_alias_nodes: 100_000,
            max_documents: 10_000,
        }
    }
}

/// Open collection on the builder stack.
enum Frame {
    Seq {
        id: NodeId,
        items: Vec<NodeId>,
        anchor: usize,
    },
    Map {
        id: NodeId,
        entries: Vec<(NodeId, NodeId)>,
        pending_key: Option<NodeId>,
        anchor: usize,
        /// `<<` merge sources, with the span of the `<<` key.
        merges: Vec<(Span, NodeId)>,
    },
}

struct Builder<'a> {
    doc: Document,
    stack: Vec<Frame>,
    anchors: Vec<(usize, NodeId)>,
    alias_budget: usize,
    limits: &'a Limits,
}

enum BuildError {
    AliasBudget(Span),
    UnknownAnchor(Span),
}

impl Builder<'_> {
    fn push_node(&mut self, span: Span, kind: Kind) -> NodeId {
        let id = self.doc.nodes.len() as NodeId;
        self.doc.nodes.push(Node {
            span,
            kind,
            origin: Origin::Inline,
            parent: None,
        });
        id
    }

    /// Attach a finished node to the open collection (or make it the root).
    fn attach(&mut self, id: NodeId) {
        let is_merge_key = |doc: &Document, key: NodeId| matches!(&doc.nodes[key as usize].kind, Kind::Scalar { text, plain: true } if &**text == "<<");
        match self.stack.last_mut() {
            None => self.doc.root = Some(id),
            Some(Frame::Seq { id: p, items, .. }) => {
                self.doc.nodes[id as usize].parent = Some(*p);
                items.push(id);
            }
            Some(Frame::Map {
                id: p,
                entries,
                pending_key,
                merges,
                ..
            }) => {
                self.doc.nodes[id as usize].parent = Some(*p);
                match pending_key.take() {
                    None => *pending_key = Some(id),
                    Some(k) => {
                        if is_merge_key(&self.doc, k) {
                            merges.push((self.doc.nodes[k as usize].span, id));
                        } else {
                            entries.push((k, id));
                        }
                    }
                }
            }
        }
    }

    fn copy_subtree(&mut self, src: NodeId, alias: Span) -> Result<NodeId, BuildError> {
        // Iterative deep copy with a budget.
        let new_root = self.doc.nodes.len() as NodeId;
        let mut work: Vec<(NodeId, Option<NodeId>)> = vec![(src, None)];
        // Map from source node to copy, only needed to fill children: we copy in DFS order and
        // fix up children lists afterwards.
        let mut pairs: Vec<(NodeId, NodeId)> = Vec::new();
        while let Some((s, parent)) = work.pop() {
            if self.alias_budget == 0 {
                return Err(BuildError::AliasBudget(alias));
            }
            self.alias_budget -= 1;
            let node = &self.doc.nodes[s as usize];
            let span = node.span;
            let kind = match &node.kind {
                Kind::Scalar { text, plain } => Kind::Scalar {
                    text: text.clone(),
                    plain: *plain,
                },
                Kind::Seq(items) => Kind::Seq(items.clone()),
                Kind::Map(entries) => Kind::Map(entries.clone()),
            };
            let id = self.doc.nodes.len() as NodeId;
            self.doc.nodes.push(Node {
                span,
                kind,
                origin: if parent.is_none() {
                    Origin::Alias { alias }
                } else {
                    self.doc.nodes[s as usize].origin
                },
                parent,
            });
            pairs.push((s, id));
            match &self.doc.nodes[s as usize].kind {
                Kind::Scalar { .. } => {}
                Kind::Seq(items) => {
                    for &c in items.iter().rev() {
                        work.push((c, Some(id)));
                    }
                }
                Kind::Map(entries) => {
                    for &(k, v) in entries.iter().rev() {
                        work.push((v, Some(id)));
                        work.push((k, Some(id)));
                    }
                }
            }
        }
        // Fix up children: they still name source ids; translate through `pairs`.
        pairs.sort_unstable();
        let lookup = |s: NodeId| -> NodeId {
            match pairs.binary_search_by_key(&s, |p| p.0) {
                Ok(i) => pairs[i].1,
                Err(_) => s,
            }
        };
        let copied: Vec<NodeId> = pairs.iter().map(|p| p.1).collect();
        for id in copied {
            match &mut self.doc.nodes[id as usize].kind {
                Kind::Scalar { .. } => {}
                Kind::Seq(items) => {
                    for c in items.iter_mut() {
                        *c = lookup(*c);
                    }
                }
                Kind::Map(entries) => {
                    for (k, v) in entries.iter_mut() {
                        *k = lookup(*k);
                        *v = lookup(*v);
                    }
                }
            }
        }
        Ok(new_root)
    }

    fn finish_map(&mut self, frame: Frame, end: usize) {
        let Frame::Map {
            id,
            mut entries,
            pending_key,
            anchor,
            merges,
        } = frame
        else {
            return;
        };
        if let Some(k) = pending_key {
            // A key without a value cannot happen in a well-formed event stream; keep the key
            // with a null value so nothing is lost.
            let span = self.doc.nodes[k as usize].span;
            let null = self.push_node(
                Span::new(span.end as usize, span.end as usize),
                Kind::Scalar {
                    text: "".into(),
                    plain: true,
                },
            );
            self.doc.nodes[null as usize].parent = Some(id);
            entries.push((k, null));
        }
        // Duplicate keys: keep the last value, record both spans.
        let mut dedup: Vec<(NodeId, NodeId)> = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            let key_text = self.doc.nodes[k as usize].kind.scalar_text();
            let dup = key_text.and_then(|kt| {
                dedup
                    .iter()
                    .position(|&(k2, _)| self.doc.nodes[k2 as usize].kind.scalar_text() == Some(kt))
            });
            if let (Some(pos), Some(kt)) = (dup, key_text) {
                let first = self.doc.nodes[dedup[pos].0 as usize].span;
                let last = self.doc.nodes[k as usize].span;
                self.doc.duplicates.push(DuplicateKey {
                    key: kt.to_string(),
                    first,
                    last,
                    map: id,
                });
                dedup.remove(pos);
            }
            dedup.push((k, v));
        }
        // `<<` merges: explicit keys win; earlier merge sources win over later ones.
        for (merge_key, src) in merges {
            let sources: Vec<NodeId> = match &self.doc.nodes[src as usize].kind {
                Kind::Map(_) => vec![src],
                Kind::Seq(items) => items.clone(),
                Kind::Scalar { .. } => vec![],
            };
            for s in sources {
                let Kind::Map(src_entries) = &self.doc.nodes[s as usize].kind else {
                    continue;
                };
                for (k, v) in src_entries.clone() {
                    let kt = self.doc.nodes[k as usize].kind.scalar_text();
                    let exists = dedup
                        .iter()
                        .any(|&(k2, _)| self.doc.nodes[k2 as usize].kind.scalar_text() == kt);
                    if !exists {
                        self.doc.nodes[v as usize].origin = Origin::Merge { merge_key };
                        self.doc.nodes[k as usize].origin = Origin::Merge { merge_key };
                        dedup.push((k, v));
                    }
                }
            }
        }
        let node = &mut self.doc.nodes[id as usize];
        node.span.end = end.max(node.span.start as usize) as u32;
        node.kind = Kind::Map(dedup);
        if anchor != 0 {
            self.anchors.push((anchor, id));
        }
        self.attach(id);
    }
}

impl Kind {
    pub fn scalar_text(&self) -> Option<&str> {
        match self {
            Kind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }
}

fn span_of(s: &granit_parser::Span) -> Span {
    let start = s.start.byte_offset().unwrap_or(0);
    let end = s.end.byte_offset().unwrap_or(start);
    Span::new(start, end)
}

fn scan_error_issue(e: &ScanError, base: usize, limits: &Limits) -> LoadIssue {
    let off = e.marker().byte_offset().unwrap_or(0) + base;
    let info = e.info();
    let message = if info.contains("recursion limit") || info.contains("nesting limit") {
        format!(
            "nesting deeper than {} levels; the document is not scanned",
            limits.max_depth
        )
    } else {
        format!("invalid YAML: {info}")
    };
    LoadIssue {
        span: Span::new(off, off),
        message,
    }
}

/// Load every document of a YAML (or JSON) stream.
///
/// On a syntax error the documents completed before it are kept, the error is recorded, and
/// loading resumes at the next `---` line, so one broken document does not hide the others.
pub fn load(src: &str, limits: &Limits) -> Loaded {
    let mut out = Loaded::default();
    load_range(src, 0, src.len(), limits, &mut out);
    out
}

/// Load only the documents of `src` whose text `keep` accepts: the stream is cut at its
/// `---` lines (where the parser's documents start, and where it resumes after an error),
/// and each piece `keep` wants is loaded on its own, with spans into the whole `src`.
/// The index pass uses it for files whose workloads are parsed again by the scan pass: it
/// needs only their ServiceAccounts, RBAC and ConfigMaps. Documents' `index` fields count
/// the loaded documents only. With more pieces than `max_documents`, the whole stream is
/// loaded (the limit then applies as in [`load`]).
pub fn load_matching(src: &str, limits: &Limits, keep: impl Fn(&str) -> bool) -> Loaded {
    let mut starts = vec![0];
    while let Some(next) = next_document_start(src, *starts.last().unwrap_or(&0)) {
        starts.push(next);
        if starts.len() > limits.max_documents {
            return load(src, limits);
        }
    }
    starts.push(src.len());
    let mut out = Loaded::default();
    for w in starts.windows(2) {
        if w[0] < w[1] && keep(&src[w[0]..w[1]]) {
            load_range(src, w[0], w[1], limits, &mut out);
        }
    }
    out
}

/// Load the documents of `src[start..end]` (spans into `src`), resuming after errors.
fn load_range(src: &str, start: usize, end: usize, limits: &Limits, out: &mut Loaded) {
    let mut base = start;
    loop {
        let resume = load_from(src, base, end, limits, out);
        match resume {
            Some(next) if next > base && next < end => base = next,
            _ => break,
        }
    }
}

/// Find the start of the next line that begins a document (`---`) after `from`.
fn next_document_start(src: &str, from: usize) -> Option<usize> {
    let bytes = src.as_bytes();
    let mut i = from;
    // Move to the start of the next line.
    while i < bytes.len() && bytes[i] != b'\n' {
        i += 1;
    }
    while i < bytes.len() {
        i += 1; // past '\n'
        if bytes[i..].starts_with(b"---")
            && matches!(bytes.get(i + 3), None | Some(b' ' | b'\t' | b'\n' | b'\r'))
        {
            return Some(i);
        }
        while i < bytes.len() && bytes[i] != b'\n' {
            i += 1;
        }
    }
    None
}

/// Load documents from `src[base..end]`; returns where to resume after an error.
fn load_from(
    src: &str,
    base: usize,
    end: usize,
    limits: &Limits,
    out: &mut Loaded,
) -> Option<usize> {
    let text = &src[base..end];
    let options = granit_parser::options! {
        flow_nesting_limit: limits.max_depth,
        block_nesting_limit: limits.max_depth,
    };
    let mut parser = Parser::new_from_str_with_options(text, options);
    let mut b: Option<Builder> = None;
    let shift = |s: Span| Span::new(s.start as usize + base, s.end as usize + base);
    let mut doc_start = 0usize;
    loop {
        let next = parser.next_event()?;
        let (ev, sp) = match next {
            Ok(x) => x,
            Err(e) => {
                out.issues.push(scan_error_issue(&e, base, limits));
                let at = e.marker().byte_offset().unwrap_or(0) + base;
                return next_document_start(src, at.max(base + doc_start));
            }
        };
        let span = shift(span_of(&sp));
        match ev {
            Event::StreamStart | Event::StreamEnd => {}
            Event::DocumentStart(..) => {
                doc_start = span.start as usize - base;
                if out.docs.len() >= limits.max_documents {
                    out.issues.push(LoadIssue {
                        span,
                        message: format!(
                            "more than {} documents in one file; the rest is not scanned",
                            limits.max_documents
                        ),
                    });
                    return None;
                }
                b = Some(Builder {
                    doc: Document {
                        index: out.docs.len(),
                        span,
                        ..Document::default()
                    },
                    stack: Vec::new(),
                    anchors: Vec::new(),
                    alias_budget: limits.max_alias_nodes,
                    limits,
                });
            }
            Event::DocumentEnd => {
                if let Some(mut bd) = b.take() {
                    bd.doc.span.end = span.end.max(bd.doc.span.start);
                    if let Some(r) = bd.doc.root {
                        bd.doc.span.end = bd.doc.span.end.max(bd.doc.nodes[r as usize].span.end);
                    }
                    let _ = bd.limits;
                    out.docs.push(bd.doc);
                }
            }
            #[allow(unreachable_patterns)]
            Event::Comment(text, _) => {
                out.comments.push(Comment {
                    span,
                    text: text.into_owned(),
                });
            }
            Event::Scalar(text, style, anchor, _tag) => {
                let Some(bd) = b.as_mut() else { continue };
                let id = bd.push_node(
                    span,
                    Kind::Scalar {
                        text: text.into(),
                        plain: matches!(style, ScalarStyle::Plain),
                    },
                );
                if anchor != 0 {
                    bd.anchors.push((anchor, id));
                }
                bd.attach(id);
            }
            Event::Alias(anchor) => {
                let Some(bd) = b.as_mut() else { continue };
                let target = bd
                    .anchors
                    .iter()
                    .rev()
                    .find(|(a, _)| *a == anchor)
                    .map(|(_, id)| *id);
                let result = match target {
                    Some(t) => bd.copy_subtree(t, span),
                    None => Err(BuildError::UnknownAnchor(span)),
                };
                match result {
                    Ok(id) => bd.attach(id),
                    Err(err) => {
                        let (span, message) = match err {
                            BuildError::AliasBudget(s) => (
                                s,
                                format!(
                                    "aliases expand to more than {} nodes (billion-laughs style document); document {} is not scanned",
                                    limits.max_alias_nodes,
                                    bd.doc.index + 1
                                ),
                            ),
                            BuildError::UnknownAnchor(s) => {
                                (s, "alias to an unknown anchor".to_string())
                            }
                        };
                        out.issues.push(LoadIssue { span, message });
                        let at = span.end as usize;
                        return next_document_start(src, at);
                    }
                }
            }
            Event::SequenceStart(_, anchor, _) => {
                let Some(bd) = b.as_mut() else { continue };
                let id = bd.push_node(span, Kind::Seq(Vec::new()));
                bd.stack.push(Frame::Seq {
                    id,
                    items: Vec::new(),
                    anchor,
                });
            }
            Event::SequenceEnd => {
                let Some(bd) = b.as_mut() else { continue };
                if let Some(Frame::Seq { id, items, anchor }) = bd.stack.pop() {
                    let node = &mut bd.doc.nodes[id as usize];
                    node.span.end = span.end.max(node.span.start);
                    node.kind = Kind::Seq(items);
                    if anchor != 0 {
                        bd.anchors.push((anchor, id));
                    }
                    bd.attach(id);
                }
            }
            Event::MappingStart(_, anchor, _) => {
                let Some(bd) = b.as_mut() else { continue };
                let id = bd.push_node(span, Kind::Map(Vec::new()));
                bd.stack.push(Frame::Map {
                    id,
                    entries: Vec::new(),
                    pending_key: None,
                    anchor,
                    merges: Vec::new(),
                });
            }
            Event::MappingEnd => {
                let Some(bd) = b.as_mut() else { continue };
                if let Some(frame) = bd.stack.pop() {
                    bd.finish_map(frame, span.end as usize);
                }
            }
            _ => {}
        }
    }
}

/// YAML 1.1 booleans as go-yaml v2 (and so `kubectl`/the API server) read plain scalars.
pub fn yaml11_bool(text: &str) -> Option<bool> {
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Some(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Some(false)
        }
        _ => None,
    }
}

impl Document {
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }
    pub fn span(&self, id: NodeId) -> Span {
        self.nodes[id as usize].span
    }

    /// The value of `key` in mapping `map`.
    pub fn get(&self, map: NodeId, key: &str) -> Option<NodeId> {
        self.entry(map, key).map(|(_, v)| v)
    }

    /// The (key, value) entry of `key` in mapping `map`.
    pub fn entry(&self, map: NodeId, key: &str) -> Option<(NodeId, NodeId)> {
        match &self.nodes[map as usize].kind {
            Kind::Map(entries) => entries
                .iter()
                .find(|(k, _)| self.nodes[*k as usize].kind.scalar_text() == Some(key))
                .copied(),
            _ => None,
        }
    }

    /// Follow a dotted path of mapping keys.
    pub fn path(&self, from: NodeId, path: &[&str]) -> Option<NodeId> {
        let mut cur = from;
        for k in path {
            cur = self.get(cur, k)?;
        }
        Some(cur)
    }

    pub fn str(&self, id: NodeId) -> Option<&str> {
        match &self.nodes[id as usize].kind {
            Kind::Scalar { text, plain } => {
                if *plain && matches!(&**text, "" | "~" | "null" | "Null" | "NULL") {
                    None
                } else {
                    Some(text)
                }
            }
            _ => None,
        }
    }

    /// A string value at `key` of `map`.
    pub fn get_str(&self, map: NodeId, key: &str) -> Option<&str> {
        self.get(map, key).and_then(|v| self.str(v))
    }

    /// A boolean as Kubernetes reads it (YAML 1.1 words on plain scalars; a quoted
    /// `"true"` is a string, which the API server rejects, so it is not `true` here).
    pub fn as_bool(&self, id: NodeId) -> Option<bool> {
        match &self.nodes[id as usize].kind {
            Kind::Scalar { text, plain: true } => yaml11_bool(text),
            _ => None,
        }
    }

    pub fn as_i64(&self, id: NodeId) -> Option<i64> {
        match &self.nodes[id as usize].kind {
            Kind::Scalar { text, plain: true } => {
                let t = text.replace('_', "");
                if let Some(h) = t.strip_prefix("0x") {
                    i64::from_str_radix(h, 16).ok()
                } else if let Some(o) = t.strip_prefix("0o") {
                    i64::from_str_radix(o, 8).ok()
                } else {
                    t.parse::<i64>().ok().or_else(|| {
                        t.parse::<f64>().ok().and_then(|f| {
                            #[allow(clippy::cast_precision_loss)]
                            let in_range = f.fract() == 0.0 && f.abs() < 9.0e15;
                            #[allow(clippy::float_cmp)]
                            in_range.then_some(f as i64)
                        })
                    })
                }
            }
            _ => None,
        }
    }

    pub fn seq(&self, id: NodeId) -> &[NodeId] {
        match &self.nodes[id as usize].kind {
            Kind::Seq(items) => items,
            _ => &[],
        }
    }

    pub fn map(&self, id: NodeId) -> &[(NodeId, NodeId)] {
        match &self.nodes[id as usize].kind {
            Kind::Map(entries) => entries,
            _ => &[],
        }
    }

    pub fn is_map(&self, id: NodeId) -> bool {
        matches!(self.nodes[id as usize].kind, Kind::Map(_))
    }

    /// The key node whose value is `value`, if `value` sits in a mapping.
    pub fn key_of(&self, value: NodeId) -> Option<NodeId> {
        let parent = self.nodes[value as usize].parent?;
        self.map(parent)
            .iter()
            .find(|(_, v)| *v == value)
            .map(|(k, _)| *k)
    }

    /// A stable, line-independent locator of a node: `spec.containers[name=app].image`.
    /// Sequence items that are mappings with a `name` are named by it, so reordering or
    /// inserting lines elsewhere does not change it.
    pub fn locator(&self, id: NodeId) -> String {
        enum Part<'a> {
            Key(&'a str),
            Name(&'a str),
            Index(usize),
        }
        let mut parts: Vec<Part> = Vec::new();
        let mut cur = id;
        while let Some(p) = self.nodes[cur as usize].parent {
            match &self.nodes[p as usize].kind {
                Kind::Map(entries) => {
                    if let Some((k, _)) = entries.iter().find(|(k, v)| *v == cur || *k == cur) {
                        let key = self.nodes[*k as usize].kind.scalar_text().unwrap_or("?");
                        parts.push(Part::Key(key));
                    }
                }
                Kind::Seq(items) => match self.get_str(cur, "name") {
                    Some(n) => parts.push(Part::Name(n)),
                    None => parts.push(Part::Index(
                        items.iter().position(|c| *c == cur).unwrap_or(0),
                    )),
                },
                Kind::Scalar { .. } => {}
            }
            cur = p;
        }
        let mut s = String::with_capacity(64);
        for (n, part) in parts.iter().rev().enumerate() {
            match part {
                Part::Key(k) => {
                    // `a.b`, `a[0].b`, `[0].b`: a dot before every key but a leading one.
                    if n > 0 {
                        s.push('.');
                    }
                    s.push_str(k);
                }
                Part::Name(n) => {
                    s.push_str("[name=");
                    s.push_str(n);
                    s.push(']');
                }
                Part::Index(i) => {
                    use std::fmt::Write;
                    // Writing to a String cannot fail.
                    let _ = write!(s, "[{i}]");
                }
            }
        }
        s
    }

    /// Convert a subtree to JSON (for schema validation and policies), resolving scalars
    /// the way Kubernetes does: plain scalars become null, booleans (YAML 1.1), integers
    /// or floats when they look like one; quoted scalars stay strings.
    pub fn to_json(&self, id: NodeId) -> serde_json::Value {
        use serde_json::Value;
        // Iterative post-order build.
        enum Step {
            Enter(NodeId),
            Exit(NodeId),
        }
        let mut stack = vec![Step::Enter(id)];
        let mut values: Vec<Value> = Vec::new();
        while let Some(step) = stack.pop() {
            match step {
                Step::Enter(n) => match &self.nodes[n as usize].kind {
                    Kind::Scalar { text, plain } => values.push(scalar_json(text, *plain)),
                    Kind::Seq(items) => {
                        stack.push(Step::Exit(n));
                        for &c in items.iter().rev() {
                            stack.push(Step::Enter(c));
                        }
                    }
                    Kind::Map(entries) => {
                        stack.push(Step::Exit(n));
                        for &(_, v) in entries.iter().rev() {
                            stack.push(Step::Enter(v));
                        }
                    }
                },
                Step::Exit(n) => match &self.nodes[n as usize].kind {
                    Kind::Seq(items) => {
                        let at = values.len() - items.len();
                        let arr: Vec<Value> = values.drain(at..).collect();
                        values.push(Value::Array(arr));
                    }
                    Kind::Map(entries) => {
                        let at = values.len() - entries.len();
                        let vals: Vec<Value> = values.drain(at..).collect();
                        let mut obj = serde_json::Map::with_capacity(entries.len());
                        for ((k, _), v) in entries.iter().zip(vals) {
                            let key = match &self.nodes[*k as usize].kind {
                                Kind::Scalar { text, .. } => String::from(&**text),
                                _ => "<complex key>".to_string(),
                            };
                            obj.insert(key, v);
                        }
                        values.push(Value::Object(obj));
                    }
                    Kind::Scalar { .. } => {}
                },
            }
        }
        values.pop().unwrap_or(Value::Null)
    }
}

fn scalar_json(text: &str, plain: bool) -> serde_json::Value {
    use serde_json::Value;
    if !plain {
        return Value::String(text.to_string());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        _ => {}
    }
    if let Some(b) = yaml11_bool(text) {
        return Value::Bool(b);
    }
    let first = text.as_bytes()[0];
    if first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.') {
        if let Some(i) = yaml11_int(text) {
            return Value::from(i);
        }
        if text.bytes().any(|c| c.is_ascii_digit())
            && let Ok(f) = text.parse::<f64>()
            && f.is_finite()
        {
            return serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number);
        }
    }
    Value::String(text.to_string())
}

/// A plain scalar as go-yaml v2 resolves an integer (what the API server reads): `_`
/// separators are ignored, then Go's `ParseInt(s, 0, 64)`: `0x` hex, `0o` or a leading `0`
/// octal (`0644` is 420), `0b` binary, optional sign.
pub fn yaml11_int(text: &str) -> Option<i64> {
    let t = text.replace('_', "");
    let (neg, digits) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, &t[..]),
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    let (radix, body) = if let Some(h) = digits.strip_prefix("0x").or(digits.strip_prefix("0X")) {
        (16, h)
    } else if let Some(o) = digits.strip_prefix("0o").or(digits.strip_prefix("0O")) {
        (8, o)
    } else if let Some(b) = digits.strip_prefix("0b").or(digits.strip_prefix("0B")) {
        (2, b)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if body.is_empty() || body.starts_with(['+', '-']) {
        return None;
    }
    let v = i64::from_str_radix(body, radix).ok()?;
    Some(if neg { -v } else { v })
}

/// Line and column lookups for a source text.
#[derive(Clone, Debug)]
pub struct LineIndex {
    starts: Vec<u32>,
}

impl LineIndex {
    pub fn new(src: &str) -> LineIndex {
        let mut starts = vec![0u32];
        for (i, b) in src.bytes().enumerate() {
            if b == b'\n' {
                starts.push(i as u32 + 1);
            }
        }
        LineIndex { starts }
    }

    /// 1-based line and 1-based column (in characters) of a byte offset.
    pub fn line_col(&self, src: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(src.len());
        let line = match self.starts.binary_search(&(offset as u32)) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.starts[line] as usize;
        let col = src
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, col + 1)
    }

    /// Byte range of 1-based line `line` (without the line break).
    pub fn line_range(&self, src: &str, line: usize) -> std::ops::Range<usize> {
        let i = line.saturating_sub(1).min(self.starts.len() - 1);
        let start = self.starts[i] as usize;
        let mut end = self.starts.get(i + 1).map_or(src.len(), |e| *e as usize);
        let b = src.as_bytes();
        while end > start && matches!(b.get(end - 1), Some(b'\n' | b'\r')) {
            end -= 1;
        }
        start..end
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(src: &str) -> Document {
        let l = load(src, &Limits::default());
        assert!(l.issues.is_empty(), "{:?}", l.issues);
        l.docs.into_iter().next().unwrap()
    }

    #[test]
    fn spans_of_keys_and_values_are_exact_bytes() {
        let src = "# café ☕\nspec:\n  schedule: \"*/5 * * * *\"\n";
        let d = one(src);
        let root = d.root.unwrap();
        let (k, v) = d.entry(d.get(root, "spec").unwrap(), "schedule").unwrap();
        assert_eq!(&src[d.span(k).range()], "schedule");
        assert_eq!(&src[d.span(v).range()], "\"*/5 * * * *\"");
        assert_eq!(d.str(v), Some("*/5 * * * *"));
        let li = LineIndex::new(src);
        assert_eq!(li.line_col(src, d.span(v).start as usize), (3, 13));
    }

    #[test]
    fn multi_document_streams_split_with_indexes() {
        let l = load(
            "a: 1\n---\nb: 2\n---\n# only a comment\n",
            &Limits::default(),
        );
        assert_eq!(l.docs.len(), 3);
        assert_eq!(l.docs[1].index, 1);
        assert!(l.docs[2].root.is_none() || l.docs[2].str(l.docs[2].root.unwrap()).is_none());
        assert_eq!(l.comments.len(), 1);
        assert_eq!(l.comments[0].text.trim(), "only a comment");
    }

    #[test]
    fn duplicate_keys_record_both_spans_and_last_wins() {
        let src = "privileged: false\nname: x\nprivileged: true\n";
        let d = one(src);
        assert_eq!(d.duplicates.len(), 1);
        let dup = &d.duplicates[0];
        assert_eq!(dup.key, "privileged");
        assert_eq!(dup.first.start, 0);
        assert_eq!(&src[dup.last.range()], "privileged");
        assert_eq!(dup.last.start, 26);
        let v = d.get(d.root.unwrap(), "privileged").unwrap();
        assert_eq!(d.as_bool(v), Some(true));
    }

    #[test]
    fn aliases_are_copied_and_marked() {
        let src = "a: &sc {privileged: true}\nb: *sc\n";
        let d = one(src);
        let b = d.get(d.root.unwrap(), "b").unwrap();
        let Origin::Alias { alias } = d.node(b).origin else {
            panic!("not marked as alias")
        };
        assert_eq!(&src[alias.range()], "*sc");
        let p = d.get(b, "privileged").unwrap();
        assert_eq!(d.as_bool(p), Some(true));
        // the copied value still points at the anchored original
        assert_eq!(&src[d.span(p).range()], "true");
        assert_eq!(d.node(p).parent, Some(b));
    }

    #[test]
    fn merge_keys_apply_without_overriding_explicit_keys() {
        let src = "base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n";
        let d = one(src);
        let m = d.get(d.root.unwrap(), "m").unwrap();
        assert_eq!(d.as_i64(d.get(m, "x").unwrap()), Some(1));
        assert_eq!(d.as_i64(d.get(m, "y").unwrap()), Some(3));
        assert!(matches!(
            d.node(d.get(m, "x").unwrap()).origin,
            Origin::Merge { .. }
        ));
        assert!(d.get(m, "<<").is_none());
    }

    #[test]
    fn billion_laughs_stays_cheap_and_reports() {
        let mut s = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            s.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let l = load(&s, &Limits::default());
        assert!(l.docs.is_empty());
        assert_eq!(l.issues.len(), 1);
        assert!(l.issues[0].message.contains("billion-laughs"));
    }

    #[test]
    fn deep_nesting_is_an_issue_not_a_crash() {
        let s = "[".repeat(100_000);
        let l = load(&s, &Limits::default());
        assert!(l.docs.is_empty());
        assert!(!l.issues.is_empty());
        let mut block = String::new();
        for i in 0..1000 {
            block.push_str(&" ".repeat(i));
            block.push_str("a:\n");
        }
        let l = load(&block, &Limits::default());
        assert!(!l.issues.is_empty());
    }

    #[test]
    fn syntax_error_keeps_other_documents() {
        let src = "a: 1\n---\nb: [unclosed\n---\nc: 3\n";
        let l = load(src, &Limits::default());
        assert_eq!(l.issues.len(), 1, "{:?}", l.issues);
        let keys: Vec<&str> = l
            .docs
            .iter()
            .filter_map(|d| d.root)
            .zip(l.docs.iter())
            .map(|(r, d)| d.node(d.map(r)[0].0).kind.scalar_text().unwrap())
            .collect();
        assert_eq!(keys, ["a", "c"]);
        // the resumed document keeps absolute spans
        let d = &l.docs[1];
        let (k, _) = d.map(d.root.unwrap())[0];
        assert_eq!(&src[d.span(k).range()], "c");
    }

    #[test]
    fn yaml11_booleans_read_as_kubernetes_reads_them() {
        let d = one("a: yes\nb: \"yes\"\nc: On\nd: off\n");
        let r = d.root.unwrap();
        assert_eq!(d.as_bool(d.get(r, "a").unwrap()), Some(true));
        assert_eq!(d.as_bool(d.get(r, "b").unwrap()), None);
        assert_eq!(d.as_bool(d.get(r, "c").unwrap()), Some(true));
        assert_eq!(d.as_bool(d.get(r, "d").unwrap()), Some(false));
    }

    #[test]
    fn locator_names_list_items_by_name() {
        let d = one("spec:\n  containers:\n  - name: app\n    image: x\n  - image: y\n");
        let r = d.root.unwrap();
        let cs = d.path(r, &["spec", "containers"]).unwrap();
        let img0 = d.get(d.seq(cs)[0], "image").unwrap();
        let img1 = d.get(d.seq(cs)[1], "image").unwrap();
        assert_eq!(d.locator(img0), "spec.containers[name=app].image");
        assert_eq!(d.locator(img1), "spec.containers[1].image");
    }

    #[test]
    fn to_json_resolves_scalars() {
        let d = one("a: 1\nb: '1'\nc: true\nd: null\ne: [1.5, x]\n");
        let v = d.to_json(d.root.unwrap());
        assert_eq!(
            v,
            serde_json::json!({"a": 1, "b": "1", "c": true, "d": null, "e": [1.5, "x"]})
        );
    }

    /// go-yaml v2 (sigs.k8s.io/yaml) integers: `defaultMode: 0644` is 420 for the API server.
    #[test]
    fn to_json_resolves_integers_like_go_yaml() {
        let d = one("a: 0644\nb: 0o17\nc: 1_000\nd: 0x1F\ne: -12\nf: 0b101\ng: 08\nh: +3\ni: 0\n");
        let v = d.to_json(d.root.unwrap());
        assert_eq!(
            v,
            serde_json::json!({"a": 420, "b": 15, "c": 1000, "d": 31, "e": -12, "f": 5, "g": 8.0, "h": 3, "i": 0})
        );
    }

    #[test]
    fn json_input_loads() {
        let d = one("{\"kind\": \"Pod\", \"spec\": {\"hostPID\": true}}");
        let r = d.root.unwrap();
        assert_eq!(d.get_str(r, "kind"), Some("Pod"));
        assert_eq!(
            d.as_bool(d.path(r, &["spec", "hostPID"]).unwrap()),
            Some(true)
        );
    }
}
