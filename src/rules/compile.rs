//! Compilation of the merged rule set: parse every macro and rule condition,
//! fold exceptions in, expand macros and lists into one tree per rule, resolve
//! every field against the catalog and check operators and values. All name
//! lookups end here; what comes out refers to nothing by name.

use std::collections::{HashMap, HashSet};

/// What `%container.info` in a rule's output stands for (Falco's default).
pub const CONTAINER_INFO: &str = "%container.name (id=%container.id)";

use crate::filter::ast::{CmpOp, Expr, ExprKind, Rhs, Value};
use crate::filter::evttype::{evttypes, EvtTypes};
use crate::filter::print::{print, print_legacy};
use crate::filter::{error::Error as ParseError, parse::parse};

use super::check::{check, Problem, ProblemKind};
use super::diag::{Code, Diagnostic, ItemRef, Location, Severity};
use super::exceptions;
use super::item::Priority;
use super::output;
use super::ruleset::{RuleSet, SYSCALL_SOURCE};
use super::source::{CondText, Conditions, Files, Origin};

/// A rule ready for evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledRule {
    /// Name.
    pub name: String,
    /// Description.
    pub desc: String,
    /// Priority.
    pub priority: Priority,
    /// Tags.
    pub tags: Vec<String>,
    /// Whether it is enabled.
    pub enabled: bool,
    /// Event source.
    pub source: String,
    /// The condition with macros, lists and exceptions expanded.
    pub condition: Expr,
    /// The expanded condition as text, accepted by libsinsp-based tools.
    pub condition_text: String,
    /// Output format, trimmed of surrounding whitespace (block scalars
    /// end with a line break) as Falco trims it.
    pub output: String,
    /// The event types the condition can match.
    pub evttypes: EvtTypes,
    /// Where the rule was defined.
    pub location: Location,
}

impl CompiledRule {
    /// The expanded condition in the dialect of sysdig 0.29's filter parser
    /// (see [`print_legacy`]), for `sysdig -r CAPTURE "FILTER"` comparisons.
    pub fn sysdig_filter(&self) -> String {
        print_legacy(&self.condition)
    }
}

/// How deep lists may nest in lists and macros in macros.
const MAX_NESTING: usize = 64;

/// How many nodes and list values one expanded condition may have (macros
/// used twice per level would otherwise grow it exponentially).
pub const MAX_EXPANDED: usize = 200_000;

struct Compiler<'a> {
    set: &'a RuleSet,
    files: &'a Files,
    conds: Conditions,
    macros: HashMap<String, Result<Expr, ParseError>>,
    used_macros: HashSet<String>,
    used_lists: HashSet<String>,
    diags: Vec<Diagnostic>,
    budget: usize,
    macro_sizes: HashMap<String, usize>,
    list_sizes: HashMap<String, usize>,
}

/// Compiles `set`; returns the rules that compiled and every diagnostic.
pub fn compile(set: &RuleSet, files: &Files) -> (Vec<CompiledRule>, Vec<Diagnostic>) {
    let mut c = Compiler {
        set,
        files,
        conds: Conditions::default(),
        macros: HashMap::new(),
        used_macros: HashSet::new(),
        used_lists: HashSet::new(),
        diags: Vec::new(),
        budget: MAX_EXPANDED,
        macro_sizes: HashMap::new(),
        list_sizes: HashMap::new(),
    };
    for m in &set.macros {
        let item = ItemRef {
            kind: "macro",
            name: m.name.clone(),
        };
        let parsed = c.parse_cond(&m.condition, &item);
        c.macros.insert(m.name.clone(), parsed);
    }
    for m in &set.macros {
        let item = ItemRef {
            kind: "macro",
            name: m.name.clone(),
        };
        // Every macro must resolve (as Falco resolves them all); its fields
        // are checked where rules use it, so that a rule's
        // `skip-if-unknown-filter` covers the macros it uses.
        if let Some(Ok(e)) = c.macros.get(&m.name).cloned() {
            let mut stack = vec![m.name.clone()];
            let _ = c.expand_root(&e, &mut stack, &item, m.at);
        }
        if !is_identifier(&m.name) {
            c.warn(Code::InvalidMacroName, "Macro has an invalid name. Macro names should match a regular expression: ^[a-zA-Z_][a-zA-Z0-9_]*$", m.at, &item);
        }
    }
    let mut out = Vec::new();
    for r in &set.rules {
        if let Some(cr) = c.rule(r) {
            out.push(cr);
        }
    }
    for m in &set.macros {
        if !c.used_macros.contains(&m.name) {
            let item = ItemRef {
                kind: "macro",
                name: m.name.clone(),
            };
            c.warn(
                Code::UnusedMacro,
                "Macro not referred to by any other rule/macro",
                m.at,
                &item,
            );
        }
    }
    for l in &set.lists {
        let item = ItemRef {
            kind: "list",
            name: l.name.clone(),
        };
        if !c.used_lists.contains(&l.name) {
            c.warn(
                Code::UnusedList,
                "List not referred to by any other rule/macro",
                l.at,
                &item,
            );
        }
        if !is_identifier(&l.name) {
            c.warn(Code::InvalidListName, "List has an invalid name. List names should match a regular expression: ^[a-zA-Z_][a-zA-Z0-9_]*$", l.at, &item);
        }
    }
    let mut seen = HashSet::new();
    c.diags
        .retain(|d| seen.insert((d.location.clone(), d.message.clone())));
    (out, c.diags)
}

