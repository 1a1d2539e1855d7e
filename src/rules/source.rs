//! Source bookkeeping: the loaded files' text, and condition texts with where
//! each of their pieces came from, so a byte offset inside a (possibly
//! appended) condition maps back to a file, line and column.

use crate::filter::ast::{SourceId, Span};

use super::diag::Location;
use super::yaml::{Node, Pos, Style};

/// Index of a file in [`Files`].
pub type FileId = usize;

/// The text of every loaded file, with where each of its lines starts.
#[derive(Debug, Clone, Default)]
pub struct Files {
    files: Vec<(String, String)>,
    line_starts: Vec<Vec<usize>>,
}

impl Files {
    /// Registers a file; returns its id.
    pub fn add(&mut self, name: &str, text: String) -> FileId {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        self.files.push((name.to_string(), text));
        self.line_starts.push(starts);
        self.files.len() - 1
    }

    /// The file's name.
    pub fn name(&self, id: FileId) -> &str {
        self.files.get(id).map_or("", |f| f.0.as_str())
    }

    /// The file's text.
    pub fn text(&self, id: FileId) -> &str {
        self.files.get(id).map_or("", |f| f.1.as_str())
    }

    /// The location of `pos` in file `id`.
    pub fn location(&self, id: FileId, pos: Pos) -> Location {
        let text = self.text(id);
        let off = pos.offset.min(text.len());
        let line_start = text[..off].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[off..].find('\n').map_or(text.len(), |i| off + i);
        Location {
            file: self.name(id).to_string(),
            line: pos.line,
            col: pos.col,
            line_text: text[line_start..line_end].to_string(),
        }
    }

    /// The location of byte `offset` of file `id`, line and column computed.
    pub fn location_at(&self, id: FileId, offset: usize) -> Location {
        let text = self.text(id);
        let mut off = offset.min(text.len());
        while !text.is_char_boundary(off) {
            off -= 1;
        }
        let starts = self.line_starts.get(id).map_or(&[0][..], Vec::as_slice);
        // The last line starting at or before `off`.
        let idx = starts.partition_point(|s| *s <= off).max(1) - 1;
        let line = idx as u32 + 1;
        let line_start = starts.get(idx).copied().unwrap_or(0).min(off);
        let col = text[line_start..off].chars().count() as u32 + 1;
        self.location(
            id,
            Pos {
                offset: off,
                line,
                col,
            },
        )
    }
}

/// Where a scalar's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    /// The file.
    pub file: FileId,
    /// The scalar node's start.
    pub start: Pos,
    /// The scalar node's end.
    pub end: Pos,
    /// How it was written.
    pub style: Style,
}

impl Origin {
    /// The origin of a YAML node of `file`.
    pub fn of(file: FileId, node: &Node) -> Origin {
        let style = match &node.kind {
            super::yaml::NodeKind::Scalar(_, s) => *s,
            _ => Style::Plain,
        };
        Origin {
            file,
            start: node.start,
            end: node.end,
            style,
        }
    }
}

/// A condition text assembled from one or more YAML scalars (a definition and
/// its appends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CondText {
    /// The full text as parsed.
    pub text: String,
    /// `(offset in text, origin, the scalar's own value)` for each piece.
    pieces: Vec<(usize, Origin, String)>,
}

impl CondText {
    /// A condition from one scalar.
    pub fn new(value: &str, origin: Origin) -> CondText {
        CondText {
            text: value.to_string(),
            pieces: vec![(0, origin, value.to_string())],
        }
    }

    /// Appends another scalar after a space, as Falco's `append` does.
    pub fn append(&mut self, value: &str, origin: Origin) {
        self.text.push(' ');
        self.pieces
            .push((self.text.len(), origin, value.to_string()));
        self.text.push_str(value);
    }

    /// The origin of the first piece.
    pub fn origin(&self) -> Origin {
        self.pieces[0].1
    }

    /// The file location of byte `offset` of the text.
    pub fn locate(&self, files: &Files, offset: usize) -> Location {
        let idx = self.pieces.iter().rposition(|p| p.0 <= offset).unwrap_or(0);
        let (base, origin, value) = &self.pieces[idx];
        let rel = offset.saturating_sub(*base).min(value.len());
        locate_in_scalar(files, origin, value, rel)
    }
}

