//! The field catalog: every field a condition or output may name, with its
//! type, whether it takes an argument, and a description. Compile-time
//! validation resolves names here; `saker --list` prints it.
//!
//! Arguments are written in brackets (`proc.aname[2]`, `container.mount.dest[/etc]`)
//! or, for named arguments, after a dot (`evt.arg.path`, `k8s.pod.label.app`).

use std::fmt;

pub use super::catalog_table::CLASSES;

/// The type of a field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// Text.
    String,
    /// Raw bytes.
    Bytes,
    /// True or false.
    Bool,
    /// Signed 16-bit integer.
    Int16,
    /// Signed 32-bit integer.
    Int32,
    /// Signed 64-bit integer.
    Int64,
    /// Unsigned 32-bit integer.
    Uint32,
    /// Unsigned 64-bit integer.
    Uint64,
    /// Floating point.
    Double,
    /// An IPv4 or IPv6 address.
    IpAddr,
    /// An IP network (address with prefix length).
    IpNet,
    /// A TCP/UDP port.
    Port,
    /// A duration in nanoseconds.
    RelTime,
    /// A point in time, nanoseconds since the epoch.
    AbsTime,
    /// The type of the event parameter the argument names.
    Dynamic,
}

impl FieldType {
    /// The name printed by `--list`.
    pub fn name(self) -> &'static str {
        match self {
            FieldType::String => "CHARBUF",
            FieldType::Bytes => "BYTEBUF",
            FieldType::Bool => "BOOL",
            FieldType::Int16 => "INT16",
            FieldType::Int32 => "INT32",
            FieldType::Int64 => "INT64",
            FieldType::Uint32 => "UINT32",
            FieldType::Uint64 => "UINT64",
            FieldType::Double => "DOUBLE",
            FieldType::IpAddr => "IPADDR",
            FieldType::IpNet => "IPNET",
            FieldType::Port => "PORT",
            FieldType::RelTime => "RELTIME",
            FieldType::AbsTime => "ABSTIME",
            FieldType::Dynamic => "DYNAMIC",
        }
    }

    /// Whether values compare as numbers (`<`, `>` and friends apply).
    pub fn is_numeric(self) -> bool {
        !matches!(
            self,
            FieldType::String
                | FieldType::Bytes
                | FieldType::Bool
                | FieldType::IpAddr
                | FieldType::IpNet
        )
    }
}

/// Whether and how a field takes an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArgKind {
    /// No argument.
    None,
    /// An optional numeric index in brackets (`proc.aname`, `proc.aname[2]`).
    OptionalIndex,
    /// An optional key (`proc.env`, `proc.env[HOME]`).
    OptionalKey,
    /// A required key, in brackets or after a dot (`k8s.pod.label.app`).
    Key,
    /// A required index or key (`evt.arg[0]`, `evt.arg.fd`).
    IndexOrKey,
}

/// One field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldInfo {
    /// Full name (`proc.name`).
    pub name: &'static str,
    /// Value type.
    pub ty: FieldType,
    /// Argument form.
    pub arg: ArgKind,
    /// What the field holds.
    pub desc: &'static str,
}

/// A group of fields sharing a prefix and an event scope.
#[derive(Debug, Clone, Copy)]
pub struct FieldClass {
    /// Class name (`process`).
    pub name: &'static str,
    /// What the class covers.
    pub desc: &'static str,
    /// Its fields.
    pub fields: &'static [FieldInfo],
}

/// Why a field reference does not resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LookupError {
    /// No such field.
    Unknown,
    /// The field needs an argument and none was given.
    MissingArg,
    /// The field takes no argument but one was given.
    UnexpectedArg,
    /// The field takes a numeric index and the argument is not one.
    BadIndex(String),
}

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LookupError::Unknown => f.write_str("nonexistent field"),
            LookupError::MissingArg => f.write_str("field requires an argument"),
            LookupError::UnexpectedArg => f.write_str("field does not take an argument"),
            LookupError::BadIndex(a) => write!(f, "argument '{a}' is not a numeric index"),
        }
    }
}

/// A resolved field reference: the catalog entry and its argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The catalog entry.
    pub info: &'static FieldInfo,
    /// The argument, from brackets or after the dot.
    pub arg: Option<String>,
}

/// Finds the entry named exactly `name`.
pub fn get(name: &str) -> Option<&'static FieldInfo> {
    CLASSES
        .iter()
        .flat_map(|c| c.fields.iter())
        .find(|f| f.name == name)
}

