//! Text that reads differently than it applies: invisible and bidi control
//! characters, terminal escape sequences, and look-alikes of ASCII
//! (UTS #39 confusables).
//!
//! All ranges are byte ranges into the input and fall on char boundaries.
//! Nothing here panics on any input.

use std::fmt::Write as _;
use std::ops::Range;

/// What kind of hidden character was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HiddenClass {
    /// Bidirectional controls: embeddings, overrides, isolates, marks.
    Bidi,
    /// Zero-width space/joiners, word joiner, BOM.
    ZeroWidth,
    /// Other invisible or format characters (soft hyphen, Hangul fillers,
    /// invisible math operators, other `Cf`, unassigned default-ignorables).
    Invisible,
    /// C0/C1 controls and DEL (except tab, LF, CR), line/paragraph separators.
    Control,
    /// Tag characters U+E0000..U+E007F.
    Tag,
    /// Variation selectors (including Mongolian free variation selectors).
    VariationSelector,
}

/// One hidden character in a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hidden {
    pub range: Range<usize>,
    pub ch: char,
    /// Unicode name (or a generic name for ranges), e.g. `RIGHT-TO-LEFT OVERRIDE`.
    pub name: &'static str,
    pub class: HiddenClass,
}

const C0_NAMES: [&str; 32] = [
    "NULL",
    "START OF HEADING",
    "START OF TEXT",
    "END OF TEXT",
    "END OF TRANSMISSION",
    "ENQUIRY",
    "ACKNOWLEDGE",
    "BELL",
    "BACKSPACE",
    "CHARACTER TABULATION",
    "LINE FEED",
    "LINE TABULATION",
    "FORM FEED",
    "CARRIAGE RETURN",
    "SHIFT OUT",
    "SHIFT IN",
    "DATA LINK ESCAPE",
    "DEVICE CONTROL ONE",
    "DEVICE CONTROL TWO",
    "DEVICE CONTROL THREE",
    "DEVICE CONTROL FOUR",
    "NEGATIVE ACKNOWLEDGE",
    "SYNCHRONOUS IDLE",
    "END OF TRANSMISSION BLOCK",
    "CANCEL",
    "END OF MEDIUM",
    "SUBSTITUTE",
    "ESCAPE",
    "INFORMATION SEPARATOR FOUR",
    "INFORMATION SEPARATOR THREE",
    "INFORMATION SEPARATOR TWO",
    "INFORMATION SEPARATOR ONE",
];

const C1_NAMES: [&str; 32] = [
    "PADDING CHARACTER",
    "HIGH OCTET PRESET",
    "BREAK PERMITTED HERE",
    "NO BREAK HERE",
    "INDEX",
    "NEXT LINE",
    "START OF SELECTED AREA",
    "END OF SELECTED AREA",
    "CHARACTER TABULATION SET",
    "CHARACTER TABULATION WITH JUSTIFICATION",
    "LINE TABULATION SET",
    "PARTIAL LINE FORWARD",
    "PARTIAL LINE BACKWARD",
    "REVERSE LINE FEED",
    "SINGLE SHIFT TWO",
    "SINGLE SHIFT THREE",
    "DEVICE CONTROL STRING",
    "PRIVATE USE ONE",
    "PRIVATE USE TWO",
    "SET TRANSMIT STATE",
    "CANCEL CHARACTER",
    "MESSAGE WAITING",
    "START OF GUARDED AREA",
    "END OF GUARDED AREA",
    "START OF STRING",
    "SINGLE GRAPHIC CHARACTER INTRODUCER",
    "SINGLE CHARACTER INTRODUCER",
    "CONTROL SEQUENCE INTRODUCER",
    "STRING TERMINATOR",
    "OPERATING SYSTEM COMMAND",
    "PRIVACY MESSAGE",
    "APPLICATION PROGRAM COMMAND",
];

use HiddenClass::{Bidi, Control, Invisible, Tag, VariationSelector, ZeroWidth};

