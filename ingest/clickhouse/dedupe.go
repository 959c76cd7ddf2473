package clickhouse

import (
	"context"
	"fmt"

	chgo "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/ext"

	"github.com/ratioguard/ratioguard/schemas/events"
)

// newEvents returns the rows of d (indices, in batch order) whose event id
// is neither earlier in the batch nor already loaded (announce_ids). It
// leaves d.rows as they are (Store may be retried with the same batch).
func (l *Loader) newEvents(ctx context.Context, d *decoded) ([]int32, error) {
	if d.rows.len() == 0 {
		return nil, nil
	}
	minT, maxT := d.uniq()
	loaded, err := l.loadedIDs(ctx, d, minT, maxT)
	if err != nil {
		return nil, err
	}
	if len(loaded) == 0 {
		return d.keep, nil
	}
	out := d.keep[:0]
	for _, i := range d.keep {
		if _, dup := loaded[[events.IDLen]byte(d.rows.eventID.buf[int(i)*events.IDLen:])]; !dup {
			out = append(out, i)
		}
	}
	return out, nil
}

// uniq sets d.keep to the rows whose id is not earlier in the batch and
// returns their time range (Unix seconds).
func (d *decoded) uniq() (minT, maxT int64) {
	clear(d.seen)
	d.keep = d.keep[:0]
	ids, secs := d.rows.eventID.buf, d.rows.time.v
	minT, maxT = int64(1<<62), int64(0)
	for i := range d.rows.len() {
		id := [events.IDLen]byte(ids[i*events.IDLen:])
		if _, dup := d.seen[id]; dup {
			continue
		}
		d.seen[id] = struct{}{}
		d.keep = append(d.keep, int32(i))
		minT, maxT = min(minT, secs[i]), max(maxT, secs[i])
	}
	return minT, maxT
}

// loadedIDs asks announce_ids which of the ids of the rows d.keep are
// already loaded, sending them as an external table.
func (l *Loader) loadedIDs(ctx context.Context, d *decoded, minT, maxT int64) (map[[events.IDLen]byte]struct{}, error) {
	tbl, err := ext.NewTable("batch_ids", ext.Column("event_id", "FixedString(16)"))
	if err != nil {
		return nil, fmt.Errorf("external table: %w", err)
	}
	d.ids = d.ids[:0]
	for _, i := range d.keep {
		d.ids = append(d.ids, d.rows.eventID.buf[int(i)*events.IDLen:(int(i)+1)*events.IDLen])
	}
	if _, err := tbl.Block().Columns[0].Append(d.ids); err != nil {
		return nil, fmt.Errorf("external table ids: %w", err)
	}
	rs, err := l.conn.Query(chgo.Context(ctx, chgo.WithExternalTable(tbl)), lookupIDsSQL, uint32(max(minT, 0)), uint32(max(maxT, 0)))
	if err != nil {
		return nil, fmt.Errorf("look up loaded event ids: %w", err)
	}
	defer rs.Close()
	out := map[[events.IDLen]byte]struct{}{}
	for rs.Next() {
		var id string
		if err := rs.Scan(&id); err != nil {
			return nil, fmt.Errorf("scan loaded event id: %w", err)
		}
		out[[events.IDLen]byte([]byte(id))] = struct{}{}
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("look up loaded event ids: %w", err)
	}
	return out, nil
}