/// Resolves `name` with its bracketed argument `arg` (as the parser splits
/// them): exact names first, then `prefix.key` for fields taking a key.
pub fn lookup(name: &str, arg: Option<&str>) -> Result<Resolved, LookupError> {
    if let Some(info) = get(name) {
        return check_arg(info, arg.map(str::to_string));
    }
    // `evt.arg.path`: the longest prefix that names a field taking a key.
    let mut cut = name.len();
    while let Some(dot) = name[..cut].rfind('.') {
        if let Some(info) = get(&name[..dot]) {
            if matches!(
                info.arg,
                ArgKind::Key | ArgKind::IndexOrKey | ArgKind::OptionalKey
            ) && arg.is_none()
            {
                return Ok(Resolved {
                    info,
                    arg: Some(name[dot + 1..].to_string()),
                });
            }
            return Err(LookupError::Unknown);
        }
        cut = dot;
    }
    Err(LookupError::Unknown)
}

fn check_arg(info: &'static FieldInfo, arg: Option<String>) -> Result<Resolved, LookupError> {
    let arg = arg.filter(|a| !(a.is_empty() && info.arg == ArgKind::OptionalIndex));
    match (info.arg, &arg) {
        (ArgKind::None, Some(_)) => Err(LookupError::UnexpectedArg),
        (ArgKind::Key | ArgKind::IndexOrKey, None) => Err(LookupError::MissingArg),
        (ArgKind::OptionalIndex, Some(a)) if a.trim().parse::<i64>().is_err() => {
            Err(LookupError::BadIndex(a.clone()))
        }
        _ => Ok(Resolved { info, arg }),
    }
}

/// Writes the catalog as `saker --list` prints it.
pub fn write_list(out: &mut impl fmt::Write) -> fmt::Result {
    for class in CLASSES {
        writeln!(out, "-------------------------------")?;
        writeln!(out, "Field Class: {}", class.name)?;
        writeln!(out, "Description: {}", class.desc)?;
        writeln!(out)?;
        for f in class.fields {
            let name = match f.arg {
                ArgKind::None => f.name.to_string(),
                ArgKind::OptionalIndex => format!("{}[N]", f.name),
                ArgKind::OptionalKey | ArgKind::Key => format!("{}[KEY]", f.name),
                ArgKind::IndexOrKey => format!("{}[N|KEY]", f.name),
            };
            writeln!(out, "{name:<30} ({}) {}", f.ty.name(), f.desc)?;
        }
        writeln!(out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_table() {
        let ok = [
            ("proc.name", None, "proc.name", None),
            ("proc.aname", Some("2"), "proc.aname", Some("2")),
            ("proc.aname", None, "proc.aname", None),
            ("evt.arg", Some("0"), "evt.arg", Some("0")),
            ("evt.arg.path", None, "evt.arg", Some("path")),
            ("evt.rawarg.res", None, "evt.rawarg", Some("res")),
            ("k8s.pod.label.app", None, "k8s.pod.label", Some("app")),
            (
                "container.mount.dest",
                Some("/etc"),
                "container.mount.dest",
                Some("/etc"),
            ),
            ("fd.types", Some(""), "fd.types", None),
            ("proc.env", Some("HOME"), "proc.env", Some("HOME")),
        ];
        for (name, arg, want, want_arg) in ok {
            let r = lookup(name, arg).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!((r.info.name, r.arg.as_deref()), (want, want_arg), "{name}");
        }
        let bad = [
            ("proc.nobody", None, LookupError::Unknown),
            ("not.exist", None, LookupError::Unknown),
            ("proc.name", Some("1"), LookupError::UnexpectedArg),
            ("evt.arg", None, LookupError::MissingArg),
            ("proc.aname", Some("x"), LookupError::BadIndex("x".into())),
            ("proc.name.foo", None, LookupError::Unknown),
        ];
        for (name, arg, want) in bad {
            assert_eq!(lookup(name, arg), Err(want), "{name}");
        }
    }

    #[test]
    fn names_are_unique_and_described() {
        let mut seen = std::collections::HashSet::new();
        for c in CLASSES {
            for f in c.fields {
                assert!(seen.insert(f.name), "duplicate {}", f.name);
                assert!(!f.desc.is_empty(), "{}", f.name);
            }
        }
        assert!(seen.len() > 250);
    }
}
