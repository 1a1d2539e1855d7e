//! `evt.*` fields: number, time, cpu, type, direction, arguments, result.

use std::fmt::Write as _;

use super::{Arg, Ctx, Field};
use crate::event::render;
use crate::event::schema::ParamType;
use crate::event::table::id;

/// The `evt.*` fields.
pub static FIELDS: &[Field] = &[
    Field {
        name: "evt.num",
        arg: Arg::None,
        desc: "event number",
        extract: num,
    },
    Field {
        name: "evt.time",
        arg: Arg::None,
        desc: "event time (HH:MM:SS.ns, UTC)",
        extract: time,
    },
    Field {
        name: "evt.outputtime",
        arg: Arg::None,
        desc: "event time as the default output shows it",
        extract: time,
    },
    Field {
        name: "evt.rawtime",
        arg: Arg::None,
        desc: "event time, ns since the epoch",
        extract: rawtime,
    },
    Field {
        name: "evt.cpu",
        arg: Arg::None,
        desc: "CPU number",
        extract: cpu,
    },
    Field {
        name: "evt.type",
        arg: Arg::None,
        desc: "event type name",
        extract: ty,
    },
    Field {
        name: "evt.dir",
        arg: Arg::None,
        desc: "direction: > enter, < exit",
        extract: dir,
    },
    Field {
        name: "evt.args",
        arg: Arg::None,
        desc: "all arguments as text",
        extract: args,
    },
    Field {
        name: "evt.info",
        arg: Arg::None,
        desc: "arguments as the default output shows them",
        extract: args,
    },
    Field {
        name: "evt.arg",
        arg: Arg::Required,
        desc: "one argument by name or index",
        extract: arg,
    },
    Field {
        name: "evt.res",
        arg: Arg::None,
        desc: "result: SUCCESS or the errno name",
        extract: res,
    },
    Field {
        name: "evt.rawres",
        arg: Arg::None,
        desc: "result as a number",
        extract: rawres,
    },
    Field {
        name: "evt.is_open_read",
        arg: Arg::None,
        desc: "true for opens with read access",
        extract: is_open_read,
    },
    Field {
        name: "evt.is_open_write",
        arg: Arg::None,
        desc: "true for opens with write access",
        extract: is_open_write,
    },
    Field {
        name: "evt.is_open_exec",
        arg: Arg::None,
        desc: "true for opens that create a file with execute permission",
        extract: is_open_exec,
    },
];

/// `PPM_O_RDONLY`.
const PPM_O_RDONLY: i64 = 1;
/// `PPM_O_WRONLY`.
const PPM_O_WRONLY: i64 = 1 << 1;
/// `PPM_O_CREAT`.
const PPM_O_CREAT: i64 = 1 << 2;
/// `PPM_S_IXUSR | PPM_S_IXGRP | PPM_S_IXOTH`.
const PPM_S_IXALL: i64 = 0o111;

/// Whether events of type `ty` (schema name) are open-family exits.
fn is_open_exit(ty: &str, enter: bool) -> bool {
    !enter
        && matches!(
            ty,
            "open" | "openat" | "openat2" | "open_by_handle_at" | "creat"
        )
}

/// What field `field` (without argument) is for every event of the type
/// named `ty` in the given direction (`creates_fd`: the schema marks the
/// type as creating a descriptor): `Some(Some(v))` always `v`, `Some(None)`
/// never a value, `None` when it depends on the event. Lets the engine
/// decide such tests once per event type.
pub fn fixed(field: &str, ty: &str, enter: bool, creates_fd: bool) -> Option<Option<&'static str>> {
    match field {
        // Before the call returns there is no descriptor (fd.num is -1)
        // and nothing the state knows under it.
        "fd.name" | "fd.directory" | "fd.filename" | "fd.typechar" if enter && creates_fd => {
            Some(None)
        }
        "evt.is_open_read" | "evt.is_open_write" | "evt.is_open_exec"
            if !is_open_exit(ty, enter) =>
        {
            Some(Some("false"))
        }
        "evt.res" | "evt.rawres" if enter => Some(None),
        _ => None,
    }
}

/// Parameter `name` of an open-family exit event (from the exit event, or
/// the thread's kept enter event for older layouts); None for other events.
/// [`is_open_exit`] by event id: the exit events named as it lists.
fn is_open_exit_id(ty: u16) -> bool {
    matches!(
        ty,
        id::SYSCALL_OPEN_X
            | id::SYSCALL_OPENAT_X
            | id::SYSCALL_OPENAT_2_X
            | id::SYSCALL_OPENAT2_X
            | id::SYSCALL_CREAT_X
    )
}

