//! Containers: the container id a thread's cgroups name, and the container
//! descriptions (name, image, mounts, labels) captures carry as JSON events,
//! kept in a bounded table.

use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;

/// Most containers kept; further descriptions replace nothing and are dropped.
pub const MAX_CONTAINERS: usize = 4096;

/// One mount of a container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mount {
    /// Host path.
    pub source: String,
    /// Path in the container.
    pub dest: String,
    /// Mode string.
    pub mode: String,
    /// Whether the mount is read-write.
    pub rdwr: bool,
    /// Propagation mode.
    pub propagation: String,
}

impl Mount {
    /// Appends `source:dest:mode:rdwr:propagation`.
    pub fn write(&self, out: &mut String) {
        out.push_str(&self.source);
        out.push(':');
        out.push_str(&self.dest);
        out.push(':');
        out.push_str(&self.mode);
        out.push(':');
        out.push_str(if self.rdwr { "true" } else { "false" });
        out.push(':');
        out.push_str(&self.propagation);
    }
}

/// One container as its description gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Container {
    /// Short (12-character) id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Image as given (`nginx:latest`).
    pub image: String,
    /// Image repository.
    pub repository: String,
    /// Image tag.
    pub tag: String,
    /// Whether the container runs privileged, if known.
    pub privileged: Option<bool>,
    /// Mounts.
    pub mounts: Vec<Mount>,
    /// Kubernetes pod name (label `io.kubernetes.pod.name`).
    pub pod_name: Option<String>,
    /// Kubernetes namespace (label `io.kubernetes.pod.namespace`).
    pub pod_namespace: Option<String>,
    /// The container's IP address, if given.
    pub ip: Option<std::net::IpAddr>,
}

fn text(v: &serde_json::Value, key: &str) -> String {
    v.get(key)
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_string()
}

impl Container {
    /// Parses a container description (`{"container":{...}}`); None if it
    /// is not valid JSON or has no id.
    pub fn from_json(json: &str) -> Option<Container> {
        let root: serde_json::Value = serde_json::from_str(json).ok()?;
        let c = root.get("container")?;
        let id = c.get("id")?.as_str()?.to_string();
        let label = |k: &str| {
            c.get("labels")
                .and_then(|l| l.get(k))
                .and_then(serde_json::Value::as_str)
                .map(str::to_string)
        };
        let mounts = c
            .get("Mounts")
            .and_then(serde_json::Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|m| Mount {
                        source: text(m, "Source"),
                        dest: text(m, "Destination"),
                        mode: text(m, "Mode"),
                        rdwr: m
                            .get("RW")
                            .and_then(serde_json::Value::as_bool)
                            .unwrap_or(false),
                        propagation: text(m, "Propagation"),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(Container {
            id,
            name: text(c, "name"),
            image: text(c, "image"),
            repository: text(c, "imagerepo"),
            tag: text(c, "imagetag"),
            privileged: c.get("privileged").and_then(serde_json::Value::as_bool),
            mounts,
            pod_name: label("io.kubernetes.pod.name"),
            pod_namespace: label("io.kubernetes.pod.namespace"),
            ip: c
                .get("ip")
                .and_then(serde_json::Value::as_str)
                .and_then(|s| s.parse().ok()),
        })
    }

    /// `container.mounts`: every mount as `source:dest:mode:rdwr:propagation`,
    /// comma separated.
    pub fn mounts_text(&self, out: &mut String) {
        for (i, m) in self.mounts.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            m.write(out);
        }
    }

    /// The mount selected by `arg`: a number, or a glob matched against
    /// the mount's source (`by_dest` false) or destination (`by_dest` true).
    pub fn find_mount(&self, arg: &str, by_dest: bool) -> Option<&Mount> {
        if let Ok(i) = arg.parse::<usize>() {
            return self.mounts.get(i);
        }
        self.mounts.iter().find(|m| {
            let s = if by_dest { &m.dest } else { &m.source };
            glob_match(arg.as_bytes(), s.as_bytes())
        })
    }
}

/// Shell-style match of `pat` (`*` any run, `?` one byte) against `s`.
pub fn glob_match(pat: &[u8], s: &[u8]) -> bool {
    let (mut p, mut i) = (0, 0);
    let mut back: Option<(usize, usize)> = None;
    while i < s.len() {
        if p < pat.len() && (pat[p] == b'?' || pat[p] == s[i]) {
            p += 1;
            i += 1;
        } else if p < pat.len() && pat[p] == b'*' {
            back = Some((p, i));
            p += 1;
        } else if let Some((bp, bi)) = back {
            p = bp + 1;
            i = bi + 1;
            back = Some((bp, bi + 1));
        } else {
            return false;
        }
    }
    pat[p..].iter().all(|c| *c == b'*')
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|c| c.is_ascii_hexdigit())
}

