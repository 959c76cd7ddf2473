package ledger

import (
	"context"
	_ "embed"
	"fmt"

	"github.com/jackc/pgx/v5"
)

//go:embed sql/stored_offsets.sql
var storedOffsetsSQL string

// Querier is what StoredOffsets reads through: a pool or a transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// StoredOffsets returns the ledger's next offset per partition of topic
// (for reconcile and tests).
func StoredOffsets(ctx context.Context, q Querier, topic string) (map[int32]int64, error) {
	rows, err := q.Query(ctx, storedOffsetsSQL, topic)
	if err != nil {
		return nil, fmt.Errorf("read ledger offsets of %s: %w", topic, err)
	}
	defer rows.Close()
	out := map[int32]int64{}
	for rows.Next() {
		var p int32
		var n int64
		if err := rows.Scan(&p, &n); err != nil {
			return nil, fmt.Errorf("scan ledger offsets: %w", err)
		}
		out[p] = n
	}
	return out, rows.Err()
}