/// Non-ASCII hidden characters, sorted and non-overlapping:
/// (first, last, class, name). Covers every `Cf` code point (Unicode 15.1),
/// every default-ignorable code point, U+2028/2029 and the Braille blank.
const HIDDEN_TABLE: &[(u32, u32, HiddenClass, &str)] = &[
    (0x00AD, 0x00AD, Invisible, "SOFT HYPHEN"),
    (0x034F, 0x034F, Invisible, "COMBINING GRAPHEME JOINER"),
    (0x0600, 0x0605, Invisible, "ARABIC NUMBER SIGN (FORMAT)"),
    (0x061C, 0x061C, Bidi, "ARABIC LETTER MARK"),
    (0x06DD, 0x06DD, Invisible, "ARABIC END OF AYAH"),
    (0x070F, 0x070F, Invisible, "SYRIAC ABBREVIATION MARK"),
    (
        0x0890,
        0x0891,
        Invisible,
        "ARABIC CURRENCY MARK ABOVE (FORMAT)",
    ),
    (0x08E2, 0x08E2, Invisible, "ARABIC DISPUTED END OF AYAH"),
    (0x115F, 0x115F, Invisible, "HANGUL CHOSEONG FILLER"),
    (0x1160, 0x1160, Invisible, "HANGUL JUNGSEONG FILLER"),
    (0x17B4, 0x17B4, Invisible, "KHMER VOWEL INHERENT AQ"),
    (0x17B5, 0x17B5, Invisible, "KHMER VOWEL INHERENT AA"),
    (
        0x180B,
        0x180D,
        VariationSelector,
        "MONGOLIAN FREE VARIATION SELECTOR",
    ),
    (0x180E, 0x180E, Invisible, "MONGOLIAN VOWEL SEPARATOR"),
    (
        0x180F,
        0x180F,
        VariationSelector,
        "MONGOLIAN FREE VARIATION SELECTOR FOUR",
    ),
    (0x200B, 0x200B, ZeroWidth, "ZERO WIDTH SPACE"),
    (0x200C, 0x200C, ZeroWidth, "ZERO WIDTH NON-JOINER"),
    (0x200D, 0x200D, ZeroWidth, "ZERO WIDTH JOINER"),
    (0x200E, 0x200E, Bidi, "LEFT-TO-RIGHT MARK"),
    (0x200F, 0x200F, Bidi, "RIGHT-TO-LEFT MARK"),
    (0x2028, 0x2028, Control, "LINE SEPARATOR"),
    (0x2029, 0x2029, Control, "PARAGRAPH SEPARATOR"),
    (0x202A, 0x202A, Bidi, "LEFT-TO-RIGHT EMBEDDING"),
    (0x202B, 0x202B, Bidi, "RIGHT-TO-LEFT EMBEDDING"),
    (0x202C, 0x202C, Bidi, "POP DIRECTIONAL FORMATTING"),
    (0x202D, 0x202D, Bidi, "LEFT-TO-RIGHT OVERRIDE"),
    (0x202E, 0x202E, Bidi, "RIGHT-TO-LEFT OVERRIDE"),
    (0x2060, 0x2060, ZeroWidth, "WORD JOINER"),
    (0x2061, 0x2061, Invisible, "FUNCTION APPLICATION"),
    (0x2062, 0x2062, Invisible, "INVISIBLE TIMES"),
    (0x2063, 0x2063, Invisible, "INVISIBLE SEPARATOR"),
    (0x2064, 0x2064, Invisible, "INVISIBLE PLUS"),
    (0x2065, 0x2065, Invisible, "RESERVED DEFAULT IGNORABLE"),
    (0x2066, 0x2066, Bidi, "LEFT-TO-RIGHT ISOLATE"),
    (0x2067, 0x2067, Bidi, "RIGHT-TO-LEFT ISOLATE"),
    (0x2068, 0x2068, Bidi, "FIRST STRONG ISOLATE"),
    (0x2069, 0x2069, Bidi, "POP DIRECTIONAL ISOLATE"),
    (0x206A, 0x206F, Invisible, "DEPRECATED FORMAT CHARACTER"),
    (0x2800, 0x2800, Invisible, "BRAILLE PATTERN BLANK"),
    (0x3164, 0x3164, Invisible, "HANGUL FILLER"),
    (0xFE00, 0xFE0F, VariationSelector, "VARIATION SELECTOR"),
    (0xFEFF, 0xFEFF, ZeroWidth, "ZERO WIDTH NO-BREAK SPACE"),
    (0xFFA0, 0xFFA0, Invisible, "HALFWIDTH HANGUL FILLER"),
    (0xFFF0, 0xFFF8, Invisible, "RESERVED DEFAULT IGNORABLE"),
    (0xFFF9, 0xFFFB, Invisible, "INTERLINEAR ANNOTATION CONTROL"),
    (0x110BD, 0x110BD, Invisible, "KAITHI NUMBER SIGN"),
    (0x110CD, 0x110CD, Invisible, "KAITHI NUMBER SIGN ABOVE"),
    (
        0x13430,
        0x1343F,
        Invisible,
        "EGYPTIAN HIEROGLYPH FORMAT CONTROL",
    ),
    (0x1BCA0, 0x1BCA3, Invisible, "SHORTHAND FORMAT CONTROL"),
    (0x1D173, 0x1D17A, Invisible, "MUSICAL SYMBOL FORMAT CONTROL"),
    (0xE0000, 0xE0000, Tag, "RESERVED TAG"),
    (0xE0001, 0xE0001, Tag, "LANGUAGE TAG"),
    (0xE0002, 0xE001F, Tag, "RESERVED TAG"),
    (0xE0020, 0xE007E, Tag, "TAG CHARACTER"),
    (0xE007F, 0xE007F, Tag, "CANCEL TAG"),
    (0xE0080, 0xE00FF, Invisible, "RESERVED DEFAULT IGNORABLE"),
    (
        0xE0100,
        0xE01EF,
        VariationSelector,
        "VARIATION SELECTOR SUPPLEMENT",
    ),
    (0xE01F0, 0xE0FFF, Invisible, "RESERVED DEFAULT IGNORABLE"),
];

