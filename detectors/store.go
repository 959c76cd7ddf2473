package detectors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Outcome is what Store.Upsert did with a finding.
type Outcome string

// Outcomes of Store.Upsert.
const (
	Inserted   Outcome = "inserted"   // a new open report
	Updated    Outcome = "updated"    // the open report took the new, at least as strong, evidence
	Touched    Outcome = "touched"    // the open report keeps its stronger evidence; last_seen moved
	Suppressed Outcome = "suppressed" // dismissed or confirmed before, and not materially worse
)

// Store writes findings as cheat reports in Postgres.
type Store struct {
	PG *pgxpool.Pool
	// MaterialIncrease is the magnitude factor that reopens a reviewed report.
	MaterialIncrease float64
}

// Upsert applies the one-open-report rule: an open report for the same
// detector and subject is updated (its window widened; its score and
// evidence replaced when the new score is at least as high, else only
// last_seen moves); a subject whose latest report was dismissed or confirmed
// gets a new open report only when the finding is materially worse (a
// higher severity, or a magnitude MaterialIncrease times larger).
func (s *Store) Upsert(ctx context.Context, f Finding) (Outcome, error) {
	outs, err := s.UpsertAll(ctx, []Finding{f})
	if err != nil {
		return "", err
	}
	return outs[0], nil
}

// UpsertAll applies Upsert's rule to every finding in one transaction (one
// commit per detector pass instead of one per report). When a concurrent
// writer opened a report for one of the subjects first, the whole batch is
// retried.
func (s *Store) UpsertAll(ctx context.Context, fs []Finding) ([]Outcome, error) {
	evs := make([][]byte, len(fs))
	for i := range fs {
		f := &fs[i]
		f.Evidence.Magnitude = f.Magnitude
		f.Evidence.UserID = f.UserID
		if f.Evidence.LastSeen.IsZero() {
			f.Evidence.LastSeen = f.WindowEnd
		}
		ev, err := json.Marshal(f.Evidence)
		if err != nil {
			return nil, fmt.Errorf("encode evidence of %s %s/%s: %w", f.Detector, f.Kind, f.SubjectID, err)
		}
		evs[i] = ev
	}
	if len(fs) == 0 {
		return nil, nil
	}
	for attempt := 0; attempt < 3; attempt++ {
		outs, err := s.upsertBatch(ctx, fs, evs)
		if errors.Is(err, errRaced) {
			continue
		}
		return outs, err
	}
	return nil, fmt.Errorf("upsert %d reports of %s: concurrent writers kept racing", len(fs), fs[0].Detector)
}

var errRaced = errors.New("report changed concurrently")

func (s *Store) upsertBatch(ctx context.Context, fs []Finding, evs [][]byte) (outs []Outcome, err error) {
	tx, err := s.PG.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin report upsert: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(ctx)
		}
	}()
	outs = make([]Outcome, len(fs))
	for i, f := range fs {
		if outs[i], err = s.upsertTx(ctx, tx, f, evs[i]); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("commit report upsert: %w", err)
	}
	return outs, nil
}

func (s *Store) upsertTx(ctx context.Context, tx pgx.Tx, f Finding, ev []byte) (Outcome, error) {
	key := []any{f.Detector, string(f.Kind), f.SubjectID}
	sev := f.Severity()
	var id int64
	var oldScore, oldMag float64
	var oldSev string
	err := tx.QueryRow(ctx, sqlText("pg_open_report"), key...).Scan(&id, &oldScore, &oldSev, &oldMag)
	switch {
	case err == nil:
		out := Updated
		if f.Score >= oldScore {
			_, err = tx.Exec(ctx, sqlText("pg_replace_report"), id, f.WindowStart, f.WindowEnd, f.Score, string(sev), ev)
		} else {
			_, err = tx.Exec(ctx, sqlText("pg_touch_report"), id, f.WindowEnd, f.WindowEnd.UTC().Format(time.RFC3339))
			out = Touched
		}
		if err != nil {
			return "", fmt.Errorf("update open report %d: %w", id, err)
		}
		return out, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return "", fmt.Errorf("read open report %s %s/%s: %w", f.Detector, f.Kind, f.SubjectID, err)
	}
	var status string
	err = tx.QueryRow(ctx, sqlText("pg_last_reviewed"), key...).Scan(&status, &oldSev, &oldMag)
	switch {
	case err == nil:
		worse := sev.Rank() > Severity(oldSev).Rank() || f.Magnitude >= oldMag*s.factor() && f.Magnitude > oldMag
		if !worse {
			return Suppressed, nil
		}
	case !errors.Is(err, pgx.ErrNoRows):
		return "", fmt.Errorf("read reviewed report %s %s/%s: %w", f.Detector, f.Kind, f.SubjectID, err)
	}
	err = tx.QueryRow(ctx, sqlText("pg_insert_report"), f.Detector, string(f.Kind), f.SubjectID,
		f.WindowStart, f.WindowEnd, f.Score, string(sev), ev).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", errRaced
	}
	if err != nil {
		return "", fmt.Errorf("insert report %s %s/%s: %w", f.Detector, f.Kind, f.SubjectID, err)
	}
	return Inserted, nil
}

func (s *Store) factor() float64 {
	if s.MaterialIncrease < 1 {
		return 1.5
	}
	return s.MaterialIncrease
}

// Report is one cheat_reports row.
type Report struct {
	ID          int64           `json:"id"`
	Detector    string          `json:"detector"`
	SubjectKind string          `json:"subject_kind"`
	SubjectID   string          `json:"subject_id"`
	WindowStart time.Time       `json:"window_start"`
	WindowEnd   time.Time       `json:"window_end"`
	Score       float64         `json:"score"`
	Severity    string          `json:"severity"`
	Evidence    json.RawMessage `json:"evidence"`
	Status      string          `json:"status"`
	Note        string          `json:"note"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// List returns reports, newest first, filtered by status and detector ("" = any).
func (s *Store) List(ctx context.Context, status, detector string, limit int) ([]Report, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.PG.Query(ctx, sqlText("pg_list_reports"), status, detector, limit)
	if err != nil {
		return nil, fmt.Errorf("list cheat reports: %w", err)
	}
	defer rows.Close()
	var out []Report
	for rows.Next() {
		var r Report
		if err := rows.Scan(&r.ID, &r.Detector, &r.SubjectKind, &r.SubjectID, &r.WindowStart, &r.WindowEnd,
			&r.Score, &r.Severity, &r.Evidence, &r.Status, &r.Note, &r.CreatedAt, &r.UpdatedAt); err != nil {
			return nil, fmt.Errorf("scan cheat report: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list cheat reports: %w", err)
	}
	return out, nil
}
