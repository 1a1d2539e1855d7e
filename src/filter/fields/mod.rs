//! Field extraction for output formats (`-p`): each field class is one file
//! holding a small table of field name → extractor.

pub mod container;
pub mod evt;
pub mod fd;
pub mod k8s;
pub mod proc;
pub mod thread;
pub mod user;

use crate::event::render::Resolve;
use crate::event::view::EventView;
use crate::state::fd::l4char;
use std::cell::OnceCell;

use crate::state::fd::Fd;
use crate::state::thread::Thread;
use crate::state::view::View;

/// Everything an extractor may look at for one event.
pub struct Ctx<'a> {
    /// The event.
    pub evt: &'a EventView<'a>,
    /// Event number (1-based, as sysdig counts).
    pub num: u64,
    /// State after the event was applied (the live state, or a snapshot).
    pub state: &'a dyn View,
    /// The descriptor the event operates on, if any.
    pub fd: Option<i64>,
    /// `fd.name` when the descriptor is not in the state.
    pub fd_transient: Option<&'a str>,
    /// The event's thread and descriptor entry, looked up once.
    thread: OnceCell<Option<&'a Thread>>,
    fd_entry: OnceCell<Option<&'a Fd>>,
}

impl<'a> Ctx<'a> {
    /// The context of event `evt`, number `num`, over `state`; `fd` is the
    /// descriptor it operates on and `fd_transient` its name when the state
    /// does not hold it.
    pub fn new(
        evt: &'a EventView<'a>,
        num: u64,
        state: &'a dyn View,
        fd: Option<i64>,
        fd_transient: Option<&'a str>,
    ) -> Ctx<'a> {
        Ctx {
            evt,
            num,
            state,
            fd,
            fd_transient,
            thread: OnceCell::new(),
            fd_entry: OnceCell::new(),
        }
    }

    /// The event's thread, if known.
    pub fn thread(&self) -> Option<&'a Thread> {
        *self
            .thread
            .get_or_init(|| self.state.thread(self.evt.tid()))
    }

    /// The state's entry for the event's descriptor, if any.
    pub fn fd_entry(&self) -> Option<&'a Fd> {
        *self.fd_entry.get_or_init(|| match self.fd {
            Some(fd) => self.state.fd(self.evt.tid(), fd),
            None => None,
        })
    }
}

impl Resolve for Ctx<'_> {
    fn fd(&self, fd: i64) -> Option<(char, Option<char>, &str)> {
        let f = self.state.fd(self.evt.tid(), fd)?;
        Some((f.ty.typechar(), l4char(f.l4), f.name.as_str()))
    }
    fn comm(&self, tid: i64) -> Option<&str> {
        self.state.thread(tid as u64).map(|t| t.comm.as_str())
    }
    fn cwd(&self) -> Option<&str> {
        self.thread().map(|t| t.cwd.as_str())
    }
    fn user(&self, uid: u32) -> Option<&str> {
        self.state.user(uid)
    }
    fn group(&self, gid: u32) -> Option<&str> {
        self.state.group(gid)
    }
}

