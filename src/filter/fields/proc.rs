//! `proc.*` fields: the process of the event's thread.

use super::{Arg, Ctx, Field};
use crate::state::thread::Thread;

/// The `proc.*` fields.
pub static FIELDS: &[Field] = &[
    Field {
        name: "proc.pid",
        arg: Arg::None,
        desc: "process id",
        extract: pid,
    },
    Field {
        name: "proc.ppid",
        arg: Arg::None,
        desc: "parent process id",
        extract: ppid,
    },
    Field {
        name: "proc.name",
        arg: Arg::None,
        desc: "command name",
        extract: name,
    },
    Field {
        name: "proc.exe",
        arg: Arg::None,
        desc: "argv[0]",
        extract: exe,
    },
    Field {
        name: "proc.exepath",
        arg: Arg::None,
        desc: "executable path",
        extract: exepath,
    },
    Field {
        name: "proc.args",
        arg: Arg::None,
        desc: "arguments after argv[0]",
        extract: args,
    },
    Field {
        name: "proc.cmdline",
        arg: Arg::None,
        desc: "command name and arguments",
        extract: cmdline,
    },
    Field {
        name: "proc.cwd",
        arg: Arg::None,
        desc: "working directory",
        extract: cwd,
    },
    Field {
        name: "proc.pname",
        arg: Arg::None,
        desc: "parent command name",
        extract: pname,
    },
    Field {
        name: "proc.pcmdline",
        arg: Arg::None,
        desc: "parent command name and arguments",
        extract: pcmdline,
    },
    Field {
        name: "proc.pexe",
        arg: Arg::None,
        desc: "parent's argv[0]",
        extract: pexe,
    },
    Field {
        name: "proc.pexepath",
        arg: Arg::None,
        desc: "parent's executable path",
        extract: pexepath,
    },
    Field {
        name: "proc.aexepath",
        arg: Arg::Optional,
        desc: "executable path of the N-th ancestor ([0] the process itself, [1] its parent)",
        extract: aexepath,
    },
    Field {
        name: "proc.aname",
        arg: Arg::Optional,
        desc: "name of the N-th ancestor ([0] the process itself, [1] its parent)",
        extract: aname,
    },
    Field {
        name: "proc.duration",
        arg: Arg::None,
        desc: "nanoseconds since the thread was created",
        extract: duration,
    },
    Field {
        name: "proc.env",
        arg: Arg::Optional,
        desc: "environment, or the value of one variable",
        extract: env,
    },
    Field {
        name: "proc.tty",
        arg: Arg::None,
        desc: "controlling terminal number, 0 if none",
        extract: tty,
    },
    Field {
        name: "proc.vpid",
        arg: Arg::None,
        desc: "process id in its pid namespace",
        extract: vpid,
    },
];

/// Deepest ancestor looked up (guards against parent cycles).
const MAX_ANCESTORS: usize = 64;

/// The `n`-th ancestor of the event's thread (0 is the thread itself),
/// following parent thread ids as `proc.pname` does.
pub fn ancestor<'a>(c: &'a Ctx<'_>, n: usize) -> Option<&'a Thread> {
    if n > MAX_ANCESTORS {
        return None;
    }
    let mut t = c.thread()?;
    for _ in 0..n {
        t = c.state.thread(t.ptid).filter(|p| p.tid != t.tid)?;
    }
    Some(t)
}

/// Whether any ancestor of the event's thread (parent first, up to
/// [`MAX_ANCESTORS`]) satisfies `test`.
pub fn any_ancestor(c: &Ctx<'_>, mut test: impl FnMut(&Thread) -> bool) -> bool {
    let Some(mut t) = c.thread() else {
        return false;
    };
    for _ in 0..MAX_ANCESTORS {
        match c.state.thread(t.ptid).filter(|p| p.tid != t.tid) {
            Some(p) if test(p) => return true,
            Some(p) => t = p,
            None => return false,
        }
    }
    false
}

/// `proc.aexepath` without an index in a filter: any ancestor's executable
/// path (no value without a known parent).
pub fn each_ancestor_exepath(c: &Ctx<'_>, test: &mut dyn FnMut(&str) -> bool) -> Option<bool> {
    ancestor(c, 1)?;
    Some(any_ancestor(c, |t| test(&t.exepath)))
}

