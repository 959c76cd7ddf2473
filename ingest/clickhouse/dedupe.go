package clickhouse

import (
	"context"
	"fmt"

	chgo "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/ext"

	"github.com/ratioguard/ratioguard/ingest/consumer"
)

// newEvents returns the events of a batch whose id is neither earlier in
// the batch nor already loaded (announce_ids), in batch order.
func (l *Loader) newEvents(ctx context.Context, evs []consumer.Event) ([]consumer.Event, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	seen := make(map[[16]byte]struct{}, len(evs))
	uniq := make([]consumer.Event, 0, len(evs))
	minT, maxT := int64(1<<62), int64(0)
	for _, ev := range evs {
		id := [16]byte(ev.A.GetEventId())
		if _, dup := seen[id]; dup {
			continue
		}
		seen[id] = struct{}{}
		uniq = append(uniq, ev)
		sec := ev.A.GetTimeUnixNano() / 1e9
		minT, maxT = min(minT, sec), max(maxT, sec)
	}
	loaded, err := l.loadedIDs(ctx, uniq, minT, maxT)
	if err != nil {
		return nil, err
	}
	if len(loaded) == 0 {
		return uniq, nil
	}
	out := uniq[:0]
	for _, ev := range uniq {
		if _, dup := loaded[[16]byte(ev.A.GetEventId())]; !dup {
			out = append(out, ev)
		}
	}
	return out, nil
}

// loadedIDs asks announce_ids which of the events' ids are already loaded,
// sending the ids as an external table.
func (l *Loader) loadedIDs(ctx context.Context, evs []consumer.Event, minT, maxT int64) (map[[16]byte]struct{}, error) {
	tbl, err := ext.NewTable("batch_ids", ext.Column("event_id", "FixedString(16)"))
	if err != nil {
		return nil, fmt.Errorf("external table: %w", err)
	}
	ids := make([][]byte, len(evs))
	for i, ev := range evs {
		ids[i] = ev.A.GetEventId()
	}
	if _, err := tbl.Block().Columns[0].Append(ids); err != nil {
		return nil, fmt.Errorf("external table ids: %w", err)
	}
	rs, err := l.conn.Query(chgo.Context(ctx, chgo.WithExternalTable(tbl)), lookupIDsSQL, uint32(max(minT, 0)), uint32(max(maxT, 0)))
	if err != nil {
		return nil, fmt.Errorf("look up loaded event ids: %w", err)
	}
	defer rs.Close()
	out := map[[16]byte]struct{}{}
	for rs.Next() {
		var id string
		if err := rs.Scan(&id); err != nil {
			return nil, fmt.Errorf("scan loaded event id: %w", err)
		}
		out[[16]byte([]byte(id))] = struct{}{}
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("look up loaded event ids: %w", err)
	}
	return out, nil
}
