//! Fuzzes the rule front end: the input is parsed as a condition, and loaded
//! as a rules file (YAML, items, merge, macro and list expansion, checks).
//! Neither may panic, overflow the stack or run away, whatever the input.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(expr) = saker::filter::parse::parse(text, 0) {
        // What prints must parse back to the same text.
        let printed = saker::filter::print::print(&expr);
        let again = saker::filter::parse::parse(&printed, 0).expect("printed condition parses");
        assert_eq!(saker::filter::print::print(&again), printed);
        let _ = saker::filter::evttype::evttypes(&expr);
    }
    let mut loader = saker::rules::Loader::new();
    loader.load_str("fuzz.yaml", text);
    let loaded = loader.finish();
    for d in &loaded.diagnostics {
        let _ = d.to_string();
    }
});
