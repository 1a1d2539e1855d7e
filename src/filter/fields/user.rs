//! `user.*` and `group.*` fields: the user and group of the event's thread.

use super::{Arg, Ctx, Field};

/// The `user.*` fields.
pub static FIELDS: &[Field] = &[
    Field {
        name: "user.uid",
        arg: Arg::None,
        desc: "user id",
        extract: uid,
    },
    Field {
        name: "user.name",
        arg: Arg::None,
        desc: "user name",
        extract: name,
    },
    Field {
        name: "user.loginuid",
        arg: Arg::None,
        desc: "login user id",
        extract: loginuid,
    },
    Field {
        name: "user.loginname",
        arg: Arg::None,
        desc: "login user name",
        extract: loginname,
    },
    Field {
        name: "group.gid",
        arg: Arg::None,
        desc: "group id",
        extract: gid,
    },
    Field {
        name: "group.name",
        arg: Arg::None,
        desc: "group name",
        extract: group_name,
    },
];

fn gid(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(t) = c.thread() else { return false };
    super::push_int(out, t.gid);
    true
}

fn group_name(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(n) = c.thread().and_then(|t| c.state.group(t.gid)) else {
        return false;
    };
    out.push_str(n);
    true
}

fn uid(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(t) = c.thread() else { return false };
    super::push_int(out, t.uid);
    true
}

fn name(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(n) = c.thread().and_then(|t| c.state.user(t.uid)) else {
        return false;
    };
    out.push_str(n);
    true
}

fn loginuid(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(t) = c.thread() else { return false };
    super::push_int(out, t.loginuid);
    true
}

fn loginname(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(n) = c
        .thread()
        .filter(|t| t.loginuid >= 0)
        .and_then(|t| c.state.user(t.loginuid as u32))
    else {
        return false;
    };
    out.push_str(n);
    true
}
