//! A deterministic stand-in for the `rule_parser` fuzz target (fuzz/), run
//! with the ordinary tests: mutated conditions and rule files must never
//! panic, and every condition that parses prints back to text that parses to
//! the same print.

use saker::filter::compile::{compile, FieldId, FieldTable};
use saker::filter::eval::{eval, fold, Fields, Folded, Scratch};
use saker::filter::{evttype::evttypes, parse::parse, print::print};
use saker::rules::Loader;

/// xorshift64*: small, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const SEEDS: &[&str] = &[
    "evt.type in (open, openat) and evt.dir = < and not proc.name in (cat, \"l s\")",
    "(proc.aname[2] = sshd or fd.name exists) and tolower(proc.name) = val(proc.pname)",
    "fd.snet in (10.0.0.0/8) and fd.sport >= 1024 and proc.cmdline contains 'a \"b\"'",
    "not (evt.arg.path endswith /x or evt.rawres < 0) and len(fd.name) > 3",
];

const PIECES: &[&str] = &[
    "(",
    ")",
    ",",
    " and ",
    " or ",
    " not ",
    "=",
    "!=",
    " in ",
    "\"",
    "'",
    "\\",
    "[",
    "]",
    " exists",
    "val(",
    "tolower(",
    "proc.name",
    "x",
    " ",
    "\n",
    "é",
    "\0",
    "pmatch",
];

fn mutate(rng: &mut Rng, s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(chars.len() + 1);
        match rng.below(3) {
            0 if !chars.is_empty() => {
                let end = (at + rng.below(6)).min(chars.len());
                let at = at.min(end);
                chars.drain(at..end);
            }
            1 => {
                let piece = PIECES[rng.below(PIECES.len())];
                for (i, c) in piece.chars().enumerate() {
                    chars.insert((at + i).min(chars.len()), c);
                }
            }
            _ => {
                let c = char::from_u32(rng.below(128) as u32).unwrap_or('x');
                chars.insert(at.min(chars.len()), c);
            }
        }
    }
    chars.into_iter().collect()
}

#[test]
fn mutated_conditions_never_panic_and_round_trip() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut parsed = 0;
    for i in 0..20_000 {
        let text = mutate(&mut rng, SEEDS[i % SEEDS.len()]);
        if let Ok(e) = parse(&text, 0) {
            parsed += 1;
            let printed = print(&e);
            let again = parse(&printed, 0)
                .unwrap_or_else(|err| panic!("{text:?} printed as {printed:?}: {err}"));
            assert_eq!(print(&again), printed, "{text:?}");
            let _ = evttypes(&e);
        }
    }
    println!("{parsed} of 20000 mutated conditions parsed");
    assert!(parsed > 1000);
}

/// Field values for the compiler test: field id N takes value N modulo
/// their number.
struct Values(Vec<&'static str>);

impl Values {
    fn get(&self, id: FieldId) -> Option<&'static str> {
        (!self.0.is_empty()).then(|| self.0[id as usize % self.0.len()])
    }
}

impl Fields for Values {
    fn text(&mut self, id: FieldId) -> Option<&str> {
        self.get(id)
    }
}

const VALUES: &[&str] = &[
    "cat",
    "42",
    "-1",
    "0x1f",
    "/etc/shadow",
    "true",
    "10.1.2.3",
    "::1",
    "",
    "aGVsbG8=",
    "é/x",
    "<NA>",
];

/// The deterministic stand-in for the `condition_compiler` fuzz target:
/// mutated conditions that parse compile or report errors; programs
/// evaluate on odd values without panicking, and folding them for values
/// known ahead never changes the result.
#[test]
fn mutated_conditions_compile_evaluate_and_fold_consistently() {
    let mut rng = Rng(0x5eed_1234_abcd_0003);
    let (mut compiled, mut folded_away) = (0, 0);
    for i in 0..20_000 {
        let text = mutate(&mut rng, SEEDS[i % SEEDS.len()]);
        let Ok(e) = parse(&text, 0) else { continue };
        let mut table = FieldTable::default();
        let Ok(node) = compile(&e, &mut table) else {
            continue;
        };
        compiled += 1;
        let start = rng.below(VALUES.len());
        let n = rng.below(VALUES.len());
        let vals: Vec<&'static str> = VALUES.iter().cycle().skip(start).take(n).copied().collect();
        let mut values = Values(vals.clone());
        let mut scratch = Scratch::default();
        let whole = eval(&node, &mut values, &mut scratch);
        let known_values = Values(vals);
        let known = |id: FieldId| {
            if id % 2 == 0 {
                Some(known_values.get(id))
            } else {
                None
            }
        };
        let folded = match fold(&node, &known) {
            Folded::Const(b) => {
                folded_away += 1;
                b
            }
            Folded::Node(n) => eval(&n, &mut values, &mut scratch),
        };
        assert_eq!(whole, folded, "{text:?} with values {:?}", values.0);
    }
    println!("{compiled} of 20000 mutated conditions compiled, {folded_away} folded to a constant");
    assert!(compiled > 500);
    assert!(folded_away > 100);
}

#[test]
fn mutated_rule_files_never_panic() {
    let base = "- list: l\n  items: [a, \"b c\"]\n- macro: m\n  condition: proc.name in (l)\n\
                - rule: r\n  desc: d\n  condition: evt.type = open and m\n  output: \"x %proc.name\"\n  priority: INFO\n  \
                exceptions:\n    - name: e\n      fields: [proc.name, fd.name]\n      values: [[a, /b]]\n";
    let mut rng = Rng(0x5eed_1234_abcd_0002);
    for _ in 0..2_000 {
        let text = mutate(&mut rng, base);
        let mut l = Loader::new();
        l.load_str("m.yaml", &text);
        for d in l.finish().diagnostics {
            let _ = d.to_string();
        }
    }
}
