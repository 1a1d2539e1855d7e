//! The rule engine: a loaded rule set compiled into programs over one shared
//! field table, indexed by event type (an event is tested only against the
//! enabled rules whose event types contain its type), in rule order, the
//! first match raising the event's alert as Falco does.
//! [`replay`] drives it over a capture with any number of worker threads.

pub mod filter;
pub mod live;
pub mod output;
pub mod pool;
pub mod replay;
pub mod summary;

use std::fmt;
use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;

use crate::event::render;
use crate::event::schema::{EF_CREATES_FD, EF_DROP_SIMPLE_CONS};
use crate::event::table::{id, EVENT_MAX};
use crate::event::view::EventView;
use crate::filter::compile::{self, FieldId, FieldTable, Node};
use crate::filter::eval::{eval, fold_with, Fields, Folded, Lazy, Record, Scratch};
use crate::filter::fields::Ctx;
use crate::output::alert::{Alert, Priority};
use crate::rules::diag::Location;
use crate::rules::CompiledRule;
use output::OutputFormat;

/// Which rules run and which alerts pass.
#[derive(Debug, Clone)]
pub struct Options {
    /// Host name put in alerts.
    pub hostname: String,
    /// Least severe priority that raises alerts (`-o priority=`).
    pub min_priority: Priority,
    /// Evaluate every event (`-A`); otherwise events flagged as of no
    /// interest to simple consumers are skipped, as Falco does.
    pub all_events: bool,
    /// Rules whose names contain any of these are disabled (`-D`).
    pub disabled: Vec<String>,
    /// When not empty, only rules with one of these tags run (`-t`).
    pub run_tags: Vec<String>,
    /// Rules with any of these tags are disabled (`-T`).
    pub disable_tags: Vec<String>,
    /// Every matching rule raises an alert, not only the first.
    pub all_matches: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            hostname: String::new(),
            min_priority: Priority::Debug,
            all_events: false,
            disabled: Vec::new(),
            run_tags: Vec::new(),
            disable_tags: Vec::new(),
            all_matches: false,
        }
    }
}

/// A rule that does not compile into a program.
#[derive(Debug, Clone)]
pub struct RuleError {
    /// The rule's name.
    pub rule: String,
    /// Where the rule is defined.
    pub location: Location,
    /// The compile error (its span is an offset in the expanded condition).
    pub error: compile::Error,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: rule '{}': {}",
            self.location.file, self.location.line, self.location.col, self.rule, self.error.kind
        )
    }
}

impl std::error::Error for RuleError {}

/// One compiled rule.
#[derive(Debug)]
pub struct Rule {
    /// Name.
    pub name: String,
    /// Priority.
    pub priority: Priority,
    /// Tags.
    pub tags: Vec<String>,
    /// Event source.
    pub source: String,
    /// The condition program.
    pub cond: Node,
    /// The output format.
    pub output: OutputFormat,
}

/// The rules one event type is tested against, and the fields they read
/// (condition and output), in rule order. Each rule's condition is folded
/// for the event type: tests on `evt.type` (and `evt.dir` where the type
/// fixes it) are decided once here, and rules they rule out are left out.
#[derive(Debug, Default)]
pub struct Candidates {
    /// Rule indexes, ascending.
    pub rules: Vec<u32>,
    /// The folded condition of each rule of `rules`.
    pub conds: Vec<Node>,
    /// For each rule of `rules`, the memo slot of a shared subexpression
    /// its condition cannot hold without (its first conjunct): when that
    /// is already known false for the event, the rule is skipped unread.
    pub guards: Vec<Option<u32>>,
    /// Every field the rules read, each once.
    pub fields: Vec<FieldId>,
}

/// The compiled rule set.
#[derive(Debug)]
pub struct Engine {
    rules: Vec<Rule>,
    table: FieldTable,
    by_type: Vec<Arc<Candidates>>,
    by_syscall: Vec<Arc<Candidates>>,
    unknown: Arc<Candidates>,
    none: Arc<Candidates>,
    opts: Options,
}

/// How many generic syscall codes get their own index entry.
const SYSCALL_CODES: u64 = 1024;

