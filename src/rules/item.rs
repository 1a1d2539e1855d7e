//! Decoding: a rules file's YAML documents into typed items (lists, macros,
//! rules, version requirements), with Falco's messages for malformed ones.

pub use super::priority::Priority;
pub use super::version::{Version, ENGINE_VERSION};

use super::diag::{Code, Diagnostic, ItemRef, Severity};
use super::source::{FileId, Files, Origin};
use super::yaml::{Node, NodeKind};

/// How an `override` key changes the earlier definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverrideMode {
    /// Add to it.
    Append,
    /// Replace it.
    Replace,
}

/// A scalar value with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    /// The value.
    pub value: String,
    /// Its origin.
    pub origin: Origin,
}

/// A list item of a `list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntry {
    /// The item, unquoted if it was written with quotes inside the YAML
    /// string (`'"a b"'`).
    pub text: String,
    /// Whether it was so quoted (then it is never a list name).
    pub quoted: bool,
}

/// One decoded item.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `required_engine_version`, with where it was written.
    EngineVersion(Version, Origin),
    /// `required_plugin_versions`: (name, version) pairs.
    PluginVersions(Vec<(String, String)>),
    /// `list`.
    List(ListDef),
    /// `macro`.
    Macro(MacroDef),
    /// `rule`.
    Rule(Box<RuleDef>),
}

/// A `list` item.
#[derive(Debug, Clone, PartialEq)]
pub struct ListDef {
    /// Name.
    pub name: String,
    /// Items.
    pub items: Vec<ListEntry>,
    /// `append: true`, or `override: {items: append}`.
    pub append: bool,
    /// `override: {items: replace}`.
    pub replace: bool,
    /// Where the item starts.
    pub at: Origin,
}

/// A `macro` item.
#[derive(Debug, Clone, PartialEq)]
pub struct MacroDef {
    /// Name.
    pub name: String,
    /// Condition.
    pub condition: Text,
    /// `append: true`, or `override: {condition: append}`.
    pub append: bool,
    /// `override: {condition: replace}`.
    pub replace: bool,
    /// Where the item starts.
    pub at: Origin,
}

/// One entry of a rule's `exceptions`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExceptionDef {
    /// Name.
    pub name: String,
    /// `fields`: a scalar (single-field form) or a sequence.
    pub fields: Option<Node>,
    /// `comps`: a scalar or a sequence.
    pub comps: Option<Node>,
    /// `values`.
    pub values: Vec<Node>,
    /// The file.
    pub file: FileId,
    /// Where the entry starts.
    pub at: Origin,
}

/// A `rule` item: every key optional, as appends and overrides give only some.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RuleDef {
    /// Name.
    pub name: String,
    /// `desc`.
    pub desc: Option<String>,
    /// `condition`.
    pub condition: Option<Text>,
    /// `output`.
    pub output: Option<Text>,
    /// `priority`.
    pub priority: Option<Priority>,
    /// `tags`.
    pub tags: Option<Vec<String>>,
    /// `enabled`.
    pub enabled: Option<bool>,
    /// `source`.
    pub source: Option<String>,
    /// `exceptions`.
    pub exceptions: Option<Vec<ExceptionDef>>,
    /// `warn_evttypes`.
    pub warn_evttypes: Option<bool>,
    /// `skip-if-unknown-filter`.
    pub skip_if_unknown_filter: Option<bool>,
    /// `append: true`.
    pub append: bool,
    /// `override` keys and modes.
    pub overrides: Vec<(String, OverrideMode)>,
    /// The keys present besides `rule`, in order.
    pub keys: Vec<String>,
    /// Where the item starts.
    pub at: Option<Origin>,
}

const LIST_KEYS: &[&str] = &["list", "items", "append", "override"];
const MACRO_KEYS: &[&str] = &["macro", "condition", "append", "override"];
const RULE_KEYS: &[&str] = &[
    "rule",
    "desc",
    "condition",
    "output",
    "priority",
    "tags",
    "enabled",
    "source",
    "exceptions",
    "append",
    "override",
    "warn_evttypes",
    "skip-if-unknown-filter",
    "capture",
    "capture_duration",
];

/// Decodes one file's documents. Problems go to `diags`; the caller rejects the
/// file if any of them is an error.
pub struct Decoder<'a> {
    files: &'a Files,
    file: FileId,
    /// Diagnostics found so far.
    pub diags: Vec<Diagnostic>,
}