/// Maps byte `rel` of a scalar's value to the file: walks the value and the
/// source text side by side, letting the source skip what the value does not
/// show (quotes, escapes, the block header, folded line breaks, indentation).
fn locate_in_scalar(files: &Files, origin: &Origin, value: &str, rel: usize) -> Location {
    let text = files.text(origin.file);
    let mut src = origin.start.offset.min(text.len());
    let end = origin.end.offset.clamp(src, text.len());
    // Block scalars' spans start at their content, quoted ones at the quote.
    if matches!(origin.style, Style::SingleQuoted | Style::DoubleQuoted) {
        src += 1;
    }
    let mut src_chars = text[src..end].char_indices().peekable();
    for (i, vc) in value.char_indices() {
        if i >= rel {
            break;
        }
        // Advance the source to the character matching `vc`.
        while let Some(&(_, sc)) = src_chars.peek() {
            src_chars.next();
            if sc == vc || (vc == ' ' && sc == '\n') {
                break;
            }
        }
    }
    // Skip what the source shows before the target and the value does not:
    // line breaks with indentation, escape backslashes.
    let target = value.get(rel..).and_then(|s| s.chars().next());
    while let Some(&(_, sc)) = src_chars.peek() {
        if Some(sc) == target || !(sc.is_whitespace() || sc == '\\') {
            break;
        }
        src_chars.next();
    }
    let at = match src_chars.peek() {
        Some(&(j, _)) => src + j,
        None => end,
    };
    files.location_at(origin.file, at)
}

/// The condition texts of one load, indexed by the [`SourceId`] that the
/// parser writes into every span.
#[derive(Debug, Clone, Default)]
pub struct Conditions {
    texts: Vec<CondText>,
}

impl Conditions {
    /// Registers `c`; returns the id to parse it under.
    pub fn add(&mut self, c: CondText) -> SourceId {
        self.texts.push(c);
        (self.texts.len() - 1) as SourceId
    }

    /// The text registered under `id`.
    pub fn get(&self, id: SourceId) -> Option<&CondText> {
        self.texts.get(id as usize)
    }

    /// The file location of the start of `span`.
    pub fn locate(&self, files: &Files, span: Span) -> Option<Location> {
        self.get(span.source)
            .map(|c| c.locate(files, span.start as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::yaml::parse_documents;

    fn locate(text: &str, key: &str, needle: &str) -> (u32, u32) {
        let mut files = Files::default();
        let id = files.add("f", text.to_string());
        let docs = parse_documents(text).unwrap();
        let node = docs[0].get(key).unwrap();
        let value = node.as_str().unwrap();
        let c = CondText::new(value, Origin::of(id, node));
        let loc = c.locate(&files, value.find(needle).unwrap());
        (loc.line, loc.col)
    }

    #[test]
    fn scalar_styles_map_back() {
        let cases = [
            ("c: evt.type=open and foo\n", "foo", (1, 22)),
            ("c: \"a and \\\"b\\\" and foo\"\n", "foo", (1, 21)),
            ("c: 'it''s and foo'\n", "foo", (1, 15)),
            ("c: >\n  evt.type=open\n  and foo\n", "foo", (3, 7)),
            ("c: |\n  evt.type=open\n  and foo\n", "foo", (3, 7)),
            ("c: evt.type=open\n  and foo\n", "foo", (2, 7)),
            ("c: >\n  a\n  b\n", "b", (3, 3)),
        ];
        for (text, needle, want) in cases {
            assert_eq!(locate(text, "c", needle), want, "{text:?}");
        }
    }

    #[test]
    fn appended_pieces_map_to_their_file() {
        let mut files = Files::default();
        let a = files.add("a", "c: evt.type=open\n".into());
        let b = files.add("b", "x: 1\nc: foo\n".into());
        let da = parse_documents(files.text(a)).unwrap();
        let db = parse_documents(files.text(b)).unwrap();
        let na = da[0].get("c").unwrap();
        let nb = db[0].get("c").unwrap();
        let mut c = CondText::new(na.as_str().unwrap(), Origin::of(a, na));
        c.append(nb.as_str().unwrap(), Origin::of(b, nb));
        assert_eq!(c.text, "evt.type=open foo");
        let loc = c.locate(&files, 14);
        assert_eq!((loc.file.as_str(), loc.line, loc.col), ("b", 2, 4));
        let loc = c.locate(&files, 4);
        assert_eq!((loc.file.as_str(), loc.line, loc.col), ("a", 1, 8));
    }
}