/// Class and name of a hidden character; `None` for ordinary text,
/// including tab, LF and CR.
fn classify(c: char) -> Option<(HiddenClass, &'static str)> {
    let cp = u32::from(c);
    match cp {
        0x09 | 0x0A | 0x0D | 0x20..=0x7E => None,
        0x00..=0x1F => C0_NAMES
            .get(usize::try_from(cp).ok()?)
            .map(|&n| (Control, n)),
        0x7F => Some((Control, "DELETE")),
        0x80..=0x9F => C1_NAMES
            .get(usize::try_from(cp - 0x80).ok()?)
            .map(|&n| (Control, n)),
        _ => {
            let i = HIDDEN_TABLE.partition_point(|&(_, hi, _, _)| hi < cp);
            HIDDEN_TABLE
                .get(i)
                .filter(|&&(lo, _, _, _)| lo <= cp)
                .map(|&(_, _, class, name)| (class, name))
        }
    }
}

/// Bytes that need no per-char work: printable ASCII, tab, LF, CR.
fn is_plain_byte(b: u8) -> bool {
    matches!(b, 0x20..=0x7E | b'\t' | b'\n' | b'\r')
}

/// Every hidden character in `s` with its byte range: bidi controls,
/// zero-width characters (a BOM is reported wherever it is, position 0
/// included: whether that is fine is the caller's call), invisible and other
/// format (`Cf`) characters, tag characters, variation selectors (including
/// the emoji selector U+FE0F), controls except tab/LF/CR, and U+2028/2029.
///
/// Fast path: a string of printable ASCII, tabs and newlines returns an empty
/// vector after one byte scan. (ASCII controls such as ESC are still
/// reported, so a plain `is_ascii` check would not be enough.)
#[must_use]
pub fn find_hidden(s: &str) -> Vec<Hidden> {
    if s.bytes().all(is_plain_byte) {
        return Vec::new();
    }
    s.char_indices()
        .filter_map(|(i, ch)| {
            classify(ch).map(|(class, name)| Hidden {
                range: i..i + ch.len_utf8(),
                ch,
                name,
                class,
            })
        })
        .collect()
}

