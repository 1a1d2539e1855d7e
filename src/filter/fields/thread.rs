//! `thread.*` fields.

use super::{Arg, Ctx, Field};

/// The `thread.*` fields.
pub static FIELDS: &[Field] = &[
    Field {
        name: "thread.tid",
        arg: Arg::None,
        desc: "thread id",
        extract: tid,
    },
    Field {
        name: "thread.vtid",
        arg: Arg::None,
        desc: "thread id in its pid namespace",
        extract: vtid,
    },
];

fn tid(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    super::push_int(out, c.evt.tid() as i64);
    true
}

fn vtid(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(t) = c.thread().filter(|t| t.vtid >= 0) else {
        return false;
    };
    super::push_int(out, t.vtid);
    true
}