#[inline(always)]
fn open_param(c: &Ctx<'_>, name: &str) -> Option<i64> {
    if !is_open_exit_id(c.evt.event_type()) {
        return None;
    }
    c.evt
        .param_by_name(name)
        .and_then(crate::event::params::int)
        .or_else(|| {
            let raw = c.state.last_enter(c.evt.tid())?;
            let v = crate::event::view::EventView::new(raw, 0, 0).ok()?;
            (v.event_type() + 1 == c.evt.event_type())
                .then(|| v.param_by_name(name).and_then(crate::event::params::int))?
        })
}

/// The open flags of an open-family exit event (creat has none: it opens
/// for writing and creates).
fn open_flags(c: &Ctx<'_>) -> Option<i64> {
    if c.evt.event_type() == id::SYSCALL_CREAT_X {
        return Some(PPM_O_WRONLY | PPM_O_CREAT);
    }
    open_param(c, "flags")
}

fn bool_out(out: &mut String, b: bool) -> bool {
    out.push_str(if b { "true" } else { "false" });
    true
}

/// `evt.is_open_read` as 0 or 1 (the text extractor and filters' integer
/// reader share it).
pub(super) fn is_open_read_value(c: &Ctx<'_>) -> Option<i64> {
    Some(open_flags(c).is_some_and(|f| f & PPM_O_RDONLY != 0).into())
}

/// `evt.is_open_write` as 0 or 1.
pub(super) fn is_open_write_value(c: &Ctx<'_>) -> Option<i64> {
    Some(open_flags(c).is_some_and(|f| f & PPM_O_WRONLY != 0).into())
}

/// `evt.is_open_exec` as 0 or 1.
pub(super) fn is_open_exec_value(c: &Ctx<'_>) -> Option<i64> {
    Some(
        open_flags(c)
            .is_some_and(|f| {
                f & PPM_O_CREAT != 0 && open_param(c, "mode").unwrap_or(0) & PPM_S_IXALL != 0
            })
            .into(),
    )
}

fn is_open_read(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    bool_out(out, is_open_read_value(c) == Some(1))
}

fn is_open_write(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    bool_out(out, is_open_write_value(c) == Some(1))
}

fn is_open_exec(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    bool_out(out, is_open_exec_value(c) == Some(1))
}

fn num(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    super::push_int(out, c.num);
    true
}

fn time(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let ts = c.evt.ts();
    let secs = ts / 1_000_000_000;
    let day = secs % 86_400;
    let _ = write!(
        out,
        "{:02}:{:02}:{:02}.{:09}",
        day / 3600,
        day / 60 % 60,
        day % 60,
        ts % 1_000_000_000
    );
    true
}

fn rawtime(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    super::push_int(out, c.evt.ts());
    true
}

fn cpu(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    super::push_int(out, c.evt.cpu());
    true
}

fn ty(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    out.push_str(render::type_name(c.evt));
    true
}

fn dir(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    out.push(if c.evt.is_enter() { '>' } else { '<' });
    true
}

fn args(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    render::args(c.evt, Some(c), out);
    true
}

fn arg(c: &Ctx<'_>, a: &str, out: &mut String) -> bool {
    let i = match a.parse::<usize>() {
        Ok(i) if i < c.evt.nparams() => i,
        Ok(_) => return false,
        Err(_) => match c.evt.param_index(a) {
            Some(i) => i,
            None => return false,
        },
    };
    render::param_resolved(c.evt, i, Some(c), out);
    true
}

/// The result value of an exit event: its `res` parameter, or a first
/// parameter that is an fd, errno or pid.
fn result(c: &Ctx<'_>) -> Option<i64> {
    if c.evt.is_enter() {
        return None;
    }
    let i = c.evt.param_index("res").or_else(|| {
        let p = c.evt.info()?.params.first()?;
        matches!(p.ty, ParamType::Errno | ParamType::Fd | ParamType::Pid)
            .then_some(0)
            .filter(|_| c.evt.nparams() > 0)
    })?;
    crate::event::params::int(c.evt.param(i)?)
}

fn res(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(v) = result(c) else {
        return false;
    };
    if v < 0 {
        match render::errno_name(v) {
            Some(n) => out.push_str(n),
            None => {
                super::push_int(out, v);
            }
        }
    } else {
        out.push_str("SUCCESS");
    }
    true
}

fn rawres(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(v) = result(c) else {
        return false;
    };
    super::push_int(out, v);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::schema;
    use crate::event::table::EVENT_MAX;

    #[test]
    fn open_exits_by_id_are_those_by_name() {
        for ty in 0..EVENT_MAX {
            let Some(info) = schema::info(ty) else {
                continue;
            };
            assert_eq!(
                is_open_exit_id(ty),
                is_open_exit(info.name, schema::is_enter(ty)),
                "event {ty} ({})",
                info.name
            );
        }
    }
}
