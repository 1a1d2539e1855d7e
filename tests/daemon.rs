//! The service end to end, on capture files (the kernel module cannot load on
//! a test host): start-up logs, pidfile lock and removal, a second instance
//! refused, SIGHUP reload (and refusal of an invalid one), SIGUSR1 reopening
//! output files, SIGTERM exit 0, the web server, and detaching with logs to
//! a syslog socket.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

const BIN: &str = env!("CARGO_BIN_EXE_saker");
const RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/rules/saker_rules.yaml");

fn trace() -> Option<PathBuf> {
    let p =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/traces/bencer__example0_nginx.scap");
    if p.exists() {
        Some(p)
    } else {
        eprintln!(
            "skipped: {} (shared reference capture) is missing",
            p.display()
        );
        None
    }
}

struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let p = std::env::temp_dir().join(format!("saker-daemon-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn wait(what: &str, mut f: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !f() {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A child whose stderr is collected.
struct Daemon {
    child: Child,
    log: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Daemon {
    fn start(args: &[&str]) -> Daemon {
        let mut child = Command::new(BIN)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let l = log.clone();
        let err = child.stderr.take().unwrap();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let mut l = l.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        Daemon {
            child,
            log,
            reader: Some(reader),
        }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    fn wait_log(&self, text: &str) {
        wait(text, || self.log().contains(text));
    }

    fn signal(&self, s: Signal) {
        kill(Pid::from_raw(self.child.id() as i32), s).unwrap();
    }

    fn wait_exit(&mut self) -> i32 {
        let t0 = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                // All of its stderr has been read once the pipe closes.
                if let Some(r) = self.reader.take() {
                    r.join().unwrap();
                }
                return s.code().unwrap_or(-1);
            }
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "no exit; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write_config(dir: &Path, extra: &str) -> PathBuf {
    let p = dir.join("saker.yaml");
    let text = format!(
        "rules_file: [{RULES}]\nlog_syslog: false\nstdout_output: {{enabled: true}}\n\
         syslog_output: {{enabled: false}}\n{extra}"
    );
    std::fs::write(&p, text).unwrap();
    p
}

fn http_get(addr: &str, path: &str) -> String {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut t = String::new();
    s.read_to_string(&mut t).unwrap();
    t
}

#[test]
fn runs_a_capture_file_to_its_end_and_cleans_up() {
    let Some(trace) = trace() else { return };
    let d = Dir::new("file");
    let cfg = write_config(&d.0, "");
    let pid = d.0.join("saker.pid");
    let mut s = Daemon::start(&[
        "-c",
        cfg.to_str().unwrap(),
        "-e",
        trace.to_str().unwrap(),
        "--pidfile",
        pid.to_str().unwrap(),
    ]);
    assert_eq!(s.wait_exit(), 0, "{}", s.log());
    let log = s.log();
    for line in [
        format!(
            "saker initialized with configuration file {}",
            cfg.display()
        ),
        format!("Parsed rules from file {RULES}"),
        "saker stopped after 143 events".to_string(),
    ] {
        assert!(log.contains(&line), "{line:?} not in\n{log}");
    }
    assert!(!pid.exists());
}

#[test]
fn refuses_bad_configuration_and_rules_at_start() {
    let d = Dir::new("bad");
    let cases = [
        (
            "priority: loud\n",
            "saker.yaml:5:11: invalid value of priority",
        ),
        (
            "rules_file: [/nonexistent/rules.yaml]\n",
            "rules did not load",
        ),
    ];
    for (extra, expected) in cases {
        let cfg = write_config(&d.0, extra);
        let mut s = Daemon::start(&["--dry-run", "-c", cfg.to_str().unwrap()]);
        assert_eq!(s.wait_exit(), 1);
        assert!(
            s.log().contains(expected),
            "{expected:?} not in\n{}",
            s.log()
        );
    }
}

#[test]
fn signals_reload_reopen_and_stop() {
    let Some(trace) = trace() else { return };
    let d = Dir::new("signals");
    let alerts = d.0.join("alerts.txt");
    let extra = format!(
        "file_output: {{enabled: true, keep_alive: true, filename: {}}}\n\
         webserver: {{enabled: true, listen_port: 0}}\n",
        alerts.display()
    );
    let cfg = write_config(&d.0, &extra);
    // A FIFO as the capture: the daemon reads the trace, then waits for more.
    let fifo = d.0.join("events.fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let pid = d.0.join("saker.pid");
    let mut s = Daemon::start(&[
        "--foreground",
        "-c",
        cfg.to_str().unwrap(),
        "-e",
        fifo.to_str().unwrap(),
        "--pidfile",
        pid.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&trace).unwrap();
    let mut writer = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    writer.write_all(&bytes).unwrap();
    s.wait_log("event processing started");
    let want = format!("{}\n", s.child.id());
    wait("pidfile", || {
        std::fs::read_to_string(&pid).ok().as_deref() == Some(&want)
    });

    // A second instance is refused, naming the first.
    let mut second = Daemon::start(&[
        "--foreground",
        "-c",
        cfg.to_str().unwrap(),
        "-e",
        trace.to_str().unwrap(),
        "--pidfile",
        pid.to_str().unwrap(),
    ]);
    assert_eq!(second.wait_exit(), 1);
    assert!(
        second.log().contains(&format!(
            "another saker is already running (pid {},",
            s.child.id()
        )),
        "{}",
        second.log()
    );

    // Health and metrics.
    let log = s.log();
    let addr = log
        .split("web server listening on ")
        .nth(1)
        .and_then(|r| r.lines().next())
        .unwrap()
        .to_string();
    assert!(http_get(&addr, "/healthz").contains("{\"status\": \"ok\"}"));
    wait("metrics", || {
        http_get(&addr, "/metrics").contains("\nsaker_events_processed_total 143\n")
    });

    // SIGUSR1 reopens the kept file after rotation.
    wait("alerts file", || alerts.exists());
    std::fs::rename(&alerts, d.0.join("alerts.txt.1")).unwrap();
    s.signal(Signal::SIGUSR1);
    wait("reopened alerts file", || alerts.exists());

    // SIGHUP reloads; an invalid configuration is refused and the old kept.
    s.signal(Signal::SIGHUP);
    s.wait_log("saker reloaded configuration file");
    write_config(&d.0, "json_output: perhaps\n");
    s.signal(Signal::SIGHUP);
    s.wait_log("reload failed, keeping the current configuration and rules");
    assert!(
        s.log()
            .contains("saker.yaml:5:14: invalid value of json_output"),
        "{}",
        s.log()
    );
    assert!(http_get(&addr, "/metrics").contains("\nsaker_reload_failures_total 1\n"));

    // SIGTERM: stop, exit 0, pidfile gone, even with the source blocked.
    s.signal(Signal::SIGTERM);
    assert_eq!(s.wait_exit(), 0, "{}", s.log());
    assert!(s.log().contains("signal 15 received, stopping"));
    assert!(!pid.exists());
    drop(writer);
}

#[test]
fn detaches_and_logs_to_syslog() {
    let Some(trace) = trace() else { return };
    let d = Dir::new("detach");
    let sock = d.0.join("log.sock");
    let server = UnixDatagram::bind(&sock).unwrap();
    server
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let extra = format!(
        "log_stderr: false\nsyslog_output: {{enabled: false, path: {}}}\n",
        sock.display()
    );
    let cfg = write_config(&d.0, &extra).display().to_string();
    let cfg_text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("log_syslog: false", "log_syslog: true");
    std::fs::write(&cfg, cfg_text).unwrap();
    let fifo = d.0.join("events.fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let pid = d.0.join("saker.pid");
    let mut parent = Daemon::start(&[
        "--daemon",
        "-c",
        &cfg,
        "-e",
        fifo.to_str().unwrap(),
        "--pidfile",
        pid.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&trace).unwrap();
    let mut writer = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    writer.write_all(&bytes).unwrap();
    // The starting process returns at once; the daemon goes on.
    assert_eq!(parent.wait_exit(), 0);
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got
        .iter()
        .any(|m: &String| m.contains("event processing started"))
    {
        let n = server.recv(&mut buf).expect("syslog message");
        got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    let daemon_pid: i32 = std::fs::read_to_string(&pid)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_ne!(daemon_pid as u32, parent.child.id());
    // Facility daemon (3), severity info (6): <30>.
    let expected =
        format!("<30>saker[{daemon_pid}]: saker initialized with configuration file {cfg}");
    assert!(got.contains(&expected), "{expected:?} not in {got:?}");
    kill(Pid::from_raw(daemon_pid), Signal::SIGTERM).unwrap();
    wait("pidfile removal", || !pid.exists());
    drop(writer);
}
