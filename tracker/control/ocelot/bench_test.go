package ocelot

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/tracker/control/controltest"
)

// BenchmarkGazelleAddUser: one add_user as Gazelle sends it (HTTP, parse,
// one Postgres transaction with its audit row), then the announce listener
// polled until it serves the new passkey; ns/op is the request alone,
// ms_to_announce the request plus the NOTIFY → policy cache path.
// BenchmarkInsertUserSQL is the baseline: the bare INSERT on the same
// database.
func BenchmarkGazelleAddUser(b *testing.B) {
	e := start(b)
	var lag time.Duration
	ih := ih(9)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pk := fmt.Sprintf("bench%027d", i)
		t0 := time.Now()
		code, body := e.Get(gazelle(secret, "add_user", "passkey", pk, "id", fmt.Sprint(i+1), "visible", "1"))
		if code != 200 || body != "success" {
			b.Fatalf("add_user: %d %q", code, body)
		}
		b.StopTimer()
		for {
			f, _ := e.Do(controltest.Announce{Path: "/" + pk + "/announce", InfoHash: ih, Left: 1, Event: "stopped"})
			if !strings.Contains(f, "passkey") {
				break
			}
		}
		lag += time.Since(t0)
		b.StartTimer()
	}
	b.ReportMetric(float64(lag.Microseconds())/1000/float64(b.N), "ms_to_announce")
}

func BenchmarkInsertUserSQL(b *testing.B) {
	e := start(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.PG.Pool.Exec(ctx, `INSERT INTO users (name, passkey, site_id) VALUES ($1, $2, $3)`,
			fmt.Sprintf("b%d", i), fmt.Sprintf("bench%027d", i), i+1); err != nil {
			b.Fatal(err)
		}
	}
}