/// Writes the field's value to `out`; returns false when the field has no
/// value for this event (shown as `<NA>`).
pub type Extract = fn(&Ctx<'_>, &str, &mut String) -> bool;

/// Calls the test with each value of a field that has several for one
/// event, stopping at the first that passes; returns whether one did, or
/// `None` when the field has no value. Filters compare such fields as
/// libsinsp does: the comparison holds when it holds for any value (any
/// ancestor for `proc.aname` without an index, either end of the connection
/// for `fd.ip`, `fd.net` and `fd.port`), except that `!=` on a connection
/// end holds only when neither end is equal. Outputs show the single value
/// the plain extractor gives.
pub type Each = fn(&Ctx<'_>, &mut dyn FnMut(&str) -> bool) -> Option<bool>;

/// How a multi-valued field is compared in filters.
#[derive(Debug, Clone, Copy)]
pub struct Multi {
    /// The values.
    pub each: Each,
    /// `!=` holds only when it holds for every value (connection ends).
    pub ne_all: bool,
}

/// Appends the decimal text of an integer (a numeric field's value).
pub fn push_int<I: itoa::Integer>(out: &mut String, v: I) {
    out.push_str(itoa::Buffer::new().format(v));
}

/// Appends `v`; false when it is `None` (a field without a value).
fn push_some(out: &mut String, v: Option<&str>) -> bool {
    match v {
        Some(v) => {
            out.push_str(v);
            true
        }
        None => false,
    }
}

/// The [`Multi`] of field `name` with argument `arg`, when it has one.
pub fn multi_for(name: &str, arg: &str) -> Option<Multi> {
    let (each, ne_all): (Each, bool) = match name {
        "proc.aname" if arg.is_empty() => (proc::each_ancestor_name, false),
        "proc.aexepath" if arg.is_empty() => (proc::each_ancestor_exepath, false),
        "fd.ip" | "fd.net" => (fd::each_ip, true),
        "fd.port" => (fd::each_port, true),
        _ => return None,
    };
    Some(Multi { each, ne_all })
}

/// The value of an integer or boolean field (a boolean as 0 or 1) read
/// without text, `None` when the field has no value; filters compare
/// integer and boolean constants with it instead of parsing the text the
/// field's extractor writes, which is made from the same value.
pub type Int = fn(&Ctx<'_>) -> Option<i64>;

/// The integer reader of field `name` with argument `arg`, for the fields
/// that have one: those the default rules test on every open.
pub fn int_for(name: &str, arg: &str) -> Option<Int> {
    if !arg.is_empty() {
        return None;
    }
    Some(match name {
        "fd.num" => fd::num_value,
        "evt.is_open_read" => evt::is_open_read_value,
        "evt.is_open_write" => evt::is_open_write_value,
        "evt.is_open_exec" => evt::is_open_exec_value,
        _ => return None,
    })
}

/// The value of a text field borrowed from the event or the state, read
/// without copying, `None` when the field has no value; filters compare
/// with it instead of a copy of the text, which the field's extractor makes
/// from the same value.
pub type Str = for<'a> fn(&Ctx<'a>) -> Option<&'a str>;

/// The borrowed-text reader of field `name` with argument `arg`, for the
/// fields that have one: those the default rules test on nearly every
/// event they see.
pub fn str_for(name: &str, arg: &str) -> Option<Str> {
    if !arg.is_empty() {
        return None;
    }
    Some(match name {
        "fd.name" => fd::name_value,
        "fd.type" => fd::type_value,
        "fd.typechar" => fd::typechar_value,
        "fd.directory" => fd::directory_value,
        "fd.filename" => fd::filename_value,
        "proc.name" => proc::name_value,
        "proc.pname" => proc::pname_value,
        _ => return None,
    })
}

/// Whether and how a field takes an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    /// No argument.
    None,
    /// An argument after a dot or in brackets (`evt.arg.name`, `evt.arg[0]`).
    Required,
    /// An argument in brackets that may be left out (`proc.env`,
    /// `proc.env[HOME]`); the extractor then gets an empty one.
    Optional,
}

/// One field.
#[derive(Clone, Copy)]
pub struct Field {
    /// Name (`evt.num`, or the prefix `evt.arg` for fields with arguments).
    pub name: &'static str,
    /// Argument kind.
    pub arg: Arg,
    /// One-line description.
    pub desc: &'static str,
    /// Extractor.
    pub extract: Extract,
}

impl std::fmt::Debug for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// All field classes.
pub fn classes() -> [&'static [Field]; 7] {
    [
        evt::FIELDS,
        thread::FIELDS,
        proc::FIELDS,
        fd::FIELDS,
        user::FIELDS,
        container::FIELDS,
        k8s::FIELDS,
    ]
}

fn arg_len(s: &str) -> usize {
    s.bytes()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
        .count()
}

/// Finds the field that `text` starts with (the longest name wins) and its
/// argument; returns the field, the argument and the bytes consumed.
pub fn lookup(text: &str) -> Option<(&'static Field, &str, usize)> {
    let mut best: Option<&'static Field> = None;
    for class in classes() {
        for f in class {
            let rest = text.strip_prefix(f.name);
            let ok = match (rest, f.arg) {
                (Some(r), Arg::None) => {
                    !r.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.')
                }
                (Some(r), Arg::Required) => r.starts_with('.') || r.starts_with('['),
                (Some(r), Arg::Optional) => {
                    r.starts_with('[')
                        || !r.starts_with(|c: char| {
                            c.is_ascii_alphanumeric() || c == '_' || c == '.'
                        })
                }
                (None, _) => false,
            };
            if ok && best.is_none_or(|b| f.name.len() > b.name.len()) {
                best = Some(f);
            }
        }
    }
    let f = best?;
    let rest = &text[f.name.len()..];
    match f.arg {
        Arg::None => Some((f, "", f.name.len())),
        Arg::Optional if !rest.starts_with('[') => Some((f, "", f.name.len())),
        Arg::Required | Arg::Optional => {
            if let Some(r) = rest.strip_prefix('[') {
                let end = r.find(']')?;
                Some((f, &r[..end], f.name.len() + end + 2))
            } else {
                let n = arg_len(&rest[1..]);
                (n > 0).then(|| (f, &rest[1..1 + n], f.name.len() + 1 + n))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_longest_and_args() {
        let cases = [
            ("evt.num rest", Some(("evt.num", "", 7))),
            ("evt.args", Some(("evt.args", "", 8))),
            ("evt.arg.name)", Some(("evt.arg", "name", 12))),
            ("evt.arg[1]x", Some(("evt.arg", "1", 10))),
            ("proc.name)", Some(("proc.name", "", 9))),
            ("nosuch.field", None),
            ("proc.aname[2] x", Some(("proc.aname", "2", 13))),
            ("proc.aname x", Some(("proc.aname", "", 10))),
            ("proc.env[HOME]", Some(("proc.env", "HOME", 14))),
            (
                "container.mount.dest[/proc*]",
                Some(("container.mount.dest", "/proc*", 28)),
            ),
        ];
        for (text, want) in cases {
            let got = lookup(text).map(|(f, a, n)| (f.name, a, n));
            assert_eq!(got, want, "{text}");
        }
    }

    /// Filters read some fields without text (integers) or without a copy
    /// (borrowed text); rules then see what outputs show only if those
    /// readers give the extractor's text, which every event of the
    /// captures checks.
    #[test]
    fn typed_and_borrowed_readers_give_the_extracted_text() {
        let fields: Vec<&Field> = classes().into_iter().flatten().collect();
        let text_readers: Vec<(&Field, Str)> = fields
            .iter()
            .filter_map(|f| Some((*f, str_for(f.name, "")?)))
            .collect();
        let int_readers: Vec<(&Field, Int)> = fields
            .iter()
            .filter_map(|f| Some((*f, int_for(f.name, "")?)))
            .collect();
        assert!(text_readers.len() >= 7 && int_readers.len() >= 4);
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/traces");
        let (mut checked, mut with_value) = (0u64, 0u64);
        for name in [
            "bencer__example4-1_php_mysql.scap",
            "falco__open-multiple-files.scap",
        ] {
            let path = format!("{dir}/{name}");
            let mut r = crate::capture::Reader::open(&path).unwrap();
            let mut replay = crate::output::dump::Replay::new(r.metadata());
            let mut out = String::new();
            while let Some(e) = r.next_event().unwrap() {
                let Some(ctx) = replay.step(&e) else { continue };
                for (f, read) in &text_readers {
                    out.clear();
                    let want = (f.extract)(&ctx, "", &mut out).then_some(out.as_str());
                    assert_eq!(read(&ctx), want, "{} on {name} event {}", f.name, ctx.num);
                    checked += 1;
                    with_value += u64::from(want.is_some());
                }
                for (f, read) in &int_readers {
                    out.clear();
                    let want = (f.extract)(&ctx, "", &mut out).then_some(out.clone());
                    let got = read(&ctx).map(|v| match (f.name.starts_with("evt.is_"), v) {
                        (true, 0) => "false".to_string(),
                        (true, 1) => "true".to_string(),
                        _ => v.to_string(),
                    });
                    assert_eq!(got, want, "{} on {name} event {}", f.name, ctx.num);
                }
            }
        }
        // Most events have a process name, many a descriptor.
        assert!(with_value * 4 > checked, "{with_value} of {checked}");
    }
}
