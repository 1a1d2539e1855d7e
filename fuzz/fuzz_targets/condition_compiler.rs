//! Fuzzes the condition compiler and evaluator: the input's first line is a
//! condition, the following lines are field values (field id N takes line
//! N modulo their number; no lines, no values). A condition that parses
//! must compile or report errors, and a compiled program must evaluate
//! without panicking on any values; folding it for values known ahead must
//! not change the result.

#![no_main]

use libfuzzer_sys::fuzz_target;
use saker::filter::compile::{compile, FieldId, FieldTable};
use saker::filter::eval::{eval, fold, Fields, Folded, Scratch};
use saker::filter::parse::parse;

struct Values<'a>(Vec<&'a str>);

impl Values<'_> {
    fn get(&self, id: FieldId) -> Option<&str> {
        (!self.0.is_empty()).then(|| self.0[id as usize % self.0.len()])
    }
}

impl Fields for Values<'_> {
    fn text(&mut self, id: FieldId) -> Option<&str> {
        self.get(id)
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (cond, rest) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(expr) = parse(cond, 0) else {
        return;
    };
    let mut table = FieldTable::default();
    let Ok(node) = compile(&expr, &mut table) else {
        return;
    };
    let mut values = Values(if rest.is_empty() {
        Vec::new()
    } else {
        rest.split('\n').collect()
    });
    let mut scratch = Scratch::default();
    let whole = eval(&node, &mut values, &mut scratch);
    // Fold with the even field ids known.
    let known_values = Values(values.0.clone());
    let known = |id: FieldId| {
        if id % 2 == 0 {
            Some(known_values.get(id))
        } else {
            None
        }
    };
    let folded = match fold(&node, &known) {
        Folded::Const(b) => b,
        Folded::Node(n) => eval(&n, &mut values, &mut scratch),
    };
    assert_eq!(whole, folded, "folding changed the result of {cond:?}");
});
