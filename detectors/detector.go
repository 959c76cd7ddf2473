package detectors

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratioguard/ratioguard/internal/chconn"
)

// Detector is one cheat rule: SQL over ClickHouse plus evidence building.
type Detector interface {
	// Name is the stable identifier stored in cheat_reports.detector.
	Name() string
	// Doc describes the detector for docs/DETECTION.md and reviewers.
	Doc() Doc
	// Lookback is how much history one evaluation reads, ending at Window.Until.
	Lookback(cfg *Config) time.Duration
	// Run evaluates the window and returns findings above the detector's own
	// thresholds; the Runner filters exemptions and the report threshold.
	Run(ctx context.Context, env *Env, w Window) ([]Finding, error)
}

// Periodic is a detector whose evidence moves slowly: an incremental pass
// runs it only when the time since the previous pass crosses one of its
// boundaries — the multiples of Cadence (Unix time) shifted by the
// detector's own offset within the cadence (CadenceOffset) — then over
// every member active since the previous boundary (and the scheduler's
// re-read span before it), so each active member is still judged once per
// cadence. Full and backfill passes always run it. A cadence of 0 runs it
// on every pass.
type Periodic interface {
	Cadence(cfg *Config) time.Duration
}

// Doc is the reviewer-facing description of a detector.
type Doc struct {
	Title      string
	Catches    string   // which cheat kinds it targets
	Signals    []string // what it measures
	LookAlikes string   // honest behaviour it must not flag, and why it does not
	// Incremental says whom a 5-minute incremental pass re-evaluates (empty:
	// every member active since the previous pass).
	Incremental string
}

// Window is what one pass evaluates: history from From to Until; subjects
// re-evaluated are those active since ActiveSince (From for a full pass).
type Window struct {
	From        time.Time
	Until       time.Time
	ActiveSince time.Time
}

// Env is what detectors get instead of globals.
type Env struct {
	CH     chconn.Conn
	PG     *pgxpool.Pool // may be nil in tests of pure-ClickHouse detectors
	Config *Config
	Exempt *Exemptions
	Geo    *GeoDB // nil when no MaxMind-format database is configured
	Log    *slog.Logger

	active   *activeCache  // members of the current incremental window
	subjects []uint64      // a Triggered detector's members in this incremental pass (nil: every active member)
	pass     passCache     // what Triggers computed for Run
	fpCache  *fpPopCache   // fingerprint population, kept between passes
	balance  *balanceCache // swarm-balance fit, kept for the passes of one hour
	history  time.Time     // first announce stored (zero until read)
	// balanceRows are the swarm-balance fit's peer rows of whole buckets,
	// kept for the next fit.
	balanceRows *balanceRows
	// collusion is collusion's torrent-hours of whole hours, kept for the
	// next incremental pass.
	collusion *colKept
}

// SubjectKind is what a report is about.
type SubjectKind string

// Subject kinds allowed by cheat_reports.subject_kind.
const (
	SubjectUser    SubjectKind = "user"
	SubjectTorrent SubjectKind = "torrent"
	SubjectPasskey SubjectKind = "passkey"
)

// Severity of a report.
type Severity string

// Severities allowed by cheat_reports.severity, in increasing order.
const (
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// Rank orders severities (low=1 … critical=4; unknown 0).
func (s Severity) Rank() int {
	switch s {
	case SeverityLow:
		return 1
	case SeverityMedium:
		return 2
	case SeverityHigh:
		return 3
	case SeverityCritical:
		return 4
	}
	return 0
}

// SeverityFor maps a score in [0,1] to a severity.
func SeverityFor(score float64) Severity {
	switch {
	case score >= 0.9:
		return SeverityCritical
	case score >= 0.75:
		return SeverityHigh
	case score >= 0.6:
		return SeverityMedium
	}
	return SeverityLow
}

// Finding is one detector's verdict on one subject.
type Finding struct {
	Detector    string
	Kind        SubjectKind
	SubjectID   string
	UserID      uint64 // the member behind the subject (0 for torrent subjects)
	WindowStart time.Time
	WindowEnd   time.Time
	Score       float64 // 0..1
	// Magnitude is the detector's headline number (suspicious bytes,
	// concurrent networks, ...): a dismissed report reopens only when it
	// grows by Config.MaterialIncrease or the severity rises.
	Magnitude float64
	Evidence  Evidence
}

// Severity of the finding, from its score.
func (f Finding) Severity() Severity { return SeverityFor(f.Score) }

// Evidence is what a reviewer reads: no SQL needed.
type Evidence struct {
	Summary   string         `json:"summary"`
	UserID    uint64         `json:"user_id,omitempty"`
	Magnitude float64        `json:"magnitude"`
	Signals   []Signal       `json:"signals"`
	Torrents  []TorrentRow   `json:"torrents,omitempty"`
	Series    []Series       `json:"series,omitempty"`
	Details   map[string]any `json:"details,omitempty"`
	LastSeen  time.Time      `json:"last_seen"`
}

// Signal is one number that contributed to the score.
type Signal struct {
	Name      string  `json:"name"`
	Value     float64 `json:"value"`
	Threshold float64 `json:"threshold"`
	Unit      string  `json:"unit,omitempty"`
	Fired     bool    `json:"fired"`
	Weight    float64 `json:"weight"`
	Strength  float64 `json:"strength"` // 0..1, how far past the threshold
	Note      string  `json:"note,omitempty"`
}

// TorrentRow is one line of a per-torrent breakdown.
type TorrentRow struct {
	TorrentID  uint64             `json:"torrent_id"`
	Size       uint64             `json:"size,omitempty"`
	Uploaded   uint64             `json:"uploaded"`
	Downloaded uint64             `json:"downloaded"`
	Values     map[string]float64 `json:"values,omitempty"`
}

// Series is a time series for a chart.
type Series struct {
	Name   string  `json:"name"`
	Unit   string  `json:"unit,omitempty"`
	Points []Point `json:"points"`
}

// Point is one sample of a Series.
type Point struct {
	T time.Time `json:"t"`
	V float64   `json:"v"`
}

// SplitPeriodic separates the detectors an incremental pass runs every time
// from the Periodic ones with a cadence (run once per cadence). A scheduler
// runs the two groups side by side, so a slow periodic detector never holds
// up the every-pass ones (cmd detect).
func SplitPeriodic(cfg *Config, ds []Detector) (every, periodic []Detector) {
	for _, d := range ds {
		if pd, ok := d.(Periodic); ok && pd.Cadence(cfg) > 0 {
			periodic = append(periodic, d)
		} else {
			every = append(every, d)
		}
	}
	return every, periodic
}
