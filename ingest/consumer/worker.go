package consumer

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// stopFlushTimeout bounds how long a revoked or stopping partition may take
// to store its pending batch (well under the group's rebalance timeout).
const stopFlushTimeout = 15 * time.Second

// worker owns one partition while it is assigned: it batches records and
// stores each batch (dead letters first, then the sink) before the next one,
// in order. Storing runs beside the batching: while batch N is stored, batch
// N+1 is read and decoded into a second buffer (so decoding and the sink's
// round trips overlap), and N+1 is handed over only once N is stored.
type worker struct {
	c         *consumer
	partition int32
	log       *slog.Logger
	in        chan []*kgo.Record
	stopReq   chan struct{}
	done      chan struct{}
	ctx       context.Context
	cancel    context.CancelFunc

	stored   int64 // offset the sink has stored (-1: none)
	cut      int64 // Next of the last batch handed to the sink (= stored when none is being stored)
	next     int64 // next offset expected; smaller ones are already read or stored
	batch    *Batch
	spare    *Batch           // the other buffer; nil while it is being stored
	storing  chan storeResult // result of the batch being stored (capacity 1)
	inFlight bool
	partitionState
}

// storeResult is how storing a batch ended.
type storeResult struct {
	b   *Batch
	err error
}

func newWorker(c *consumer, p int32, resume int64) *worker {
	ctx, cancel := context.WithCancel(context.Background())
	w := &worker{
		c: c, partition: p, log: c.cfg.Log.With("partition", p),
		in: make(chan []*kgo.Record, 8), stopReq: make(chan struct{}), done: make(chan struct{}),
		ctx: ctx, cancel: cancel, stored: resume, cut: resume, next: resume,
		batch: &Batch{}, spare: &Batch{}, storing: make(chan storeResult, 1),
	}
	if d, ok := c.sink.(Decoder); ok {
		w.batch.Data = d.NewBatchData(p)
		w.spare.Data = d.NewBatchData(p)
	}
	w.reset(w.batch)
	w.reset(w.spare)
	w.highWater.Store(-1)
	w.storedAt.Store(resume)
	return w
}

func (w *worker) send(ctx context.Context, recs []*kgo.Record) {
	select {
	case w.in <- recs:
	case <-w.done:
	case <-ctx.Done():
	}
}

// stop asks the worker to end; with flush it stores its pending batch first
// (bounded by stopFlushTimeout), without it abandons it (the partition was
// lost: whoever owns it now re-reads from the stored offset).
func (w *worker) stop(flush bool) {
	if !flush {
		w.cancel()
		return
	}
	close(w.stopReq)
	time.AfterFunc(stopFlushTimeout, w.cancel)
}

func (w *worker) run() {
	defer close(w.done)
	defer w.cancel()
	tick := time.NewTicker(w.c.cfg.Linger / 4)
	defer tick.Stop()
	for {
		select {
		case recs := <-w.in:
			w.add(recs)
			if w.batch.Len() >= w.c.cfg.MaxBatch {
				w.flush()
			}
		case res := <-w.storing:
			w.finish(res)
		case <-tick.C:
			if w.pending() && time.Since(w.batch.First) >= w.c.cfg.Linger {
				w.flush()
			}
		case <-w.stopReq:
			w.drain()
			if w.pending() {
				w.flush()
			}
			w.wait()
			return
		case <-w.ctx.Done():
			w.wait() // the store sees the cancellation; nothing of ours runs on after return
			return
		}
	}
}

// drain takes the records already handed over before a stop.
func (w *worker) drain() {
	for {
		select {
		case recs := <-w.in:
			w.add(recs)
		default:
			return
		}
	}
}

func (w *worker) pending() bool { return w.next > w.cut && w.batch.Next > 0 }

func (w *worker) add(recs []*kgo.Record) {
	for _, r := range recs {
		if r.Offset < w.next {
			continue // read before (a re-fetch after a seek or a reassignment)
		}
		if !w.pending() {
			w.batch.Prev, w.batch.First = w.cut, time.Now()
		}
		w.next = r.Offset + 1
		w.batch.Next = w.next
		w.batch.add(r.Offset, r.Key, r.Value)
	}
}