/// Append the display form of `c`: `\t`, `\n`, `\r` for those, `\u{XXXX}`
/// for hidden characters and controls, the character itself otherwise.
fn push_display(out: &mut String, c: char) {
    match c {
        '\t' => out.push_str("\\t"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        c if c.is_control() || classify(c).is_some() => {
            // Writing to a String cannot fail.
            let _ = write!(out, "\\u{{{:04X}}}", u32::from(c));
        }
        c => out.push(c),
    }
}

/// `s` made safe to print to a terminal or a log: every hidden character
/// (see [`find_hidden`]) and every C0/C1 control, ESC and BEL included, is
/// shown as `\u{XXXX}` (tab, LF and CR as `\t`, `\n`, `\r`), so no escape
/// sequence or bidi override reaches the terminal. Printable ASCII and
/// other visible characters are left as they are (a backslash too).
///
/// The result has at most `max_chars` characters: when the escaped text is
/// longer, it is cut before an escape that would not fit (never inside one)
/// and ends with `…`. `max_chars == 0` gives an empty string.
#[must_use]
pub fn escape_for_display(s: &str, max_chars: usize) -> String {
    if max_chars == 0 {
        return String::new();
    }
    // Room for the text when it has to be cut, keeping one char for '…'.
    let budget = max_chars - 1;
    let mut out = String::new();
    let mut used = 0usize;
    let mut cut_at: Option<usize> = None;
    let mut piece = String::new();
    for c in s.chars() {
        piece.clear();
        push_display(&mut piece, c);
        let n = piece.chars().count();
        if cut_at.is_none() && used + n > budget {
            cut_at = Some(out.len());
        }
        if used + n > max_chars {
            if let Some(at) = cut_at {
                out.truncate(at);
            }
            out.push('…');
            return out;
        }
        out.push_str(&piece);
        used += n;
    }
    out
}

/// A non-ASCII character that looks like ASCII.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confusable {
    pub range: Range<usize>,
    pub ch: char,
    /// The character's UTS #39 skeleton, all ASCII: `"a"` for CYRILLIC SMALL
    /// LETTER A, `"fi"` for the `ﬁ` ligature.
    pub looks_like: String,
}

/// The UTS #39 skeleton of one character, when it is non-empty ASCII.
fn ascii_lookalike(c: char) -> Option<String> {
    let mut buf = [0u8; 4];
    let sk: String = unicode_security::skeleton(c.encode_utf8(&mut buf)).collect();
    (!sk.is_empty() && sk.is_ascii()).then_some(sk)
}

/// Every non-ASCII character of `s` whose UTS #39 skeleton is ASCII:
/// Cyrillic and Greek look-alikes, fullwidth forms, mathematical
/// alphanumerics, ligatures, typographic punctuation (`’` looks like `'`).
/// Characters that vanish in the skeleton (zero-width and other
/// default-ignorables) are left to [`find_hidden`]. ASCII input returns
/// nothing without per-char work.
#[must_use]
pub fn confusables(s: &str) -> Vec<Confusable> {
    if s.is_ascii() {
        return Vec::new();
    }
    s.char_indices()
        .filter(|(_, c)| !c.is_ascii())
        .filter_map(|(i, ch)| {
            ascii_lookalike(ch).map(|looks_like| Confusable {
                range: i..i + ch.len_utf8(),
                ch,
                looks_like,
            })
        })
        .collect()
}

