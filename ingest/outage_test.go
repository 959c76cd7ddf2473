package ingest_test

import (
	"context"
	"math/rand/v2"
	"net/url"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/ingest"
	"github.com/ratioguard/ratioguard/ingest/ingesttest"
)

// TestIngestSurvivesEngineOutages runs both sinks through TCP proxies that
// reset every ClickHouse and Postgres connection (mid-insert, mid-commit)
// and refuse new ones for a while, several times during the stream: the
// consumers pause, retry, and end exactly equal to the truth. (Restarting
// the real engines is not done here: they are shared by every test.)
func TestIngestSurvivesEngineOutages(t *testing.T) {
	s := newStack(t, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ds := ingesttest.NewDataset(8, 60_000, 1000, 500, 9, 20)
	ends := s.prefill(t, ctx, ds, 1000, 500)
	chProxy, pgProxy := newProxy(t, s.ch.URL), newProxy(t, s.pg.URL)
	eng := s.engines()
	var err error
	if eng.ClickHouseURL, err = chProxy.URL(eng.ClickHouseURL); err != nil {
		t.Fatal(err)
	}
	if eng.PostgresURL, err = pgProxy.URL(eng.PostgresURL); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- ingest.Run(runCtx, ingest.Config{Engines: eng, Topic: s.kafka.Topic,
			Sinks: []string{ingest.SinkClickHouse, ingest.SinkLedger}, ClickHouseBatch: 4000, LedgerBatch: 3000,
			Linger: 200 * time.Millisecond, Log: testLog()})
	}()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	for i := 0; i < 4; i++ {
		time.Sleep(time.Duration(200+rng.IntN(800)) * time.Millisecond)
		down := time.Duration(500+rng.IntN(1500)) * time.Millisecond
		chProxy.Cut(down)
		pgProxy.Cut(down)
	}
	err = ingesttest.WaitCaughtUp(ctx, ends, chOffsets(s.ch.Conn, s.kafka.Topic), ledgerOffsets(s.pg.Pool, s.kafka.Topic))
	stop()
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if err := ingesttest.CheckClickHouse(ctx, s.ch.Conn, ds.Truth); err != nil {
		t.Error(err)
	}
	if err := ingesttest.CheckLedger(ctx, s.pg.Pool, ds.Truth); err != nil {
		t.Error(err)
	}
	checkReconcile(t, ctx, s)
}

func newProxy(t *testing.T, rawURL string) *ingesttest.Proxy {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ingesttest.NewProxy(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}
