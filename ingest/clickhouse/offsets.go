package clickhouse

import (
	"context"
	_ "embed"
	"fmt"

	"github.com/ratioguard/ratioguard/internal/chconn"
)

//go:embed sql/stored_offsets.sql
var storedOffsetsSQL string

// StoredOffsets returns the loader's next offset per partition of topic
// (for reconcile and tests).
func StoredOffsets(ctx context.Context, conn chconn.Conn, topic string) (map[int32]int64, error) {
	rows, err := conn.Query(ctx, storedOffsetsSQL, topic)
	if err != nil {
		return nil, fmt.Errorf("read clickhouse offsets of %s: %w", topic, err)
	}
	defer rows.Close()
	out := map[int32]int64{}
	for rows.Next() {
		var p uint32
		var n uint64
		if err := rows.Scan(&p, &n); err != nil {
			return nil, fmt.Errorf("scan clickhouse offsets: %w", err)
		}
		out[int32(p)] = int64(n)
	}
	return out, rows.Err()
}
