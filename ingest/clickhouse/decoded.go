package clickhouse

import (
	"fmt"
	"sort"
	"time"

	"github.com/ratioguard/ratioguard/ingest/consumer"
	"github.com/ratioguard/ratioguard/schemas/events"
)

// decoded is the loader's consumer.BatchData: one partition's batch decoded
// straight from the record values into column buffers (events.DecodeView,
// no *events.Announce), plus the scratch space Store needs. The consumer
// reuses it for every batch of its partition, so a batch allocates next to
// nothing once the buffers have grown.
type decoded struct {
	partition int32
	view      events.View
	in        *interner
	rows      *rows // every decoded event, in offset order

	// Store's scratch, rebuilt on every call (Store may be retried).
	seen   map[[events.IDLen]byte]struct{}
	keep   []int32
	ids    [][]byte
	months []int32
	split  []*rows
}

func newDecoded(partition int32) *decoded {
	return &decoded{partition: partition, in: newInterner(), rows: newRows(),
		seen: map[[events.IDLen]byte]struct{}{}}
}

// NewBatchData implements consumer.Decoder.
func (l *Loader) NewBatchData(partition int32) consumer.BatchData { return newDecoded(partition) }

// Add implements consumer.BatchData.
func (d *decoded) Add(offset int64, value []byte) error {
	if err := events.DecodeView(value, &d.view); err != nil {
		return err
	}
	d.rows.add(d.partition, offset, &d.view, d.in)
	return nil
}

// Len implements consumer.BatchData.
func (d *decoded) Len() int { return d.rows.len() }

// Reset implements consumer.BatchData.
func (d *decoded) Reset() { d.rows.truncate() }

// EventTimes implements consumer.BatchData (to the millisecond).
func (d *decoded) EventTimes(fn func(unixNano int64)) {
	for _, ms := range d.rows.timeMS.v {
		fn(int64(ms) * int64(time.Millisecond))
	}
}

// decodedOf returns a batch's events as loader rows: the consumer's
// decoded data, or for a batch handed over as events (tests, callers
// outside the consumer) the events re-encoded and decoded.
func decodedOf(b *consumer.Batch) (*decoded, error) {
	if d, ok := b.Data.(*decoded); ok && len(b.Events) == 0 {
		return d, nil
	}
	if b.Data != nil {
		return nil, fmt.Errorf("clickhouse loader: batch data of type %T", b.Data)
	}
	d := newDecoded(b.Partition)
	for _, ev := range b.Events {
		v, err := events.Encode(ev.A)
		if err != nil {
			return nil, err
		}
		if err := d.Add(ev.Offset, v); err != nil {
			return nil, fmt.Errorf("event at offset %d: %w", ev.Offset, err)
		}
	}
	return d, nil
}

// byMonth splits the rows keep (indices into d.rows, in batch order) by the
// month partition of `announces` (UTC), months ascending. The usual batch
// (every row kept, one month) is d.rows itself, not a copy.
func (d *decoded) byMonth(keep []int32) []monthRows {
	secs := d.rows.time.v
	d.months = d.months[:0]
	var mo monthOf
	one := true
	for _, i := range keep {
		m := mo.of(secs[i])
		one = one && (len(d.months) == 0 || m == d.months[0])
		d.months = append(d.months, m)
	}
	if len(keep) == 0 {
		return nil
	}
	if one && len(keep) == d.rows.len() {
		return []monthRows{{int(d.months[0]), d.rows}}
	}
	idx := map[int32][]int32{}
	for j, i := range keep {
		idx[d.months[j]] = append(idx[d.months[j]], i)
	}
	out := make([]monthRows, 0, len(idx))
	for m := range idx {
		out = append(out, monthRows{month: int(m)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].month < out[j].month })
	for j := range out {
		if j == len(d.split) {
			d.split = append(d.split, newRows())
		}
		d.split[j].gather(d.rows, idx[int32(out[j].month)])
		out[j].rows = d.split[j]
	}
	return out
}

// monthOf caches the bounds of the last month it computed.
type monthOf struct {
	start, end int64
	month      int32
}

// of returns the month (YYYYMM, UTC) of a Unix time in seconds.
func (c *monthOf) of(sec int64) int32 {
	if sec >= c.start && sec < c.end && c.month != 0 {
		return c.month
	}
	t := time.Unix(sec, 0).UTC()
	first := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	c.start, c.end = first.Unix(), first.AddDate(0, 1, 0).Unix()
	c.month = int32(t.Year()*100 + int(t.Month()))
	return c.month
}
