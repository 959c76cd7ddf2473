// Package state owns what makes the tracker's in-memory state (swarms with
// each session's baseline, snatch counts, members' locations, the
// bad-passkey limiter: tracker/core) outlive the process and be shared by
// several instances. The announce stream (Kafka topic "announces", written
// by tracker/stream with its disk spool) is the write-ahead log; this
// package adds snapshots of the state with the Kafka offsets they cover,
// and a follower of the topic.
//
// # Restart
//
// Open (before the producer starts) holds the spool segments the previous
// process left; Restore (before the first announce) loads the newest
// snapshot that checks, replays the topic from the snapshot's offsets to
// the end as of the start (without a snapshot: the events of the last
// Window, which is all the state depends on, since sessions expire after
// twice the interval), then the held spool, whose events are newer than
// the previous process's Kafka events. Each event goes through
// core.Learn, which moves a session's baseline to the counters it reported;
// the state rebuilt is therefore the state after the last event in the
// log, and an announce answered but lost in the producer's memory at a
// SIGKILL is simply credited with the next one. Scrape's downloaded counts
// are raised to the ledger's (Postgres) after the replay, and the old
// tracker's peers imported at cutover (site_peers, `import site` "peers")
// whose last announce there is within the Window are learnt as that
// announce: their sessions' baselines, so the first announce here credits
// what each moved since.
//
// # Snapshots
//
// Run writes a snapshot every Config.Every, and Snapshot one on a clean
// stop. A snapshot is consistent with its offsets: the offsets are the
// follower's positions taken before the state is copied (every event before
// them is in the state), and the snapshot is published (renamed into
// place) only after the producer settled (stream.Producer.Settle), so the
// state holds no event a crash could lose. Events after the offsets that
// the state already holds are learnt again at the next start, which
// changes nothing: an event moves a baseline to absolute counters. Files
// are state-<unix nanos>.snap in Config.Dir, written to a temporary name,
// fsynced and renamed; the newest Config.Keep are kept.
//
// # Several instances
//
// Every instance runs the follower: it consumes all partitions of the
// topic from where Restore ended and learns every event another instance
// (another producer id) produced, within Config.FollowWait plus the
// producer's batch time. So a member's locations and an address's unknown
// passkeys count on every instance, and a session that moves to another
// instance (a balancer change, a failover) is credited from its last
// baseline once. Events this process produced, and those of the spool it
// replayed at start (delivered to Kafka again by the producer), are not
// learnt twice.
package state
