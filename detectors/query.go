package detectors

import (
	"context"
	"embed"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

//go:embed sql/*.sql
var sqlFS embed.FS

// sqlText returns an embedded query, with the fingerprint classes
// (@fp_key_class, @fp_param_order) its text names; a missing file is a
// programming error that every detector's test catches.
func sqlText(name string) string {
	b, err := sqlFS.ReadFile("sql/" + name + ".sql")
	if err != nil {
		panic(fmt.Sprintf("detectors: missing embedded query %s: %v", name, err))
	}
	return fingerprintClasses.Replace(string(b))
}

// fingerprintClasses are the classes of a client's key (column key) and
// parameter order (column po) that fu_fingerprint and fu_fp_population
// must share, or an incremental pass judges new rows against a population
// classified otherwise: hex keys by case and by length beyond 8 (a `%x`
// key drops leading zeros, so 7 digits and 8 are one class), decimal,
// other; the order without the parameters clients add or drop announce by
// announce (event, corrupt, and ipv6/ipv4/ip/localip, which a client sends
// when it has such an address).
var fingerprintClasses = strings.NewReplacer(
	"@fp_key_class", "multiIf(key = '', 'empty', match(key, '^[0-9A-F]+$'), concat('HEX', toString(greatest(length(key), 8))), "+
		"match(key, '^[0-9a-f]+$'), concat('hex', toString(greatest(length(key), 8))), match(key, '^[0-9]+$'), 'dec', 'alnum')",
	"@fp_param_order", "replaceRegexpAll(concat(',', po, ','), ',(event|corrupt|ipv6|ipv4|ip|localip)(,(event|corrupt|ipv6|ipv4|ip|localip))*,', ',')",
)

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

// Subjects to re-evaluate, substituted for @active_users (not a bound
// parameter): a full pass takes every member of the user_hour rollup since
// @active_since; an incremental pass (active_since after from) takes the
// members who announced since then, to the second, read once per pass and
// sent as a list — or, for a Triggered detector, only its triggered members
// (Env.subjects): `announces` is time-first, so a list of thousands of
// members reads every granule of the lookback, a list of a few dozen little
// more than the user_id column.
//
// @torrent_filter (a condition) is `1` in a full pass and, in an
// incremental one, "the torrents the subjects uploaded on in the window":
// per-torrent queries (collusion) then group only those torrents' rows.
const (
	activeUsersFull        = "(SELECT user_id FROM user_hour WHERE hour >= toStartOfHour(toDateTime(@active_since)) AND hour < toDateTime(@until))"
	activeUsersIncremental = "(SELECT toUInt64(arrayJoin(@active_list)))"
	torrentFilterFull      = "1"
	torrentFilterSubjects  = "torrent_id IN (SELECT torrent_id FROM announces WHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND toStartOfHour(time) <= toDateTime(@until) AND time >= toDateTime(@from) AND time < toDateTime(@until) AND user_id IN (SELECT toUInt64(arrayJoin(@active_list))) AND delta_uploaded > 0)"
)

// activeCache holds the members of one incremental window.
type activeCache struct {
	since, until uint32
	ids          []uint64
}

type activeRow struct {
	UserID uint64 `ch:"user_id"`
}

// queryText returns the query with @active_users substituted, adding the
// member list to p for an incremental pass.
func queryText(ctx context.Context, env *Env, name string, p params) (string, error) {
	q := sqlText(name)
	if !strings.Contains(q, "@active_users") && !strings.Contains(q, "@torrent_filter") {
		return q, nil
	}
	from, _ := p["from"].(uint32)
	since, ok := p["active_since"].(uint32)
	if !ok || since <= from {
		q = strings.ReplaceAll(q, "@torrent_filter", torrentFilterFull)
		return strings.ReplaceAll(q, "@active_users", activeUsersFull), nil
	}
	until, _ := p["until"].(uint32)
	c, err := activeList(ctx, env, since, until)
	if err != nil {
		return "", err
	}
	p["active_list"] = c.ids
	if env.subjects != nil {
		p["active_list"] = env.subjects
	}
	q = strings.ReplaceAll(q, "@torrent_filter", torrentFilterSubjects)
	return strings.ReplaceAll(q, "@active_users", activeUsersIncremental), nil
}

// activeList returns the members who announced from since to until (unix
// seconds), read once per incremental window.
func activeList(ctx context.Context, env *Env, since, until uint32) (*activeCache, error) {
	c := env.active
	if c != nil && c.since == since && c.until == until {
		return c, nil
	}
	var rows []activeRow
	if err := env.CH.Select(ctx, &rows, sqlText("active_users"), params{"active_since": since, "until": until}.args()...); err != nil {
		return nil, fmt.Errorf("detector query active_users: %w", err)
	}
	c = &activeCache{since: since, until: until, ids: make([]uint64, 0, len(rows)+1)}
	for _, r := range rows {
		c.ids = append(c.ids, r.UserID)
	}
	c.ids = idList(c.ids)
	env.active = c
	return c, nil
}

// activeMembers returns the members who announced since w.ActiveSince.
func activeMembers(ctx context.Context, env *Env, w Window) ([]uint64, error) {
	c, err := activeList(ctx, env, unix(w.ActiveSince), unix(w.Until))
	if err != nil {
		return nil, err
	}
	return append([]uint64(nil), c.ids...), nil
}

type priorityKey struct{}

// WithPriority runs the detector queries under ctx at ClickHouse priority p
// (1 highest; 0 none): while a query of a higher priority runs, the server
// pauses those of a lower one.
func WithPriority(ctx context.Context, p int) context.Context {
	return context.WithValue(ctx, priorityKey{}, p)
}

// selectRows runs an embedded query into dest (a pointer to a slice of
// structs with `ch` tags). Member lists travel in the query text, so the
// query may be larger than ClickHouse's default max_query_size.
func selectRows(ctx context.Context, env *Env, dest any, name string, p params) error {
	q, err := queryText(ctx, env, name, p)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := env.CH.Select(querySettings(ctx), dest, q, p.args()...); err != nil {
		return fmt.Errorf("detector query %s: %w", name, err)
	}
	if env.Log != nil {
		env.Log.Debug("detector query", "query", name, "duration", time.Since(start))
	}
	return nil
}

// streamMerged is streamRows with rows kept from an earlier read merged
// in: the kept rows (in the query's order; before tells which of two rows
// comes first) that use accepts reach each in their place among the
// query's rows, so whatever each adds up comes out as a fresh read would.
func streamMerged[T any](ctx context.Context, env *Env, name string, p params, kept []T, before func(a, b *T) bool, use func(*T) bool, each func(*T)) error {
	i := 0
	merge := func(r *T) {
		for ; i < len(kept) && (r == nil || before(&kept[i], r)); i++ {
			if use(&kept[i]) {
				each(&kept[i])
			}
		}
	}
	if err := streamRows(ctx, env, name, p, func(r *T) {
		merge(r)
		each(r)
	}); err != nil {
		return err
	}
	merge(nil)
	return nil
}

// streamRows runs a query and hands each row to each, one at a time (the
// row is reused: each copies what it keeps), for results too large to hold.
func streamRows[T any](ctx context.Context, env *Env, name string, p params, each func(*T)) error {
	q, err := queryText(ctx, env, name, p)
	if err != nil {
		return err
	}
	start := time.Now()
	rows, err := env.CH.Query(querySettings(ctx), q, p.args()...)
	if err != nil {
		return fmt.Errorf("detector query %s: %w", name, err)
	}
	defer rows.Close()
	var r T
	for rows.Next() {
		if err := rows.ScanStruct(&r); err != nil {
			return fmt.Errorf("detector query %s: read row: %w", name, err)
		}
		each(&r)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("detector query %s: %w", name, err)
	}
	if env.Log != nil {
		env.Log.Debug("detector query", "query", name, "duration", time.Since(start))
	}
	return nil
}

// querySettings are the ClickHouse settings of every detector query.
func querySettings(ctx context.Context) context.Context {
	settings := clickhouse.Settings{
		"max_query_size": 64 << 20,
		// Month-long backfills group tens of millions of member-hours: spill to
		// disk rather than fail on the server's memory limit.
		"max_bytes_before_external_group_by": 1 << 30,
	}
	if p, _ := ctx.Value(priorityKey{}).(int); p > 0 {
		settings["priority"] = p
	}
	return clickhouse.Context(ctx, clickhouse.WithSettings(settings))
}

// idList turns member ids into a non-empty array parameter (0 is never a member).
func idList(ids []uint64) []uint64 {
	if len(ids) == 0 {
		return []uint64{0}
	}
	return ids
}
