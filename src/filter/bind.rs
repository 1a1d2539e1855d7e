//! Typed field access: a catalog field resolved once to its text extractor,
//! argument and value type, and the conversion of extracted text to the
//! catalog's type. Fields the catalog knows but no extractor provides yet
//! have no value (`<NA>`) for every event.

use std::net::IpAddr;

use super::ast::FieldRef;
use super::catalog::{self, FieldInfo, FieldType, LookupError};
use super::fields::{self, Ctx, Extract, Int, Multi, Str};

/// A field resolved for evaluation.
#[derive(Debug, Clone)]
pub struct Binding {
    /// The catalog entry.
    pub info: &'static FieldInfo,
    /// The argument (empty when none).
    pub arg: String,
    /// The field as written in outputs and JSON keys (`proc.aname[2]`).
    pub display: String,
    extract: Option<ExtractFn>,
    multi: Option<Multi>,
    int: Option<IntFn>,
    text: Option<StrFn>,
}

#[derive(Clone, Copy)]
struct ExtractFn(Extract);

#[derive(Clone, Copy)]
struct IntFn(Int);

#[derive(Clone, Copy)]
struct StrFn(Str);

impl std::fmt::Debug for StrFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("text reader")
    }
}

impl std::fmt::Debug for IntFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("integer reader")
    }
}

impl std::fmt::Debug for ExtractFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("extractor")
    }
}

impl Binding {
    /// Resolves a field reference against the catalog and the extractors.
    pub fn resolve(f: &FieldRef) -> Result<Binding, LookupError> {
        Binding::resolve_name(&f.name, f.arg.as_deref())
    }

    /// Resolves `name` with an optional bracketed argument.
    pub fn resolve_name(name: &str, arg: Option<&str>) -> Result<Binding, LookupError> {
        let r = catalog::lookup(name, arg)?;
        let extract = fields::classes()
            .into_iter()
            .flat_map(|c| c.iter())
            .find(|x| x.name == r.info.name)
            .map(|x| ExtractFn(x.extract));
        let arg = r.arg.unwrap_or_default();
        let multi = fields::multi_for(r.info.name, &arg);
        // Only with the text extractor it agrees with.
        let int = extract.and(fields::int_for(r.info.name, &arg)).map(IntFn);
        let text = extract.and(fields::str_for(r.info.name, &arg)).map(StrFn);
        let display = if arg.is_empty() {
            r.info.name.to_string()
        } else if name != r.info.name {
            // Written with a dot (`evt.arg.path`).
            format!("{}.{arg}", r.info.name)
        } else {
            format!("{}[{arg}]", r.info.name)
        };
        Ok(Binding {
            info: r.info,
            arg,
            display,
            extract,
            multi,
            int,
            text,
        })
    }

    /// The value type.
    pub fn ty(&self) -> FieldType {
        self.info.ty
    }

    /// Whether an extractor provides this field.
    pub fn has_extractor(&self) -> bool {
        self.extract.is_some()
    }

    /// How the field compares when it has several values per event.
    pub fn multi(&self) -> Option<Multi> {
        self.multi
    }

    /// The field's integer reader, if it has one (see [`fields::Int`]).
    pub fn int(&self) -> Option<Int> {
        self.int.map(|i| i.0)
    }

    /// The field's borrowed-text reader, if it has one (see
    /// [`fields::Str`]).
    pub fn text_reader(&self) -> Option<Str> {
        self.text.map(|t| t.0)
    }

    /// Appends the field's text to `out`; false when it has no value.
    pub fn extract(&self, ctx: &Ctx<'_>, out: &mut String) -> bool {
        match self.extract {
            Some(ExtractFn(x)) => {
                let mark = out.len();
                let ok = x(ctx, &self.arg, out);
                if !ok {
                    out.truncate(mark);
                }
                ok
            }
            None => false,
        }
    }
}

