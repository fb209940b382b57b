use std::collections::BTreeMap;

use rdkafka::ClientConfig;

/// How to reach the Kafka cluster.
#[derive(Clone)]
pub struct KafkaSettings {
    /// `bootstrap.servers`, e.g. `127.0.0.1:9092`.
    pub brokers: String,
    /// Extra librdkafka properties passed through as they are (security
    /// protocol, SASL, TLS files, ...). They override kindred's own defaults.
    pub client: BTreeMap<String, String>,
    /// How consumers form their groups.
    pub group_protocol: GroupProtocol,
}

/// The consumer group protocol (`group.protocol`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GroupProtocol {
    /// The classic protocol, which every broker serves.
    #[default]
    Classic,
    /// KIP-848's protocol (Apache Kafka 4.0 and later): the broker assigns
    /// partitions and owns the session timeout, heartbeats and assignor.
    Consumer,
}

/// The brokers and the names of the pass-through properties, never their
/// values (`sasl.password`, `ssl.key.pem`, ... are among them).
impl std::fmt::Debug for KafkaSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSettings")
            .field("brokers", &self.brokers)
            .field("client", &self.client.keys().collect::<Vec<_>>())
            .field("group_protocol", &self.group_protocol)
            .finish()
    }
}

impl KafkaSettings {
    pub fn new(brokers: impl Into<String>) -> Self {
        KafkaSettings {
            brokers: brokers.into(),
            client: BTreeMap::new(),
            group_protocol: GroupProtocol::Classic,
        }
    }

    /// A librdkafka config with the brokers, `defaults`, then the pass-through properties.
    pub fn client_config(&self, defaults: &[(&str, &str)]) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.brokers);
        for (k, v) in defaults {
            set_property(&mut config, k, v);
        }
        self.pass_through(&mut config);
        config
    }

    /// Sets the pass-through properties on `config`, each in place of the
    /// value it has in another spelling ([`ALIASES`]). Of two spellings
    /// both passed through ([`KafkaSettings::check`] refuses that), the
    /// one librdkafka documents as the property's own name is kept.
    pub(crate) fn pass_through(&self, config: &mut ClientConfig) {
        let mut properties: Vec<(&String, &String)> = self.client.iter().collect();
        // Aliases first: the property's own name, set after, stays.
        properties.sort_by_key(|(k, _)| property_name(k) == k.as_str());
        for (k, v) in properties {
            set_property(config, k, v);
        }
    }

    /// Whether librdkafka takes each pass-through property (its name, and
    /// its value as that property's type), without reaching any broker:
    /// a misspelled `sasl.passwrd` is said here, not by a service at start.
    /// The error names the property, never its value (it may be a secret).
    ///
    /// Then each kind of client kindred makes (a producer, the resolver's
    /// transactional producer, a service's consumer) is made with them and
    /// dropped, asking no broker: a property that clashes with the ones
    /// kindred sets (`socket.timeout.ms` over the transaction timeout,
    /// `max.in.flight` over 5 with idempotence, `max.poll.interval.ms`
    /// under the session timeout) is said here too, not by a service that
    /// will not start.
    pub fn check(&self) -> Result<(), crate::KafkaError> {
        self.check_properties()?;
        let pod = self.as_in_the_pod();
        let made = |what: &'static str, config: ClientConfig, consumer: bool| {
            let result = if consumer {
                config.create::<rdkafka::consumer::BaseConsumer>().map(drop)
            } else {
                config.create::<rdkafka::producer::BaseProducer>().map(drop)
            };
            result.map_err(|source| crate::KafkaError::client(what, self, source))
        };
        made(
            "producer",
            crate::producer::producer_config(&pod, 120_000),
            false,
        )?;
        made(
            "transactional producer",
            crate::transactional::transactional_config(
                &pod,
                "kindred.config-check",
                std::time::Duration::from_secs(30),
            ),
            false,
        )?;
        made(
            "consumer",
            crate::consumer::service_config(&pod, "kindred.config-check", Some("check"), true),
            true,
        )
    }

    /// These settings as the clients of [`KafkaSettings::check`] are made
    /// with: what only the service's pod has stands in as present (a SASL
    /// user and secret from its environment, files mounted in it), so a
    /// check run elsewhere checks how the properties combine, not where
    /// it runs (the documented SASL_SSL configuration was refused off the
    /// pod: no password, no CA file).
    fn as_in_the_pod(&self) -> KafkaSettings {
        let mut pod = self.clone();
        let sasl = pod
            .client
            .get("security.protocol")
            .is_some_and(|p| p.to_ascii_uppercase().contains("SASL"));
        if sasl {
            for property in ["sasl.username", "sasl.password"] {
                pod.client
                    .entry(property.to_string())
                    .or_insert_with(|| "config-check".to_string());
            }
        }
        pod.client.retain(|property, value| {
            !(property.ends_with(".location")
                && value != "probe"
                && !std::path::Path::new(value).exists())
        });
        pod
    }

    /// [`KafkaSettings::check`]'s first half: each property alone.
    fn check_properties(&self) -> Result<(), crate::KafkaError> {
        let mut spelled: BTreeMap<&str, &str> = BTreeMap::new();
        for property in self.client.keys() {
            if let Some(other) = spelled.insert(property_name(property), property) {
                return Err(crate::KafkaError::ClientProperty {
                    property: property.clone(),
                    message: format!(
                        "set twice: \"{other}\" and \"{property}\" are one property (librdkafka's aliases), applied in no fixed order; keep one (an environment variable spells it as written after KINDRED_KAFKA_CLIENT_)"
                    ),
                });
            }
        }
        for (property, value) in &self.client {
            let mut config = ClientConfig::new();
            config.set(property, value);
            if let Err(e) = config.create_native_config() {
                let message = match e {
                    rdkafka::error::KafkaError::ClientConfig(_, description, _, _) => {
                        masked(&description, value)
                    }
                    other => other.to_string(),
                };
                return Err(crate::KafkaError::ClientProperty {
                    property: property.clone(),
                    message,
                });
            }
        }
        Ok(())
    }
}