/// `proc.aname` without an index in a filter: any ancestor's name (no
/// value without a known parent).
pub fn each_ancestor_name(c: &Ctx<'_>, test: &mut dyn FnMut(&str) -> bool) -> Option<bool> {
    ancestor(c, 1)?;
    Some(any_ancestor(c, |t| test(&t.comm)))
}

fn pid(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(t) = c.thread() else { return false };
    super::push_int(out, t.pid as i64);
    true
}

fn ppid(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(t) = c.thread() else { return false };
    // The parent of the process (its main thread), by process id when
    // known, else the parent thread id as recorded.
    let main = c.state.thread(t.pid).unwrap_or(t);
    let ppid = c.state.thread(main.ptid).map_or(main.ptid, |p| p.pid);
    super::push_int(out, ppid as i64);
    true
}

/// `proc.name` borrowed from the state (the text extractor and filters'
/// text reader share it).
pub(super) fn name_value<'a>(c: &Ctx<'a>) -> Option<&'a str> {
    c.thread().map(|t| t.comm.as_str())
}

fn name(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    super::push_some(out, name_value(c))
}

fn exe(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(t) = c.thread() else { return false };
    out.push_str(&t.exe);
    true
}

fn exepath(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(t) = c.thread() else { return false };
    out.push_str(&t.exepath);
    true
}

fn args(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(t) = c.thread() else { return false };
    out.push_str(&t.args.join(" "));
    true
}

fn cmdline(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(t) = c.thread() else { return false };
    out.push_str(&t.cmdline());
    true
}

fn cwd(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(t) = c.thread() else { return false };
    out.push_str(&t.cwd);
    true
}

/// `proc.pname` borrowed from the state.
pub(super) fn pname_value<'a>(c: &Ctx<'a>) -> Option<&'a str> {
    let t = c.thread()?;
    c.state.thread(t.ptid).map(|p| p.comm.as_str())
}

fn pname(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    super::push_some(out, pname_value(c))
}

fn pexe(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(p) = ancestor(c, 1) else {
        return false;
    };
    out.push_str(&p.exe);
    true
}

fn pexepath(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(p) = ancestor(c, 1) else {
        return false;
    };
    out.push_str(&p.exepath);
    true
}

fn aexepath(c: &Ctx<'_>, a: &str, out: &mut String) -> bool {
    let Some(t) = indexed_ancestor(c, a) else {
        return false;
    };
    out.push_str(&t.exepath);
    true
}

fn pcmdline(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(p) = ancestor(c, 1) else {
        return false;
    };
    out.push_str(&p.comm);
    for a in &p.args {
        out.push(' ');
        out.push_str(a);
    }
    true
}

/// The ancestor a `proc.a*[N]` argument names; without an index the
/// process itself (the value outputs show).
fn indexed_ancestor<'a>(c: &'a Ctx<'_>, a: &str) -> Option<&'a Thread> {
    let n = if a.is_empty() { 0 } else { a.parse().ok()? };
    ancestor(c, n)
}

fn aname(c: &Ctx<'_>, a: &str, out: &mut String) -> bool {
    let Some(t) = indexed_ancestor(c, a) else {
        return false;
    };
    out.push_str(&t.comm);
    true
}

fn duration(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(t) = c.thread().filter(|t| t.clone_ts != 0) else {
        return false;
    };
    super::push_int(out, c.evt.ts().saturating_sub(t.clone_ts));
    true
}

fn env(c: &Ctx<'_>, a: &str, out: &mut String) -> bool {
    let Some(t) = c.thread() else { return false };
    if a.is_empty() {
        for (i, v) in t.env.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(v);
        }
        return true;
    }
    let found = t
        .env
        .iter()
        .find_map(|v| v.strip_prefix(a).and_then(|rest| rest.strip_prefix('=')));
    match found {
        Some(v) => {
            out.push_str(v);
            true
        }
        None => false,
    }
}

fn tty(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(t) = c.thread() else { return false };
    super::push_int(out, t.tty);
    true
}

fn vpid(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(t) = c.thread().filter(|t| t.vpid >= 0) else {
        return false;
    };
    super::push_int(out, t.vpid);
    true
}
