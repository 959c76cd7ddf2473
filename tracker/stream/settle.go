package stream

import (
	"context"
	"fmt"
	"time"
)

// Settle waits until every event published before the call has left the
// memory: acknowledged by Kafka, or appended to the spool (then flushed and
// fsynced before Settle returns), or counted as dropped. A snapshot of the
// tracker's state taken before Settle holds no event a crash after Settle
// could lose. It returns ctx's error if ctx ends first.
func (p *Producer) Settle(ctx context.Context) error {
	target := p.published.Load()
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for p.ackedFromQueue.Load()+p.spooled.Load()+p.dropped.Load() < target {
		select {
		case <-ctx.Done():
			return fmt.Errorf("settle published events: %w", ctx.Err())
		case <-t.C:
		}
	}
	if err := p.spool.sync(); err != nil {
		return fmt.Errorf("settle published events: %w", err)
	}
	return nil
}
