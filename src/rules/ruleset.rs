//! The merged definitions of all files loaded so far, and how each decoded
//! item changes them: definitions replace earlier ones of the same name in
//! place, `append` and `override` modify an existing one.

use std::collections::HashMap;

use super::diag::{Code, Diagnostic, ItemRef, Severity};
use super::item::{ExceptionDef, Item, ListEntry, OverrideMode, Priority, RuleDef, Text, Version};
use super::source::{CondText, Files, Origin};

/// A list as merged.
#[derive(Debug, Clone, PartialEq)]
pub struct List {
    /// Name.
    pub name: String,
    /// Items, including references to other lists.
    pub items: Vec<ListEntry>,
    /// Where it was (last) defined.
    pub at: Origin,
}

/// A macro as merged.
#[derive(Debug, Clone, PartialEq)]
pub struct Macro {
    /// Name.
    pub name: String,
    /// Condition, with appends.
    pub condition: CondText,
    /// Where it was (last) defined.
    pub at: Origin,
}

/// A rule as merged, before compilation.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Name.
    pub name: String,
    /// Description.
    pub desc: String,
    /// Condition, with appends.
    pub condition: CondText,
    /// Output format.
    pub output: Text,
    /// Priority.
    pub priority: Priority,
    /// Tags.
    pub tags: Vec<String>,
    /// Whether the rule is enabled.
    pub enabled: bool,
    /// Event source (`syscall` unless given).
    pub source: String,
    /// Exceptions, with appended values.
    pub exceptions: Vec<ExceptionDef>,
    /// Whether to warn when the rule does not restrict event types.
    pub warn_evttypes: bool,
    /// Whether unknown fields skip the rule instead of failing the load.
    pub skip_if_unknown_filter: bool,
    /// Where it was (last) defined.
    pub at: Origin,
}

/// Everything loaded so far.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    /// The highest `required_engine_version` seen, with where.
    pub required_engine: Option<(Version, Origin)>,
    /// `required_plugin_versions` entries.
    pub required_plugins: Vec<(String, String)>,
    /// Lists in definition order.
    pub lists: Vec<List>,
    /// Macros in definition order.
    pub macros: Vec<Macro>,
    /// Rules in definition order.
    pub rules: Vec<Rule>,
    list_idx: HashMap<String, usize>,
    macro_idx: HashMap<String, usize>,
    rule_idx: HashMap<String, usize>,
}

/// The event source of kernel events.
pub const SYSCALL_SOURCE: &str = "syscall";

impl RuleSet {
    /// The list named `name`.
    pub fn list(&self, name: &str) -> Option<&List> {
        self.list_idx.get(name).map(|&i| &self.lists[i])
    }

    /// The macro named `name`.
    pub fn macro_def(&self, name: &str) -> Option<&Macro> {
        self.macro_idx.get(name).map(|&i| &self.macros[i])
    }

    /// Applies one decoded item; problems go to `diags`.
    pub fn apply(&mut self, item: Item, files: &Files, diags: &mut Vec<Diagnostic>) {
        let mut err = |msg: String, at: Origin, kind: &'static str, name: &str| {
            diags.push(Diagnostic {
                severity: Severity::Error,
                code: Code::Validate,
                message: msg,
                location: Some(files.location(at.file, at.start)),
                item: Some(ItemRef {
                    kind,
                    name: name.to_string(),
                }),
            })
        };
        match item {
            Item::EngineVersion(v, at) => {
                if self.required_engine.is_none_or(|(old, _)| v > old) {
                    self.required_engine = Some((v, at));
                }
            }
            Item::PluginVersions(p) => self.required_plugins.extend(p),
            Item::List(l) => match self.list_idx.get(&l.name) {
                Some(&i) if l.append => self.lists[i].items.extend(l.items),
                Some(&i) => {
                    self.lists[i].items = l.items;
                    self.lists[i].at = l.at;
                }
                None if l.append || l.replace => {
                    let what = if l.append { "append" } else { "override" };
                    err(
                        format!(
                            "List {} has '{what}' key but no list by that name already exists",
                            l.name
                        ),
                        l.at,
                        "list",
                        &l.name,
                    )
                }
                None => {
                    self.list_idx.insert(l.name.clone(), self.lists.len());
                    self.lists.push(List {
                        name: l.name,
                        items: l.items,
                        at: l.at,
                    });
                }
            },
            Item::Macro(m) => {
                match self.macro_idx.get(&m.name) {
                    Some(&i) if m.append => self.macros[i]
                        .condition
                        .append(&m.condition.value, m.condition.origin),
                    Some(&i) => {
                        self.macros[i].condition =
                            CondText::new(&m.condition.value, m.condition.origin);
                        self.macros[i].at = m.at;
                    }
                    None if m.append || m.replace => {
                        let what = if m.append { "append" } else { "override" };
                        err(
                        format!("Macro {} has '{what}' key but no macro by that name already exists", m.name),
                        m.at,
                        "macro",
                        &m.name,
                    )
                    }
                    None => {
                        self.macro_idx.insert(m.name.clone(), self.macros.len());
                        self.macros.push(Macro {
                            name: m.name,
                            condition: CondText::new(&m.condition.value, m.condition.origin),
                            at: m.at,
                        });
                    }
                }
            }
            Item::Rule(r) => self.apply_rule(*r, &mut err),
        }
    }

    fn apply_rule(&mut self, r: RuleDef, err: &mut impl FnMut(String, Origin, &'static str, &str)) {
        let Some(at) = r.at else { return };
        let modifies = r.append || !r.overrides.is_empty();
        let only_enabled =
            !modifies && r.keys.iter().all(|k| k == "enabled") && r.enabled.is_some();
        let existing = self.rule_idx.get(&r.name).copied();
        if modifies || only_enabled {
            let Some(i) = existing else {
                let what = if r.append {
                    "append"
                } else if only_enabled {
                    "enabled"
                } else {
                    "override"
                };
                err(
                    format!(
                        "Rule {} has '{what}' key but no rule by that name already exists",
                        r.name
                    ),
                    at,
                    "rule",
                    &r.name,
                );
                return;
            };
            if let Err(msg) = modify(&mut self.rules[i], r) {
                err(msg, at, "rule", &self.rules[i].name.clone());
            }
            return;
        }
        let (Some(condition), Some(output), Some(desc), Some(priority)) =
            (r.condition, r.output, r.desc, r.priority)
        else {
            return;
        };
        let rule = Rule {
            name: r.name.clone(),
            desc,
            condition: CondText::new(&condition.value, condition.origin),
            output,
            priority,
            tags: r.tags.unwrap_or_default(),
            enabled: r.enabled.unwrap_or(true),
            source: r.source.unwrap_or_else(|| SYSCALL_SOURCE.to_string()),
            exceptions: r.exceptions.unwrap_or_default(),
            warn_evttypes: r.warn_evttypes.unwrap_or(true),
            skip_if_unknown_filter: r.skip_if_unknown_filter.unwrap_or(false),
            at,
        };
        match existing {
            Some(i) => self.rules[i] = rule,
            None => {
                self.rule_idx.insert(r.name, self.rules.len());
                self.rules.push(rule);
            }
        }
    }
}

