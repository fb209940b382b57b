use std::time::Duration;

use crate::stand_in::StandInRegistry;
use crate::{value_subject, Registry, RegistryError, RegistryOptions};

fn options(url: &str) -> RegistryOptions {
    RegistryOptions {
        url: url.to_string(),
        username: None,
        password: None,
        ca_file: None,
        timeout: Duration::from_secs(5),
    }
}

const SCHEMA: &str = r#"{"type":"record","name":"Sale","namespace":"com.example","fields":[{"name":"id","type":"string"}]}"#;

#[tokio::test]
async fn registers_and_reads_back_by_id() {
    let stand_in = StandInRegistry::start().await.expect("stand-in");
    let registry = Registry::new(&options(&stand_in.url())).expect("client");
    let id = registry
        .register(&value_subject("retail.pos.events"), SCHEMA)
        .await
        .expect("registered");
    assert_eq!(stand_in.versions("retail.pos.events-value"), vec![id]);
    // Registering it again is not a new version: the same id comes back.
    let again = registry
        .register("retail.pos.events-value", SCHEMA)
        .await
        .expect("registered again");
    assert_eq!(again, id);
    assert_eq!(registry.schema_by_id(id).await.expect("by id"), SCHEMA);
}

#[tokio::test]
async fn an_unknown_id_is_not_found_and_not_transient() {
    let stand_in = StandInRegistry::start().await.expect("stand-in");
    let registry = Registry::new(&options(&stand_in.url())).expect("client");
    let err = registry.schema_by_id(77).await.expect_err("no such id");
    assert!(
        matches!(err, RegistryError::NotFound { id: 77, .. }),
        "{err}"
    );
    assert!(!err.is_transient());
    assert!(err.to_string().contains(&stand_in.url()), "{err}");
}

#[tokio::test]
async fn unavailable_is_transient_and_a_wrong_path_is_not() {
    let stand_in = StandInRegistry::start().await.expect("stand-in");
    let id = stand_in.register("s", SCHEMA);
    let registry = Registry::new(&options(&stand_in.url())).expect("client");
    stand_in.fail_next(1);
    let err = registry.schema_by_id(id).await.expect_err("503");
    assert!(err.is_transient(), "{err}");
    assert!(err.to_string().contains("HTTP 503"), "{err}");
    assert_eq!(
        registry.schema_by_id(id).await.expect("then it answers"),
        SCHEMA
    );

    // A base URL with a wrong path: a 404 that is not "schema not found".
    let wrong =
        Registry::new(&options(&format!("{}/nothing/here", stand_in.url()))).expect("client");
    let err = wrong.schema_by_id(id).await.expect_err("wrong path");
    assert!(
        matches!(err, RegistryError::Refused { status: 404, .. }),
        "{err}"
    );
    assert!(!err.is_transient());
}

#[tokio::test]
async fn nothing_listening_is_transient() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let registry = Registry::new(&options(&format!("http://127.0.0.1:{port}"))).expect("client");
    let err = registry.schema_by_id(1).await.expect_err("refused");
    assert!(matches!(err, RegistryError::Unreachable { .. }), "{err}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn credentials_from_options_or_url_and_never_in_messages() {
    let stand_in = StandInRegistry::start().await.expect("stand-in");
    let id = stand_in.register("s", SCHEMA);
    stand_in.require_credentials("key", "s3cret");

    let anonymous = Registry::new(&options(&stand_in.url())).expect("client");
    let err = anonymous.schema_by_id(id).await.expect_err("401");
    assert!(
        matches!(err, RegistryError::Refused { status: 401, .. }),
        "{err}"
    );
    assert!(!err.is_transient());

    let mut with_options = options(&stand_in.url());
    with_options.username = Some("key".into());
    with_options.password = Some("s3cret".into());
    let registry = Registry::new(&with_options).expect("client");
    assert_eq!(registry.schema_by_id(id).await.expect("authorized"), SCHEMA);

    let in_url = stand_in.url().replace("http://", "http://key:s3cret@");
    let registry = Registry::new(&options(&in_url)).expect("client");
    assert!(
        !registry.address().contains("s3cret"),
        "{}",
        registry.address()
    );
    assert_eq!(registry.schema_by_id(id).await.expect("authorized"), SCHEMA);
    let err = registry.schema_by_id(id + 100).await.expect_err("missing");
    assert!(!err.to_string().contains("s3cret"), "{err}");

    // The key in the URL, its secret from the options (the environment,
    // as kindred.toml recommends): both sent. A secret without a key is
    // refused, naming what is missing (it was dropped: a bare 401).
    let mut key_in_url = options(&stand_in.url().replace("http://", "http://key@"));
    key_in_url.password = Some("s3cret".into());
    let registry = Registry::new(&key_in_url).expect("client");
    assert_eq!(registry.schema_by_id(id).await.expect("authorized"), SCHEMA);
    let mut no_key = options(&stand_in.url());
    no_key.password = Some("s3cret".into());
    let err = Registry::new(&no_key).expect_err("a password alone");
    assert!(err.to_string().contains("without a username"), "{err}");
    assert!(!err.to_string().contains("s3cret"), "{err}");

    let err = Registry::new(&options("ftp://key:s3cret@host")).expect_err("scheme");
    assert!(!err.to_string().contains("s3cret"), "{err}");
    let debug = format!("{registry:?} {with_options:?}");
    assert!(!debug.contains("s3cret"), "{debug}");
}

/// A secret with `/`, `+` or `@` in it is written percent-encoded in a URL
/// and sent decoded.
#[tokio::test]
async fn credentials_in_the_url_are_percent_decoded() {
    let stand_in = StandInRegistry::start().await.expect("stand-in");
    let id = stand_in.register("s", SCHEMA);
    stand_in.require_credentials("key", "s/3+c@ret");
    let url = stand_in
        .url()
        .replace("http://", "http://key:s%2F3%2Bc%40ret@");
    let registry = Registry::new(&options(&url)).expect("client");
    assert_eq!(registry.schema_by_id(id).await.expect("authorized"), SCHEMA);
}

#[tokio::test]
async fn a_path_prefix_is_kept() {
    // Apicurio serves the API under /apis/ccompat/v7: calls go below it.
    let registry = Registry::new(&options("http://host:8080/apis/ccompat/v7/")).expect("client");
    assert_eq!(
        registry.url(&["schemas", "ids", "3"]).as_str(),
        "http://host:8080/apis/ccompat/v7/schemas/ids/3"
    );
    let registry = Registry::new(&options("http://host:8080")).expect("client");
    assert_eq!(
        registry
            .url(&["subjects", "a/b-value", "versions"])
            .as_str(),
        "http://host:8080/subjects/a%2Fb-value/versions"
    );
}
