//! State update tests: a scripted process life (fork, execve, opens, dup,
//! socket, connect, chdir, a thread, exit) checked step by step.

use super::State;
use crate::capture::meta::{FdInfo, FdKind, Metadata, ThreadInfo};
use crate::event::table::id;
use crate::event::view::{build, EventView};

fn i64b(v: i64) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}
fn u32b(v: u32) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}
fn s(v: &str) -> Vec<u8> {
    let mut b = v.as_bytes().to_vec();
    b.push(0);
    b
}

/// Applies an event built from its parameters; returns the event's fd and
/// its transient name.
fn apply(st: &mut State, tid: u64, ty: u16, params: &[Vec<u8>]) -> (Option<i64>, Option<String>) {
    let refs: Vec<&[u8]> = params.iter().map(Vec::as_slice).collect();
    let bytes = build(1, tid, ty, &refs);
    let e = EventView::new(&bytes, 0, 0).unwrap();
    let r = st.update(&e);
    (r.fd, r.transient)
}

/// Clone exit parameters (CLONE_20 layout).
fn clone_params(res: i64, tid: i64, pid: i64, ptid: i64, flags: u32) -> Vec<Vec<u8>> {
    vec![
        i64b(res),
        s("/bin/bash"),
        Vec::new(),
        i64b(tid),
        i64b(pid),
        i64b(ptid),
        s(""),
        i64b(1024),
        i64b(0),
        i64b(0),
        u32b(0),
        u32b(0),
        u32b(0),
        s("bash"),
        Vec::new(),
        u32b(flags),
        u32b(1000),
        u32b(1000),
        i64b(tid),
        i64b(pid),
    ]
}

fn name_of(st: &State, tid: u64, fd: i64) -> Option<String> {
    st.fd(tid, fd).map(|f| f.name.clone())
}

