// Package stream owns the tracker's event producer: it takes every announce
// event from the request path and delivers it to the Kafka topic "announces"
// without ever making the request wait on Kafka and without losing events.
//
// # Path of an event
//
// Publish puts the event on a bounded in-memory queue and returns (a mutex,
// a slot store, a wake-up only when the writer is idle: no I/O, no
// allocation). While spooling it encodes the event and appends it to the
// spool's 256 KiB write buffer (a write system call when the buffer fills;
// fsync runs outside the lock). The switch to spooling moves the whole
// queue to the spool under the lock: once per switch, Publish calls can
// wait for QueueSize encodes (a few milliseconds at the default 16384). One writer goroutine
// takes batches from the queue, encodes them with events.AppendEncode and
// writes them synchronously with a franz-go client (acks from all in-sync
// replicas, Config.BatchTimeout as the linger, one attempt per record: no
// retries hidden inside the client; see KafkaWriter).
//
// When a batch write fails, or the queue is full, the producer switches to
// spooling mode: the queue (including the batch in flight) is appended in
// order to an on-disk spool, and every later event is appended to the spool
// too, so that the spool and the queue are never both non-empty and the
// order of events is kept. The same goroutine then replays the spool to
// Kafka in order (with exponential backoff between failed attempts, a fresh
// Kafka client for each attempt), deletes segments once all their
// records are acknowledged, and switches back to the queue when the spool is
// empty. A spool left by a previous process (crash or clean stop while
// Kafka was down) is replayed at start.
//
// # Keys, partitions and order
//
// The message key is the user id as 8 bytes big-endian (user 0 is the
// refused announces whose passkey is unknown). Partition maps a key to one
// partition (FNV-1a, as kafka-go's Hash balancer and Sarama hash: the
// partitioning of the producer's kafka-go days), so all of a user's events
// land on one partition; with a single writer and one attempt per batch
// they land in the order Publish was called (for calls that do not
// overlap).
//
// # Duplicates
//
// Delivery is at least once. A batch whose write fails may still have been
// stored by some partitions (or by all, when only the acknowledgement was
// lost); it is spooled and replayed, and a crash during a replay replays
// the unacknowledged segments again at the next start. Every copy carries
// the same event_id (set by the tracker core), and consumers dedupe by
// event_id. The first copy of each event is in order.
//
// # Durability
//
//   - Clean stop (Close, on SIGTERM): every event accepted by Publish is on
//     Kafka or in the spool (flushed and fsynced) when Close returns. Close
//     first tries to deliver the queue to Kafka; if Kafka fails or Close's
//     context expires, the rest goes to the spool.
//   - Crash of the process: the spool loses at most the records appended in
//     the last Config.SpoolFsyncInterval (they are flushed and fsynced at
//     that period); a record torn by the crash is detected by its CRC and
//     truncated at the next start. Events still in the in-memory queue are
//     lost as well: at most Config.QueueSize, in practice the events of the
//     last batch round trip, since the queue is drained continuously while
//     Kafka answers and is empty while spooling.
//   - Spool full: beyond Config.SpoolMaxBytes the producer refuses new
//     events (counted in ratioguard_stream_events_dropped_total and logged at
//     error level) and Ready returns an error so /readyz fails and the load
//     balancer takes the instance out. Size it for the longest Kafka outage
//     to survive: about 200 bytes per event, so 25,000 announces/s is
//     ~5 MB/s, ~18 GB per hour.
//
// # For the tracker's state (tracker/state)
//
// The topic and the spool are the write-ahead log of the tracker's swarms.
// Settle waits until every event published before it is acknowledged by
// Kafka or fsynced in the spool (a snapshot of the state taken before
// Settle then holds nothing a crash can lose). HoldSpool, called before New,
// keeps hard links to the segments a previous process left, which New
// replays to Kafka and deletes; ReadSpool reads them for the restart's
// replay.
//
// # Spool format
//
// The spool directory holds segment files named <16 hex digits id>.spool,
// replayed in id order. A segment starts with the 8-byte magic "RGSPOOL1"
// followed by records:
//
//	length  uint32 big-endian: len(body)
//	crc     uint32 big-endian: CRC-32C (Castagnoli) of body
//	body    user id (uint64 big-endian, the Kafka key) || encoded event
//
// A segment is rotated at Config.SpoolSegmentBytes and deleted once all its
// records are acknowledged by Kafka. A LOCK file (flock) keeps two processes
// from sharing a spool directory.
package stream