impl Engine {
    /// Compiles the enabled rules of `rules` that `opts` selects; every
    /// rule error is collected.
    pub fn new(rules: &[CompiledRule], opts: Options) -> Result<Engine, Vec<RuleError>> {
        let mut table = FieldTable::default();
        let mut out = Vec::new();
        let mut types = Vec::new();
        let mut errors = Vec::new();
        for r in rules.iter().filter(|r| selected(r, &opts)) {
            let cond = match compile::compile(&r.condition, &mut table) {
                Ok(c) => c,
                Err(es) => {
                    errors.extend(es.into_iter().map(|error| RuleError {
                        rule: r.name.clone(),
                        location: r.location.clone(),
                        error,
                    }));
                    continue;
                }
            };
            let priority = r.priority;
            if !priority.passes(opts.min_priority) {
                continue;
            }
            out.push(Rule {
                name: r.name.clone(),
                priority,
                tags: r.tags.clone(),
                source: r.source.clone(),
                cond,
                output: OutputFormat::new(&r.output, &mut table),
            });
            types.push(r.evttypes.clone());
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let find = |name: &str| {
            table
                .fields()
                .iter()
                .position(|b| b.info.name == name && b.arg.is_empty())
                .map(|i| i as FieldId)
        };
        let (evt_type, evt_dir) = (find("evt.type"), find("evt.dir"));
        // Events are numbered from 1.
        let evt_num = find("evt.num");
        let min = |f: FieldId| (Some(f) == evt_num).then_some(1);
        let mut printed = crate::filter::share::Printed::default();
        // Candidates for events whose evt.type is `name` and, when known,
        // whose evt.dir is `dir` and schema flags `flags`.
        let mut index = |name: &'static str, dir: Option<&'static str>, flags: u32| {
            let known = |f: FieldId| {
                if Some(f) == evt_type {
                    Some(Some(name))
                } else if Some(f) == evt_dir {
                    dir.map(Some)
                } else {
                    let b = table.get(f);
                    let enter = dir.map(|d| d == ">")?;
                    if !b.arg.is_empty() {
                        return None;
                    }
                    let creates_fd = flags & EF_CREATES_FD != 0;
                    crate::filter::fields::evt::fixed(b.info.name, name, enter, creates_fd)
                }
            };
            let mut c = Candidates::default();
            for i in (0..out.len() as u32).filter(|i| types[*i as usize].contains(name)) {
                match fold_with(&out[i as usize].cond, &known, &min) {
                    Folded::Const(false) => {}
                    Folded::Const(true) => {
                        c.rules.push(i);
                        c.conds.push(Node::And(Vec::new()));
                    }
                    Folded::Node(n) => {
                        c.rules.push(i);
                        c.conds.push(n);
                    }
                }
            }
            crate::filter::share::share_with(&mut c.conds, &mut printed);
            c.guards = c.conds.iter().map(guard).collect();
            let mut seen = vec![false; table.len()];
            let mut add = |f: FieldId| {
                if !std::mem::replace(&mut seen[f as usize], true) {
                    c.fields.push(f);
                }
            };
            for (k, &i) in c.rules.iter().enumerate() {
                c.conds[k].for_each_field(&mut add);
                out[i as usize].output.fields().iter().for_each(|f| add(*f));
            }
            Arc::new(c)
        };
        // Versions of one event (openat, execve, ...) share their
        // candidates, and so do syscalls named as event types.
        let mut made: HashMap<(&str, Option<&str>, u32), Arc<Candidates>> = HashMap::default();
        let mut cached = |name: &'static str, dir: Option<&'static str>, flags: u32| {
            made.entry((name, dir, flags & EF_CREATES_FD))
                .or_insert_with(|| index(name, dir, flags))
                .clone()
        };
        let by_type = (0..EVENT_MAX)
            .map(|ty| {
                let dir = if crate::event::schema::is_enter(ty) {
                    ">"
                } else {
                    "<"
                };
                let flags = crate::event::schema::info(ty).map_or(0, |i| i.flags);
                cached(render::type_name_of(ty), Some(dir), flags)
            })
            .collect();
        let unknown = cached("<unknown>", None, 0);
        let by_syscall = (0..SYSCALL_CODES)
            .map(|c| cached(render::syscall_name(c).unwrap_or("<unknown>"), None, 0))
            .collect();
        Ok(Engine {
            rules: out,
            table,
            by_type,
            by_syscall,
            unknown,
            none: Arc::default(),
            opts,
        })
    }

    /// The compiled rules, in order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The field table.
    pub fn table(&self) -> &FieldTable {
        &self.table
    }

    /// The fields the rules read that the catalog knows but no extractor
    /// provides yet (they have no value for any event).
    pub fn fields_without_extractor(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .table
            .fields()
            .iter()
            .filter(|b| !b.has_extractor())
            .map(|b| b.display.clone())
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// Whether some rule is tested on events of type `ty` (a generic event
    /// counts when a rule is tested on any syscall it stands for).
    pub fn tests_event(&self, ty: u16) -> bool {
        if !self.opts.all_events
            && crate::event::schema::info(ty).is_some_and(|i| i.flags & EF_DROP_SIMPLE_CONS != 0)
        {
            return false;
        }
        if ty == id::GENERIC_E || ty == id::GENERIC_X {
            return !self.unknown.rules.is_empty()
                || self.by_syscall.iter().any(|c| !c.rules.is_empty());
        }
        !self
            .by_type
            .get(ty as usize)
            .unwrap_or(&self.unknown)
            .rules
            .is_empty()
    }

    /// The rules `e` is tested against (none for events skipped without
    /// `-A`).
    pub fn candidates(&self, e: &EventView<'_>) -> &Arc<Candidates> {
        let ty = e.event_type();
        if !self.opts.all_events && e.info().is_some_and(|i| i.flags & EF_DROP_SIMPLE_CONS != 0) {
            return &self.none;
        }
        if ty == id::GENERIC_E || ty == id::GENERIC_X {
            let code = e.param(0).and_then(crate::event::params::uint);
            return match code {
                Some(c) if c < SYSCALL_CODES => &self.by_syscall[c as usize],
                _ => &self.unknown,
            };
        }
        self.by_type.get(ty as usize).unwrap_or(&self.unknown)
    }

    /// Tests the candidate rules with field values from `fields`, in rule
    /// order; the first match becomes an alert passed to `emit`.
    pub fn run<F: Fields>(
        &self,
        cands: &Candidates,
        fields: &mut F,
        scratch: &mut Scratch,
        time_ns: u64,
        emit: &mut dyn FnMut(Alert),
    ) {
        // As Falco, an event raises at most one alert: the first rule in
        // rule order whose condition holds (unless `all_matches`).
        scratch.next_event();
        for ((&i, cond), guard) in cands.rules.iter().zip(&cands.conds).zip(&cands.guards) {
            if guard.is_some_and(|g| scratch.known(g) == Some(false)) {
                continue;
            }
            let r = &self.rules[i as usize];
            if eval(cond, fields, scratch) {
                emit(self.alert(r, fields, time_ns));
                if !self.opts.all_matches {
                    return;
                }
            }
        }
    }

    fn alert<F: Fields>(&self, r: &Rule, fields: &mut F, time_ns: u64) -> Alert {
        let (output, output_fields) = r.output.render(&self.table, fields, time_ns);
        Alert {
            time_ns,
            rule: r.name.clone(),
            priority: r.priority,
            source: r.source.clone(),
            hostname: self.opts.hostname.clone(),
            output,
            output_fields,
            tags: r.tags.clone(),
        }
    }

    /// Evaluates one event in place, extracting fields on demand.
    pub fn process_ctx(
        &self,
        ctx: &Ctx<'_>,
        rec: &mut Record,
        scratch: &mut Scratch,
        emit: &mut dyn FnMut(Alert),
    ) {
        let cands = self.candidates(ctx.evt);
        self.process_with(cands, ctx, rec, scratch, emit);
    }

    /// [`Engine::process_ctx`] with the event's candidates already looked
    /// up.
    pub fn process_with(
        &self,
        cands: &Candidates,
        ctx: &Ctx<'_>,
        rec: &mut Record,
        scratch: &mut Scratch,
        emit: &mut dyn FnMut(Alert),
    ) {
        if cands.rules.is_empty() {
            return;
        }
        rec.reset(self.table.len());
        let mut lazy = Lazy {
            rec,
            table: &self.table,
            ctx,
        };
        self.run(cands, &mut lazy, scratch, ctx.evt.ts(), emit);
    }
}

/// The memo slot of the shared subexpression a condition cannot hold
/// without: the condition itself, or the first conjunct of an `and`.
fn guard(cond: &Node) -> Option<u32> {
    match cond {
        Node::Memo(i, _) => Some(*i),
        Node::And(v) => match v.first() {
            Some(Node::Memo(i, _)) => Some(*i),
            _ => None,
        },
        _ => None,
    }
}

/// Whether `-D`, `-t` and `-T` leave the rule enabled.
fn selected(r: &CompiledRule, o: &Options) -> bool {
    if !r.enabled || o.disabled.iter().any(|d| r.name.contains(d.as_str())) {
        return false;
    }
    if !o.run_tags.is_empty() && !r.tags.iter().any(|t| o.run_tags.contains(t)) {
        return false;
    }
    !r.tags.iter().any(|t| o.disable_tags.contains(t))
}

#[cfg(test)]
mod tests;