/// Applies an `append`, `override` or enabled-only item to an existing rule.
fn modify(rule: &mut Rule, r: RuleDef) -> Result<(), String> {
    let mode = |key: &str| -> Option<OverrideMode> {
        if r.append {
            return Some(OverrideMode::Append);
        }
        r.overrides.iter().find(|(k, _)| k == key).map(|(_, m)| *m)
    };
    if let Some(e) = r.enabled {
        if r.append || mode("enabled").is_some() || r.overrides.is_empty() {
            rule.enabled = e;
        }
    }
    if let Some(c) = &r.condition {
        match mode("condition") {
            Some(OverrideMode::Append) => rule.condition.append(&c.value, c.origin),
            Some(OverrideMode::Replace) => rule.condition = CondText::new(&c.value, c.origin),
            None => {}
        }
    }
    if let Some(o) = r.output {
        match mode("output") {
            Some(OverrideMode::Append) => {
                rule.output.value.push(' ');
                rule.output.value.push_str(&o.value);
            }
            Some(OverrideMode::Replace) => rule.output = o,
            None => {}
        }
    }
    if let Some(d) = r.desc {
        match mode("desc") {
            Some(OverrideMode::Append) => {
                rule.desc.push(' ');
                rule.desc.push_str(&d);
            }
            Some(OverrideMode::Replace) => rule.desc = d,
            None => {}
        }
    }
    if let Some(t) = r.tags {
        match mode("tags") {
            Some(OverrideMode::Append) => rule.tags.extend(t),
            Some(OverrideMode::Replace) => rule.tags = t,
            None => {}
        }
    }
    if let (Some(p), Some(OverrideMode::Replace)) = (r.priority, mode("priority")) {
        rule.priority = p;
    }
    if let (Some(w), Some(OverrideMode::Replace)) = (r.warn_evttypes, mode("warn_evttypes")) {
        rule.warn_evttypes = w;
    }
    if let (Some(s), Some(OverrideMode::Replace)) =
        (r.skip_if_unknown_filter, mode("skip-if-unknown-filter"))
    {
        rule.skip_if_unknown_filter = s;
    }
    if let Some(exs) = r.exceptions {
        match mode("exceptions") {
            Some(OverrideMode::Replace) => rule.exceptions = exs,
            Some(OverrideMode::Append) => {
                for ex in exs {
                    match rule.exceptions.iter_mut().find(|e| e.name == ex.name) {
                        Some(old) => old.values.extend(ex.values),
                        None if ex.fields.is_none() => {
                            return Err(format!(
                                "Rule exception new item {}: must have fields property with a list of fields",
                                ex.name
                            ))
                        }
                        None => rule.exceptions.push(ex),
                    }
                }
            }
            None => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::rules::{Loaded, Loader};

    const BASE: &str = "- list: l\n  items: [a]\n- macro: m\n  condition: proc.name in (l)\n\
        - rule: r\n  desc: d\n  condition: evt.type = open and m\n  output: out\n  priority: INFO\n  tags: [t1]\n\
        - rule: s\n  desc: d2\n  condition: evt.type = close\n  output: o2\n  priority: DEBUG\n";

    fn load(extra: &str) -> Loaded {
        let mut l = Loader::new();
        l.load_str("base.yaml", BASE);
        l.load_str("extra.yaml", extra);
        l.finish()
    }

    fn errors(l: &Loaded) -> Vec<String> {
        l.diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.message.clone())
            .collect()
    }

    #[test]
    fn merge_table() {
        // (extra file, rule, expected condition, output, priority, tags, enabled)
        type Want = (
            &'static str,
            &'static str,
            &'static str,
            &'static str,
            &'static [&'static str],
            bool,
        );
        let cases: &[(&str, Want)] = &[
            ("- list: l\n  items: [b]\n  append: true\n", ("r", "evt.type = open and proc.name in (a, b)", "out", "Informational", &["t1"], true)),
            ("- list: l\n  items: [b]\n  override:\n    items: replace\n", ("r", "evt.type = open and proc.name in (b)", "out", "Informational", &["t1"], true)),
            ("- list: l\n  items: [b]\n  override:\n    items: append\n", ("r", "evt.type = open and proc.name in (a, b)", "out", "Informational", &["t1"], true)),
            ("- macro: m\n  condition: or proc.name = z\n  append: true\n", ("r", "evt.type = open and (proc.name in (a) or proc.name = z)", "out", "Informational", &["t1"], true)),
            ("- macro: m\n  condition: proc.name = z\n  override:\n    condition: replace\n", ("r", "evt.type = open and proc.name = z", "out", "Informational", &["t1"], true)),
            ("- rule: r\n  condition: and fd.num > 2\n  append: true\n", ("r", "evt.type = open and proc.name in (a) and fd.num > 2", "out", "Informational", &["t1"], true)),
            (
                "- rule: r\n  condition: and fd.num > 2\n  output: more\n  priority: ERROR\n  tags: [t2]\n  enabled: false\n  override:\n    condition: append\n    output: append\n    priority: replace\n    tags: append\n    enabled: replace\n",
                ("r", "evt.type = open and proc.name in (a) and fd.num > 2", "out more", "Error", &["t1", "t2"], false),
            ),
            ("- rule: r\n  condition: evt.type = read\n  override:\n    condition: replace\n", ("r", "evt.type = read", "out", "Informational", &["t1"], true)),
            ("- rule: r\n  enabled: false\n", ("r", "evt.type = open and proc.name in (a)", "out", "Informational", &["t1"], false)),
            (
                "- rule: r\n  desc: new\n  condition: evt.type = write\n  output: o3\n  priority: NOTICE\n",
                ("r", "evt.type = write", "o3", "Notice", &[], true),
            ),
        ];
        for (extra, (name, cond, output, prio, tags, enabled)) in cases {
            let l = load(extra);
            assert_eq!(errors(&l), Vec::<String>::new(), "{extra}");
            assert_eq!(
                l.rules.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
                ["r", "s"],
                "order kept: {extra}"
            );
            let r = l.rules.iter().find(|r| r.name == *name).expect("rule");
            assert_eq!(r.condition_text, *cond, "{extra}");
            assert_eq!(r.output, *output, "{extra}");
            assert_eq!(r.priority.as_str(), *prio, "{extra}");
            assert_eq!(&r.tags, tags, "{extra}");
            assert_eq!(r.enabled, *enabled, "{extra}");
        }
    }

    #[test]
    fn merge_error_table() {
        let cases = [
            (
                "- rule: q\n  condition: x\n  override:\n    condition: append\n",
                "Rule q has 'override' key but no rule by that name already exists",
            ),
            (
                "- rule: q\n  enabled: true\n",
                "Rule q has 'enabled' key but no rule by that name already exists",
            ),
            (
                "- macro: q\n  condition: x\n  append: true\n",
                "Macro q has 'append' key but no macro by that name already exists",
            ),
            (
                "- list: q\n  items: [x]\n  override:\n    items: replace\n",
                "List q has 'override' key but no list by that name already exists",
            ),
            (
                "- rule: r\n  condition: x\n  append: true\n  override:\n    condition: append\n",
                "Keys 'override' and 'append: true' cannot be used together",
            ),
            (
                "- rule: r\n  priority: INFO\n  override:\n    priority: append\n",
                "Key 'priority' cannot be appended to, use 'replace' instead",
            ),
            (
                "- rule: r\n  override:\n    output: replace\n",
                "An override of 'output' needs a value for 'output'",
            ),
            (
                "- rule: r\n  exceptions:\n    - name: new\n      values: [[x]]\n  append: true\n",
                "Rule exception new item new: must have fields property with a list of fields",
            ),
        ];
        for (extra, want) in cases {
            let l = load(extra);
            assert_eq!(errors(&l), [want.to_string()], "{extra}");
            assert!(!l.files[1].loaded && l.files[0].loaded, "{extra}");
            assert_eq!(l.rules.len(), 2, "base rules survive: {extra}");
        }
    }
}
