//! A client of a Confluent-compatible schema registry (Confluent Schema
//! Registry, Redpanda's, Karapace, Apicurio's `ccompat` API).
//!
//! kindred needs two of its calls:
//! - [`Registry::schema_by_id`]: the writer schema of an id a message carries
//!   (`GET /schemas/ids/{id}`), so records producers registered themselves
//!   can be read without configuring their ids;
//! - [`Registry::register`]: the id of a schema kindred writes, under the
//!   topic's subject (`POST /subjects/{subject}/versions`; registering a
//!   schema the subject already holds returns its id), so downstream
//!   readers using the registry can decode kindred's records.
//!
//! It knows nothing of kindred's schemas (`kindred-schema` judges what it
//! fetches) or of Kafka. Errors say which registry, which call and what it
//! answered; [`RegistryError::is_transient`] tells a retry from a refusal.

use std::path::PathBuf;
use std::time::Duration;

#[cfg(feature = "stand-in")]
pub mod stand_in;

/// The media type of the registry's API (v1), preferred over plain JSON.
const MEDIA_TYPE: &str = "application/vnd.schemaregistry.v1+json";

/// Where the registry is and how to reach it. (`Debug` masks the password.)
#[derive(Clone)]
pub struct RegistryOptions {
    /// Base URL, e.g. `https://registry.example.com:8081` (a path prefix is
    /// kept: `https://host/apis/ccompat/v7`).
    pub url: String,
    /// HTTP basic-auth user (Confluent Cloud: the API key).
    pub username: Option<String>,
    /// HTTP basic-auth password (Confluent Cloud: the API secret).
    pub password: Option<String>,
    /// A PEM file of CA certificates to trust besides the system's.
    pub ca_file: Option<PathBuf>,
    /// Longest wait for one call, connect included.
    pub timeout: Duration,
}

impl std::fmt::Debug for RegistryOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryOptions")
            .field("url", &without_credentials(&self.url))
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "********"))
            .field("ca_file", &self.ca_file)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A schema registry's client. Cheap to clone (the connection pool is
/// shared). `Debug` shows its address only.
#[derive(Clone)]
pub struct Registry {
    base: reqwest::Url,
    /// The base URL without credentials, for messages and logs.
    address: String,
    client: reqwest::Client,
    auth: Option<(String, Option<String>)>,
}

/// What a call to the registry came to, when not what was asked.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("schema registry URL {url:?} is not valid: {message}")]
    InvalidUrl { url: String, message: String },
    #[error("cannot set up the schema registry client: {message}")]
    Client { message: String },
    #[error("schema registry {registry} has no schema id {id}")]
    NotFound { registry: String, id: u32 },
    #[error("schema registry {registry} refused {what}: HTTP {status}{}: {message}", code.map(|c| format!(", error code {c}")).unwrap_or_default())]
    Refused {
        registry: String,
        what: String,
        status: u16,
        code: Option<i64>,
        message: String,
    },
    #[error("schema registry {registry} could not be reached for {what}: {message}")]
    Unreachable {
        registry: String,
        what: String,
        message: String,
    },
    #[error(
        "schema registry {registry} answered {what} with a body kindred cannot read: {message}"
    )]
    BadResponse {
        registry: String,
        what: String,
        message: String,
    },
    #[error("schema id {id} in registry {registry} is a {schema_type} schema; kindred reads Avro")]
    NotAvro {
        registry: String,
        id: u32,
        schema_type: String,
    },
    #[error("schema id {id} in registry {registry} references other schemas ({references}); kindred reads self-contained Avro schemas only")]
    References {
        registry: String,
        id: u32,
        references: String,
    },
}

impl RegistryError {
    /// Whether the same call may succeed later (the registry unreachable,
    /// overloaded or failing inside), as opposed to an answer that will not
    /// change (no such id, bad credentials, an incompatible schema).
    pub fn is_transient(&self) -> bool {
        match self {
            RegistryError::Unreachable { .. } => true,
            RegistryError::Refused { status, .. } => {
                *status >= 500 || *status == 429 || *status == 408
            }
            _ => false,
        }
    }
}

/// The subject of a topic's record values under the registry's default
/// `TopicNameStrategy`: `<topic>-value`.
pub fn value_subject(topic: &str) -> String {
    format!("{topic}-value")
}

