package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ratioguard/ratioguard/detectors"
)

var (
	sqlDetectorSettings     = query("detector_settings")
	sqlLockDetectorSettings = query("lock_detector_settings")
	sqlSetDetectorSetting   = query("set_detector_setting")
)

// ThresholdRow is one detector threshold as admins see it: the built-in
// default, the value after detect's config file, the override stored from
// this console (nil: none) and the value detectors use.
type ThresholdRow struct {
	Key       string  `json:"key"`
	Field     string  `json:"field"`
	Kind      string  `json:"kind"`
	Default   string  `json:"default"`
	File      string  `json:"file"`
	Override  *string `json:"override"`
	Effective string  `json:"effective"`
}

// ThresholdSection is one section of the detector config with the
// description of the detector it tunes.
type ThresholdSection struct {
	Section   string         `json:"section"`
	Detector  string         `json:"detector,omitempty"`
	Title     string         `json:"title"`
	Catches   string         `json:"catches"`
	Signals   []string       `json:"signals,omitempty"`
	UpdatedBy string         `json:"updated_by,omitempty"`
	UpdatedAt *time.Time     `json:"updated_at,omitempty"`
	Rows      []ThresholdRow `json:"thresholds"`
}

// DetectorThresholds is every threshold by section. Invalid says why the
// stored overrides cannot apply (then Effective shows the file's values,
// what a starting detect uses; a running one keeps its last valid set).
type DetectorThresholds struct {
	Sections []ThresholdSection `json:"sections"`
	Invalid  string             `json:"invalid,omitempty"`
}

// storedSettings are detector_settings rows: the overrides and who last
// changed each section when.
type storedSettings struct {
	overrides detectors.Overrides
	by        map[string]string
	at        map[string]time.Time
}

func readSettings(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) (storedSettings, error) {
	st := storedSettings{overrides: detectors.Overrides{}, by: map[string]string{}, at: map[string]time.Time{}}
	rows, err := q.Query(ctx, sqlDetectorSettings)
	if err != nil {
		return st, fmt.Errorf("read detector settings: %w", err)
	}
	var section, by string
	var at time.Time
	var ov map[string]json.RawMessage
	_, err = pgx.ForEachRow(rows, []any{&section, &ov, &by, &at}, func() error {
		st.overrides[section], st.by[section], st.at[section] = ov, by, at
		ov = nil
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("read detector settings: %w", err)
	}
	return st, nil
}

// DetectorThresholds lists every threshold over file (detect's config:
// defaults ← its config file).
func (s *Store) DetectorThresholds(ctx context.Context, file *detectors.Config) (DetectorThresholds, error) {
	st, err := readSettings(ctx, s.pool)
	if err != nil {
		return DetectorThresholds{}, err
	}
	var out DetectorThresholds
	eff, err := detectors.Apply(file, st.overrides)
	if err != nil {
		out.Invalid, eff = err.Error(), file
	}
	docs := map[string]detectors.Doc{}
	for _, d := range detectors.All() {
		docs[d.Name()] = d.Doc()
	}
	def := detectors.DefaultConfig()
	idx := map[string]int{}
	for _, th := range detectors.Thresholds() {
		i, ok := idx[th.Section]
		if !ok {
			i = len(out.Sections)
			idx[th.Section] = i
			sec := ThresholdSection{Section: th.Section, Detector: th.Detector, UpdatedBy: st.by[th.Section]}
			if at, ok := st.at[th.Section]; ok {
				sec.UpdatedAt = &at
			}
			if doc, ok := docs[th.Detector]; ok {
				sec.Title, sec.Catches, sec.Signals = doc.Title, doc.Catches, doc.Signals
			} else {
				sec.Title = "Reporting (every detector)"
				sec.Catches = "scores at or above report_threshold become reports; a dismissed report reopens when its evidence grows material_increase times or its severity rises"
			}
			out.Sections = append(out.Sections, sec)
		}
		row := ThresholdRow{Key: th.Key, Field: th.Field, Kind: th.Kind, Default: th.Format(def), File: th.Format(file), Effective: th.Format(eff)}
		if raw, ok := st.overrides[th.Section][th.Field]; ok {
			text := overrideText(raw)
			row.Override = &text
		}
		out.Sections[i].Rows = append(out.Sections[i].Rows, row)
	}
	return out, nil
}

// overrideText is a stored JSON value as an admin types it.
func overrideText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return strings.Join(list, ", ")
	}
	return string(raw)
}