/// The short container id named by a cgroup path (docker `/docker/ID`,
/// kubernetes `/kubepods/.../ID`, systemd `docker-ID.scope`, cri-o
/// `crio-ID.scope`, containerd `cri-containerd-ID.scope`, podman
/// `libpod-ID.scope`); None for a host path.
pub fn id_from_cgroup(path: &str) -> Option<&str> {
    for part in path.rsplit('/') {
        let mut p = part.strip_suffix(".scope").unwrap_or(part);
        for prefix in ["docker-", "crio-", "cri-containerd-", "libpod-"] {
            if let Some(rest) = p.strip_prefix(prefix) {
                p = rest;
                break;
            }
        }
        if is_hex64(p) {
            return Some(&p[..12]);
        }
    }
    None
}

/// The container id of a thread from its cgroups (`controller=path` each):
/// empty for a host thread.
pub fn id_from_cgroups<'a>(cgroups: impl IntoIterator<Item = &'a str>) -> String {
    cgroups
        .into_iter()
        .find_map(|c| id_from_cgroup(c.split_once('=').map_or(c, |(_, p)| p)))
        .unwrap_or_default()
        .to_string()
}

/// Known containers by short id.
#[derive(Debug, Default)]
pub struct ContainerTable {
    by_id: HashMap<String, Arc<Container>>,
}

impl ContainerTable {
    /// The container `id`.
    pub fn get(&self, id: &str) -> Option<&Container> {
        self.by_id.get(id).map(|c| &**c)
    }

    /// The container `id` as a shared reference, for snapshots.
    pub fn get_shared(&self, id: &str) -> Option<&Arc<Container>> {
        self.by_id.get(id)
    }

    /// Adds or replaces a container; returns false when the table is full.
    pub fn insert(&mut self, c: Container) -> bool {
        if self.by_id.len() >= MAX_CONTAINERS && !self.by_id.contains_key(&c.id) {
            return false;
        }
        self.by_id.insert(c.id.clone(), Arc::new(c));
        true
    }

    /// Number of containers.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether no container is known.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "697956520d891b5cb0e215093970c733549a3f745f52263c05b37f8a488994f3";

    #[test]
    fn ids_from_cgroups() {
        let cases = [
            (format!("cpu=/docker/{ID}"), "697956520d89"),
            (
                format!("cpu=/kubepods/besteffort/pod1/{ID}"),
                "697956520d89",
            ),
            (
                format!("cpu=/system.slice/docker-{ID}.scope"),
                "697956520d89",
            ),
            (
                format!("cpu=/kubepods.slice/crio-{ID}.scope"),
                "697956520d89",
            ),
            (format!("cpu=/x/cri-containerd-{ID}.scope"), "697956520d89"),
            (
                format!("cpu=/machine.slice/libpod-{ID}.scope"),
                "697956520d89",
            ),
            ("cpu=/user.slice".to_string(), ""),
            ("cpu=/docker/abc".to_string(), ""),
        ];
        for (cg, want) in cases {
            assert_eq!(id_from_cgroups([cg.as_str()]), want, "{cg}");
        }
    }

    #[test]
    fn globs() {
        let cases = [
            ("/proc*", "/proc", true),
            ("/proc*", "/proc/1", true),
            ("/proc*", "/pro", false),
            ("/var/run/docker.sock", "/var/run/docker.sock", true),
            ("/e?c", "/etc", true),
            ("*.sock", "/run/x.sock", true),
            ("*.sock", "/run/x.socket", false),
        ];
        for (p, s, want) in cases {
            assert_eq!(glob_match(p.as_bytes(), s.as_bytes()), want, "{p} {s}");
        }
    }

    #[test]
    fn parses_description() {
        let json = r#"{"container":{"Mounts":[{"Source":"/etc","Destination":"/host/etc","Mode":"ro","RW":false,"Propagation":"rprivate"}],"id":"9dbcbd0c435f","image":"nginx:latest","imagerepo":"nginx","imagetag":"latest","labels":{"io.kubernetes.pod.name":"p","io.kubernetes.pod.namespace":"ns"},"name":"epic_cray","privileged":true}}"#;
        let c = Container::from_json(json).unwrap();
        assert_eq!(c.id, "9dbcbd0c435f");
        assert_eq!(c.name, "epic_cray");
        assert_eq!((c.repository.as_str(), c.tag.as_str()), ("nginx", "latest"));
        assert_eq!(c.privileged, Some(true));
        assert_eq!(c.pod_name.as_deref(), Some("p"));
        assert_eq!(c.pod_namespace.as_deref(), Some("ns"));
        assert_eq!(c.find_mount("/et*", false).unwrap().dest, "/host/etc");
        assert_eq!(c.find_mount("0", false).unwrap().source, "/etc");
        assert!(c.find_mount("/proc*", false).is_none());
        let mut s = String::new();
        c.mounts_text(&mut s);
        assert_eq!(s, "/etc:/host/etc:ro:false:rprivate");
        assert!(Container::from_json("{not json").is_none());
        let mut t = ContainerTable::default();
        assert!(t.insert(c));
        assert_eq!(
            t.get("9dbcbd0c435f").map(|c| c.name.as_str()),
            Some("epic_cray")
        );
    }
}
