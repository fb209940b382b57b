//! An in-memory schema registry speaking the part of the Confluent API that
//! kindred calls, for tests: no registry server can be installed on the
//! test machines (Confluent's is not on Maven Central, Karapace not on
//! PyPI). It follows the documented behaviour kindred relies on: ids are
//! global and start at 1, registering a schema a subject holds returns its
//! id (the same text registered under another subject gets the same id),
//! an unknown id answers 404 with error code 40403. Only exact text is
//! deduplicated (a real registry compares canonical forms).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use base64::prelude::{Engine, BASE64_STANDARD};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};

#[derive(Default)]
struct State {
    /// Schema text by id (id = index + 1).
    schemas: Vec<String>,
    subjects: BTreeMap<String, Vec<u32>>,
    /// `user:password` every call must carry, when set.
    credentials: Option<String>,
    /// Calls still to fail with 503 (a registry restarting).
    unavailable: u32,
    /// Registrations refused with 403 (a key that may only read).
    read_only: bool,
    calls: u32,
}

/// A running stand-in registry on 127.0.0.1; stops when dropped.
pub struct StandInRegistry {
    address: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl StandInRegistry {
    /// Starts one on a free loopback port (inside a tokio runtime).
    pub async fn start() -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let state: Arc<Mutex<State>> = Arc::default();
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(answer(&state, request).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(StandInRegistry {
            address,
            state,
            task,
        })
    }

    /// Its base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Registers `schema` under `subject` as a producer's serializer would;
    /// returns its id.
    pub fn register(&self, subject: &str, schema: &str) -> u32 {
        register(&mut self.lock(), subject, schema)
    }

    /// The ids registered under `subject`, oldest first.
    pub fn versions(&self, subject: &str) -> Vec<u32> {
        self.lock()
            .subjects
            .get(subject)
            .cloned()
            .unwrap_or_default()
    }

    /// Requires HTTP basic auth with `user` and `password` from now on.
    pub fn require_credentials(&self, user: &str, password: &str) {
        self.lock().credentials = Some(format!("{user}:{password}"));
    }

    /// Refuses registrations from now on with 403, as a registry does to
    /// a key that may only read; lookups are answered.
    pub fn read_only(&self) {
        self.lock().read_only = true;
    }

    /// Answers the next `calls` calls with 503.
    pub fn fail_next(&self, calls: u32) {
        self.lock().unavailable = calls;
    }

    /// How many calls it has answered.
    pub fn calls(&self) -> u32 {
        self.lock().calls
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for StandInRegistry {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn register(state: &mut State, subject: &str, schema: &str) -> u32 {
    let id = match state.schemas.iter().position(|s| s == schema) {
        Some(i) => i as u32 + 1,
        None => {
            state.schemas.push(schema.to_string());
            state.schemas.len() as u32
        }
    };
    let versions = state.subjects.entry(subject.to_string()).or_default();
    if !versions.contains(&id) {
        versions.push(id);
    }
    id
}

fn json(status: StatusCode, body: serde_json::Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    if let Ok(value) = "application/vnd.schemaregistry.v1+json".parse() {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
    }
    response
}

fn error(status: StatusCode, code: i64, message: &str) -> Response<Full<Bytes>> {
    json(
        status,
        serde_json::json!({ "error_code": code, "message": message }),
    )
}

async fn answer(state: &Mutex<State>, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return error(StatusCode::BAD_REQUEST, 400, "unreadable body"),
    };
    let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
    state.calls += 1;
    if state.unavailable > 0 {
        state.unavailable -= 1;
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            50003,
            "stand-in is unavailable",
        );
    }
    if let Some(expected) = &state.credentials {
        let given = parts
            .headers
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
            .map(str::to_string);
        if given.as_deref() != Some(BASE64_STANDARD.encode(expected).as_str()) {
            return error(StatusCode::UNAUTHORIZED, 401, "Unauthorized");
        }
    }
    let path: Vec<String> = parts
        .uri
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| s.replace("%2F", "/"))
        .collect();
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    match (parts.method.as_str(), path.as_slice()) {
        ("GET", ["schemas", "ids", id]) => {
            // Confluent's registry reads the id as a Java int: one that
            // does not parse as one is no route at all (404, error code
            // 404, not 40403).
            let Ok(id) = id.parse::<i32>() else {
                return error(StatusCode::NOT_FOUND, 404, "HTTP 404 Not Found");
            };
            let schema = usize::try_from(id)
                .ok()
                .and_then(|i| i.checked_sub(1))
                .and_then(|i| state.schemas.get(i));
            match schema {
                Some(s) => json(StatusCode::OK, serde_json::json!({ "schema": s })),
                None => error(StatusCode::NOT_FOUND, 40403, "Schema not found"),
            }
        }
        ("POST", ["subjects", subject, "versions"]) if state.read_only => error(
            StatusCode::FORBIDDEN,
            40301,
            &format!("User is denied operation Write on Subject: {subject}"),
        ),
        // Whether the subject holds the schema: its id (and version).
        ("POST", ["subjects", subject]) => {
            let schema = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("schema").and_then(|s| s.as_str()).map(str::to_string));
            let id = schema
                .and_then(|s| state.schemas.iter().position(|t| *t == s))
                .map(|i| i as u32 + 1);
            let versions = state.subjects.get(*subject);
            match (versions, id) {
                (None, _) => error(StatusCode::NOT_FOUND, 40401, "Subject not found"),
                (Some(v), Some(id)) if v.contains(&id) => {
                    let version = v.iter().position(|x| *x == id).unwrap_or(0) + 1;
                    json(
                        StatusCode::OK,
                        serde_json::json!({ "subject": subject, "id": id, "version": version }),
                    )
                }
                _ => error(StatusCode::NOT_FOUND, 40403, "Schema not found"),
            }
        }
        ("POST", ["subjects", subject, "versions"]) => {
            let schema = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("schema").and_then(|s| s.as_str()).map(str::to_string));
            match schema {
                Some(s) => {
                    let id = register(&mut state, subject, &s);
                    json(StatusCode::OK, serde_json::json!({ "id": id }))
                }
                None => error(StatusCode::UNPROCESSABLE_ENTITY, 42201, "Invalid schema"),
            }
        }
        _ => error(StatusCode::NOT_FOUND, 404, "HTTP 404 Not Found"),
    }
}