#[test]
fn a_process_life() {
    let meta = Metadata {
        threads: vec![ThreadInfo {
            tid: 100,
            pid: 100,
            ptid: 1,
            comm: "bash".into(),
            exe: "/bin/bash".into(),
            cwd: "/home/u".into(),
            ..Default::default()
        }],
        fds: vec![(
            100,
            vec![FdInfo {
                fd: 0,
                ino: 0,
                kind: FdKind::File {
                    name: "/dev/pts/0".into(),
                    open_flags: 1,
                    dev: 0,
                },
            }],
        )],
        ..Default::default()
    };
    let mut st = State::from_metadata(&meta);

    // fork: the child's own exit records it with a copy of the fds.
    apply(
        &mut st,
        101,
        id::SYSCALL_CLONE_20_X,
        &clone_params(0, 101, 101, 100, 0),
    );
    let t = st.thread(101).unwrap();
    assert_eq!((t.pid, t.ptid, t.cwd.as_str()), (101, 100, "/home/u/"));
    assert_eq!(name_of(&st, 101, 0).as_deref(), Some("/dev/pts/0"));

    // execve: command line, exe path from the enter event.
    apply(&mut st, 101, id::SYSCALL_EXECVE_19_E, &[s("/bin/cat")]);
    let mut x = vec![i64b(0), s("cat"), b"a\0b c\0".to_vec()];
    x.extend([i64b(101), i64b(101), i64b(100), s("/home/u"), i64b(1024)]);
    x.extend([i64b(0), i64b(0), u32b(0), u32b(0), u32b(0), s("cat")]);
    apply(&mut st, 101, id::SYSCALL_EXECVE_19_X, &x);
    let t = st.thread(101).unwrap();
    assert_eq!(t.cmdline(), "cat a b c");
    assert_eq!((t.exe.as_str(), t.exepath.as_str()), ("cat", "/bin/cat"));

    // openat relative to the cwd; a failed one names its path once.
    let at = |fd: i64, name: &str| vec![i64b(fd), i64b(-100), s(name), u32b(1), u32b(0), u32b(0)];
    apply(
        &mut st,
        101,
        id::SYSCALL_OPENAT_2_E,
        &[i64b(-100), s("f.txt"), u32b(1), u32b(0)],
    );
    let (fd, _) = apply(&mut st, 101, id::SYSCALL_OPENAT_2_X, &at(3, "f.txt"));
    assert_eq!(fd, Some(3));
    assert_eq!(name_of(&st, 101, 3).as_deref(), Some("/home/u/f.txt"));
    let (fd, tr) = apply(&mut st, 101, id::SYSCALL_OPENAT_2_X, &at(-2, "../nope"));
    assert_eq!((fd, tr.as_deref()), (Some(-1), Some("/home/nope")));

    // dup copies the entry.
    apply(&mut st, 101, id::SYSCALL_DUP_E, &[i64b(0)]);
    apply(&mut st, 101, id::SYSCALL_DUP_X, &[i64b(4)]);
    assert_eq!(name_of(&st, 101, 4).as_deref(), Some("/dev/pts/0"));

    // socket + connect name the descriptor after the tuple.
    apply(
        &mut st,
        101,
        id::SOCKET_SOCKET_E,
        &[u32b(2), u32b(1), u32b(0)],
    );
    apply(&mut st, 101, id::SOCKET_SOCKET_X, &[i64b(5)]);
    apply(&mut st, 101, id::SOCKET_CONNECT_E, &[i64b(5), Vec::new()]);
    let mut tuple = vec![2u8, 10, 0, 0, 1];
    tuple.extend(1000u16.to_le_bytes());
    tuple.extend([10, 0, 0, 2]);
    tuple.extend(80u16.to_le_bytes());
    let (fd, _) = apply(&mut st, 101, id::SOCKET_CONNECT_X, &[i64b(0), tuple]);
    assert_eq!(fd, Some(5));
    let f = st.fd(101, 5).unwrap();
    assert_eq!((f.name.as_str(), f.l4), ("10.0.0.1:1000->10.0.0.2:80", 2));

    // close: still there for the close exit, gone at the next event.
    apply(&mut st, 101, id::SYSCALL_CLOSE_E, &[i64b(3)]);
    let (fd, _) = apply(&mut st, 101, id::SYSCALL_CLOSE_X, &[i64b(0)]);
    assert_eq!(fd, Some(3));
    assert!(st.fd(101, 3).is_some());
    apply(&mut st, 101, id::SYSCALL_CHDIR_X, &[i64b(0), s("/tmp")]);
    assert!(st.fd(101, 3).is_none());
    assert_eq!(st.thread(101).unwrap().cwd, "/tmp/");

    // A thread shares its process's fds and takes after the process.
    let thread = clone_params(0, 102, 101, 100, 1 << 13);
    apply(&mut st, 102, id::SYSCALL_CLONE_20_X, &thread);
    assert_eq!(name_of(&st, 102, 5), name_of(&st, 101, 5));
    assert_eq!(st.thread(102).unwrap().cwd, "/tmp/");

    // An unknown thread gets a placeholder; a context switch does not.
    apply(&mut st, 200, id::SYSCALL_CLOSE_E, &[i64b(1)]);
    assert_eq!(st.thread(200).unwrap().comm, "<NA>");
    apply(&mut st, 201, id::SCHEDSWITCH_6_E, &[i64b(0)]);
    assert!(st.thread(201).is_none());

    // procexit: removed at the next event.
    apply(
        &mut st,
        101,
        id::PROCEXIT_1_E,
        &[i64b(0), i64b(0), vec![0], vec![0]],
    );
    assert!(st.thread(101).is_some());
    apply(&mut st, 100, id::SYSCALL_CLOSE_E, &[i64b(9)]);
    assert!(st.thread(101).is_none());
}