fn is_identifier(s: &str) -> bool {
    let mut b = s.bytes();
    b.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

impl Compiler<'_> {
    fn push(
        &mut self,
        sev: Severity,
        code: Code,
        msg: String,
        location: Option<Location>,
        item: &ItemRef,
    ) {
        self.diags.push(Diagnostic {
            severity: sev,
            code,
            message: msg,
            location,
            item: Some(item.clone()),
        });
    }

    fn warn(&mut self, code: Code, msg: &str, at: Origin, item: &ItemRef) {
        let loc = Some(self.files.location(at.file, at.start));
        self.push(Severity::Warning, code, msg.to_string(), loc, item);
    }

    fn parse_cond(&mut self, cond: &CondText, item: &ItemRef) -> Result<Expr, ParseError> {
        let id = self.conds.add(cond.clone());
        let r = parse(&cond.text, id);
        if let Err(e) = &r {
            let loc = self.conds.locate(self.files, e.span);
            let msg = format!("Compilation error when compiling \"{}\": {}", cond.text, e);
            self.push(Severity::Error, Code::CompileCondition, msg, loc, item);
        }
        r
    }

    fn rule(&mut self, r: &super::ruleset::Rule) -> Option<CompiledRule> {
        let item = ItemRef {
            kind: "rule",
            name: r.name.clone(),
        };
        if r.source != SYSCALL_SOURCE {
            let msg = format!("Unknown source {}, skipping", r.source);
            self.push(
                Severity::Warning,
                Code::UnknownSource,
                msg,
                Some(self.files.location(r.at.file, r.at.start)),
                &item,
            );
            return None;
        }
        let cond = self.parse_cond(&r.condition, &item).ok()?;
        let mut clauses = Vec::new();
        let mut failed = false;
        for ex in &r.exceptions {
            let id = self.conds.add(CondText::new(&ex.name, ex.at));
            match exceptions::clause(ex, id) {
                Ok(Some(c)) => clauses.push(c),
                Ok(None) => {}
                Err(msg) => {
                    let loc = Some(self.files.location(ex.at.file, ex.at.start));
                    self.push(Severity::Error, Code::Validate, msg, loc, &item);
                    failed = true;
                }
            }
        }
        if failed {
            return None;
        }
        let span = cond.span;
        let full = if clauses.is_empty() {
            cond
        } else {
            let excepted = if clauses.len() == 1 {
                clauses.remove(0)
            } else {
                Expr {
                    kind: ExprKind::Or(clauses),
                    span,
                }
            };
            Expr {
                kind: ExprKind::And(vec![
                    cond,
                    Expr {
                        kind: ExprKind::Not(Box::new(excepted)),
                        span,
                    },
                ]),
                span,
            }
        };
        let errors_before = self.diags.iter().filter(|d| d.is_error()).count();
        let expanded = self.expand_root(&full, &mut Vec::new(), &item, r.at)?;
        if self.diags.iter().filter(|d| d.is_error()).count() > errors_before {
            return None;
        }
        let mut problems = Vec::new();
        check(&expanded, &mut problems);
        if !problems.is_empty() {
            self.report_problems(problems, &item, r.skip_if_unknown_filter);
            return None;
        }
        if let Err(tok) = output::check(&r.output.value) {
            let msg = format!(
                "Invalid output format '{}': 'invalid formatting token {}'",
                r.output.value, tok
            );
            let loc = Some(
                self.files
                    .location(r.output.origin.file, r.output.origin.start),
            );
            self.push(Severity::Error, Code::CompileOutput, msg, loc, &item);
            return None;
        }
        let types = evttypes(&expanded);
        if types.is_unbounded() && r.warn_evttypes {
            self.warn(
                Code::NoEvttype,
                "Rule matches too many evt.type values. This has a significant performance penalty.",
                r.at,
                &item,
            );
        }
        Some(CompiledRule {
            name: r.name.clone(),
            desc: r.desc.clone(),
            priority: r.priority,
            tags: r.tags.clone(),
            enabled: r.enabled,
            source: r.source.clone(),
            condition_text: print(&expanded),
            condition: expanded,
            // As Falco without -pc/-pk: %container.info stands for the
            // container's name and id.
            output: r
                .output
                .value
                .trim()
                .replace("%container.info", CONTAINER_INFO),
            evttypes: types,
            location: self.files.location(r.at.file, r.at.start),
        })
    }

    fn report_problems(&mut self, problems: Vec<Problem>, item: &ItemRef, skip_unknown: bool) {
        for (span, kind) in problems {
            let loc = self.conds.locate(self.files, span);
            match kind {
                ProblemKind::UnknownField(f) if skip_unknown => {
                    let msg = format!(
                        "Rule {}: skipped, filter_check called with nonexistent field {f}",
                        item.name
                    );
                    self.push(Severity::Warning, Code::UnknownFilter, msg, loc, item);
                }
                ProblemKind::UnknownField(f) => {
                    let msg = format!("filter_check called with nonexistent field {f}");
                    self.push(Severity::Error, Code::CompileCondition, msg, loc, item);
                }
                ProblemKind::Other(msg) => {
                    self.push(Severity::Error, Code::CompileCondition, msg, loc, item)
                }
            }
        }
    }

    /// Expands a whole condition within the size budget.
    fn expand_root(
        &mut self,
        e: &Expr,
        stack: &mut Vec<String>,
        item: &ItemRef,
        at: Origin,
    ) -> Option<Expr> {
        self.budget = MAX_EXPANDED;
        let fits = self.expr_size(e, &mut Vec::new()) <= MAX_EXPANDED;
        let out = if fits {
            self.expand(e, stack, item)
        } else {
            self.budget = 0;
            e.clone()
        };
        if self.budget == 0 {
            let msg = format!("Condition expands to more than {MAX_EXPANDED} nodes and values");
            let loc = Some(self.files.location(at.file, at.start));
            self.push(Severity::Error, Code::CompileCondition, msg, loc, item);
            return None;
        }
        Some(out)
    }

    /// The number of nodes and list values `e` expands to, saturating;
    /// computed from memoized macro and list sizes without expanding.
    fn expr_size(&mut self, e: &Expr, visiting: &mut Vec<String>) -> usize {
        match &e.kind {
            ExprKind::And(v) | ExprKind::Or(v) => v.iter().fold(1usize, |acc, x| {
                acc.saturating_add(self.expr_size(x, visiting))
            }),
            ExprKind::Not(x) => self.expr_size(x, visiting).saturating_add(1),
            ExprKind::Exists(_) => 1,
            ExprKind::Macro(name) => self.macro_size(name, visiting),
            ExprKind::Compare { rhs, .. } => {
                let vals: &[Value] = match rhs {
                    Rhs::List(v, _) => v,
                    Rhs::Value(v) => std::slice::from_ref(v),
                    Rhs::Field(_) => &[],
                };
                vals.iter().fold(1usize, |acc, v| {
                    acc.saturating_add(self.value_size(v, &mut Vec::new()))
                })
            }
        }
    }

    fn macro_size(&mut self, name: &str, visiting: &mut Vec<String>) -> usize {
        if let Some(&n) = self.macro_sizes.get(name) {
            return n;
        }
        let body = match self.macros.get(name) {
            Some(Ok(b)) if !visiting.iter().any(|v| v == name) => b.clone(),
            _ => return 1,
        };
        visiting.push(name.to_string());
        let n = self.expr_size(&body, visiting);
        visiting.pop();
        self.macro_sizes.insert(name.to_string(), n);
        n
    }

    fn value_size(&mut self, v: &Value, visiting: &mut Vec<String>) -> usize {
        if v.quoted {
            return 1;
        }
        if let Some(&n) = self.list_sizes.get(&v.text) {
            return n;
        }
        let set = self.set;
        let Some(l) = set.list(&v.text) else { return 1 };
        if visiting.iter().any(|x| x == &l.name) {
            return 1;
        }
        visiting.push(l.name.clone());
        let mut n = 0usize;
        for i in &l.items {
            let item = Value {
                text: i.text.clone(),
                quoted: i.quoted,
                span: v.span,
            };
            n = n.saturating_add(self.value_size(&item, visiting));
        }
        visiting.pop();
        self.list_sizes.insert(l.name.clone(), n);
        n
    }

    /// Expands macros and lists below `e`. `stack` holds the macros being
    /// expanded, to catch cycles.
    fn expand(&mut self, e: &Expr, stack: &mut Vec<String>, item: &ItemRef) -> Expr {
        if self.budget == 0 {
            return e.clone();
        }
        self.budget -= 1;
        let kind = match &e.kind {
            ExprKind::And(v) => {
                ExprKind::And(v.iter().map(|x| self.expand(x, stack, item)).collect())
            }
            ExprKind::Or(v) => {
                ExprKind::Or(v.iter().map(|x| self.expand(x, stack, item)).collect())
            }
            ExprKind::Not(x) => ExprKind::Not(Box::new(self.expand(x, stack, item))),
            ExprKind::Macro(name) => return self.expand_macro(name, e, stack, item),
            ExprKind::Exists(_) => e.kind.clone(),
            ExprKind::Compare { lhs, op, rhs } => ExprKind::Compare {
                lhs: lhs.clone(),
                op: *op,
                rhs: self.resolve_rhs(*op, rhs),
            },
        };
        Expr { kind, span: e.span }
    }

    fn expand_macro(
        &mut self,
        name: &str,
        e: &Expr,
        stack: &mut Vec<String>,
        item: &ItemRef,
    ) -> Expr {
        // Located only for an error: walking the source is not free.
        let loc = |c: &Self| c.conds.locate(c.files, e.span);
        let body = match self.macros.get(name) {
            None => {
                let loc = loc(self);
                let msg = format!("Undefined macro '{name}' used in filter.");
                self.push(Severity::Error, Code::CompileCondition, msg, loc, item);
                return e.clone();
            }
            Some(Err(_)) => {
                // Its own parse error has been reported with the macro.
                let loc = loc(self);
                let msg = format!("Macro '{name}' used in filter does not compile.");
                self.push(Severity::Error, Code::CompileCondition, msg, loc, item);
                return e.clone();
            }
            Some(Ok(body)) => body.clone(),
        };
        self.used_macros.insert(name.to_string());
        if stack.iter().any(|s| s == name) || stack.len() >= MAX_NESTING {
            let loc = loc(self);
            let msg = format!("Macro '{name}' refers to itself.");
            self.push(Severity::Error, Code::CompileCondition, msg, loc, item);
            return e.clone();
        }
        stack.push(name.to_string());
        let out = self.expand(&body, stack, item);
        stack.pop();
        out
    }

    fn resolve_rhs(&mut self, op: CmpOp, rhs: &Rhs) -> Rhs {
        match rhs {
            Rhs::List(vals, span) => Rhs::List(self.resolve_values(vals, 0), *span),
            Rhs::Value(v) if op.takes_list() => {
                let span = v.span;
                Rhs::List(self.resolve_values(std::slice::from_ref(v), 0), span)
            }
            Rhs::Value(v) if !v.quoted => {
                // A bare list name with a single-value operator stands for its
                // one item.
                let set = self.set;
                match set.list(&v.text) {
                    Some(l) => {
                        let items = self.resolve_values(std::slice::from_ref(v), 0);
                        if items.len() == 1 {
                            return Rhs::Value(
                                items.into_iter().next().unwrap_or_else(|| v.clone()),
                            );
                        }
                        self.used_lists.insert(l.name.clone());
                        rhs.clone()
                    }
                    None => rhs.clone(),
                }
            }
            _ => rhs.clone(),
        }
    }

    fn resolve_values(&mut self, vals: &[Value], depth: usize) -> Vec<Value> {
        let mut out = Vec::new();
        for v in vals {
            if self.budget == 0 {
                break;
            }
            self.budget -= 1;
            let set = self.set;
            match set
                .list(&v.text)
                .filter(|_| !v.quoted && depth < MAX_NESTING)
            {
                Some(l) => {
                    self.used_lists.insert(l.name.clone());
                    let items: Vec<Value> = l
                        .items
                        .iter()
                        .map(|i| Value {
                            text: i.text.clone(),
                            quoted: i.quoted,
                            span: v.span,
                        })
                        .collect();
                    out.extend(self.resolve_values(&items, depth + 1));
                }
                None => out.push(v.clone()),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::Loader;

    fn load(text: &str) -> Vec<String> {
        let mut l = Loader::new();
        l.load_str("t.yaml", text);
        l.finish()
            .diagnostics
            .iter()
            .map(|d| d.message.clone())
            .collect()
    }

    #[test]
    fn exponential_macros_and_lists_are_bounded() {
        let mut text = String::from("- macro: m0\n  condition: proc.name = a\n");
        for i in 1..40 {
            text.push_str(&format!(
                "- macro: m{i}\n  condition: m{p} and m{p}\n",
                p = i - 1
            ));
        }
        text.push_str("- rule: r\n  desc: d\n  condition: evt.type = open and m39\n  output: o\n  priority: INFO\n");
        let msgs = load(&text);
        assert!(
            msgs.iter().any(|m| m.contains("expands to more than")),
            "{msgs:?}"
        );
        let mut text = String::from("- list: l0\n  items: [a, b]\n");
        for i in 1..40 {
            text.push_str(&format!("- list: l{i}\n  items: [l{p}, l{p}]\n", p = i - 1));
        }
        text.push_str("- rule: r\n  desc: d\n  condition: evt.type = open and proc.name in (l39)\n  output: o\n  priority: INFO\n");
        let msgs = load(&text);
        assert!(
            msgs.iter().any(|m| m.contains("expands to more than")),
            "{msgs:?}"
        );
    }

    #[test]
    fn compile_error_table() {
        let rule = |cond: &str| {
            format!("- rule: r\n  desc: d\n  condition: {cond}\n  output: o\n  priority: INFO\n")
        };
        let cases = [
            (
                rule("evt.type = open and nope"),
                "Undefined macro 'nope' used in filter.",
            ),
            (
                rule("evt.type = open and proc.nobody = 1"),
                "filter_check called with nonexistent field proc.nobody",
            ),
            (
                rule("evt.type = open and proc.pid contains 1"),
                "Operator 'contains' is not supported by field proc.pid of type INT64",
            ),
            (
                rule("evt.type = open and proc.pid = abc"),
                "Value 'abc' is not valid for field proc.pid of type INT64",
            ),
            (
                rule("evt.type = open and fd.snet in (10.0.0.0/33)"),
                "Value '10.0.0.0/33' is not valid for field fd.snet of type IPNET",
            ),
            (
                rule("evt.type = open and proc.name[1] = x"),
                "Invalid use of field proc.name[1]: field does not take an argument",
            ),
            (
                rule("evt.type = open and evt.arg = x"),
                "Invalid use of field evt.arg: field requires an argument",
            ),
            (
                format!(
                    "- macro: a\n  condition: b\n- macro: b\n  condition: a\n{}",
                    rule("evt.type = open and a")
                ),
                "Macro 'a' refers to itself.",
            ),
            (
                rule("evt.type = open and len(proc.pid) > 1"),
                "Transformer len() needs a string field, not INT64",
            ),
        ];
        for (text, want) in cases {
            let msgs = load(&text);
            assert!(msgs.iter().any(|m| m == want), "{text}\n{msgs:?}");
        }
    }

    #[test]
    fn unknown_fields_in_macros_follow_the_rules_using_them() {
        let mut l = Loader::new();
        l.load_str(
            "t.yaml",
            "- macro: plugin_only\n  condition: ka.verb = get\n\
             - macro: also\n  condition: ct.name = x\n\
             - rule: r\n  desc: d\n  condition: evt.type = open and also\n  output: o\n  priority: INFO\n  skip-if-unknown-filter: true\n",
        );
        let loaded = l.finish();
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        assert!(loaded.rules.is_empty());
        let skipped = loaded
            .diagnostics
            .iter()
            .find(|d| d.code == crate::rules::diag::Code::UnknownFilter);
        let loc = skipped
            .and_then(|d| d.location.as_ref())
            .expect("skip warning located");
        assert_eq!((loc.line, loc.col), (4, 14));
    }
}
