//! `k8s.*` fields: the pod and namespace of the event's container, from the
//! kubernetes labels of its description.

use super::container::container;
use super::{Arg, Ctx, Field};

/// The `k8s.*` fields.
pub static FIELDS: &[Field] = &[
    Field {
        name: "k8s.pod.name",
        arg: Arg::None,
        desc: "pod name (label io.kubernetes.pod.name)",
        extract: pod_name,
    },
    Field {
        name: "k8s.ns.name",
        arg: Arg::None,
        desc: "namespace (label io.kubernetes.pod.namespace)",
        extract: ns_name,
    },
];

fn pod_name(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(n) = container(c).and_then(|k| k.pod_name.as_deref()) else {
        return false;
    };
    out.push_str(n);
    true
}

fn ns_name(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(n) = container(c).and_then(|k| k.pod_namespace.as_deref()) else {
        return false;
    };
    out.push_str(n);
    true
}