#[test]
fn containers_env_tty_and_creation_time() {
    const CID: &str = "697956520d891b5cb0e215093970c733549a3f745f52263c05b37f8a488994f3";
    let mut st = State::default();

    // A description the capture carries before its events.
    let json = r#"{"container":{"Mounts":[],"id":"697956520d89","image":"nginx:latest","imagerepo":"nginx","imagetag":"latest","name":"hopeful_taussig","privileged":false}}"#;
    let bytes = build(1, 0, id::CONTAINER_JSON_2_E, &[&s(json)]);
    let e = EventView::new(&bytes, 0, 0).unwrap();
    assert_eq!(st.record_container(&e).as_deref(), Some("697956520d89"));
    assert!(st.threads.is_empty());
    assert_eq!(
        st.containers.get("697956520d89").map(|c| c.name.as_str()),
        Some("hopeful_taussig")
    );

    // A child created by its own clone exit: a host process, created now.
    apply(
        &mut st,
        200,
        id::SYSCALL_CLONE_20_X,
        &clone_params(0, 200, 200, 1, 0),
    );
    let t = st.thread(200).unwrap();
    assert_eq!((t.container_id.as_str(), t.clone_ts), ("", 1));

    // execve in the container: cgroups, environment and terminal.
    let cgroups = format!("cpuset=/docker/{CID}\0cpu=/docker/{CID}\0");
    let mut x = vec![i64b(0), s("ls"), b"-l\0".to_vec()];
    x.extend([i64b(200), i64b(200), i64b(1), s("/"), i64b(1024)]);
    x.extend([i64b(0), i64b(0), u32b(0), u32b(0), u32b(0), s("ls")]);
    x.extend([cgroups.into_bytes(), b"HOME=/root\0TERM=xterm\0".to_vec()]);
    x.extend([u32b(34816), i64b(200), u32b(0), u32b(0)]);
    apply(&mut st, 200, id::SYSCALL_EXECVE_19_X, &x);
    let t = st.thread(200).unwrap();
    assert_eq!(t.container_id, "697956520d89");
    assert_eq!(t.env, ["HOME=/root", "TERM=xterm"]);
    assert_eq!((t.tty, t.loginuid), (34816, 0));

    // A thread of it keeps the process's creation time, environment and
    // container when its clone exit carries no cgroups of its own.
    apply(
        &mut st,
        201,
        id::SYSCALL_CLONE_20_X,
        &clone_params(0, 201, 200, 200, 1 << 13),
    );
    let t = st.thread(201).unwrap();
    assert_eq!(t.env.len(), 2);
    assert_eq!((t.tty, t.container_id.as_str()), (34816, "697956520d89"));
}

#[test]
fn set_uid_and_gid_calls_change_the_thread_ids() {
    let meta = Metadata {
        threads: vec![ThreadInfo {
            tid: 7,
            pid: 7,
            ptid: 1,
            comm: "python3".into(),
            ..Default::default()
        }],
        ..Default::default()
    };
    let mut st = State::from_metadata(&meta);
    let ids = |st: &State| st.thread(7).map(|t| (t.uid, t.gid));
    assert_eq!(ids(&st), Some((0, 0)));
    // (enter type, enter params, exit result, uid and gid after)
    type Step = (u16, Vec<Vec<u8>>, i64, (u32, u32));
    let steps: &[Step] = &[
        (
            id::SYSCALL_SETRESUID_E,
            vec![u32b(65534), u32b(65534), u32b(65534)],
            0,
            (65534, 0),
        ),
        (id::SYSCALL_SETUID_E, vec![u32b(0)], -1, (65534, 0)),
        (
            id::SYSCALL_SETRESGID_E,
            vec![u32b(u32::MAX), u32b(100), u32b(u32::MAX)],
            0,
            (65534, 100),
        ),
        (
            id::SYSCALL_SETRESUID_E,
            vec![u32b(u32::MAX), u32b(u32::MAX), u32b(5)],
            0,
            (65534, 100),
        ),
        (id::SYSCALL_SETGID_E, vec![u32b(7)], 0, (65534, 7)),
        (id::SYSCALL_SETUID_E, vec![u32b(0)], 0, (0, 7)),
    ];
    for (enter, params, res, want) in steps {
        apply(&mut st, 7, *enter, params);
        apply(&mut st, 7, enter + 1, &[i64b(*res)]);
        assert_eq!(ids(&st), Some(*want), "after {enter} res {res}");
    }
}

#[test]
fn paths_resolve_and_normalize() {
    use super::update::resolve_path;
    let cases = [
        ("/tmp/", "/etc/passwd", "/etc/passwd"),
        ("/tmp/", "x", "/tmp/x"),
        ("/tmp", "x/../y", "/tmp/y"),
        ("/", "/", "/"),
        ("/", "/etc/", "/etc"),
        ("/", "/etc//passwd", "/etc/passwd"),
        ("/", "/etc/./passwd", "/etc/passwd"),
        ("/", "/etc/../passwd", "/passwd"),
        ("/", "/etc/.", "/etc"),
        ("/", "/..", "/"),
        ("/", "/.hidden/..x", "/.hidden/..x"),
        ("", "rel", "rel"),
    ];
    for (dir, path, want) in cases {
        assert_eq!(resolve_path(dir, path), want, "{dir} + {path}");
    }
}

