// Package replay owns the fast path of the simulator: it runs the tracker's
// own announce core (tracker/core) on a simulated clock, feeds it every
// simulated announce, and writes the events it publishes straight to Kafka
// with a batched writer — weeks of a large site in minutes, the same events
// the live tracker would have produced, byte for byte the same for the same
// seed.
package replay

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"time"

	"github.com/ratioguard/ratioguard/sim/clients"
	"github.com/ratioguard/ratioguard/sim/engine"
	"github.com/ratioguard/ratioguard/sim/population"
	"github.com/ratioguard/ratioguard/sim/spec"
	"github.com/ratioguard/ratioguard/tracker/core"
	"github.com/ratioguard/ratioguard/tracker/offline"
)

// MessageWriter is the part of kafka-go's Writer replay uses.
type MessageWriter = offline.MessageWriter

// Result is what a replay did.
type Result struct {
	SimStart  time.Time        `json:"sim_start"`
	SimEnd    time.Time        `json:"sim_end"`
	Members   int              `json:"members"`
	Torrents  int              `json:"torrents"`
	Announces int64            `json:"announces"`
	Events    int64            `json:"events"`
	Accepted  int64            `json:"accepted"`
	Refused   int64            `json:"refused"`
	Bytes     int64            `json:"event_bytes"`
	Digest    string           `json:"sha256"`
	Elapsed   time.Duration    `json:"elapsed_ns"`
	Refusals  map[string]int64 `json:"refusals"`
	// Sanitized events had invalid UTF-8 replaced (as tracker/stream does).
	Sanitized int64 `json:"sanitized"`
	// Unencodable events could not be encoded and were not written.
	Unencodable      int64        `json:"unencodable"`
	FirstEncodeError string       `json:"first_encode_error,omitempty"`
	Engine           engine.Stats `json:"engine"`
}

// Options tune a replay.
type Options struct {
	Writer    MessageWriter // nil: events are only counted and hashed
	BatchSize int           // events per Kafka write (default 5000)
	Log       *slog.Logger
	// Progress, when set, is called about every simulated day.
	Progress func(simNow time.Time, r Result)
}

// ProducerID is the producer id of a replay's events: "simR" and the seed
// folded to 4 bytes, so a replay is byte-identical run to run.
func ProducerID(seed uint64) [8]byte {
	var p [8]byte
	copy(p[:], "simR")
	binary.BigEndian.PutUint32(p[4:], uint32(seed)^uint32(seed>>32))
	return p
}

// Run replays the population through a fresh core.
func Run(ctx context.Context, s *spec.Spec, pop *population.Population, opts Options) (Result, error) {
	began := time.Now()
	if opts.BatchSize <= 0 {
		opts.BatchSize = 5000
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	res := Result{SimStart: pop.Start, SimEnd: pop.End, Members: len(pop.Members), Torrents: len(pop.Torrents)}
	pol, err := NewPolicy(pop)
	if err != nil {
		return res, err
	}
	sink := offline.NewSink(ctx, opts.Writer, ProducerID(s.Seed), opts.BatchSize)
	run := offline.NewRunner(core.Config{Interval: s.Interval}, pol, sink, pop.Start)
	eng := engine.New(s, pop, engine.Options{})
	var rb requestBuilder
	var ans core.Answer
	nextProgress := pop.Start.Add(24 * time.Hour)
	fill := func() {
		res.Announces, res.Events, res.Accepted, res.Refused, res.Bytes = eng.Stats().Announces, sink.Events, sink.Accepted, sink.Refused, sink.Bytes
	}
	runErr := eng.Run(ctx, engine.Instant{}, func(ctx context.Context, batch []clients.Announce) error {
		for i := range batch {
			a := &batch[i]
			run.Announce(a.Time, rb.build(a), &ans)
		}
		if err := sink.Err(); err != nil {
			return err
		}
		if opts.Progress != nil && len(batch) > 0 && !batch[len(batch)-1].Time.Before(nextProgress) {
			nextProgress = nextProgress.Add(24 * time.Hour)
			fill()
			opts.Progress(batch[len(batch)-1].Time, res)
		}
		return ctx.Err()
	})
	closeErr := sink.Close()
	fill()
	res.Digest = sink.Digest()
	res.Refusals = sink.Refusals
	res.Sanitized, res.Unencodable, res.FirstEncodeError = sink.Sanitized, sink.Unencodable, sink.FirstEncodeError
	res.Engine = eng.Stats()
	res.Elapsed = time.Since(began)
	if runErr != nil {
		return res, fmt.Errorf("replay: %w", runErr)
	}
	if closeErr != nil {
		return res, fmt.Errorf("replay: %w", closeErr)
	}
	opts.Log.Info("replay done", "announces", res.Announces, "events", res.Events, "refused", res.Refused, "elapsed", res.Elapsed)
	return res, nil
}
