//! A deterministic stand-in for the `rule_parser` fuzz target (fuzz/), run
//! with the ordinary tests: mutated conditions and rule files must never
//! panic, and every condition that parses prints back to text that parses to
//! the same print.

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