// SetThreshold stores an override of one threshold (value nil: removes it,
// back to the file's value) after validating the whole config it makes, with
// its audit row. Detectors use it from their next pass.
func (s *Store) SetThreshold(ctx context.Context, actor Staff, file *detectors.Config, key string, value *string, reason string) (ThresholdRow, error) {
	th, ok := detectors.LookupThreshold(strings.TrimSpace(key))
	if !ok {
		return ThresholdRow{}, InputError{fmt.Sprintf("there is no detector threshold %q", key)}
	}
	var raw json.RawMessage
	if value != nil {
		var err error
		if raw, err = th.Parse(*value); err != nil {
			return ThresholdRow{}, InputError{err.Error()}
		}
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return ThresholdRow{}, fmt.Errorf("set threshold %s: %w", th.Key, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	if _, err := tx.Exec(ctx, sqlLockDetectorSettings); err != nil {
		return ThresholdRow{}, fmt.Errorf("set threshold %s: %w", th.Key, err)
	}
	st, err := readSettings(ctx, tx)
	if err != nil {
		return ThresholdRow{}, err
	}
	section := st.overrides[th.Section]
	if section == nil {
		section = map[string]json.RawMessage{}
		st.overrides[th.Section] = section
	}
	old, had := section[th.Field]
	before, _ := detectors.Apply(file, st.overrides) // nil when already invalid
	action := "detector_threshold.set"
	if value == nil {
		if !had {
			return ThresholdRow{}, InputError{fmt.Sprintf("%s has no override to reset", th.Key)}
		}
		delete(section, th.Field)
		action = "detector_threshold.reset"
	} else {
		section[th.Field] = raw
	}
	cfg, err := detectors.Apply(file, st.overrides)
	if err != nil {
		return ThresholdRow{}, InputError{fmt.Sprintf("%s refused: %v", th.Key, strings.TrimPrefix(err.Error(), "detector settings: "))}
	}
	obj, err := json.Marshal(section)
	if err != nil {
		return ThresholdRow{}, fmt.Errorf("set threshold %s: %w", th.Key, err)
	}
	if _, err := tx.Exec(ctx, sqlSetDetectorSetting, th.Section, obj, "staff:"+actor.Name); err != nil {
		return ThresholdRow{}, fmt.Errorf("set threshold %s: %w", th.Key, err)
	}
	b := map[string]any{"override": nil}
	if had {
		b["override"] = old
	}
	if before != nil {
		b["effective"] = th.Format(before)
	}
	a := map[string]any{"override": raw, "effective": th.Format(cfg)}
	if value == nil {
		a["override"] = nil
	}
	bj, _ := json.Marshal(b)
	aj, _ := json.Marshal(a)
	if _, err := tx.Exec(ctx, sqlInsertAudit, "staff:"+actor.Name, action, "detector_threshold", th.Key, strings.TrimSpace(reason), bj, aj); err != nil {
		return ThresholdRow{}, fmt.Errorf("audit threshold %s: %w", th.Key, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return ThresholdRow{}, fmt.Errorf("set threshold %s: %w", th.Key, err)
	}
	row := ThresholdRow{Key: th.Key, Field: th.Field, Kind: th.Kind, Default: th.Format(detectors.DefaultConfig()), File: th.Format(file), Effective: th.Format(cfg)}
	if value != nil {
		text := overrideText(raw)
		row.Override = &text
	}
	return row, nil
}

// thresholdRoutes are the detector thresholds page and its JSON twin.
func (s *Server) thresholdRoutes() []route {
	return []route{
		{"GET", "/admin/thresholds", RoleAdmin, func(w http.ResponseWriter, r *http.Request) { s.renderThresholds(w, r, http.StatusOK, "", "", "") }},
		{"POST", "/admin/thresholds", RoleAdmin, s.thresholdForm(false)},
		{"POST", "/admin/thresholds/reset", RoleAdmin, s.thresholdForm(true)},
		{"GET", "/api/admin/thresholds", RoleAdmin, s.thresholdsAPI},
		{"POST", "/api/admin/thresholds", RoleAdmin, s.thresholdAPI(false)},
		{"POST", "/api/admin/thresholds/reset", RoleAdmin, s.thresholdAPI(true)},
	}
}

// renderThresholds is the page, with an error about the threshold key and
// what was typed for it kept in its field.
func (s *Server) renderThresholds(w http.ResponseWriter, r *http.Request, status int, msg, key, typed string) {
	list, err := s.store.DetectorThresholds(r.Context(), s.detectorFile)
	if err != nil {
		s.fail(w, r, statusFor(err), publicError(err), err)
		return
	}
	data := s.pageData(r, "Detector thresholds")
	data["Thresholds"], data["Error"], data["ErrorKey"], data["Typed"], data["Sections"] = list, msg, key, typed, s.settingNames()
	s.render(w, r, status, "thresholds", data)
}

func (s *Server) thresholdForm(reset bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		key, typed := r.PostFormValue("key"), r.PostFormValue("value")
		value := &typed
		if reset {
			value = nil
		}
		if _, err := s.store.SetThreshold(r.Context(), staffOf(r), s.detectorFile, key, value, r.PostFormValue("reason")); err != nil {
			s.renderThresholds(w, r, statusFor(err), publicError(err), key, typed)
			return
		}
		http.Redirect(w, r, "/admin/thresholds#"+key, http.StatusSeeOther)
	}
}

func (s *Server) thresholdsAPI(w http.ResponseWriter, r *http.Request) {
	list, err := s.store.DetectorThresholds(r.Context(), s.detectorFile)
	if err != nil {
		s.fail(w, r, statusFor(err), publicError(err), err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

// thresholdAPI is POST /api/admin/thresholds {"key", "value", "reason"}
// (value: a string as typed on the page, a number, or a list of strings) or
// /api/admin/thresholds/reset {"key", "reason"}.
func (s *Server) thresholdAPI(reset bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Key    string          `json:"key"`
			Value  json.RawMessage `json:"value"`
			Reason string          `json:"reason"`
		}
		shape := `{"key": ..., "value": ..., "reason": ...}`
		if reset {
			shape = `{"key": ..., "reason": ...}`
		}
		if !s.decodeJSON(w, r, &in, shape) {
			return
		}
		var value *string
		switch {
		case reset && in.Value != nil:
			s.fail(w, r, http.StatusBadRequest, "a reset takes no value: body must be JSON "+shape, nil)
			return
		case !reset && len(bytes.TrimSpace(in.Value)) == 0:
			s.fail(w, r, http.StatusBadRequest, "value is missing: body must be JSON "+shape, nil)
			return
		case !reset:
			text := overrideText(in.Value)
			value = &text
		}
		row, err := s.store.SetThreshold(r.Context(), staffOf(r), s.detectorFile, in.Key, value, in.Reason)
		if err != nil {
			s.fail(w, r, statusFor(err), publicError(err), err)
			return
		}
		writeJSON(w, http.StatusOK, row)
	}
}
