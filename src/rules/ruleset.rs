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
                if self.required_engine.map_or(true, |(old, _)| v > old) {
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