/// librdkafka's properties with two names (alias, the property's own
/// name), from its CONFIGURATION.md. In one configuration the two are
/// applied in no fixed order (rust-rdkafka's `ClientConfig` is a hash map),
/// so a pass-through `delivery.timeout.ms` beside kindred's
/// `message.timeout.ms` took effect on some starts only.
pub const ALIASES: [(&str, &str); 11] = [
    ("bootstrap.servers", "metadata.broker.list"),
    ("delivery.timeout.ms", "message.timeout.ms"),
    ("max.in.flight", "max.in.flight.requests.per.connection"),
    ("sasl.mechanism", "sasl.mechanisms"),
    (
        "sasl.oauthbearer.client.credentials.client.id",
        "sasl.oauthbearer.client.id",
    ),
    (
        "sasl.oauthbearer.client.credentials.client.secret",
        "sasl.oauthbearer.client.secret",
    ),
    ("max.partition.fetch.bytes", "fetch.message.max.bytes"),
    ("linger.ms", "queue.buffering.max.ms"),
    ("retries", "message.send.max.retries"),
    ("compression.type", "compression.codec"),
    ("acks", "request.required.acks"),
];

/// The name librdkafka documents `property` under (itself unless it is an
/// alias in [`ALIASES`]).
pub fn property_name(property: &str) -> &str {
    ALIASES
        .iter()
        .find(|(alias, _)| *alias == property)
        .map_or(property, |(_, own)| own)
}

/// Sets `property` on `config`, removing the same property's other spelling.
pub(crate) fn set_property(config: &mut ClientConfig, property: &str, value: &str) {
    let own = property_name(property);
    let spellings: Vec<String> = config
        .config_map()
        .keys()
        .filter(|k| **k != property && property_name(k) == own)
        .map(|k| k.to_string())
        .collect();
    for other in spellings {
        config.remove(&other);
    }
    config.set(property, value);
}

/// librdkafka's `description` of a refused property with its `value`
/// masked: quoted as librdkafka quotes it, and bare when long enough not
/// to be a piece of the property's name or of the message (an empty or
/// one-letter value replaced everywhere garbled the message).
fn masked(description: &str, value: &str) -> String {
    let mask = "********";
    let quoted = description.replace(&format!("\"{value}\""), &format!("\"{mask}\""));
    if value.chars().count() >= 6 {
        quoted.replace(value, mask)
    } else {
        quoted
    }
}

