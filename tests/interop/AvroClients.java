// A channel system and a downstream consumer written the way most of them
// are: on the Apache Avro Java library (the reference implementation) and
// Kafka's Java client, sharing no code with kindred. tests/interop.rs runs it
// through `deploy/local/kafka.sh java-client`, which puts those jars on the
// class path (Java's single-file source launcher compiles it on the fly).
//
//   schemas DIR                 parse every DIR/*.avsc and DIR/history/*.avsc with
//                               Avro's own parser (names and defaults validated), and
//                               print, for each released version NAME.vN, whether the
//                               current NAME.avsc reads its data (backward) and it
//                               reads the current one's (forward), by Avro's own
//                               SchemaCompatibility: "NAME.vN backward=.. forward=.."
//   produce BROKERS             read lines "TOPIC \t KEY \t SCHEMA_FILE \t SCHEMA_ID \t
//                               AVRO_JSON" from stdin, encode each record with Avro's
//                               JSON decoder and binary writer in the Confluent wire
//                               format (byte 0, 4-byte big-endian id, body), and send
//                               it; SCHEMA_FILE "-" sends AVRO_JSON's text as the value
//                               unchanged (a record that is not Avro at all)
//   consume BROKERS TOPIC SCHEMA_FILE SCHEMA_ID TIMEOUT_MS
//                               read TOPIC from the beginning, read_committed, to its end
//                               as of the start (the last stable offset of each
//                               partition), or fail after TIMEOUT_MS; check each value's
//                               wire header, decode its body with Avro's binary reader
//                               (every byte used), print one JSON line per record:
//                               {"partition":P,"offset":O,"key":K,"value":RECORD|null}
//
// Exits non-zero, with the reason on stderr, on anything it cannot do.

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class AvroClients {
    public static void main(String[] args) throws Exception {
        // UTF-8 whatever the locale (Java 17 prints in the locale's charset:
        // `?` for every hanzi under POSIX).
        System.setOut(new PrintStream(new FileOutputStream(FileDescriptor.out), true,
                StandardCharsets.UTF_8));
        if (args.length == 2 && args[0].equals("schemas")) {
            schemas(new File(args[1]));
        } else if (args.length == 2 && args[0].equals("produce")) {
            produce(args[1]);
        } else if (args.length == 6 && args[0].equals("consume")) {
            consume(args[1], args[2], parse(new File(args[3])), Integer.parseInt(args[4]),
                    Long.parseLong(args[5]));
        } else {
            System.err.println("usage: AvroClients schemas DIR | produce BROKERS"
                    + " | consume BROKERS TOPIC SCHEMA_FILE SCHEMA_ID TIMEOUT_MS");
            System.exit(2);
        }
    }

    static Schema parse(File file) throws Exception {
        try {
            return new Schema.Parser().parse(file);
        } catch (Exception e) {
            throw new Exception(file + ": Avro's parser refuses it: " + e.getMessage(), e);
        }
    }

    static void schemas(File dir) throws Exception {
        Map<String, Schema> current = new TreeMap<>();
        for (File f : list(dir)) {
            current.put(f.getName().replace(".avsc", ""), parse(f));
        }
        for (File f : list(new File(dir, "history"))) {
            String version = f.getName().replace(".avsc", "");
            String name = version.substring(0, version.lastIndexOf(".v"));
            Schema old = parse(f);
            Schema now = current.get(name);
            if (now == null) {
                throw new Exception(f + ": no current " + name + ".avsc");
            }
            System.out.println(version + " backward="
                    + SchemaCompatibility.checkReaderWriterCompatibility(now, old).getType()
                    + " forward="
                    + SchemaCompatibility.checkReaderWriterCompatibility(old, now).getType());
        }
        System.out.println("parsed " + current.size() + " current schemas");
    }

    static List<File> list(File dir) throws Exception {
        File[] files = dir.listFiles((d, n) -> n.endsWith(".avsc"));
        if (files == null || files.length == 0) {
            throw new Exception(dir + ": no .avsc files");
        }
        List<File> out = new ArrayList<>(List.of(files));
        out.sort(null);
        return out;
    }

    static void produce(String brokers) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        Map<String, Schema> schemas = new HashMap<>();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            String line;
            int n = 0;
            while ((line = in.readLine()) != null) {
                n++;
                if (line.isBlank()) {
                    continue;
                }
                String[] f = line.split("\t", 5);
                if (f.length != 5) {
                    throw new Exception("stdin line " + n + ": want 5 tab-separated fields");
                }
                byte[] value;
                if (f[2].equals("-")) {
                    value = f[4].getBytes(StandardCharsets.UTF_8);
                } else {
                    Schema schema = schemas.get(f[2]);
                    if (schema == null) {
                        schema = parse(new File(f[2]));
                        schemas.put(f[2], schema);
                    }
                    value = encode(schema, Integer.parseInt(f[3]), f[4], n);
                }
                RecordMetadata m = producer.send(new ProducerRecord<>(f[0],
                        f[1].getBytes(StandardCharsets.UTF_8), value)).get();
                System.out.println("sent " + m.topic() + " " + m.partition() + " " + m.offset());
            }
        }
    }

    static byte[] encode(Schema schema, int id, String json, int line) throws Exception {
        Object datum;
        try {
            datum = new GenericDatumReader<Object>(schema)
                    .read(null, DecoderFactory.get().jsonDecoder(schema, json));
        } catch (Exception e) {
            throw new Exception("stdin line " + line + ": not a " + schema.getFullName()
                    + " in Avro's JSON encoding: " + e.getMessage(), e);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0);
        out.write(ByteBuffer.allocate(4).putInt(id).array());
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<Object>(schema).write(datum, encoder);
        encoder.flush();
        return out.toByteArray();
    }

    static void consume(String brokers, String topic, Schema schema, int id, long timeoutMs)
            throws Exception {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        GenericDatumReader<Object> reader = new GenericDatumReader<>(schema);
        long deadline = System.currentTimeMillis() + timeoutMs;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
            List<TopicPartition> parts = new ArrayList<>();
            for (PartitionInfo info : consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
                parts.add(new TopicPartition(topic, info.partition()));
            }
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            // Under read_committed: each partition's last stable offset.
            Map<TopicPartition, Long> end = consumer.endOffsets(parts, Duration.ofSeconds(30));
            while (parts.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                if (System.currentTimeMillis() > deadline) {
                    throw new Exception(topic + ": not read to " + end + " within " + timeoutMs + " ms");
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    String where = topic + "/" + r.partition() + "@" + r.offset();
                    String value = r.value() == null ? "null" : decode(reader, id, r.value(), where);
                    String key = r.key() == null ? "null"
                            : quote(new String(r.key(), StandardCharsets.UTF_8));
                    System.out.println("{\"partition\":" + r.partition() + ",\"offset\":" + r.offset()
                            + ",\"key\":" + key + ",\"value\":" + value + "}");
                }
            }
        }
    }

    static String decode(GenericDatumReader<Object> reader, int id, byte[] value, String where)
            throws Exception {
        if (value.length < 5 || value[0] != 0) {
            throw new Exception(where + ": not in the Confluent wire format (magic byte 0)");
        }
        int got = ByteBuffer.wrap(value, 1, 4).getInt();
        if (got != id) {
            throw new Exception(where + ": schema id " + got + ", expected " + id);
        }
        BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(value, 5, value.length - 5, null);
        Object datum = reader.read(null, decoder);
        if (!decoder.isEnd()) {
            throw new Exception(where + ": bytes left after the record");
        }
        return GenericData.get().toString(datum);
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
