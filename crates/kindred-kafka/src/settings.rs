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
}

/// The brokers and the names of the pass-through properties, never their
/// values (`sasl.password`, `ssl.key.pem`, ... are among them).
impl std::fmt::Debug for KafkaSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSettings")
            .field("brokers", &self.brokers)
            .field("client", &self.client.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl KafkaSettings {
    pub fn new(brokers: impl Into<String>) -> Self {
        KafkaSettings {
            brokers: brokers.into(),
            client: BTreeMap::new(),
        }
    }

    /// A librdkafka config with the brokers, `defaults`, then the pass-through properties.
    pub fn client_config(&self, defaults: &[(&str, &str)]) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.brokers);
        for (k, v) in defaults {
            config.set(*k, *v);
        }
        for (k, v) in &self.client {
            config.set(k, v);
        }
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_names_the_properties_not_their_values() {
        let mut s = KafkaSettings::new("127.0.0.1:9094");
        s.client.insert("sasl.password".into(), "hunter2".into());
        let shown = format!("{s:?}");
        assert!(shown.contains("sasl.password") && shown.contains("127.0.0.1:9094"));
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