// reset empties a batch for the next one, keeping its buffers (the sink is
// done with it: stored, fenced or abandoned).
func (w *worker) reset(b *Batch) {
	clear(b.Events)
	clear(b.Dead)
	*b = Batch{Topic: w.c.cfg.Topic, Partition: w.partition,
		Events: b.Events[:0], Dead: b.Dead[:0], Data: b.Data}
	if b.Data != nil {
		b.Data.Reset()
	}
}

// flush hands the pending batch to the sink, after the one being stored (if
// any) is stored, and goes on filling the other buffer.
func (w *worker) flush() {
	w.wait()
	if !w.pending() { // the previous store was fenced or stopped: this batch is gone too
		return
	}
	b := w.batch
	w.batch, w.spare = w.spare, nil
	w.cut = b.Next
	w.inFlight = true
	go func() { w.storing <- storeResult{b, w.store(b)} }()
}

// wait blocks until the batch being stored (if any) is stored or given up.
func (w *worker) wait() {
	if w.inFlight {
		w.finish(<-w.storing)
	}
}

// store stores a batch, retrying with backoff until it is stored, fenced, or
// the worker is stopped. Nothing is read past an unstored batch.
func (w *worker) store(b *Batch) error {
	deadSent := len(b.Dead) == 0
	return retry(w.ctx, w.log, "store batch", func() error {
		if !deadSent {
			if err := w.deadLetters(b); err != nil {
				return err
			}
			deadSent = true
		}
		start := time.Now()
		err := w.c.sink.Store(w.ctx, b)
		if w.ctx.Err() == nil {
			w.c.cfg.Monitor.attempt(w.c.sink.Name(), time.Since(start), err)
		}
		if errors.Is(err, ErrFenced) {
			return permanent{err}
		}
		return err
	})
}

// finish takes the outcome of a store. A batch that was not stored takes
// the one being filled with it: that one starts after it.
func (w *worker) finish(res storeResult) {
	w.inFlight = false
	switch {
	case res.err == nil:
		w.stored = res.b.Next
		w.storedAt.Store(w.stored)
		w.c.cfg.Monitor.storedBatch(w.c.sink.Name(), res.b)
		if w.c.cfg.AfterStore != nil {
			w.c.cfg.AfterStore(res.b, time.Now())
		}
	case errors.Is(res.err, ErrFenced):
		w.reset(w.batch)
		w.refence()
	default: // stopped: the batches stay unstored and are re-read by the next owner
		w.reset(w.batch)
		w.cut = w.stored
	}
	w.reset(res.b)
	w.spare = res.b
}

// refence re-reads the stored offset after ErrFenced and seeks there.
func (w *worker) refence() {
	var resume int64
	err := retry(w.ctx, w.log, "re-read stored offset", func() error {
		var err error
		resume, err = w.c.sink.Resume(w.ctx, w.c.cfg.Topic, w.partition)
		return err
	})
	if err != nil {
		w.cut = w.stored
		return
	}
	w.log.Warn("offsets moved by another consumer; re-reading from the stored offset", "resume", resume)
	w.stored, w.cut, w.next = resume, resume, resume
	w.storedAt.Store(resume)
	w.c.reseek(w.partition, resume)
}

// deadLetters writes the batch's undecodable messages to the dead-letter
// topic, acknowledged by all in-sync replicas, before the sink stores the
// offsets past them (so a crash in between only duplicates a dead letter).
func (w *worker) deadLetters(b *Batch) error {
	recs := make([]*kgo.Record, 0, len(b.Dead))
	for _, d := range b.Dead {
		recs = append(recs, &kgo.Record{
			Topic: w.c.cfg.DLQTopic,
			Key:   d.Key,
			Value: d.Value,
			Headers: []kgo.RecordHeader{
				{Key: "reason", Value: []byte(d.Reason)},
				{Key: "origin-topic", Value: []byte(b.Topic)},
				{Key: "origin-partition", Value: []byte(strconv.Itoa(int(b.Partition)))},
				{Key: "origin-offset", Value: []byte(strconv.FormatInt(d.Offset, 10))},
				{Key: "consumer", Value: []byte(w.c.sink.Name())},
			},
		})
	}
	if err := w.c.cl.ProduceSync(w.ctx, recs...).FirstErr(); err != nil {
		return err
	}
	w.c.cfg.Monitor.deadLettered(w.c.sink.Name(), len(recs))
	w.log.Warn("dead-lettered undecodable messages", "count", len(recs), "dlq", w.c.cfg.DLQTopic)
	return nil
}
