//! `port host`: a development host that receives donations, logs and exits from the extension.
//!
//! It speaks the extension's HTTP bridges: `POST /donate` with the donated JSON verbatim as the
//! body, the key, session and study in `X-Port-Key`, `X-Port-Session` and `X-Port-Study`, and an
//! `Idempotency-Key`; `POST /log`, `/event` and `/exit` with JSON bodies. It also serves `GET /study`,
//! a host page that pushes a study config to the extension (`live-init`) and relays what comes back
//! over the same HTTP routes, as a platform like Eyra's would.
//!
//! It listens on 127.0.0.1 only, because donations are participant data. `GET /donations` lists
//! what arrived, for tests and dashboards. Flags make it fail or stay silent, so that retries can
//! be watched.

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;

use crate::file_names::file_name_for_key;
use serde_json::{Value, json};

/// How the host misbehaves on purpose.
#[derive(Debug, Clone, Default)]
pub struct HostBehaviour {
    /// Answer the first `n` donation requests with this status, e.g. `(503, 3)`.
    pub fail_donations: Option<(u16, u32)>,
    /// Wait this long before answering each donation.
    pub silent_for: Duration,
    /// Answer 413 to a donation of more bytes than this, as a host with an upload limit does.
    pub max_donation_bytes: Option<u64>,
    /// The study config `GET /study` pushes to the extension.
    pub study: Option<Value>,
    /// The extension `GET /study` connects to.
    pub extension_id: String,
}

impl HostBehaviour {
    /// Reads what `port host`'s flags name: the study config file and the extension id.
    pub fn resolve(args: &crate::args::HostArgs) -> anyhow::Result<HostBehaviour> {
        let study = match &args.study {
            None => None,
            Some(path) => {
                let text =
                    fs::read_to_string(path).with_context(|| format!("cannot read the study {}", path.display()))?;
                Some(serde_json::from_str(&text).with_context(|| format!("the study {} is not JSON", path.display()))?)
            }
        };
        // Without a manifest (port installed outside the repository) the study page cannot name the
        // extension; the host still receives donations.
        let extension_id = crate::extension::manifest_extension_id(&crate::extension::repo_root()).unwrap_or_default();
        Ok(HostBehaviour {
            fail_donations: args.fail_donations,
            silent_for: Duration::from_secs(args.silent_for),
            max_donation_bytes: args.max_donation_bytes,
            study,
            extension_id,
        })
    }
}

pub struct DevHost {
    server: tiny_http::Server,
    state: Arc<HostState>,
}

struct HostState {
    donation_dir: PathBuf,
    behaviour: HostBehaviour,
    counters: Mutex<Counters>,
}

#[derive(Default)]
struct Counters {
    n_donation_requests: u32,
    /// Idempotency keys of stored donations: a repeat is answered 409 and not stored again.
    delivered: HashSet<String>,
}