impl<'a> Decoder<'a> {
    /// A decoder for file `file`.
    pub fn new(files: &'a Files, file: FileId) -> Decoder<'a> {
        Decoder {
            files,
            file,
            diags: Vec::new(),
        }
    }

    fn report(
        &mut self,
        sev: Severity,
        code: Code,
        msg: String,
        node: &Node,
        item: Option<ItemRef>,
    ) {
        self.diags.push(Diagnostic {
            severity: sev,
            code,
            message: msg,
            location: Some(self.files.location(self.file, node.start)),
            item,
        });
    }

    fn error(&mut self, msg: impl Into<String>, node: &Node, item: Option<ItemRef>) {
        self.report(Severity::Error, Code::YamlValidate, msg.into(), node, item);
    }

    /// Decodes the documents of the file.
    pub fn documents(&mut self, docs: &[Node]) -> Vec<Item> {
        let mut out = Vec::new();
        for doc in docs {
            match &doc.kind {
                _ if doc.is_null() => {}
                NodeKind::Seq(items) => {
                    for node in items {
                        if let Some(item) = self.item(node) {
                            out.push(item);
                        }
                    }
                }
                NodeKind::Map(_) => {
                    self.error("Rules content is not yaml array of objects", doc, None)
                }
                NodeKind::Scalar(..) => self.error("Rules content is not yaml", doc, None),
            }
        }
        out
    }

    fn item(&mut self, node: &Node) -> Option<Item> {
        let NodeKind::Map(pairs) = &node.kind else {
            let msg = format!(
                "Unexpected element of type {}. Each element should be a yaml associative array.",
                node.type_name()
            );
            self.error(msg, node, None);
            return None;
        };
        let has = |k: &str| pairs.iter().any(|(key, _)| key.as_str() == Some(k));
        if has("required_engine_version") {
            let v = node.get("required_engine_version")?;
            return match v.as_str().and_then(Version::parse) {
                Some(ver) if ver > ENGINE_VERSION => {
                    let msg = format!(
                        "Rules require engine version {}, but engine version is {ENGINE_VERSION}",
                        v.as_str().unwrap_or("")
                    );
                    self.report(Severity::Error, Code::Validate, msg, v, None);
                    None
                }
                Some(ver) => Some(Item::EngineVersion(ver, Origin::of(self.file, v))),
                None => {
                    self.report(
                        Severity::Error,
                        Code::Validate,
                        "Value of required_engine_version must be a number".into(),
                        v,
                        None,
                    );
                    None
                }
            };
        }
        if has("required_plugin_versions") {
            return self.plugin_versions(node);
        }
        let (kind, keys): (&'static str, &[&str]) = if has("rule") {
            ("rule", RULE_KEYS)
        } else if has("macro") {
            ("macro", MACRO_KEYS)
        } else if has("list") {
            ("list", LIST_KEYS)
        } else {
            let first = pairs.first().and_then(|(k, _)| k.as_str()).unwrap_or("");
            self.report(
                Severity::Warning,
                Code::UnknownItem,
                format!("Unknown top level object: {first}"),
                node,
                None,
            );
            return None;
        };
        let name_node = node.get(kind)?;
        let name = name_node
            .as_str()
            .filter(|_| !name_node.is_null())
            .unwrap_or("")
            .to_string();
        let item_ref = Some(ItemRef {
            kind,
            name: name.clone(),
        });
        if name.is_empty() {
            let cap = format!("{}{}", kind[..1].to_ascii_uppercase(), &kind[1..]);
            self.error(format!("{cap} name is empty"), node, item_ref);
            return None;
        }
        for (k, _) in pairs {
            let key = k.as_str().unwrap_or("");
            if !keys.contains(&key) {
                self.report(
                    Severity::Warning,
                    Code::UnknownItem,
                    format!("Unknown key '{key}' in {kind}"),
                    k,
                    item_ref.clone(),
                );
            }
        }
        let before = self.diags.iter().filter(|d| d.is_error()).count();
        let (append, overrides) = self.append_override(node, keys, &item_ref);
        let at = Origin::of(self.file, node);
        let item = match kind {
            "list" => self
                .list(node, name, append, &overrides, at, &item_ref)
                .map(Item::List),
            "macro" => self
                .macro_def(node, name, append, &overrides, at, &item_ref)
                .map(Item::Macro),
            _ => self
                .rule(node, name, append, overrides, at, &item_ref)
                .map(|r| Item::Rule(Box::new(r))),
        };
        let after = self.diags.iter().filter(|d| d.is_error()).count();
        item.filter(|_| after == before)
    }

    fn plugin_versions(&mut self, node: &Node) -> Option<Item> {
        let v = node.get("required_plugin_versions")?;
        let mut out = Vec::new();
        let entries = match &v.kind {
            NodeKind::Seq(e) => e.as_slice(),
            _ => {
                self.error(
                    "Value of required_plugin_versions must be a sequence",
                    v,
                    None,
                );
                return None;
            }
        };
        for e in entries {
            match (
                e.get("name").and_then(Node::as_str),
                e.get("version").and_then(Node::as_str),
            ) {
                (Some(n), Some(ver)) if !n.is_empty() => out.push((n.to_string(), ver.to_string())),
                _ => {
                    self.error(
                        "required_plugin_versions entries must have name and version properties",
                        e,
                        None,
                    );
                    return None;
                }
            }
        }
        Some(Item::PluginVersions(out))
    }

    fn append_override(
        &mut self,
        node: &Node,
        keys: &[&str],
        item: &Option<ItemRef>,
    ) -> (bool, Vec<(String, OverrideMode)>) {
        let append = match node.get("append") {
            None => false,
            Some(v) => match v.as_bool() {
                Some(b) => b,
                None => {
                    self.error("Value of append must be a boolean", v, item.clone());
                    false
                }
            },
        };
        let mut overrides = Vec::new();
        let Some(ov) = node.get("override") else {
            return (append, overrides);
        };
        if append {
            self.error(
                "Keys 'override' and 'append: true' cannot be used together",
                ov,
                item.clone(),
            );
        }
        let NodeKind::Map(pairs) = &ov.kind else {
            self.error("Value of override must be a mapping", ov, item.clone());
            return (append, overrides);
        };
        for (k, v) in pairs {
            let key = k.as_str().unwrap_or("").to_string();
            let mode = match v.as_str() {
                Some("append") => OverrideMode::Append,
                Some("replace") => OverrideMode::Replace,
                _ => {
                    self.error(
                        format!("Override mode for key '{key}' must be append or replace"),
                        v,
                        item.clone(),
                    );
                    continue;
                }
            };
            let appendable = ["condition", "output", "desc", "tags", "exceptions", "items"];
            if !keys.contains(&key.as_str())
                || matches!(
                    key.as_str(),
                    "rule" | "macro" | "list" | "append" | "override"
                )
            {
                self.error(format!("Key '{key}' cannot be overridden"), k, item.clone());
            } else if mode == OverrideMode::Append && !appendable.contains(&key.as_str()) {
                self.error(
                    format!("Key '{key}' cannot be appended to, use 'replace' instead"),
                    k,
                    item.clone(),
                );
            } else if node.get(&key).is_none() {
                self.error(
                    format!("An override of '{key}' needs a value for '{key}'"),
                    k,
                    item.clone(),
                );
            } else {
                overrides.push((key, mode));
            }
        }
        (append, overrides)
    }

    fn string(&mut self, node: &Node, key: &str, item: &Option<ItemRef>) -> Option<String> {
        let v = node.get(key)?;
        match &v.kind {
            NodeKind::Scalar(s, _) if !v.is_null() => Some(s.clone()),
            _ if v.is_null() => None,
            _ => {
                self.error(format!("Value of {key} must be a string"), v, item.clone());
                None
            }
        }
    }

    fn text(&mut self, node: &Node, key: &str, item: &Option<ItemRef>) -> Option<Text> {
        let value = self.string(node, key, item)?;
        let origin = Origin::of(self.file, node.get(key)?);
        Some(Text { value, origin })
    }

    fn bool(&mut self, node: &Node, key: &str, item: &Option<ItemRef>) -> Option<bool> {
        let v = node.get(key)?;
        let b = v.as_bool();
        if b.is_none() {
            self.error(format!("Value of {key} must be a boolean"), v, item.clone());
        }
        b
    }

    fn list(
        &mut self,
        node: &Node,
        name: String,
        append: bool,
        overrides: &[(String, OverrideMode)],
        at: Origin,
        item: &Option<ItemRef>,
    ) -> Option<ListDef> {
        let Some(items) = node.get("items") else {
            self.error("List must have property items", node, item.clone());
            return None;
        };
        let entries = match &items.kind {
            NodeKind::Seq(v) => v,
            _ if items.is_null() => &Vec::new(),
            _ => {
                self.error("Value of items must be a sequence", items, item.clone());
                return None;
            }
        };
        let mut out = Vec::new();
        for e in entries {
            match &e.kind {
                NodeKind::Scalar(s, _) => out.push(match crate::filter::lex::unquote(s) {
                    Some(u) => ListEntry {
                        text: u,
                        quoted: true,
                    },
                    None => ListEntry {
                        text: s.clone(),
                        quoted: false,
                    },
                }),
                _ => {
                    self.error("List items must be strings", e, item.clone());
                    return None;
                }
            }
        }
        let mode = overrides
            .iter()
            .find(|(k, _)| k == "items")
            .map(|(_, m)| *m);
        Some(ListDef {
            name,
            items: out,
            append: append || mode == Some(OverrideMode::Append),
            replace: mode == Some(OverrideMode::Replace),
            at,
        })
    }

    fn macro_def(
        &mut self,
        node: &Node,
        name: String,
        append: bool,
        overrides: &[(String, OverrideMode)],
        at: Origin,
        item: &Option<ItemRef>,
    ) -> Option<MacroDef> {
        let Some(condition) = self.text(node, "condition", item) else {
            self.error("Macro must have property condition", node, item.clone());
            return None;
        };
        let mode = overrides
            .iter()
            .find(|(k, _)| k == "condition")
            .map(|(_, m)| *m);
        Some(MacroDef {
            name,
            condition,
            append: append || mode == Some(OverrideMode::Append),
            replace: mode == Some(OverrideMode::Replace),
            at,
        })
    }

    fn rule(
        &mut self,
        node: &Node,
        name: String,
        append: bool,
        overrides: Vec<(String, OverrideMode)>,
        at: Origin,
        item: &Option<ItemRef>,
    ) -> Option<RuleDef> {
        let mut r = RuleDef {
            name,
            append,
            overrides,
            at: Some(at),
            ..RuleDef::default()
        };
        if let NodeKind::Map(pairs) = &node.kind {
            r.keys = pairs
                .iter()
                .filter_map(|(k, _)| k.as_str())
                .filter(|k| *k != "rule")
                .map(String::from)
                .collect();
        }
        r.desc = self.string(node, "desc", item);
        r.condition = self.text(node, "condition", item);
        r.output = self.text(node, "output", item);
        r.source = self.string(node, "source", item);
        r.enabled = self.bool(node, "enabled", item);
        r.warn_evttypes = self.bool(node, "warn_evttypes", item);
        r.skip_if_unknown_filter = self.bool(node, "skip-if-unknown-filter", item);
        if let Some(p) = node.get("priority") {
            match p.as_str().and_then(Priority::parse) {
                Some(pr) => r.priority = Some(pr),
                None => self.error(
                    format!("Invalid priority level: {}", p.as_str().unwrap_or("")),
                    p,
                    item.clone(),
                ),
            }
        }
        if let Some(t) = node.get("tags") {
            match &t.kind {
                NodeKind::Seq(v) => {
                    r.tags = Some(
                        v.iter()
                            .filter_map(|n| n.as_str().map(String::from))
                            .collect(),
                    )
                }
                _ if t.is_null() => r.tags = Some(Vec::new()),
                _ => self.error(
                    "Value of tags must be a sequence of strings",
                    t,
                    item.clone(),
                ),
            }
        }
        if let Some(ex) = node.get("exceptions") {
            r.exceptions = Some(self.exceptions(ex, item)?);
        }
        let modifies = r.append || node.get("override").is_some();
        let only_enabled = r.keys.iter().all(|k| k == "enabled") && r.enabled.is_some();
        if r.append {
            if r.condition.is_none()
                && r.exceptions.is_none()
                && r.output.is_none()
                && r.desc.is_none()
                && r.tags.is_none()
            {
                self.error(
                    "Appended rule must have exceptions or condition property",
                    node,
                    item.clone(),
                );
                return None;
            }
        } else if !modifies && !only_enabled {
            let missing = [
                ("condition", r.condition.is_some()),
                ("output", r.output.is_some()),
                ("desc", r.desc.is_some()),
                ("priority", r.priority.is_some()),
            ]
            .into_iter()
            .find(|(_, present)| !present);
            if let Some((key, _)) = missing {
                self.error(format!("Rule must have property {key}"), node, item.clone());
                return None;
            }
        }
        Some(r)
    }

    fn exceptions(&mut self, ex: &Node, item: &Option<ItemRef>) -> Option<Vec<ExceptionDef>> {
        let entries = match &ex.kind {
            NodeKind::Seq(v) => v.as_slice(),
            _ if ex.is_null() => &[],
            _ => {
                self.error("Rule exceptions must be a sequence", ex, item.clone());
                return None;
            }
        };
        let mut out = Vec::new();
        for e in entries {
            let name = e
                .get("name")
                .and_then(Node::as_str)
                .filter(|s| !s.is_empty());
            let Some(name) = name else {
                self.error(
                    "Rule exception item must have name property",
                    e,
                    item.clone(),
                );
                return None;
            };
            let values = match e.get("values").map(|v| &v.kind) {
                Some(NodeKind::Seq(v)) => v.clone(),
                None => Vec::new(),
                Some(_) if e.get("values").is_some_and(Node::is_null) => Vec::new(),
                Some(_) => {
                    self.error(
                        format!("Rule exception item {name}: values must be a sequence"),
                        e,
                        item.clone(),
                    );
                    return None;
                }
            };
            out.push(ExceptionDef {
                name: name.to_string(),
                fields: e.get("fields").filter(|n| !n.is_null()).cloned(),
                comps: e.get("comps").filter(|n| !n.is_null()).cloned(),
                values,
                file: self.file,
                at: Origin::of(self.file, e),
            });
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::yaml::parse_documents;

    fn decode(text: &str) -> (Vec<Item>, Vec<Diagnostic>) {
        let mut files = Files::default();
        let id = files.add("t.yaml", text.to_string());
        let docs = parse_documents(text).expect("yaml");
        let mut d = Decoder::new(&files, id);
        let items = d.documents(&docs);
        (items, d.diags)
    }

    #[test]
    fn diagnostic_table() {
        // (file, severity, message, line, column)
        let cases = [
            ("This is not yaml\n", Severity::Error, "Rules content is not yaml", 1, 1),
            ("foo: bar\n", Severity::Error, "Rules content is not yaml array of objects", 1, 1),
            ("- foo\n", Severity::Error, "Unexpected element of type string. Each element should be a yaml associative array.", 1, 3),
            ("- required_engine_version: x\n", Severity::Error, "Value of required_engine_version must be a number", 1, 28),
            ("- list: l\n  no_items: foo\n", Severity::Error, "List must have property items", 1, 3),
            ("- list: l\n  items: [a]\n  bogus: 1\n", Severity::Warning, "Unknown key 'bogus' in list", 3, 3),
            ("- macro: m\n  nope: 1\n", Severity::Error, "Macro must have property condition", 1, 3),
            ("- rule:\n  desc: d\n", Severity::Error, "Rule name is empty", 1, 3),
            ("- rule: r\n  desc: d\n  condition: c\n  priority: INFO\n", Severity::Error, "Rule must have property output", 1, 3),
            ("- rule: r\n  append: true\n", Severity::Error, "Appended rule must have exceptions or condition property", 1, 3),
            ("- rule: r\n  desc: d\n  condition: c\n  output: o\n  priority: LOUD\n", Severity::Error, "Invalid priority level: LOUD", 5, 13),
            ("- rule: r\n  enabled: maybe\n", Severity::Error, "Value of enabled must be a boolean", 2, 12),
            ("- rule: r\n  exceptions:\n    - fields: [a]\n", Severity::Error, "Rule exception item must have name property", 3, 7),
            ("- rule: r\n  condition: c\n  override:\n    condition: merge\n", Severity::Error, "Override mode for key 'condition' must be append or replace", 4, 16),
            ("- required_engine_version: 9999999\n", Severity::Error, "Rules require engine version 9999999, but engine version is 0.57.0", 1, 28),
            ("- colour: blue\n", Severity::Warning, "Unknown top level object: colour", 1, 3),
        ];
        for (text, sev, msg, line, col) in cases {
            let (_, diags) = decode(text);
            let d = diags
                .iter()
                .find(|d| d.message == msg)
                .unwrap_or_else(|| panic!("{text:?}: {diags:?}"));
            let loc = d.location.as_ref().expect("located");
            assert_eq!(
                (d.severity, loc.line, loc.col),
                (sev, line, col),
                "{text:?}"
            );
        }
    }

    #[test]
    fn items_decode() {
        let (items, diags) = decode(
            "- required_plugin_versions:\n    - name: container\n      version: 0.4.0\n\
             - list: l\n  items: [a, '\"b c\"', 22]\n\
             - rule: r\n  desc: d\n  condition: c\n  output: o\n  priority: info\n  tags: [x]\n  enabled: false\n",
        );
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(items.len(), 3);
        assert_eq!(
            items[0],
            Item::PluginVersions(vec![("container".into(), "0.4.0".into())])
        );
        let Item::List(l) = &items[1] else { panic!() };
        let entries: Vec<(&str, bool)> = l
            .items
            .iter()
            .map(|i| (i.text.as_str(), i.quoted))
            .collect();
        assert_eq!(entries, [("a", false), ("b c", true), ("22", false)]);
        let Item::Rule(r) = &items[2] else { panic!() };
        assert_eq!(
            (r.priority, r.enabled, r.tags.as_deref()),
            (
                Some(Priority::Informational),
                Some(false),
                Some(&["x".to_string()][..])
            )
        );
    }
}
