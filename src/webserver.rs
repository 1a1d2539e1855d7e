//! The daemon's web server (config `webserver`): `GET /healthz` (the path is
//! configurable) answers `{"status": "ok"}`, and `GET /metrics` the
//! Prometheus exposition when metrics are enabled. Served by tiny_http on
//! one thread; the daemon stops it at exit.

use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::metrics::Metrics;

/// A running web server.
pub struct Webserver {
    server: Arc<tiny_http::Server>,
    handle: Option<JoinHandle<()>>,
    addr: std::net::SocketAddr,
}

/// What the server serves.
#[derive(Debug, Clone)]
pub struct Routes {
    /// Path of the health check.
    pub healthz: String,
    /// Whether `/metrics` is served.
    pub metrics: bool,
}

fn respond(req: tiny_http::Request, status: u16, ctype: &str, body: String) {
    let mut resp = tiny_http::Response::from_string(body).with_status_code(status);
    if let Ok(h) = tiny_http::Header::from_bytes("Content-Type", ctype) {
        resp.add_header(h);
    }
    let _ = req.respond(resp);
}

fn serve(server: &tiny_http::Server, routes: &Routes, metrics: &Metrics) {
    for req in server.incoming_requests() {
        let path = req.url().split('?').next().unwrap_or("").to_string();
        let get = *req.method() == tiny_http::Method::Get;
        match path.as_str() {
            _ if !get => respond(req, 405, "text/plain", "method not allowed\n".into()),
            p if p == routes.healthz => {
                respond(req, 200, "application/json", "{\"status\": \"ok\"}".into())
            }
            "/metrics" if routes.metrics => {
                respond(req, 200, "text/plain; version=0.0.4", metrics.render())
            }
            _ => respond(req, 404, "text/plain", "not found\n".into()),
        }
    }
}

impl Webserver {
    /// Listens on `address:port` (port 0 picks a free one) and serves.
    pub fn start(
        address: &str,
        port: u16,
        routes: Routes,
        metrics: Arc<Metrics>,
    ) -> io::Result<Webserver> {
        let server = tiny_http::Server::http((address, port))
            .map_err(|e| io::Error::other(format!("web server on {address}:{port}: {e}")))?;
        let addr = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| io::Error::other("web server has no IP address"))?;
        let server = Arc::new(server);
        let s = server.clone();
        let handle = std::thread::Builder::new()
            .name("saker-web".into())
            .spawn(move || serve(&s, &routes, &metrics))?;
        Ok(Webserver {
            server,
            handle: Some(handle),
            addr,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// Stops serving and waits for the thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.server.unblock();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Webserver {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::sync::atomic::Ordering;

    fn get(addr: std::net::SocketAddr, method: &str, path: &str) -> (u16, String) {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let status = text[9..12].parse().unwrap();
        let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
        (status, body)
    }

    #[test]
    fn serves_health_and_metrics_on_loopback() {
        let m = Arc::new(Metrics::new());
        m.events_processed.store(5, Ordering::Relaxed);
        for metrics_on in [true, false] {
            let routes = Routes {
                healthz: "/healthz".into(),
                metrics: metrics_on,
            };
            let w = Webserver::start("127.0.0.1", 0, routes, m.clone()).unwrap();
            let addr = w.addr();
            assert!(addr.ip().is_loopback());
            let cases: [(&str, &str, u16, &str); 4] = [
                ("GET", "/healthz", 200, "{\"status\": \"ok\"}"),
                ("GET", "/nope", 404, "not found\n"),
                ("POST", "/healthz", 405, "method not allowed\n"),
                (
                    "GET",
                    "/metrics",
                    if metrics_on { 200 } else { 404 },
                    if metrics_on { "# HELP" } else { "not found" },
                ),
            ];
            for (method, path, status, body) in cases {
                let (s, b) = get(addr, method, path);
                assert_eq!(s, status, "{method} {path}");
                assert!(b.starts_with(body), "{method} {path}: {b:?}");
            }
            if metrics_on {
                let (_, b) = get(addr, "GET", "/metrics?x=1");
                assert!(b.lines().any(|l| l == "saker_events_processed_total 5"));
            }
            w.stop();
        }
    }

    #[test]
    fn a_busy_port_is_an_error() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let routes = Routes {
            healthz: "/healthz".into(),
            metrics: true,
        };
        let e = Webserver::start("127.0.0.1", port, routes, Arc::new(Metrics::new()));
        assert!(e.is_err());
    }
}
