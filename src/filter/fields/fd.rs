//! `fd.*` fields: the descriptor the event operates on or creates.

use std::fmt::Write as _;

use super::{Arg, Ctx, Field};
use crate::state::fd::Fd;

/// The `fd.*` fields.
pub static FIELDS: &[Field] = &[
    Field {
        name: "fd.num",
        arg: Arg::None,
        desc: "descriptor number",
        extract: num,
    },
    Field {
        name: "fd.name",
        arg: Arg::None,
        desc: "path, tuple or name of the descriptor",
        extract: name,
    },
    Field {
        name: "fd.type",
        arg: Arg::None,
        desc: "descriptor type",
        extract: ty,
    },
    Field {
        name: "fd.typechar",
        arg: Arg::None,
        desc: "descriptor type character",
        extract: typechar,
    },
];

fn entry<'a>(c: &'a Ctx<'_>) -> Option<&'a Fd> {
    c.state.fd(c.evt.tid(), c.fd?)
}

fn num(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(fd) = c.fd else { return false };
    let _ = write!(out, "{fd}");
    true
}

fn name(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    // A name holding for this event only (failed open or connect, or a
    // descriptor the state does not know) comes first.
    if let Some(n) = c.fd_transient {
        out.push_str(n);
        return true;
    }
    match entry(c) {
        Some(f) => out.push_str(&f.name),
        None => return false,
    }
    true
}

fn ty(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(f) = entry(c) else { return false };
    out.push_str(f.ty.name());
    true
}

fn typechar(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(f) = entry(c) else { return false };
    out.push(f.ty.typechar());
    true
}
