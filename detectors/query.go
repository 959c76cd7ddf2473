package detectors

import (
	"context"
	"embed"
	"fmt"
	"sort"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

//go:embed sql/*.sql
var sqlFS embed.FS

// sqlText returns an embedded query; a missing file is a programming error
// that every detector's test catches.
func sqlText(name string) string {
	b, err := sqlFS.ReadFile("sql/" + name + ".sql")
	if err != nil {
		panic(fmt.Sprintf("detectors: missing embedded query %s: %v", name, err))
	}
	return string(b)
}

// params are a query's named parameters (@name in the SQL), bound by
// clickhouse-go on the client side, so 18.16 never sees server parameters.
type params map[string]any

func (p params) args() []any {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]any, 0, len(p))
	for _, k := range keys {
		out = append(out, clickhouse.Named(k, p[k]))
	}
	return out
}

func unix(t time.Time) uint32 { return uint32(t.Unix()) }

// windowParams are the parameters every detector query takes: @from,
// @until, @active_since as unix seconds.
func windowParams(w Window) params {
	active := w.ActiveSince
	if active.Before(w.From) {
		active = w.From // a zero ActiveSince means every subject of the window
	}
	return params{"from": unix(w.From), "until": unix(w.Until), "active_since": unix(active)}
}

// selectRows runs an embedded query into dest (a pointer to a slice of
// structs with `ch` tags).
func selectRows(ctx context.Context, env *Env, dest any, name string, p params) error {
	if err := env.CH.Select(ctx, dest, sqlText(name), p.args()...); err != nil {
		return fmt.Errorf("detector query %s: %w", name, err)
	}
	return nil
}

// idList turns member ids into a non-empty array parameter (0 is never a member).
func idList(ids []uint64) []uint64 {
	if len(ids) == 0 {
		return []uint64{0}
	}
	return ids
}