/// Parses an integer as libsinsp writes and reads them (decimal, optionally
/// signed, or `0x` hex).
pub fn parse_int(s: &str) -> Option<i128> {
    // Field values are mostly short plain decimals.
    let b = s.as_bytes();
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        _ => (false, b),
    };
    if !digits.is_empty() && digits.len() <= 18 && digits.iter().all(u8::is_ascii_digit) {
        let v = digits
            .iter()
            .fold(0i64, |a, d| a * 10 + i64::from(d - b'0'));
        return Some(i128::from(if neg { -v } else { v }));
    }
    let t = s.trim();
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return i128::from_str_radix(h, 16).ok();
    }
    t.parse::<i128>().ok()
}

/// Parses a boolean (`true`/`false`, or a number where non-zero is true).
pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "true" => return Some(true),
        "false" => return Some(false),
        _ => {}
    }
    match s.trim() {
        "true" | "TRUE" | "True" => Some(true),
        "false" | "FALSE" | "False" => Some(false),
        t => parse_int(t).map(|n| n != 0),
    }
}

/// An IP network: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    /// The network address.
    pub addr: IpAddr,
    /// Prefix length in bits.
    pub prefix: u8,
}

impl IpNet {
    /// Parses `a.b.c.d/n`, `x::y/n` or a bare address (a host network).
    pub fn parse(s: &str) -> Option<IpNet> {
        let s = s.trim();
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.parse::<u8>().ok().filter(|n| *n <= max)?,
            None => max,
        };
        Some(IpNet { addr, prefix })
    }

    /// Whether `ip` lies in the network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                masked(u32::from(n) as u128, 32, self.prefix)
                    == masked(u32::from(a) as u128, 32, self.prefix)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                masked(u128::from(n), 128, self.prefix) == masked(u128::from(a), 128, self.prefix)
            }
            (IpAddr::V4(n), IpAddr::V6(a)) => a.to_ipv4_mapped().is_some_and(|a| {
                masked(u32::from(n) as u128, 32, self.prefix)
                    == masked(u32::from(a) as u128, 32, self.prefix)
            }),
            (IpAddr::V6(_), IpAddr::V4(_)) => false,
        }
    }
}

fn masked(v: u128, bits: u8, prefix: u8) -> u128 {
    if prefix == 0 {
        return 0;
    }
    let shift = u32::from(bits - prefix.min(bits));
    (v >> shift) << shift
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_with_and_without_extractors() {
        let b = Binding::resolve_name("proc.name", None).unwrap();
        assert!(b.has_extractor());
        assert_eq!(b.display, "proc.name");
        let b = Binding::resolve_name("evt.arg.path", None).unwrap();
        assert_eq!(
            (b.arg.as_str(), b.display.as_str()),
            ("path", "evt.arg.path")
        );
        let b = Binding::resolve_name("evt.arg", Some("0")).unwrap();
        assert_eq!(b.display, "evt.arg[0]");
        assert!(Binding::resolve_name("no.such", None).is_err());
    }

    #[test]
    fn numbers_bools_networks() {
        let ints = [
            ("12", Some(12)),
            ("-3", Some(-3)),
            ("0x1f", Some(31)),
            ("x", None),
            ("-", None),
            ("", None),
            (" 42 ", Some(42)),
            ("+5", Some(5)),
            ("007", Some(7)),
            ("-999999999999999999", Some(-999_999_999_999_999_999)),
            ("123456789012345678901", Some(123_456_789_012_345_678_901)),
            ("18446744073709551615", Some(u64::MAX as i128)),
        ];
        for (s, want) in ints {
            assert_eq!(parse_int(s), want, "{s}");
        }
        assert_eq!(parse_bool("true"), Some(true));
        assert_eq!(parse_bool("0"), Some(false));
        assert_eq!(parse_bool("false"), Some(false));
        assert_eq!(parse_bool(" True"), Some(true));
        assert_eq!(parse_bool("yes"), None);
        let n = IpNet::parse("10.0.0.0/8").unwrap();
        assert!(n.contains("10.1.2.3".parse().unwrap()));
        assert!(!n.contains("11.1.2.3".parse().unwrap()));
        assert!(n.contains("::ffff:10.0.0.1".parse().unwrap()));
        let h = IpNet::parse("::1").unwrap();
        assert!(h.contains("::1".parse().unwrap()));
        assert!(IpNet::parse("1.2.3.4/33").is_none());
    }
}
