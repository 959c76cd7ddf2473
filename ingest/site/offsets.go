package site

import (
	"context"
	"database/sql"
	"fmt"
)

// StoredOffsets returns the next offset the write-back of site (gazelle or
// unit3d) has stored in db for each partition of topic it has written.
func StoredOffsets(ctx context.Context, db *sql.DB, site, topic string) (map[int32]int64, error) {
	m, err := mappingFor(site)
	if err != nil {
		return nil, err
	}
	rs, err := db.QueryContext(ctx, q("stored_offsets"), sinkName(m), topic)
	if err != nil {
		return nil, fmt.Errorf("read write-back offsets of %s: %w", topic, err)
	}
	defer rs.Close()
	out := map[int32]int64{}
	for rs.Next() {
		var p int32
		var next int64
		if err := rs.Scan(&p, &next); err != nil {
			return nil, fmt.Errorf("read write-back offsets of %s: %w", topic, err)
		}
		out[p] = next
	}
	return out, rs.Err()
}
