package detectors

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// LeakedPasskey flags a passkey announcing from many unrelated networks and
// clients at once, and recommends a passkey reset.
type LeakedPasskey struct{}

// Name implements Detector.
func (LeakedPasskey) Name() string { return "leaked_passkey" }

// Lookback implements Detector.
func (LeakedPasskey) Lookback(c *Config) time.Duration { return c.LeakedPasskey.Lookback.Duration }

// Doc implements Detector.
func (LeakedPasskey) Doc() Doc {
	return Doc{
		Title:   "Leaked passkey",
		Catches: "leaked passkeys (strangers announcing with a member's passkey)",
		Signals: []string{
			"peak networks in one hour at or above min_networks, and hours at that level",
			"distinct user agents in one hour at or above min_clients",
		},
		LookAlikes:  "multi-homed members and seedboxes stay below min_networks networks in one hour; the recommendation is a passkey reset, not a ban",
		Incremental: "members whose current hour reaches min_networks networks, over the whole lookback",
	}
}

type leakRow struct {
	UserID       uint64 `ch:"user_id"`
	PeakNetworks uint64 `ch:"peak_networks"`
	HoursOver    uint64 `ch:"hours_over"`
	PeakClients  uint64 `ch:"peak_clients"`
}

// Run implements Detector.
func (d LeakedPasskey) Run(ctx context.Context, env *Env, w Window) ([]Finding, error) {
	c := env.Config.LeakedPasskey
	var rows []leakRow
	p := windowParams(w)
	p["min_networks"] = uint64(c.MinNetworks)
	if err := selectRows(ctx, env, &rows, "leaked_passkey", p); err != nil {
		return nil, err
	}
	ids := make([]uint64, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.UserID)
	}
	keys, err := passkeys(ctx, env, ids)
	if err != nil {
		return nil, err
	}
	var out []Finding
	for _, r := range rows {
		sig := []Signal{
			signal("peak_networks_per_hour", float64(r.PeakNetworks), float64(c.MinNetworks), 0.6, "networks", ""),
			signal("hours_at_peak", float64(r.HoursOver), 2, 0.5, "hours", ""),
			signal("peak_clients_per_hour", float64(r.PeakClients), float64(c.MinClients), 0.6, "user agents", ""),
		}
		f := userFinding(d.Name(), r.UserID, w, sig, float64(r.PeakNetworks),
			fmt.Sprintf("passkey of member %d announced from %d networks with %d clients in one hour; recommend a passkey reset; %s",
				r.UserID, r.PeakNetworks, r.PeakClients, firedNames(sig)))
		f.Kind = SubjectPasskey
		if k, ok := keys[r.UserID]; ok {
			f.SubjectID = k
		} else {
			f.SubjectID = "user:" + strconv.FormatUint(r.UserID, 10)
		}
		f.Evidence.Details = map[string]any{"recommendation": "reset passkey"}
		out = append(out, f)
	}
	return out, nil
}

// passkeys maps member ids to passkeys (empty without Postgres).
func passkeys(ctx context.Context, env *Env, ids []uint64) (map[uint64]string, error) {
	out := map[uint64]string{}
	if env.PG == nil || len(ids) == 0 {
		return out, nil
	}
	ints := make([]int64, len(ids))
	for i, id := range ids {
		ints[i] = int64(id)
	}
	rows, err := env.PG.Query(ctx, sqlText("pg_passkeys"), ints)
	if err != nil {
		return nil, fmt.Errorf("read passkeys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var k string
		if err := rows.Scan(&id, &k); err != nil {
			return nil, fmt.Errorf("scan passkey: %w", err)
		}
		out[uint64(id)] = k
	}
	return out, rows.Err()
}

// Triggers implements Triggered: members whose hour of the new rows reaches
// min_networks (the peak and the hours at it grow only so).
func (LeakedPasskey) Triggers(ctx context.Context, env *Env, w Window) ([]uint64, error) {
	p := windowParams(newRows(w))
	p["min_networks"] = uint64(env.Config.LeakedPasskey.MinNetworks)
	return triggerUsers(ctx, env, "tr_leaked_passkey", p)
}
