//! YAML documents as trees of nodes that keep their source positions.
//!
//! Built on `saphyr-parser`, the event-level parser of the saphyr project, the
//! maintained YAML 1.2 successor of yaml-rust (serde_yaml is deprecated and
//! drops positions). Its events carry a span for every scalar and collection,
//! and building our own small tree from them keeps what rule loading needs and
//! saphyr's value tree drops: duplicate keys in order, the scalar style (so a
//! quoted `"false"` stays a string) and byte offsets for mapping condition text
//! back to the file.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

/// A position in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// Byte offset.
    pub offset: usize,
    /// Line, 1-based.
    pub line: u32,
    /// Column in characters, 1-based.
    pub col: u32,
}

/// How a scalar was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Unquoted.
    Plain,
    /// `'...'`.
    SingleQuoted,
    /// `"..."`.
    DoubleQuoted,
    /// `|` block.
    Literal,
    /// `>` block.
    Folded,
}

/// A YAML node with the position of its first and one past its last character.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// What the node holds.
    pub kind: NodeKind,
    /// Where it starts.
    pub start: Pos,
    /// Where it ends.
    pub end: Pos,
}

/// The kinds of node.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// A scalar with its text and style.
    Scalar(String, Style),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, pairs in document order (duplicates kept).
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The scalar text, if the node is a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar(s, _) => Some(s),
            _ => None,
        }
    }

    /// Whether the node is YAML null (an empty or `~`/`null` plain scalar).
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar(s, Style::Plain) if matches!(s.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// The value of a boolean plain scalar.
    pub fn as_bool(&self) -> Option<bool> {
        match &self.kind {
            NodeKind::Scalar(s, Style::Plain) => match s.as_str() {
                "true" | "True" | "TRUE" => Some(true),
                "false" | "False" | "FALSE" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// The value under `key`, if the node is a mapping holding it (last wins).
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            NodeKind::Map(pairs) => pairs
                .iter()
                .rev()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The name of the node's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar(..) if self.is_null() => "null",
            NodeKind::Scalar(..) => "string",
            NodeKind::Seq(_) => "sequence",
            NodeKind::Map(_) => "mapping",
        }
    }
}

/// A YAML syntax error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// The parser's message.
    pub message: String,
    /// Where.
    pub pos: Pos,
}

/// Converts saphyr's character-indexed markers into byte offsets, lines and
/// columns of the original text.
struct Positions<'a> {
    text: &'a str,
    /// Byte offset of every character, plus the end.
    offsets: Vec<usize>,
    /// Byte offset of every line start.
    lines: Vec<usize>,
}

