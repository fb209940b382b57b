use std::collections::BTreeMap;

use rdkafka::ClientConfig;

/// How to reach the Kafka cluster.
#[derive(Debug, Clone)]
pub struct KafkaSettings {
    /// `bootstrap.servers`, e.g. `127.0.0.1:9092`.
    pub brokers: String,
    /// Extra librdkafka properties passed through as they are (security
    /// protocol, SASL, TLS files, ...). They override kindred's own defaults.
    pub client: BTreeMap<String, String>,
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
