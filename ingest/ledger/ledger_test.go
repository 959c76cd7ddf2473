package ledger_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/ingest/consumer"
	"github.com/ratioguard/ratioguard/ingest/ingesttest"
	"github.com/ratioguard/ratioguard/ingest/ledger"
	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/schemas/events"
)

func TestStoreDedupesParksAndFences(t *testing.T) {
	pg := testenv.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ingesttest.SeedPostgres(ctx, pg.Pool, 10, 10); err != nil {
		t.Fatal(err)
	}
	l := ledger.New(pg.Pool, time.Hour, nil)
	g := ingesttest.NewGen(4, 10, 10, time.Now().Add(-10*time.Minute))
	fresh, old, unknown := g.Next(), g.Next(), g.Next()
	for _, a := range []*events.Announce{fresh, old, unknown} {
		a.Result, a.UserId, a.TorrentId, a.DeltaUploaded = events.Result_RESULT_ACCEPTED, 3, 4, 100
	}
	old.TimeUnixNano = time.Now().Add(-2 * time.Hour).UnixNano()
	unknown.UserId = 999
	b := &consumer.Batch{Topic: "t", Partition: 0, Prev: -1, Next: 3, Events: []consumer.Event{
		{Offset: 0, A: fresh}, {Offset: 1, A: old}, {Offset: 2, A: unknown}}}
	if err := l.Store(ctx, b); err != nil {
		t.Fatal(err)
	}
	// The same events again at later offsets (a producer retry): nothing changes.
	again := &consumer.Batch{Topic: "t", Partition: 0, Prev: 3, Next: 6, Events: []consumer.Event{
		{Offset: 3, A: fresh}, {Offset: 4, A: old}, {Offset: 5, A: unknown}}}
	if err := l.Store(ctx, again); err != nil {
		t.Fatal(err)
	}
	var announces int64
	var up string
	if err := pg.Pool.QueryRow(ctx, "SELECT announces, raw_uploaded::text FROM ledger_user_totals WHERE user_id = 3").Scan(&announces, &up); err != nil {
		t.Fatal(err)
	}
	if announces != 1 || up != "100" {
		t.Errorf("user 3 totals: %d announces, %s uploaded; want 1 and 100", announces, up)
	}
	reasons := map[string]int{}
	rows, _ := pg.Pool.Query(ctx, "SELECT reason FROM ledger_parked_events")
	for rows.Next() {
		var r string
		_ = rows.Scan(&r)
		reasons[r]++
	}
	rows.Close()
	if reasons[ledger.ParkTooOld] != 1 || reasons[ledger.ParkUnknownUser] != 1 || len(reasons) != 2 {
		t.Errorf("parked: %v, want one too old and one unknown user", reasons)
	}
	if next, err := l.Resume(ctx, "t", 0); err != nil || next != 6 {
		t.Errorf("Resume = %d, %v; want 6", next, err)
	}
	if err := l.Store(ctx, b); !errors.Is(err, consumer.ErrFenced) {
		t.Errorf("a batch behind the stored offset: %v, want ErrFenced", err)
	}
}

func TestAdjust(t *testing.T) {
	pg := testenv.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ingesttest.SeedPostgres(ctx, pg.Pool, 2, 2); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ledger.Adjust(ctx, pg.Pool, ledger.Adjustment{UserID: 1, CreditedUploaded: 5, Actor: "x"}); !errors.Is(err, ledger.ErrInvalidAdjustment) {
		t.Errorf("no reason: %v, want ErrInvalidAdjustment", err)
	}
	if _, _, err := ledger.Adjust(ctx, pg.Pool, ledger.Adjustment{UserID: 1, CreditedUploaded: -5, Reason: "r", Actor: "x"}); !errors.Is(err, ledger.ErrNegative) {
		t.Errorf("below zero: %v, want ErrNegative", err)
	}
	bonus := ledger.Adjustment{UserID: 1, CreditedUploaded: 1000, Reason: "manual correction", Actor: "staff:alice"}
	if _, applied, err := ledger.Adjust(ctx, pg.Pool, bonus); err != nil || !applied {
		t.Fatalf("manual correction: %v", err)
	}
	rev := ledger.Adjustment{UserID: 1, CreditedUploaded: -400, Reason: "reversal of fake upload", ReportID: 42, Actor: "enforce"}
	id1, applied1, err1 := ledger.Adjust(ctx, pg.Pool, rev)
	id2, applied2, err2 := ledger.Adjust(ctx, pg.Pool, rev)
	if err1 != nil || err2 != nil || !applied1 || applied2 || id1 != id2 {
		t.Errorf("reversal twice: (%d %v %v) then (%d %v %v); want applied once, same id", id1, applied1, err1, id2, applied2, err2)
	}
	var cu string
	var n int
	if err := pg.Pool.QueryRow(ctx, "SELECT credited_uploaded::text, (SELECT count(*) FROM ledger_adjustments) FROM ledger_user_totals WHERE user_id = 1").Scan(&cu, &n); err != nil {
		t.Fatal(err)
	}
	if cu != "600" || n != 2 {
		t.Errorf("after +1000 and -400 (twice, once applied): credited %s with %d adjustment rows; want 600 and 2", cu, n)
	}
	if _, _, err := ledger.Adjust(ctx, pg.Pool, ledger.Adjustment{UserID: 1, TorrentID: 2, CreditedUploaded: 1, Reason: "r", Actor: "x"}); !errors.Is(err, ledger.ErrNoHistory) {
		t.Errorf("torrent without history: %v, want ErrNoHistory", err)
	}
}