/// Applies an event with timestamp `ts`.
fn apply_at(st: &mut State, ts: u64, tid: u64, ty: u16, params: &[Vec<u8>]) -> Option<i64> {
    let refs: Vec<&[u8]> = params.iter().map(Vec::as_slice).collect();
    let bytes = build(ts, tid, ty, &refs);
    st.update(&EventView::new(&bytes, 0, 0).unwrap()).fd
}

#[test]
fn a_close_without_its_exit_event() {
    // Two threads of one process (the interest set of the service takes
    // openat's exit event and close's enter event alone).
    let meta = Metadata {
        threads: [(100, "main"), (101, "worker")]
            .map(|(tid, comm)| ThreadInfo {
                tid,
                pid: 100,
                ptid: 1,
                comm: comm.into(),
                cwd: "/".into(),
                ..Default::default()
            })
            .to_vec(),
        ..Default::default()
    };
    let mut st = State::from_metadata(&meta);
    let open = |fd: i64, name: &str| vec![i64b(fd), i64b(-100), s(name), u32b(1), u32b(0), u32b(0)];
    apply_at(&mut st, 10, 100, id::SYSCALL_OPENAT_2_X, &open(3, "/a"));
    apply_at(&mut st, 11, 100, id::SYSCALL_OPENAT_2_X, &open(4, "/b"));

    // The close enter event still sees the descriptor; the thread's next
    // system call removes it.
    let fd = apply_at(&mut st, 12, 100, id::SYSCALL_CLOSE_E, &[i64b(3)]);
    assert_eq!(fd, Some(3));
    assert_eq!(name_of(&st, 100, 3).as_deref(), Some("/a"));
    apply_at(&mut st, 13, 101, id::SYSCALL_OPENAT_2_X, &open(5, "/c"));
    assert!(st.fd(100, 3).is_some(), "another thread's event leaves it");
    apply_at(&mut st, 14, 100, id::SYSCALL_OPENAT_2_X, &open(6, "/d"));
    assert!(st.fd(100, 3).is_none());

    // A descriptor another thread opened under the number meanwhile stays.
    apply_at(&mut st, 15, 100, id::SYSCALL_CLOSE_E, &[i64b(4)]);
    apply_at(&mut st, 16, 101, id::SYSCALL_OPENAT_2_X, &open(4, "/e"));
    apply_at(&mut st, 17, 100, id::SYSCALL_OPENAT_2_X, &open(7, "/f"));
    assert_eq!(name_of(&st, 100, 4).as_deref(), Some("/e"));

    // With its exit event, a close is as before: the descriptor stays for
    // the exit and goes after it on success; a failed close leaves it.
    apply_at(&mut st, 18, 100, id::SYSCALL_CLOSE_E, &[i64b(5)]);
    assert_eq!(
        apply_at(&mut st, 19, 100, id::SYSCALL_CLOSE_X, &[i64b(-4)]),
        Some(5)
    );
    apply_at(&mut st, 20, 100, id::SYSCALL_OPENAT_2_X, &open(8, "/g"));
    assert_eq!(name_of(&st, 100, 5).as_deref(), Some("/c"));
    apply_at(&mut st, 21, 100, id::SYSCALL_CLOSE_E, &[i64b(6)]);
    apply_at(&mut st, 22, 100, id::SYSCALL_CLOSE_X, &[i64b(0)]);
    assert_eq!(name_of(&st, 100, 6).as_deref(), Some("/d"));
    apply_at(&mut st, 23, 100, id::SYSCALL_OPENAT_2_X, &open(9, "/h"));
    assert!(st.fd(100, 6).is_none());

    // A context switch is no system call of the thread: the close waits.
    apply_at(&mut st, 24, 100, id::SYSCALL_CLOSE_E, &[i64b(7)]);
    apply_at(&mut st, 25, 100, id::SCHEDSWITCH_6_E, &[i64b(0)]);
    assert!(st.fd(100, 7).is_some());
}