/// One donation as listed in `index.jsonl` and by `GET /donations`.
fn index_entry(session: &str, key: &str, idempotency_key: &str, body: &str, path: &Path) -> Value {
    use sha2::{Digest, Sha256};
    let sha256: String = Sha256::digest(body.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect();
    json!({
        "session": session,
        "key": key,
        "idempotency_key": idempotency_key,
        "bytes": body.len(),
        "sha256": sha256,
        "file": path.display().to_string(),
    })
}

impl DevHost {
    pub fn bind(port: u16, donation_dir: &Path, behaviour: HostBehaviour) -> anyhow::Result<DevHost> {
        fs::create_dir_all(donation_dir)
            .with_context(|| format!("cannot create the donation folder {}", donation_dir.display()))?;
        let donation_dir = donation_dir.canonicalize()?;
        let server = tiny_http::Server::http(("127.0.0.1", port))
            .map_err(|error| anyhow::anyhow!("cannot listen on 127.0.0.1:{port}: {error}; pick another --port"))?;
        let delivered = read_index(&donation_dir)
            .iter()
            .filter_map(|entry| entry.get("idempotency_key").and_then(Value::as_str).map(str::to_owned))
            .filter(|key| !key.is_empty())
            .collect();
        let counters = Mutex::new(Counters { n_donation_requests: 0, delivered });
        Ok(DevHost { server, state: Arc::new(HostState { donation_dir, behaviour, counters }) })
    }

    pub fn url(&self) -> String {
        match self.server.server_addr().to_ip() {
            Some(address) => format!("http://{address}"),
            None => "http://127.0.0.1".into(),
        }
    }

    pub fn donation_dir(&self) -> &Path {
        &self.state.donation_dir
    }

    /// Serves until the process ends; each request gets a thread, so a silent donation does not
    /// hold up logs.
    pub fn serve_forever(self) {
        for request in self.server.incoming_requests() {
            let state = Arc::clone(&self.state);
            std::thread::spawn(move || state.handle(request));
        }
    }
}

impl HostState {
    fn handle(&self, mut request: tiny_http::Request) {
        let method = request.method().clone();
        let path = request.url().split('?').next().unwrap_or("").to_owned();
        let mut body = String::new();
        let too_big = match (self.behaviour.max_donation_bytes, request.body_length()) {
            (Some(max), Some(n_bytes)) if path == "/donate" && n_bytes as u64 > max => Some((max, n_bytes)),
            _ => None,
        };
        let (status, reply) = if let Some((max, n_bytes)) = too_big {
            // Read to the end all the same: a browser that is still sending sees a closed
            // connection, not the answer, when the server stops reading.
            let _ = std::io::copy(request.as_reader(), &mut std::io::sink());
            println!("donation of {n_bytes} bytes: answering 413, more than --max-donation-bytes {max}");
            let error = format!("the donation is {n_bytes} bytes; this host accepts at most {max}");
            (413, Reply::Json(json!({"error": error})))
        } else if let Err(error) = request.as_reader().read_to_string(&mut body) {
            (400, Reply::Json(json!({"error": format!("the body is not UTF-8 text: {error}")})))
        } else {
            match (&method, path.as_str()) {
                // The service worker's fetch sends a preflight for the X-Port-* headers.
                (tiny_http::Method::Options, _) => (204, Reply::Empty),
                (tiny_http::Method::Post, "/donate") => self.receive_donation(&request, body),
                (tiny_http::Method::Post, "/log") => print_logs(&body),
                (tiny_http::Method::Post, "/event") => print_json("event", &body),
                (tiny_http::Method::Post, "/exit") => print_json("exit", &body),
                (tiny_http::Method::Get, "/donations") => {
                    (200, Reply::Json(Value::Array(read_index(&self.donation_dir))))
                }
                (tiny_http::Method::Get, "/study") => self.study_page(),
                (tiny_http::Method::Get, "/") => {
                    (200, Reply::Json(json!({"host": "port", "donations": self.donation_dir, "study_page": "/study"})))
                }
                _ => (404, Reply::Json(json!({"error": format!("no route {method} {path}")}))),
            }
        };
        let (text, content_type) = match reply {
            Reply::Empty => (String::new(), "text/plain"),
            Reply::Json(value) => (value.to_string(), "application/json"),
            Reply::Html(html) => (html, "text/html; charset=utf-8"),
        };
        let response = tiny_http::Response::from_string(text)
            .with_status_code(status)
            .with_header(header("Content-Type", content_type))
            .with_header(header("Access-Control-Allow-Origin", "*"))
            .with_header(header("Access-Control-Allow-Methods", "GET, POST, OPTIONS"))
            .with_header(header(
                "Access-Control-Allow-Headers",
                "Content-Type, X-Port-Key, X-Port-Session, X-Port-Study, Idempotency-Key",
            ));
        if let Err(error) = request.respond(response) {
            eprintln!("port host: could not answer {method} {path}: {error}");
        }
    }

    fn receive_donation(&self, request: &tiny_http::Request, body: String) -> (u16, Reply) {
        let header_value = |name: &str| {
            request
                .headers()
                .iter()
                .find(|header| header.field.as_str().as_str().eq_ignore_ascii_case(name))
                .map(|header| header.value.to_string())
        };
        let Some(key) = header_value("X-Port-Key").filter(|key| !key.is_empty()) else {
            return (400, Reply::Json(json!({"error": "missing X-Port-Key header"})));
        };
        let session = header_value("X-Port-Session").unwrap_or_else(|| "no-session".into());
        let idempotency_key = header_value("Idempotency-Key").unwrap_or_default();
        if !self.behaviour.silent_for.is_zero() {
            println!("donation {key}: staying silent for {:?}", self.behaviour.silent_for);
            std::thread::sleep(self.behaviour.silent_for);
        }
        let mut counters = self.counters.lock().expect("no thread panics holding the counters");
        counters.n_donation_requests += 1;
        if let Some((status, n_failures)) = self.behaviour.fail_donations
            && counters.n_donation_requests <= n_failures
        {
            println!("donation {key}: answering {status} on purpose ({}/{n_failures})", counters.n_donation_requests);
            return (status, Reply::Json(json!({"error": format!("port host fails on purpose ({status})")})));
        }
        if !idempotency_key.is_empty() && counters.delivered.contains(&idempotency_key) {
            println!("donation {key}: duplicate (Idempotency-Key seen before), not stored again");
            return (409, Reply::Json(json!({"status": "duplicate"})));
        }
        let session_dir = self.donation_dir.join(file_name_for_key(&session));
        let path = session_dir.join(format!("{}.json", file_name_for_key(&key)));
        let written = fs::create_dir_all(&session_dir).and_then(|()| fs::write(&path, &body)).and_then(|()| {
            let entry = index_entry(&session, &key, &idempotency_key, &body, &path);
            let mut index =
                fs::OpenOptions::new().create(true).append(true).open(self.donation_dir.join("index.jsonl"))?;
            writeln!(index, "{entry}")
        });
        match written {
            Ok(()) => {
                if !idempotency_key.is_empty() {
                    counters.delivered.insert(idempotency_key);
                }
                println!("donation {key} (session {session}): {} bytes -> {}", body.len(), path.display());
                (200, Reply::Json(json!({"status": "ok"})))
            }
            Err(error) => {
                eprintln!("port host: cannot store donation {key}: {error}");
                (500, Reply::Json(json!({"error": format!("cannot store the donation: {error}")})))
            }
        }
    }

    /// A host page in the style of Eyra's: it connects to the extension, pushes the study with
    /// `live-init`, and relays donations, logs and the exit to this host's HTTP routes.
    fn study_page(&self) -> (u16, Reply) {
        let Some(study) = &self.behaviour.study else {
            return (404, Reply::Json(json!({"error": "no study: start port host with --study FILE"})));
        };
        let html = STUDY_PAGE
            .replace("__EXTENSION_ID__", &serde_json::to_string(&self.behaviour.extension_id).expect("a string"))
            .replace("__STUDY__", &study.to_string().replace("</", "<\\/"));
        (200, Reply::Html(html))
    }
}

enum Reply {
    Empty,
    Json(Value),
    Html(String),
}

/// The live-init host page; `__EXTENSION_ID__` and `__STUDY__` are filled in as JSON.
const STUDY_PAGE: &str = include_str!("dev_host_study_page.html");

fn read_index(donation_dir: &Path) -> Vec<Value> {
    let index = fs::read_to_string(donation_dir.join("index.jsonl")).unwrap_or_default();
    index.lines().filter_map(|line| serde_json::from_str(line).ok()).collect()
}

fn print_logs(body: &str) -> (u16, Reply) {
    let Ok(logs) = serde_json::from_str::<Value>(body) else {
        return (400, Reply::Json(json!({"error": "the log body is not JSON"})));
    };
    let entries = logs.get("entries").and_then(Value::as_array).cloned().unwrap_or_else(|| vec![logs.clone()]);
    for entry in entries {
        let level = entry.get("level").and_then(Value::as_str).unwrap_or("?");
        let message = entry.get("message").and_then(Value::as_str).unwrap_or("");
        println!("[{level}] {message}");
    }
    (200, Reply::Json(json!({"status": "ok"})))
}

fn print_json(what: &str, body: &str) -> (u16, Reply) {
    match serde_json::from_str::<Value>(body) {
        Ok(value) => {
            println!("{what} {value}");
            (200, Reply::Json(json!({"status": "ok"})))
        }
        Err(_) => (400, Reply::Json(json!({"error": format!("the {what} body is not JSON")}))),
    }
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("static headers are valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn study_page_embeds_config_without_closing_the_script() {
        let behaviour = HostBehaviour {
            study: Some(json!({"id": "s", "title": "</script><b>"})),
            extension_id: "abc".into(),
            ..HostBehaviour::default()
        };
        let state = HostState { donation_dir: PathBuf::new(), behaviour, counters: Mutex::default() };
        let (status, Reply::Html(html)) = state.study_page() else { panic!("not html") };
        assert_eq!(status, 200);
        assert!(html.contains(r#"const EXTENSION_ID = "abc";"#));
        assert!(!html.contains("</script><b>"));
    }
}
