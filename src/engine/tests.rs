//! Engine tests on crafted events: the event type index, rule selection
//! (enabled, -D, -t, -T, priority), first match versus every match, and
//! the events skipped without -A.

use super::*;
use crate::event::table::id;
use crate::event::view::build;
use crate::rules::Loader;
use crate::state::State;

const RULES: &str = "\
- rule: close by 1
  desc: d
  condition: evt.type = close and thread.tid = 1
  output: close %evt.num
  priority: WARNING
- rule: socket by 1
  desc: d
  condition: evt.type = socket and thread.tid = 1
  output: socket %evt.num (%thread.tid)
  priority: ERROR
  tags: [net]
- rule: anything by 1 or 2
  desc: d
  condition: evt.type in (close, socket) and thread.tid in (1, 2)
  output: any
  priority: NOTICE
  tags: [wide]
- rule: disabled socket
  desc: d
  condition: evt.type = socket
  output: never
  priority: CRITICAL
  enabled: false
";

/// Alerts (rule names) for socket and close enter events of `tid`.
fn alerts(opts: Options, tid: u64) -> Vec<String> {
    let mut l = Loader::new();
    l.load_str("t.yaml", RULES);
    let loaded = l.finish();
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let engine = Engine::new(&loaded.rules, opts).expect("compiles");
    let state = State::default();
    let socket = build(
        1,
        tid,
        id::SOCKET_SOCKET_E,
        &[
            &2u32.to_le_bytes(),
            &1u32.to_le_bytes(),
            &0u32.to_le_bytes(),
        ],
    );
    let close = build(2, tid, id::SYSCALL_CLOSE_E, &[&3i64.to_le_bytes()]);
    let (mut rec, mut scratch) = (Record::default(), Scratch::default());
    let mut out = Vec::new();
    for (num, bytes) in [(1, &socket), (2, &close)] {
        let evt = EventView::new(bytes, 0, 0).expect("event");
        let ctx = Ctx::new(&evt, num, &state, None, None);
        engine.process_ctx(&ctx, &mut rec, &mut scratch, &mut |a| {
            out.push(format!("{}: {}", a.rule, a.output))
        });
    }
    out
}

#[test]
fn selection_and_matching_table() {
    let all = Options {
        all_events: true,
        ..Options::default()
    };
    let cases: Vec<(&str, Options, u64, &[&str])> = vec![
        // close is skipped without -A (EF_DROP_SIMPLE_CONS).
        (
            "default",
            Options::default(),
            1,
            &["socket by 1: socket 1 (1)"],
        ),
        (
            "-A",
            all.clone(),
            1,
            &["socket by 1: socket 1 (1)", "close by 1: close 2"],
        ),
        (
            "other thread",
            all.clone(),
            2,
            &["anything by 1 or 2: any", "anything by 1 or 2: any"],
        ),
        ("no match", all.clone(), 3, &[]),
        (
            "every match",
            Options {
                all_matches: true,
                ..all.clone()
            },
            1,
            &[
                "socket by 1: socket 1 (1)",
                "anything by 1 or 2: any",
                "close by 1: close 2",
                "anything by 1 or 2: any",
            ],
        ),
        (
            "-D by substring",
            Options {
                disabled: vec!["close".into()],
                ..all.clone()
            },
            1,
            &["socket by 1: socket 1 (1)", "anything by 1 or 2: any"],
        ),
        (
            "-t net",
            Options {
                run_tags: vec!["net".into()],
                ..all.clone()
            },
            1,
            &["socket by 1: socket 1 (1)"],
        ),
        (
            "-T net",
            Options {
                disable_tags: vec!["net".into()],
                ..all.clone()
            },
            1,
            &["anything by 1 or 2: any", "close by 1: close 2"],
        ),
        (
            "priority error",
            Options {
                min_priority: Priority::Error,
                ..all.clone()
            },
            1,
            &["socket by 1: socket 1 (1)"],
        ),
    ];
    for (name, opts, tid, want) in cases {
        assert_eq!(alerts(opts, tid), want, "{name}");
    }
}