#[derive(serde::Deserialize)]
struct SchemaById {
    schema: String,
    #[serde(rename = "schemaType")]
    schema_type: Option<String>,
    #[serde(default)]
    references: Option<Vec<serde_json::Value>>,
}

#[derive(serde::Deserialize)]
struct Registered {
    id: u32,
}

#[derive(serde::Deserialize)]
struct ErrorBody {
    error_code: Option<i64>,
    message: Option<String>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// A client of the registry at `options.url`. Makes no call.
    pub fn new(options: &RegistryOptions) -> Result<Self, RegistryError> {
        let invalid = |message: String| RegistryError::InvalidUrl {
            url: without_credentials(&options.url),
            message,
        };
        let mut base =
            reqwest::Url::parse(options.url.trim()).map_err(|e| invalid(e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https".into()));
        }
        if base.cannot_be_a_base() {
            return Err(invalid("not a base URL".into()));
        }
        // Credentials written into the URL work like the options' (each
        // option wins over its part of the URL: a key in the URL, its
        // secret from the environment), and never reach messages.
        // The URL holds them percent-encoded (a secret with `/`, `+` or
        // `@` in it must be written so).
        let decoded = |text: &str| {
            percent_encoding::percent_decode_str(text)
                .decode_utf8()
                .map(|d| d.into_owned())
                .map_err(|_| invalid("its credentials are not UTF-8 once percent-decoded".into()))
        };
        let url_user = Some(base.username())
            .filter(|u| !u.is_empty())
            .map(decoded)
            .transpose()?;
        let url_password = base.password().map(decoded).transpose()?;
        let auth = match (
            options.username.clone().or(url_user),
            options.password.clone().or(url_password),
        ) {
            (Some(user), password) => Some((user, password)),
            // Sent as nothing at all, the registry's 401 named nothing.
            (None, Some(_)) => {
                return Err(invalid(
                    "a password is given without a username (schemas.registry.username, or user@ in the URL)"
                        .into(),
                ))
            }
            (None, None) => None,
        };
        base.set_username("")
            .and_then(|()| base.set_password(None))
            .map_err(|()| invalid("cannot take the credentials out of it".into()))?;
        base.set_query(None);
        base.set_fragment(None);
        let mut builder = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.timeout)
            .user_agent(concat!("kindred/", env!("CARGO_PKG_VERSION")));
        if let Some(file) = &options.ca_file {
            let client_error = |message: String| RegistryError::Client {
                message: format!("CA file {}: {message}", file.display()),
            };
            let pem = std::fs::read(file).map_err(|e| client_error(e.to_string()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| client_error(e.to_string()))?;
            if certs.is_empty() {
                return Err(client_error("holds no PEM certificate".into()));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder.build().map_err(|e| RegistryError::Client {
            message: e.to_string(),
        })?;
        let address = base.as_str().trim_end_matches('/').to_string();
        Ok(Registry {
            base,
            address,
            client,
            auth,
        })
    }

    /// The registry's base URL, without credentials.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The writer schema registered under `id`, as Avro schema text.
    pub async fn schema_by_id(&self, id: u32) -> Result<String, RegistryError> {
        let what = format!("schema id {id}");
        let url = self.url(&["schemas", "ids", &id.to_string()]);
        let response = self.send(self.client.get(url), &what).await?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            // 40403 is "schema not found"; another 404 (a wrong base path,
            // say) is a refusal that names itself.
            return Err(match self.refused(&what, response).await {
                RegistryError::Refused {
                    code: Some(40403), ..
                } => RegistryError::NotFound {
                    registry: self.address.clone(),
                    id,
                },
                other => other,
            });
        }
        let body: SchemaById = self.json(response, &what).await?;
        if let Some(kind) = body.schema_type.filter(|t| !t.eq_ignore_ascii_case("AVRO")) {
            return Err(RegistryError::NotAvro {
                registry: self.address.clone(),
                id,
                schema_type: kind,
            });
        }
        let references = body.references.unwrap_or_default();
        if !references.is_empty() {
            return Err(RegistryError::References {
                registry: self.address.clone(),
                id,
                references: references
                    .iter()
                    .map(|r| {
                        r.get("name")
                            .and_then(|n| n.as_str())
                            .unwrap_or("?")
                            .to_string()
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        Ok(body.schema)
    }

    /// Registers the Avro schema `schema` under `subject` and returns its
    /// id. A schema the subject already holds is not registered again: the
    /// registry returns its id. Refused (not transient) when the subject's
    /// compatibility rule rejects it, or the credentials may not write.
    pub async fn register(&self, subject: &str, schema: &str) -> Result<u32, RegistryError> {
        let what = format!("registering a schema under subject {subject}");
        self.post_schema(&["subjects", subject, "versions"], schema, &what)
            .await
    }

    /// The id of `schema` under `subject` if the subject already holds it
    /// (Confluent's `POST /subjects/{subject}`, which a key that may only
    /// read is allowed): for a registry where kindred's credentials may not
    /// register. A subject or schema the registry does not have is
    /// refused with its 404.
    pub async fn lookup(&self, subject: &str, schema: &str) -> Result<u32, RegistryError> {
        let what = format!("looking up a schema under subject {subject}");
        self.post_schema(&["subjects", subject], schema, &what)
            .await
    }

    /// Posts `schema` to the path `segments` and reads the id answered; a
    /// 404 is refused, naming itself.
    async fn post_schema(
        &self,
        segments: &[&str],
        schema: &str,
        what: &str,
    ) -> Result<u32, RegistryError> {
        let body = serde_json::json!({ "schema": schema });
        let request = self
            .client
            .post(self.url(segments))
            .header(reqwest::header::CONTENT_TYPE, MEDIA_TYPE)
            .body(body.to_string());
        let response = self.send(request, what).await?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Err(self.refused(what, response).await);
        }
        let registered: Registered = self.json(response, what).await?;
        Ok(registered.id)
    }

    fn url(&self, segments: &[&str]) -> reqwest::Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// Sends `request` with the credentials and the API's media type;
    /// returns the response for 2xx and 404 (the caller reads what a 404
    /// means), and an error for anything else.
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        what: &str,
    ) -> Result<reqwest::Response, RegistryError> {
        let mut request = request.header(
            reqwest::header::ACCEPT,
            format!("{MEDIA_TYPE}, application/json"),
        );
        if let Some((user, password)) = &self.auth {
            request = request.basic_auth(user, password.as_ref());
        }
        let response = request
            .send()
            .await
            .map_err(|e| self.unreachable(what, &e))?;
        let status = response.status();
        if status.is_success() || status == reqwest::StatusCode::NOT_FOUND {
            return Ok(response);
        }
        Err(self.refused(what, response).await)
    }

    fn unreachable(&self, what: &str, e: &reqwest::Error) -> RegistryError {
        RegistryError::Unreachable {
            registry: self.address.clone(),
            what: what.to_string(),
            message: error_chain(e),
        }
    }

    /// The refusal a response that is not a success says.
    async fn refused(&self, what: &str, response: reqwest::Response) -> RegistryError {
        let status = response.status().as_u16();
        let (code, message) = error_body(response).await;
        RegistryError::Refused {
            registry: self.address.clone(),
            what: what.to_string(),
            status,
            code,
            message,
        }
    }

    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        response: reqwest::Response,
        what: &str,
    ) -> Result<T, RegistryError> {
        let bad = |message: String| RegistryError::BadResponse {
            registry: self.address.clone(),
            what: what.to_string(),
            message,
        };
        if !response.status().is_success() {
            return Err(self.refused(what, response).await);
        }
        // A body cut off on the way is an outage, not a bad answer.
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.unreachable(what, &e))?;
        serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))
    }
}

/// The registry's error body (`{"error_code": 40403, "message": "..."}`),
/// or the start of whatever else it sent.
async fn error_body(response: reqwest::Response) -> (Option<i64>, String) {
    let text = response.text().await.unwrap_or_default();
    match serde_json::from_str::<ErrorBody>(&text) {
        Ok(body) => (body.error_code, body.message.unwrap_or_default()),
        Err(_) => (None, text.chars().take(200).collect()),
    }
}

/// An error with its causes (reqwest's own message alone says only
/// "error sending request").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

/// `url` with any `user:password@` taken out, for messages.
fn without_credentials(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        Err(_) => match url.rsplit_once('@') {
            Some((_, host)) => format!("…@{host}"),
            None => url.to_string(),
        },
    }
}

#[cfg(test)]
mod tests;