/// The ASCII text `s` passes for, when it differs from `s`:
/// `"kube-proхy"` (Cyrillic `х`) gives `Some("kube-proxy")`.
///
/// Each non-ASCII character is replaced by its UTS #39 skeleton, and
/// default-ignorable characters (zero-width space...) are dropped; if any
/// character's skeleton is not ASCII (`テスト`, `café`), the answer is `None`.
/// ASCII characters are kept as they are: the full TR39 skeleton also folds
/// ASCII (`m` -> `rn`, `0` -> `O`, `1` -> `l`), which would make the result
/// useless to compare with a real name; use [`skeleton`] for that.
#[must_use]
pub fn skeleton_ascii(s: &str) -> Option<String> {
    if s.is_ascii() {
        return None;
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c);
            continue;
        }
        let mut buf = [0u8; 4];
        let sk: String = unicode_security::skeleton(c.encode_utf8(&mut buf)).collect();
        if !sk.is_ascii() {
            return None;
        }
        out.push_str(&sk);
    }
    (out != s).then_some(out)
}

/// The full UTS #39 skeleton: two strings are confusable when their
/// skeletons are equal (`skeleton("rn") == skeleton("m")`).
#[must_use]
pub fn skeleton(s: &str) -> String {
    unicode_security::skeleton(s).collect()
}

