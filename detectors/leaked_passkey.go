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
		Catches: "leaked passkeys (strangers announcing with a member's passkey, each on its own line with its own client, while the owner carries on); offline-download clients among them are cloud_leech's to report as well",
		Signals: []string{
			"networks in one hour at or above min_networks (weight 0.6), and hours at that level (2 or more, 0.5)",
			"user agents in one hour at or above min_clients (0.6)",
			"networks in one day (24 h windows from 00:00 and from 12:00 UTC, so a burst across midnight stays in one) at or above min_day_networks (0.55), and the user agents of such a day at or above min_clients (0.4): strangers arrive over hours",
			"every count is over accepted and refused announces (the IP cap and the client rules turn strangers away, but their tries name the passkey); one signal alone reports only far past its threshold (11 networks or 6 user agents in an hour, 17 networks in a day)",
		},
		LookAlikes:  "multi-homed members, seedboxes with a client at home, dual stack and IPv6 privacy addresses (one /64), dynamic addresses, CGNAT (one network), travel: on popgen at most 4 networks in an hour and 6 in a day, with one user agent; the recommendation is a passkey reset, not a ban. Shared accounts (a few lines, each its own client) come close: from 6 networks in an hour or 8 in a day with several clients they are reported here too",
		Incremental: "members active in the current hour whose last 24 hours reach min_day_networks networks or min_clients user agents (every day window holding the current hour lies in them), or whose current hour reaches min_networks networks or min_clients user agents, over the whole lookback",
	}
}

type leakRow struct {
	UserID          uint64 `ch:"user_id"`
	PeakNetworks    uint64 `ch:"peak_networks"`
	HoursOver       uint64 `ch:"hours_over"`
	PeakClients     uint64 `ch:"peak_clients"`
	PeakDayNetworks uint64 `ch:"peak_day_networks"`
	PeakDayClients  uint64 `ch:"peak_day_clients"`
}

// Run implements Detector.
func (d LeakedPasskey) Run(ctx context.Context, env *Env, w Window) ([]Finding, error) {
	c := env.Config.LeakedPasskey
	var rows []leakRow
	p := windowParams(w)
	p["min_networks"] = uint64(c.MinNetworks)
	p["min_day_networks"] = uint64(c.MinDayNetworks)
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
			signal("peak_networks_per_day", float64(r.PeakDayNetworks), float64(c.MinDayNetworks), 0.55, "networks", "24 h from 00:00 or from 12:00 UTC"),
			signal("clients_on_such_a_day", float64(r.PeakDayClients), float64(c.MinClients), 0.4, "user agents", "on a day with min_day_networks networks or more"),
		}
		f := userFinding(d.Name(), r.UserID, w, sig, float64(max(r.PeakNetworks, r.PeakDayNetworks)),
			fmt.Sprintf("passkey of member %d announced from %d networks with %d clients in one hour, %d networks in one day; recommend a passkey reset; %s",
				r.UserID, r.PeakNetworks, r.PeakClients, r.PeakDayNetworks, firedNames(sig)))
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

// Triggers implements Triggered: members active in the hour of the new rows
// whose hour reaches min_networks networks or min_clients user agents, or
// whose last 24 hours reach min_day_networks networks or min_clients user
// agents (the peaks and the hours at them grow only so).
func (LeakedPasskey) Triggers(ctx context.Context, env *Env, w Window) ([]uint64, error) {
	c := env.Config.LeakedPasskey
	p := windowParams(newRows(w))
	p["min_networks"] = uint64(c.MinNetworks)
	p["min_day_networks"] = uint64(c.MinDayNetworks)
	p["min_clients"] = uint64(c.MinClients)
	return triggerUsers(ctx, env, "tr_leaked_passkey", p)
}
