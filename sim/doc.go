// Package sim is the home of the swarm simulator and load generator. It holds
// no code of its own; the work is split by concern:
//
//   - sim/spec: the population spec file (YAML) with its seed and defaults;
//   - sim/clients: real BitTorrent clients' announce fingerprints (peer_id
//     format, User-Agent, key format, query parameter order) and the cheat
//     tools that imitate them badly;
//   - sim/population: members, agents (client installations on networks),
//     torrents, the invite tree (who invited whom, with invite sellers) and
//     the ground-truth labels, built deterministically from a spec;
//   - sim/engine: the time-stepped swarm model (bytes conserved within a
//     swarm) that emits announce requests in time order;
//   - sim/labels: the ground truth (JSON, CSV and the sim_labels table);
//   - sim/setup: creates the simulated members (with their inviters),
//     torrents and seedbox ranges in Postgres so the tracker and the ledger
//     know them;
//   - sim/live: drives a running tracker over HTTP in real time;
//   - sim/replay: runs the tracker's announce core on a simulated clock and
//     writes the events straight to Kafka;
//   - sim/popgen: the ground truth of a population from popgen, the
//     independently written generator (../shared/popgen), mapped to the
//     same vocabulary and stored by name as a labelled run;
//   - sim/eval: precision and recall of the detectors against the labels,
//     the staff queue's precision at k.
//
// The same spec and seed always give the same traffic, byte for byte.
package sim