#[test]
fn index_and_missing_fields() {
    let mut l = Loader::new();
    l.load_str("t.yaml", RULES);
    let loaded = l.finish();
    let engine = Engine::new(&loaded.rules, Options::default()).expect("compiles");
    assert_eq!(engine.rules().len(), 3);
    let open = build(1, 1, id::SYSCALL_OPEN_E, &[]);
    let evt = EventView::new(&open, 0, 0).expect("event");
    assert!(engine.candidates(&evt).rules.is_empty());
    let sock = build(1, 1, id::SOCKET_SOCKET_E, &[]);
    let evt = EventView::new(&sock, 0, 0).expect("event");
    assert_eq!(engine.candidates(&evt).rules, [1, 2]);
    assert!(engine.fields_without_extractor().is_empty());
}

#[test]
fn container_info_in_outputs_is_the_container_name_and_id() {
    let rules = "\
- rule: info
  desc: d
  condition: evt.type = close
  output: closed in %container.info
  priority: WARNING
";
    let mut l = Loader::new();
    l.load_str("t.yaml", rules);
    let loaded = l.finish();
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    assert_eq!(
        loaded.rules[0].output,
        "closed in %container.name (id=%container.id)"
    );
    let opts = Options {
        all_events: true,
        ..Options::default()
    };
    let engine = Engine::new(&loaded.rules, opts).expect("compiles");
    let mut state = State::default();
    let close = build(2, 7, id::SYSCALL_CLOSE_E, &[&3i64.to_le_bytes()]);
    let evt = EventView::new(&close, 0, 0).expect("event");
    state.update(&evt);
    let ctx = Ctx::new(&evt, 1, &state, None, None);
    let (mut rec, mut scratch) = (Record::default(), Scratch::default());
    let mut out = Vec::new();
    engine.process_ctx(&ctx, &mut rec, &mut scratch, &mut |a| out.push(a.output));
    // A thread with no container cgroup is on the host.
    assert_eq!(out, ["closed in host (id=host)"]);
}

/// Rules whose first conjunct is a shared subexpression are skipped once it
/// is known false for the event, and only then.
#[test]
fn rules_guarded_by_a_shared_test_match_as_written() {
    let rules = "\
- macro: low_tid
  condition: thread.tid in (1, 2, 3)
- rule: low but not 2
  desc: d
  condition: evt.type = close and low_tid and thread.tid != 2
  output: a
  priority: WARNING
- rule: low and 2
  desc: d
  condition: evt.type = close and low_tid and thread.tid = 2
  output: b
  priority: WARNING
- rule: not low
  desc: d
  condition: evt.type = close and not low_tid
  output: c
  priority: WARNING
- rule: low
  desc: d
  condition: evt.type = close and low_tid
  output: d
  priority: WARNING
";
    let mut l = Loader::new();
    l.load_str("t.yaml", rules);
    let loaded = l.finish();
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let opts = Options {
        all_events: true,
        all_matches: true,
        ..Options::default()
    };
    let engine = Engine::new(&loaded.rules, opts).expect("compiles");
    let state = State::default();
    let (mut rec, mut scratch) = (Record::default(), Scratch::default());
    let mut guarded = 0;
    for (tid, want) in [(1, "a d"), (2, "b d"), (3, "a d"), (4, "c"), (7, "c")] {
        let close = build(2, tid, id::SYSCALL_CLOSE_E, &[&3i64.to_le_bytes()]);
        let evt = EventView::new(&close, 0, 0).expect("event");
        guarded = engine.candidates(&evt).guards.iter().flatten().count();
        let ctx = Ctx::new(&evt, 1, &state, None, None);
        let mut out = Vec::new();
        engine.process_ctx(&ctx, &mut rec, &mut scratch, &mut |a| out.push(a.output));
        assert_eq!(out.join(" "), want, "tid {tid}");
    }
    // Three rules start with the shared test.
    assert_eq!(guarded, 3);
}
