// Package events owns the announce event that flows from the tracker through
// Kafka to every consumer: its protobuf schema (announce.proto, generated Go
// committed beside it), its identity (event ids) and its codec, which accepts
// every schema version ever produced.
package events

//go:generate protoc --go_out=. --go_opt=paths=source_relative announce.proto
