package site

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ratioguard/ratioguard/ingest/consumer"
)

// Metrics records what the write-back does, for the operations endpoints
// (internal/ops): its consumer's lag, batches and stores under the
// ratioguard_writeback_ names (beside ingest's in one registry), what it
// wrote and skipped, and the token-expiry callbacks; Ready says whether it
// can write. A nil *Metrics records nothing.
type Metrics struct {
	// Monitor is the write-back consumer's (give it to consumer.Config).
	Monitor *consumer.Monitor

	applied, duplicates, rows        prometheus.Counter
	skipped                          *prometheus.CounterVec
	tokensQueued, tokensSent, failed prometheus.Counter

	mu sync.Mutex
	db *sql.DB // the site's database, once opened
}

// The reasons an announce (or a site row) is skipped, the values of
// ratioguard_writeback_skipped_total's reason label.
const (
	skipUnknownMember  = "member_without_site_id"
	skipUnknownTorrent = "torrent_without_site_id"
	skipTooOld         = "older_than_horizon"
	skipMissingRow     = "site_row_missing"
)

// NewMetrics registers the write-back's metrics on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	mon, err := consumer.NewNamedMonitor(reg, consumer.Names{
		BatchRecords:  "ratioguard_writeback_batch_records",
		StoreSeconds:  "ratioguard_writeback_store_seconds",
		StoreErrors:   "ratioguard_writeback_store_errors_total",
		RecordsStored: "ratioguard_writeback_records_stored_total",
		DeadLetters:   "ratioguard_writeback_dead_letters_total",
		ConsumerLag:   "ratioguard_writeback_consumer_lag",
	})
	if err != nil {
		return nil, err
	}
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	m := &Metrics{
		Monitor:    mon,
		applied:    counter("ratioguard_writeback_announces_applied_total", "Announces written to the site's database."),
		duplicates: counter("ratioguard_writeback_duplicates_total", "Announces whose event id was applied before (producer retries, spool replays), not written again."),
		rows:       counter("ratioguard_writeback_rows_written_total", "Site rows written (inserted or updated): members, torrents, peers, snatches, tokens, queued expiries."),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ratioguard_writeback_skipped_total",
			Help: "Announces not written, by reason: member or torrent without a site id, older than the dedupe horizon; and site rows (members, torrents) that were not there to update.",
		}, []string{"reason"}),
		tokensQueued: counter("ratioguard_writeback_token_expiries_queued_total", "Freeleech tokens a completion used up, queued for the site's expiry callback (Gazelle)."),
		tokensSent:   counter("ratioguard_writeback_token_expiries_sent_total", "Queued token expiries the site took (its callback answered 200)."),
		failed:       counter("ratioguard_writeback_token_callbacks_failed_total", "Flushes of the token-expiry callback that failed: the site did not take them, or the queue could not be read (retried at the next flush)."),
	}
	for _, r := range []string{skipUnknownMember, skipUnknownTorrent, skipTooOld, skipMissingRow} {
		m.skipped.WithLabelValues(r)
	}
	for _, c := range []prometheus.Collector{m.applied, m.duplicates, m.rows, m.skipped, m.tokensQueued, m.tokensSent, m.failed} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register write-back metrics: %w", err)
		}
	}
	return m, nil
}

// batch records a stored batch's counts.
func (m *Metrics) batch(c Stats) {
	if m == nil {
		return
	}
	m.applied.Add(float64(c.Applied))
	m.duplicates.Add(float64(c.Duplicates))
	m.rows.Add(float64(c.Rows))
	m.skipped.WithLabelValues(skipUnknownMember).Add(float64(c.UnknownMember))
	m.skipped.WithLabelValues(skipUnknownTorrent).Add(float64(c.UnknownTorrent))
	m.skipped.WithLabelValues(skipTooOld).Add(float64(c.TooOld))
	m.skipped.WithLabelValues(skipMissingRow).Add(float64(c.MissingRows))
	m.tokensQueued.Add(float64(c.Expiries))
}

// callback records one flush of the token-expiry callback: sent expiries
// the site took, err its failure.
func (m *Metrics) callback(sent int, err error) {
	if m == nil {
		return
	}
	m.tokensSent.Add(float64(sent))
	if err != nil {
		m.failed.Inc()
	}
}

// siteDB records the site's database once the write-back has opened it;
// the write-back is not ready until its consumer (sink) starts.
func (m *Metrics) siteDB(db *sql.DB, sink string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.db = db
	m.mu.Unlock()
	m.Monitor.Waiting(sink, "its consumer is not started yet")
}

var errNoSiteDB = errors.New("the site's database is not open yet")

// Ready says why the write-back cannot write now: the site's database is
// not open or does not answer, or its last batch was not stored (or its
// consumer has not started).
func (m *Metrics) Ready(ctx context.Context) error {
	m.mu.Lock()
	db := m.db
	m.mu.Unlock()
	if db == nil {
		return errNoSiteDB
	}
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("the site's database does not answer: %w", err)
	}
	return m.Monitor.Ready()
}
