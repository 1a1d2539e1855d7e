//! `container.*` fields: the container of the event's thread, by the id its
//! cgroups name and the description the capture carries.

use super::{Arg, Ctx, Field};
use crate::state::container::Container;

/// The `container.*` fields.
pub static FIELDS: &[Field] = &[
    Field {
        name: "container.id",
        arg: Arg::None,
        desc: "short container id, host for host processes",
        extract: id,
    },
    Field {
        name: "container.name",
        arg: Arg::None,
        desc: "container name, host for host processes",
        extract: name,
    },
    Field {
        name: "container.image",
        arg: Arg::None,
        desc: "image as given",
        extract: image,
    },
    Field {
        name: "container.image.repository",
        arg: Arg::None,
        desc: "image repository",
        extract: repository,
    },
    Field {
        name: "container.image.tag",
        arg: Arg::None,
        desc: "image tag",
        extract: tag,
    },
    Field {
        name: "container.privileged",
        arg: Arg::None,
        desc: "whether the container runs privileged",
        extract: privileged,
    },
    Field {
        name: "container.mounts",
        arg: Arg::None,
        desc: "all mounts as source:dest:mode:rdwr:propagation",
        extract: mounts,
    },
    Field {
        name: "container.mount",
        arg: Arg::Required,
        desc: "one mount by number or source glob",
        extract: mount,
    },
    Field {
        name: "container.mount.source",
        arg: Arg::Required,
        desc: "mount source by number or destination glob",
        extract: mount_source,
    },
    Field {
        name: "container.mount.dest",
        arg: Arg::Required,
        desc: "mount destination by number or source glob",
        extract: mount_dest,
    },
    Field {
        name: "container.mount.mode",
        arg: Arg::Required,
        desc: "mount mode by number or source glob",
        extract: mount_mode,
    },
    Field {
        name: "container.mount.rdwr",
        arg: Arg::Required,
        desc: "whether a mount is read-write, by number or source glob",
        extract: mount_rdwr,
    },
    Field {
        name: "container.mount.propagation",
        arg: Arg::Required,
        desc: "mount propagation by number or source glob",
        extract: mount_propagation,
    },
];

/// The container id of the event's thread: empty for a host thread, None
/// when the thread is unknown.
pub fn thread_container_id<'a>(c: &'a Ctx<'_>) -> Option<&'a str> {
    c.thread().map(|t| t.container_id.as_str())
}

/// The description of the event's container, if the capture carried one.
pub fn container<'a>(c: &'a Ctx<'_>) -> Option<&'a Container> {
    let id = thread_container_id(c).filter(|id| !id.is_empty())?;
    c.state.container(id)
}

fn id(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(id) = thread_container_id(c) else {
        return false;
    };
    out.push_str(if id.is_empty() { "host" } else { id });
    true
}

fn name(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    match thread_container_id(c) {
        None => false,
        Some("") => {
            out.push_str("host");
            true
        }
        Some(_) => text(c, out, |k| &k.name),
    }
}

/// A text property of the container; empty (not in the description) has
/// no value.
fn text(c: &Ctx<'_>, out: &mut String, f: impl Fn(&Container) -> &String) -> bool {
    let Some(v) = container(c).map(f).filter(|v| !v.is_empty()) else {
        return false;
    };
    out.push_str(v);
    true
}

fn image(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    text(c, out, |k| &k.image)
}

fn repository(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    text(c, out, |k| &k.repository)
}

fn tag(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    text(c, out, |k| &k.tag)
}

fn privileged(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(p) = container(c).and_then(|k| k.privileged) else {
        return false;
    };
    out.push_str(if p { "true" } else { "false" });
    true
}

fn mounts(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(k) = container(c) else { return false };
    k.mounts_text(out);
    true
}

fn mount(c: &Ctx<'_>, a: &str, out: &mut String) -> bool {
    let Some(m) = container(c).and_then(|k| k.find_mount(a, false)) else {
        return false;
    };
    m.write(out);
    true
}

fn mount_source(c: &Ctx<'_>, a: &str, out: &mut String) -> bool {
    let Some(m) = container(c).and_then(|k| k.find_mount(a, true)) else {
        return false;
    };
    out.push_str(&m.source);
    true
}

fn mount_dest(c: &Ctx<'_>, a: &str, out: &mut String) -> bool {
    let Some(m) = container(c).and_then(|k| k.find_mount(a, false)) else {
        return false;
    };
    out.push_str(&m.dest);
    true
}

fn mount_mode(c: &Ctx<'_>, a: &str, out: &mut String) -> bool {
    let Some(m) = container(c).and_then(|k| k.find_mount(a, false)) else {
        return false;
    };
    out.push_str(&m.mode);
    true
}

fn mount_rdwr(c: &Ctx<'_>, a: &str, out: &mut String) -> bool {
    let Some(m) = container(c).and_then(|k| k.find_mount(a, false)) else {
        return false;
    };
    out.push_str(if m.rdwr { "true" } else { "false" });
    true
}

fn mount_propagation(c: &Ctx<'_>, a: &str, out: &mut String) -> bool {
    let Some(m) = container(c).and_then(|k| k.find_mount(a, false)) else {
        return false;
    };
    out.push_str(&m.propagation);
    true
}