impl<'a> Positions<'a> {
    fn new(text: &'a str) -> Positions<'a> {
        let mut offsets: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        offsets.push(text.len());
        let lines = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Positions {
            text,
            offsets,
            lines,
        }
    }

    fn pos(&self, m: &saphyr_parser::Marker) -> Pos {
        let offset = self.offsets[m.index().min(self.offsets.len() - 1)];
        let line = self.lines.partition_point(|&s| s <= offset).max(1);
        let start = self.lines[line - 1];
        Pos {
            offset,
            line: line as u32,
            col: self.text[start..offset].chars().count() as u32 + 1,
        }
    }
}

/// yaml-cpp, which Falco uses, accepts a flow collection's closing bracket at
/// the indentation of the key that holds it (`items: [` ... `]` on its own line
/// under `items`); the YAML spec and saphyr do not. This joins such bracket
/// lines to the line before by turning the line break into a space, which
/// keeps every byte offset and character index unchanged.
fn join_closing_brackets(text: &str) -> String {
    let mut out = text.as_bytes().to_vec();
    let mut prev_start = 0;
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        let closes = t.starts_with([']', '}'])
            && t[1..]
                .trim_start()
                .chars()
                .all(|c| matches!(c, ']' | '}' | ','));
        let prev = &text[prev_start..start];
        if closes && start > 0 && !prev.contains('#') && out[start - 1] == b'\n' {
            out[start - 1] = b' ';
            if start >= 2 && out[start - 2] == b'\r' {
                out[start - 2] = b' ';
            }
        }
        prev_start = start;
        start += line.len();
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

/// Parses every document of `text`.
pub fn parse_documents(text: &str) -> Result<Vec<Node>, YamlError> {
    match parse_strict(text, text) {
        Err(e) if e.message.starts_with("invalid indentation") => {
            let lenient = join_closing_brackets(text);
            if lenient == text {
                return Err(e);
            }
            parse_strict(&lenient, text).map_err(|_| e)
        }
        r => r,
    }
}

enum Frame {
    Seq(Vec<Node>, Pos, usize),
    Map(Vec<(Node, Node)>, Option<Node>, Pos, usize),
}

/// How deep collections may nest.
pub const MAX_DEPTH: usize = 128;

/// How many nodes a file may hold once aliases are copied in.
pub const MAX_NODES: usize = 500_000;

/// The number of nodes in `n`'s tree.
fn size(n: &Node) -> usize {
    match &n.kind {
        NodeKind::Scalar(..) => 1,
        NodeKind::Seq(v) => 1 + v.iter().map(size).sum::<usize>(),
        NodeKind::Map(v) => 1 + v.iter().map(|(k, v)| size(k) + size(v)).sum::<usize>(),
    }
}

/// Parses `text`; positions are reported against `original`, which has the
/// same length and line structure up to joined lines.
fn parse_strict(text: &str, original: &str) -> Result<Vec<Node>, YamlError> {
    let positions = Positions::new(original);
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, (Node, usize)> = HashMap::new();
    let mut nodes = 0usize;
    for ev in Parser::new_from_str(text) {
        let (ev, span): (Event, Span) = ev.map_err(|e| YamlError {
            message: e.info().to_string(),
            pos: positions.pos(e.marker()),
        })?;
        let start = positions.pos(&span.start);
        let end = positions.pos(&span.end);
        let too = |what: &str| YamlError {
            message: format!("document too large: {what}"),
            pos: start,
        };
        nodes += 1;
        if nodes > MAX_NODES {
            return Err(too("too many nodes"));
        }
        let node = match ev {
            Event::Scalar(value, style, anchor, _) => {
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted => Style::SingleQuoted,
                    ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                    ScalarStyle::Literal => Style::Literal,
                    ScalarStyle::Folded => Style::Folded,
                };
                let n = Node {
                    kind: NodeKind::Scalar(value.into_owned(), style),
                    start,
                    end,
                };
                if anchor > 0 {
                    anchors.insert(anchor, (n.clone(), 1));
                }
                n
            }
            Event::Alias(id) => match anchors.get(&id) {
                Some((n, sz)) => {
                    nodes += sz;
                    if nodes > MAX_NODES {
                        return Err(too("aliases expand to too many nodes"));
                    }
                    n.clone()
                }
                None => {
                    return Err(YamlError {
                        message: "unknown anchor".into(),
                        pos: start,
                    })
                }
            },
            Event::SequenceStart(..) | Event::MappingStart(..) if stack.len() >= MAX_DEPTH => {
                return Err(too("collections nested too deeply"));
            }
            Event::SequenceStart(anchor, _) => {
                stack.push(Frame::Seq(Vec::new(), start, anchor));
                continue;
            }
            Event::MappingStart(anchor, _) => {
                stack.push(Frame::Map(Vec::new(), None, start, anchor));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (kind, start, anchor) = match stack.pop() {
                    Some(Frame::Seq(items, s, a)) => (NodeKind::Seq(items), s, a),
                    Some(Frame::Map(pairs, _, s, a)) => (NodeKind::Map(pairs), s, a),
                    None => continue,
                };
                let n = Node { kind, start, end };
                if anchor > 0 {
                    let sz = size(&n);
                    anchors.insert(anchor, (n.clone(), sz));
                }
                n
            }
            _ => continue,
        };
        match stack.last_mut() {
            Some(Frame::Seq(items, ..)) => items.push(node),
            Some(Frame::Map(pairs, key, ..)) => match key.take() {
                Some(k) => pairs.push((k, node)),
                None => *key = Some(node),
            },
            None => docs.push(node),
        }
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_styles() {
        let text = "- rule: x\n  condition: >\n    a and\n    b\n  n: 'q'\n---\n- é: [1, \"2\"]\n";
        let docs = parse_documents(text).unwrap();
        assert_eq!(docs.len(), 2);
        let NodeKind::Seq(items) = &docs[0].kind else {
            panic!()
        };
        let cond = items[0].get("condition").unwrap();
        assert_eq!(
            cond.kind,
            NodeKind::Scalar("a and b\n".into(), Style::Folded)
        );
        assert_eq!((cond.start.line, cond.start.col), (3, 5));
        let n = items[0].get("n").unwrap();
        assert_eq!(n.kind, NodeKind::Scalar("q".into(), Style::SingleQuoted));
        assert_eq!(
            (n.start.line, n.start.col, n.start.offset),
            (5, 6, text.find("'q'").unwrap())
        );
        let NodeKind::Seq(items) = &docs[1].kind else {
            panic!()
        };
        let v = items[0].get("é").unwrap();
        let NodeKind::Seq(vs) = &v.kind else { panic!() };
        assert_eq!(vs[1].start.offset, text.find("\"2\"").unwrap());
        assert_eq!(vs[1].start.col, 10);
    }

    #[test]
    fn null_bool_and_errors() {
        let docs = parse_documents("a:\nb: false\nc: \"false\"\n").unwrap();
        assert!(docs[0].get("a").unwrap().is_null());
        assert_eq!(docs[0].get("b").unwrap().as_bool(), Some(false));
        assert_eq!(docs[0].get("c").unwrap().as_bool(), None);
        let err = parse_documents("this : is : not : yaml\n").unwrap_err();
        assert_eq!(
            err.message,
            "mapping values are not allowed in this context"
        );
        assert_eq!((err.pos.line, err.pos.col), (1, 11));
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        // saphyr's own recursion limit or ours, whichever comes first.
        assert!(parse_documents(&deep).is_err());
        let mut laughs = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            laughs.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        assert!(parse_documents(&laughs)
            .unwrap_err()
            .message
            .contains("too many nodes"));
        let docs = parse_documents("a: &x [1]\nb: *x\n").unwrap();
        assert_eq!(
            docs[0].get("b").unwrap().kind,
            docs[0].get("a").unwrap().kind
        );
        let text = "- list: l\n  items: [\n    \"a\",\n    b\n  ]\n- x: 1\n";
        let docs = parse_documents(text).unwrap();
        let NodeKind::Seq(items) = &docs[0].kind else {
            panic!()
        };
        let l = items[0].get("items").unwrap();
        let NodeKind::Seq(vals) = &l.kind else {
            panic!()
        };
        assert_eq!(
            (vals[1].as_str(), vals[1].start.line, vals[1].start.col),
            (Some("b"), 4, 5)
        );
        assert_eq!(items[1].start.line, 6);
    }
}
