package stream

import (
	"context"
	"fmt"
	"time"

	"github.com/ratioguard/ratioguard/schemas/events"
)

// run is the writer goroutine: it sends the queue to Kafka in direct mode,
// replays the spool in spooling mode, and on Close drains the queue (and
// the spool, while Kafka answers and Close's context lasts).
func (p *Producer) run() {
	defer close(p.done)
	w := &writerState{}
	var (
		pos     cursor        // replay position: the spool's acknowledged cursor
		backoff time.Duration // wait before the next replay attempt
		since   time.Time     // when spooling started, for the log
	)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		p.mu.Lock()
		spooling, closing, queued := p.spooling, p.closing, p.q.n
		// Announce that the writer is about to wait, so that the next
		// Publish wakes it (Publish skips the wake-up otherwise).
		p.idle = !spooling && !closing && queued == 0
		p.mu.Unlock()
		switch {
		case !spooling && queued > 0:
			if p.writeQueued(w) != nil {
				since = time.Now()
			}
			continue
		case closing && (!spooling || backoff > 0):
			// The queue is empty, or Kafka is failing: what is left stays
			// in the spool for the next run.
			p.finish(w)
			return
		case spooling:
			if since.IsZero() {
				since = time.Now()
			}
			if backoff > 0 && !p.sleep(timer, backoff) {
				continue // Close called
			}
			atEnd, err := p.replayStep(w, &pos)
			switch {
			case err != nil:
				backoff = min(max(2*backoff, p.cfg.RetryMin), p.cfg.RetryMax)
				p.log.Debug("stream: Kafka still failing; events keep going to the spool", "retry_in", backoff, "err", err)
			case atEnd:
				backoff = 0
				if !p.backToQueue() {
					// Appends raced with the check; give them a moment.
					if !p.sleep(timer, time.Millisecond) {
						p.finish(w) // Close: what is left stays in the spool
						return
					}
					continue
				}
				p.log.Info("stream: spool replayed, events go to Kafka directly again",
					"spooling_for", time.Since(since).Round(time.Millisecond), "replayed_total", p.replayed.Load())
				since = time.Time{}
			default:
				backoff = 0
			}
		default:
			select {
			case <-p.wake:
			case <-p.closeCh:
			}
		}
	}
}

// sleep waits d, or less if Close is called; it reports whether d passed.
func (p *Producer) sleep(t *time.Timer, d time.Duration) bool {
	t.Reset(d)
	select {
	case <-t.C:
		return true
	case <-p.closeCh:
		t.Stop()
		return false
	}
}

// writeQueued sends the oldest queued events (up to BatchSize) to Kafka. On
// failure the queue goes to the spool and the producer starts spooling.
func (p *Producer) writeQueued(w *writerState) error {
	p.mu.Lock()
	k := min(p.q.n, p.cfg.BatchSize)
	evs := w.evs[:0]
	for i := range k {
		evs = append(evs, p.q.at(i))
	}
	p.inflight = k
	gen := p.gen
	p.mu.Unlock()

	w.b.reset(false)
	bad := 0
	for _, ev := range evs {
		if err := w.b.addEvent(ev); err != nil {
			// Strings were made valid in Publish; nothing else fails to encode.
			p.drop(1, fmt.Errorf("encode announce event: %w", err))
			bad++
		}
	}
	err := p.write(w)

	p.mu.Lock()
	p.inflight = 0
	moved := gen != p.gen // the queue, this batch included, went to the spool meanwhile
	if !moved {
		if err == nil {
			p.q.drop(k)
			p.ackedFromQueue.Add(uint64(k - bad))
		} else {
			p.startSpoolingLocked("Kafka write failed", err)
		}
	}
	p.mu.Unlock()
	if err == nil {
		p.produced.Add(uint64(w.b.len()))
	}
	if moved || err == nil {
		for _, ev := range evs {
			p.recycle(ev)
		}
	}
	clear(evs)
	w.evs = evs[:0]
	return err
}

// replayStep sends the next spooled records to Kafka and acknowledges them.
// atEnd reports that the spool had nothing more to read.
func (p *Producer) replayStep(w *writerState, pos *cursor) (atEnd bool, err error) {
	recs, next, err := p.rd.next(*pos, p.cfg.BatchSize)
	if err != nil {
		p.log.Error("stream: reading the event spool", "err", err)
		return false, err
	}
	if len(recs) == 0 {
		if next != *pos {
			p.spool.ackTo(next, 0) // skipped a corrupt region or an empty segment
		}
		*pos = next
		return true, nil
	}
	w.b.reset(false)
	for _, r := range recs {
		w.b.addRecord(r)
	}
	if err := p.write(w); err != nil {
		return false, err
	}
	p.spool.ackTo(next, int64(len(recs)))
	*pos = next
	p.replayed.Add(uint64(len(recs)))
	p.produced.Add(uint64(len(recs)))
	if p.full.Load() {
		if _, b := p.spool.depth(); b < p.cfg.SpoolMaxBytes/10*9 {
			p.full.Store(false)
		}
	}
	return false, nil
}

// backToQueue leaves spooling mode if every spooled record was
// acknowledged. Publish appends under p.mu, so none can slip in between.
func (p *Producer) backToQueue() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.spooling || !p.spool.drained() {
		return false
	}
	p.spooling = false
	p.spoolingHint.Store(false)
	return true
}

// finish ends the writer on Close: anything still queued (a Publish that
// raced with Close) goes to the spool, which is then closed for Publish.
func (p *Producer) finish(w *writerState) {
	p.mu.Lock()
	if p.q.n > 0 {
		p.startSpoolingLocked("closing", nil)
	}
	p.closed = true
	p.mu.Unlock()
	p.rd.close()
	if w.w != nil {
		p.closeWriter(w.w)
		w.w = nil
	}
}

// writerState is what the writer goroutine reuses between batches.
type writerState struct {
	w   MessageWriter
	b   batch
	evs []*events.Announce
}

// write sends w.b synchronously. After a failure the writer (its Kafka
// client) is abandoned (closed in the background) and a fresh one made next
// time, so that connections and metadata are rebuilt when the broker comes
// back.
func (p *Producer) write(w *writerState) error {
	if w.b.len() == 0 {
		return nil
	}
	if w.w == nil {
		w.w = p.cfg.NewWriter(p.cfg.Brokers, p.cfg.Topic, p.cfg.BatchTimeout)
	}
	ctx, cancel := context.WithTimeout(p.wctx, p.cfg.WriteTimeout)
	start := time.Now()
	err := w.w.WriteRecords(ctx, w.b.records())
	cancel()
	p.batchSeconds.Observe(time.Since(start).Seconds())
	if err == nil {
		return nil
	}
	p.kafkaErrors.Add(1)
	n := w.b.len()
	p.closeWriter(w.w)
	w.w = nil
	w.b.reset(true) // the client may still hold the records of an aborted write
	return fmt.Errorf("write %d events to Kafka topic %s: %w", n, p.cfg.Topic, err)
}

func (p *Producer) closeWriter(mw MessageWriter) {
	p.bg.Add(1)
	go func() {
		defer p.bg.Done()
		if err := mw.Close(); err != nil {
			p.log.Debug("stream: closing a Kafka writer", "err", err)
		}
	}()
}
