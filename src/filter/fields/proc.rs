//! `proc.*` fields: the process of the event's thread.

use std::fmt::Write as _;

use super::{Arg, Ctx, Field};

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
];

fn pid(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(t) = c.thread() else { return false };
    let _ = write!(out, "{}", t.pid as i64);
    true
}

fn ppid(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(t) = c.thread() else { return false };
    // The parent of the process (its main thread), by process id when
    // known, else the parent thread id as recorded.
    let main = c.state.thread(t.pid).unwrap_or(t);
    let ppid = c.state.thread(main.ptid).map_or(main.ptid, |p| p.pid);
    let _ = write!(out, "{}", ppid as i64);
    true
}

fn name(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(t) = c.thread() else { return false };
    out.push_str(&t.comm);
    true
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

fn pname(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(p) = c.thread().and_then(|t| c.state.thread(t.ptid)) else {
        return false;
    };
    out.push_str(&p.comm);
    true
}
