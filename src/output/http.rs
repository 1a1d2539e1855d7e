//! The HTTP sink: POSTs each alert as Falco's JSON object to an http:// URL
//! (the shape forwarders such as falcosidekick take), with ureq.

use std::io;
use std::time::Duration;

use super::alert::Rendering;
use super::sink::{Rendered, Sink};

/// POSTs alerts.
pub struct HttpSink {
    agent: ureq::Agent,
    url: String,
    rendering: Rendering,
}

impl HttpSink {
    /// A sink posting to `url` with `user_agent`; `rendering` says which
    /// JSON properties are included.
    pub fn new(url: &str, user_agent: &str, rendering: Rendering) -> HttpSink {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .user_agent(user_agent)
            .build();
        HttpSink {
            agent,
            url: url.to_string(),
            rendering,
        }
    }
}

impl Sink for HttpSink {
    fn name(&self) -> &'static str {
        "http_output"
    }

    fn send(&mut self, a: &Rendered) -> io::Result<()> {
        let body = if self.rendering.json {
            a.line.clone()
        } else {
            a.alert.to_json(&self.rendering).to_string()
        };
        match self
            .agent
            .post(&self.url)
            .set("Content-Type", "application/json")
            .send_string(&body)
        {
            Ok(_) => Ok(()),
            Err(ureq::Error::Status(code, _)) => Err(io::Error::other(format!(
                "{} answered HTTP {code}",
                self.url
            ))),
            Err(e) => Err(io::Error::other(format!("{}: {e}", self.url))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::alert::Priority;
    use crate::output::testutil::alert;

    #[test]
    fn posts_falco_json_to_a_local_server() {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let port = server.server_addr().to_ip().unwrap().port();
        let url = format!("http://127.0.0.1:{port}/alerts");
        let statuses = [200u16, 500];
        let serve = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for status in statuses {
                let mut req = server.recv().unwrap();
                let mut body = String::new();
                req.as_reader().read_to_string(&mut body).unwrap();
                let ctype = req
                    .headers()
                    .iter()
                    .find(|h| h.field.equiv("Content-Type"))
                    .map(|h| h.value.to_string());
                seen.push((req.method().to_string(), req.url().to_string(), ctype, body));
                req.respond(tiny_http::Response::empty(status)).unwrap();
            }
            seen
        });
        let mut s = HttpSink::new(&url, "saker-test", Rendering::default());
        let a = alert("hello", Priority::Critical);
        let r = Rendered {
            line: a.render(&Rendering::default()),
            alert: a.clone(),
        };
        s.send(&r).unwrap();
        let e = s.send(&r).unwrap_err();
        assert!(e.to_string().contains("HTTP 500"), "{e}");
        let seen = serve.join().unwrap();
        let (method, path, ctype, body) = &seen[0];
        assert_eq!((method.as_str(), path.as_str()), ("POST", "/alerts"));
        assert_eq!(ctype.as_deref(), Some("application/json"));
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v, a.to_json(&Rendering::default()));
    }

    #[test]
    fn a_dead_endpoint_is_an_error() {
        // Bind, learn a free port, close it: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut s = HttpSink::new(
            &format!("http://127.0.0.1:{port}/"),
            "saker-test",
            Rendering::default(),
        );
        let r = Rendered {
            alert: alert("x", Priority::Error),
            line: "x".into(),
        };
        assert!(s.send(&r).is_err());
    }
}
