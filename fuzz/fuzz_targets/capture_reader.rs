//! Fuzz target: any bytes given to the capture reader give events or a
//! positioned error, never a panic; each event view and its rendering too.

#![no_main]

use libfuzzer_sys::fuzz_target;
use saker::capture::Reader;
use saker::output::dump::Replay;

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = Reader::new("fuzz", data) else {
        return;
    };
    let mut replay = Replay::new(reader.metadata());
    let mut line = String::new();
    let mut n = 0;
    while let Ok(Some(e)) = reader.next_event() {
        if let Some(ctx) = replay.step(&e) {
            line.clear();
            saker::event::render::args(&e, Some(&ctx), &mut line);
        }
        n += 1;
        if n > 100_000 {
            break;
        }
    }
});