/// A non-empty ASCII name of letters, digits, `-`, `_` and `.`, starting
/// with a letter, digit or `_` (Kubernetes object names, label values,
/// environment variable names, image path components).
#[must_use]
pub fn is_ascii_identifier_like(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> Hidden {
        let h = find_hidden(s);
        assert_eq!(h.len(), 1, "{s:?}: {h:?}");
        h.into_iter().next().unwrap_or_else(|| unreachable!())
    }

    #[test]
    fn each_class_with_exact_range() {
        // "ab" + RLO (3 bytes) + "cd"
        let h = one("ab\u{202E}cd");
        assert_eq!(
            (h.range, h.ch, h.name, h.class),
            (2..5, '\u{202E}', "RIGHT-TO-LEFT OVERRIDE", Bidi)
        );
        let h = one("é\u{2067}");
        assert_eq!(
            (h.range, h.class, h.name),
            (2..5, Bidi, "RIGHT-TO-LEFT ISOLATE")
        );
        let h = one("x\u{061C}");
        assert_eq!((h.range, h.class), (1..3, Bidi));
        let h = one("kube\u{200B}-proxy");
        assert_eq!(
            (h.range, h.class, h.name),
            (4..7, ZeroWidth, "ZERO WIDTH SPACE")
        );
        let h = one("\u{FEFF}apiVersion");
        assert_eq!((h.range, h.class), (0..3, ZeroWidth));
        let h = one("pass\u{00AD}wd");
        assert_eq!((h.range, h.class, h.name), (4..6, Invisible, "SOFT HYPHEN"));
        let h = one("\u{3164}");
        assert_eq!(
            (h.range, h.class, h.name),
            (0..3, Invisible, "HANGUL FILLER")
        );
        let h = one("a\u{115F}");
        assert_eq!((h.range, h.class), (1..4, Invisible));
        let h = one("a\u{180E}");
        assert_eq!((h.range, h.class), (1..4, Invisible));
        let h = one("echo \u{1b}[2J");
        assert_eq!((h.range, h.class, h.name), (5..6, Control, "ESCAPE"));
        let h = one("a\u{0085}b");
        assert_eq!((h.range, h.class, h.name), (1..3, Control, "NEXT LINE"));
        let h = one("a\u{7f}");
        assert_eq!((h.range, h.name), (1..2, "DELETE"));
        let h = one("a\u{2028}b");
        assert_eq!(
            (h.range, h.class, h.name),
            (1..4, Control, "LINE SEPARATOR")
        );
        let h = one("x\u{E0041}");
        assert_eq!((h.range, h.class, h.name), (1..5, Tag, "TAG CHARACTER"));
        let h = one("x\u{E007F}");
        assert_eq!((h.range, h.class, h.name), (1..5, Tag, "CANCEL TAG"));
        let h = one("a\u{FE0F}");
        assert_eq!((h.range, h.class), (1..4, VariationSelector));
        let h = one("a\u{E0100}");
        assert_eq!((h.range, h.class), (1..5, VariationSelector));
        let h = one("a\u{1D173}"); // other Cf
        assert_eq!((h.range, h.class), (1..5, Invisible));
        let h = one("a\u{0600}");
        assert_eq!((h.range, h.class), (1..3, Invisible));
        // Several in one string, in order.
        let all = find_hidden("\u{202A}a\u{200D}\u{0}");
        let got: Vec<_> = all.iter().map(|h| (h.range.clone(), h.class)).collect();
        assert_eq!(got, vec![(0..3, Bidi), (4..7, ZeroWidth), (7..8, Control)]);
    }

    #[test]
    fn nothing_hidden_in_ordinary_text() {
        assert!(find_hidden("").is_empty());
        assert!(find_hidden("apiVersion: v1\n\tkind: CronJob\r\n").is_empty());
        assert!(find_hidden("テスト café ΑΒΓ кube 🦀 \u{00A0}").is_empty());
    }

    #[test]
    fn escape_removes_terminal_sequences() {
        let out = escape_for_display("\x1b[2J\x1b]0;title\x07ok", 1000);
        assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out:?}");
        assert_eq!(out, "\\u{001B}[2J\\u{001B}]0;title\\u{0007}ok");
        let c1 = escape_for_display("a\u{9B}31mb\u{9D}", 100);
        assert!(!c1.chars().any(char::is_control), "{c1:?}");
        assert_eq!(escape_for_display("a\u{202E}b", 100), "a\\u{202E}b");
        assert_eq!(escape_for_display("l1\n\t\r", 100), "l1\\n\\t\\r");
        assert_eq!(escape_for_display("x\u{E0041}", 100), "x\\u{E0041}");
        let printable = "apiVersion: batch/v1 ~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./";
        assert_eq!(escape_for_display(printable, 1000), printable);
        assert_eq!(escape_for_display("テスト", 10), "テスト");
    }

    #[test]
    fn escape_truncates() {
        assert_eq!(escape_for_display("abcdef", 6), "abcdef");
        assert_eq!(escape_for_display("abcdefg", 6), "abcde…");
        assert_eq!(escape_for_display("abc", 0), "");
        assert_eq!(escape_for_display("abc", 1), "…");
        assert_eq!(escape_for_display("ééééé", 3), "éé…");
        // An escape is never cut in half.
        let out = escape_for_display("ab\u{202E}cdef", 6);
        assert_eq!(out, "ab…");
        for max in 0..40 {
            let out = escape_for_display("a\u{1b}bc\u{202E}テスト\u{E0041}xyz", max);
            assert!(out.chars().count() <= max, "{max} {out:?}");
            assert!(!out.contains('\u{1b}') && !out.contains('\u{202E}'));
        }
    }

    #[test]
    fn confusable_lookalikes() {
        let s = "kube-pro\u{0445}y"; // Cyrillic ха
        let c = confusables(s);
        assert_eq!(c.len(), 1);
        assert_eq!(
            (c[0].range.clone(), c[0].ch, c[0].looks_like.as_str()),
            (8..10, '\u{0445}', "x")
        );
        assert_eq!(skeleton_ascii(s).as_deref(), Some("kube-proxy"));

        let s = "\u{0435}tcd"; // Cyrillic ie
        assert_eq!(
            confusables(s)
                .first()
                .map(|c| (c.range.clone(), c.looks_like.clone())),
            Some((0..2, "e".into()))
        );
        assert_eq!(skeleton_ascii(s).as_deref(), Some("etcd"));

        let s = "c\u{03BF}redns"; // Greek omicron
        assert_eq!(confusables(s).first().map(|c| c.range.clone()), Some(1..3));
        assert_eq!(skeleton_ascii(s).as_deref(), Some("coredns"));
        assert_eq!(skeleton_ascii("ser\u{03BD}ice").as_deref(), Some("service")); // Greek nu

        let s = "ｃｏｒｅｄｎｓ"; // fullwidth
        let c = confusables(s);
        assert_eq!(c.len(), 7);
        assert_eq!(c[1].range, 3..6);
        assert_eq!(skeleton_ascii(s).as_deref(), Some("coredns"));

        let s = "\u{1D41A}dmin"; // mathematical bold a
        assert_eq!(skeleton_ascii(s).as_deref(), Some("admin"));
        // Zero-width characters disappear in the skeleton but are not confusables.
        assert!(confusables("kube\u{200B}proxy").is_empty());
        assert_eq!(
            skeleton_ascii("kube\u{200B}proxy").as_deref(),
            Some("kubeproxy")
        );
    }

    #[test]
    fn ascii_and_foreign_names_are_not_confusable() {
        for s in ["kube-proxy", "coredns", "m0l1I|", "etcd-0", ""] {
            assert!(confusables(s).is_empty(), "{s}");
            assert_eq!(skeleton_ascii(s), None, "{s}");
        }
        for s in ["テスト", "café", "данные", "配置"] {
            assert_eq!(skeleton_ascii(s), None, "{s}");
        }
        assert!(confusables("テスト").is_empty());
        // Full skeleton: equal for confusable pairs.
        assert_eq!(skeleton("rn"), skeleton("m"));
        assert_eq!(skeleton("kube-pro\u{0445}y"), skeleton("kube-proxy"));
    }

    #[test]
    fn identifier_like() {
        for s in ["nginx", "kube-proxy", "my_var", "_x", "a.b-c", "A1"] {
            assert!(is_ascii_identifier_like(s), "{s}");
        }
        for s in [
            "",
            "-x",
            ".x",
            "a b",
            "a/b",
            "kube-pro\u{0445}y",
            "a\u{200B}",
            "a\u{1b}",
        ] {
            assert!(!is_ascii_identifier_like(s), "{s:?}");
        }
    }

    #[test]
    fn table_is_sorted_and_disjoint() {
        for w in HIDDEN_TABLE.windows(2) {
            assert!(w[0].0 <= w[0].1 && w[0].1 < w[1].0, "{:X}", w[1].0);
        }
    }

    #[test]
    fn megabyte_of_noise_does_not_panic() {
        // xorshift over all scalar values, weighted toward interesting planes.
        let mut x: u32 = 0x9E37_79B9;
        let mut s = String::new();
        while s.len() < 1 << 20 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let cp = match x % 4 {
                0 => x % 0x80,
                1 => 0x80 + x % 0x3000,
                2 => 0xE0000 + x % 0x200,
                _ => x % 0x11_0000,
            };
            if let Some(c) = char::from_u32(cp) {
                s.push(c);
            }
        }
        let hidden = find_hidden(&s);
        assert!(!hidden.is_empty());
        for h in &hidden {
            assert_eq!(
                s.get(h.range.clone()).and_then(|t| t.chars().next()),
                Some(h.ch)
            );
        }
        for c in confusables(&s) {
            assert!(s.get(c.range.clone()).is_some() && c.looks_like.is_ascii());
        }
        let _ = skeleton_ascii(&s);
        let shown = escape_for_display(&s, usize::MAX);
        assert!(
            !shown
                .chars()
                .any(|c| c.is_control() || classify(c).is_some())
        );
        assert!(escape_for_display(&s, 80).chars().count() <= 80);
        let _ = is_ascii_identifier_like(&s);
    }
}