/// Settings for a broker-less unit test: nothing listens at the address;
/// `client` are the pass-through properties.
#[cfg(test)]
pub(crate) fn unreachable_with(client: &[(&str, &str)]) -> KafkaSettings {
    KafkaSettings {
        brokers: "127.0.0.1:1".into(),
        client: client
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        group_protocol: crate::GroupProtocol::Classic,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_or_empty_value_is_masked_without_garbling_the_message() {
        let d = "Invalid value \"s\" for configuration property \"socket.timeout.ms\"";
        assert_eq!(
            masked(d, "s"),
            "Invalid value \"********\" for configuration property \"socket.timeout.ms\""
        );
        let d = "Invalid value \"\" for configuration property \"socket.timeout.ms\"";
        assert!(masked(d, "").contains("property \"socket.timeout.ms\""));
        // A long value, bare or quoted, never shows.
        let d = "Expected integer, not hunter22secret (hunter22secret)";
        assert!(!masked(d, "hunter22secret").contains("hunter22secret"));
    }

    /// Two spellings of one property passed through (a file's
    /// `sasl.mechanisms`, an environment's `SASL_MECHANISM`) are refused by
    /// the check; a service keeps the property's own name's value.
    #[test]
    fn one_property_passed_through_in_two_spellings_is_refused() {
        let s = unreachable_with(&[
            ("sasl.mechanism", "SCRAM-SHA-256"),
            ("sasl.mechanisms", "SCRAM-SHA-512"),
        ]);
        let err = s.check().expect_err("set twice").to_string();
        assert!(
            err.contains("\"sasl.mechanism\" and \"sasl.mechanisms\""),
            "{err}"
        );
        let config = s.client_config(&[]);
        assert_eq!(config.get("sasl.mechanisms"), Some("SCRAM-SHA-512"));
        assert_eq!(config.get("sasl.mechanism"), None);
        assert!(unreachable_with(&[("sasl.mechanism", "PLAIN")])
            .check()
            .is_ok());
    }

    #[test]
    fn properties_librdkafka_refuses_are_named_without_their_values() {
        let mut s = KafkaSettings::new("127.0.0.1:9");
        s.client
            .insert("security.protocol".into(), "SASL_SSL".into());
        s.client.insert("sasl.password".into(), "hunter2".into());
        // GSSAPI, librdkafka's default mechanism, is not built in: no
        // client could be made.
        let err = s.check().expect_err("no SASL mechanism").to_string();
        assert!(err.contains("GSSAPI"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        s.client
            .insert("sasl.mechanisms".into(), "SCRAM-SHA-512".into());
        s.client.insert("sasl.username".into(), "svc".into());
        assert!(
            s.check().is_ok(),
            "{:?}",
            s.check().err().map(|e| e.to_string())
        );
        // Off the pod: no secret in the environment, the CA file mounted
        // in the pod only. The combination is what is checked.
        let mut off_pod = s.clone();
        off_pod.client.remove("sasl.password");
        off_pod
            .client
            .insert("ssl.ca.location".into(), "/nonexistent/kafka-ca.crt".into());
        assert!(
            off_pod.check().is_ok(),
            "{:?}",
            off_pod.check().err().map(|e| e.to_string())
        );
        s.client.insert("sasl.passwrd".into(), "TYPO_SECRET".into());
        let err = s.check().expect_err("no such property").to_string();
        assert!(
            err.starts_with("[kafka.client] \"sasl.passwrd\": "),
            "{err}"
        );
        assert!(!err.contains("TYPO_SECRET"), "{err}");
        s.client.remove("sasl.passwrd");
        s.client.insert("socket.timeout.ms".into(), "soon".into());
        let err = s.check().expect_err("not a number").to_string();
        assert!(err.contains("socket.timeout.ms"), "{err}");
        // Taken alone, refused beside what kindred sets (the transactional
        // producer's 60 s transaction timeout): the resolver would not
        // have started.
        s.client.insert("socket.timeout.ms".into(), "120000".into());
        let err = s
            .check()
            .expect_err("over the transaction timeout")
            .to_string();
        assert!(err.contains("transactional producer"), "{err}");
        assert!(err.contains("socket.timeout.ms"), "{err}");
    }

    #[test]
    fn debug_names_the_properties_not_their_values() {
        let mut s = KafkaSettings::new("127.0.0.1:9094");
        s.client.insert("sasl.password".into(), "hunter2".into());
        let shown = format!("{s:?}");
        assert!(shown.contains("sasl.password") && shown.contains("127.0.0.1:9094"));
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
