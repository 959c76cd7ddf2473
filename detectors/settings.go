package detectors

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// SectionReport is the section of the top-level thresholds
// (report_threshold, material_increase) in Overrides.
const SectionReport = "report"

// Overrides are the detector settings admins stored in Postgres
// (detector_settings): section → field → JSON value. The effective config
// is DefaultConfig ← detect's config file ← Overrides (Apply).
type Overrides map[string]map[string]json.RawMessage

// Threshold is one setting admins may override: a number, whole number,
// duration or list of one detector section (or of SectionReport).
// Exemptions (staff classes, allowlists) and the geo database path are not
// thresholds: they have pages and flags of their own.
type Threshold struct {
	Section  string `json:"section"`
	Field    string `json:"field"`
	Key      string `json:"key"`      // "faked_upload.max_rate", or "report_threshold"
	Kind     string `json:"kind"`     // number, integer, duration, list
	Detector string `json:"detector"` // the detector the section tunes ("" for report)
	index    []int
}

// sectionDetectors names the detector a section tunes where the names differ.
var sectionDetectors = map[string]string{"nexusphp": "nexusphp_baseline"}

var (
	durationType = reflect.TypeOf(Duration{})
	reportFields = map[string]bool{"report_threshold": true, "material_increase": true}
)

// Thresholds lists every overridable setting in config order.
func Thresholds() []Threshold {
	var out []Threshold
	t := reflect.TypeOf(Config{})
	for i := range t.NumField() {
		f := t.Field(i)
		name := jsonName(f)
		if reportFields[name] {
			out = append(out, Threshold{Section: SectionReport, Field: name, Key: name, Kind: kindOf(f.Type), index: []int{i}})
			continue
		}
		if f.Type.Kind() != reflect.Struct || f.Type == durationType {
			continue
		}
		det := name
		if d, ok := sectionDetectors[name]; ok {
			det = d
		}
		for j := range f.Type.NumField() {
			sf := f.Type.Field(j)
			if k := kindOf(sf.Type); k != "" {
				out = append(out, Threshold{Section: name, Field: jsonName(sf), Key: name + "." + jsonName(sf), Kind: k, Detector: det, index: []int{i, j}})
			}
		}
	}
	return out
}

// LookupThreshold finds a setting by key ("multi_ip.max_sites").
func LookupThreshold(key string) (Threshold, bool) {
	for _, th := range Thresholds() {
		if th.Key == key {
			return th, true
		}
	}
	return Threshold{}, false
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}

func kindOf(t reflect.Type) string {
	switch {
	case t == durationType:
		return "duration"
	case t.Kind() == reflect.Float64:
		return "number"
	case t.Kind() == reflect.Int || t.Kind() == reflect.Uint64:
		return "integer"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		return "list"
	}
	return ""
}

// Format is the setting's value in cfg as an admin types it: "90m", "0.05",
// "-XL, -SD".
func (th Threshold) Format(cfg *Config) string {
	v := reflect.ValueOf(cfg).Elem().FieldByIndex(th.index)
	switch th.Kind {
	case "duration":
		return v.Interface().(Duration).String()
	case "number":
		return strconv.FormatFloat(v.Float(), 'f', -1, 64) // 104857600, not 1.048576e+08
	case "integer":
		if v.Kind() == reflect.Uint64 {
			return strconv.FormatUint(v.Uint(), 10)
		}
		return strconv.FormatInt(v.Int(), 10)
	default:
		return strings.Join(v.Interface().([]string), ", ")
	}
}

// Parse turns what an admin typed into the setting's JSON value, or says
// why it is not one (the key first).
func (th Threshold) Parse(text string) (json.RawMessage, error) {
	text = strings.TrimSpace(text)
	var v any
	switch th.Kind {
	case "duration":
		d, err := time.ParseDuration(text)
		if err != nil {
			return nil, fmt.Errorf("%s must be a duration like \"90m\" or \"168h\", not %q", th.Key, text)
		}
		v = d.String()
	case "number":
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("%s must be a number, not %q", th.Key, text)
		}
		v = f
	case "integer":
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s must be a whole number, not %q", th.Key, text)
		}
		if th.isUnsigned() && n < 0 {
			return nil, fmt.Errorf("%s must be >= 0, not %q", th.Key, text)
		}
		if !th.isUnsigned() && (n < math.MinInt32 || n > math.MaxInt32) {
			return nil, fmt.Errorf("%s is out of range: %q", th.Key, text)
		}
		v = n
	default:
		items := []string{}
		for s := range strings.SplitSeq(text, ",") {
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
		v = items
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", th.Key, err)
	}
	return b, nil
}

func (th Threshold) isUnsigned() bool {
	f := reflect.TypeOf(Config{}).FieldByIndex(th.index)
	return f.Type.Kind() == reflect.Uint64
}

// Apply returns a copy of base with the overrides merged in, validated: an
// unknown section or field, a value of the wrong type or a config Validate
// refuses is an error naming the setting. base is not modified.
func Apply(base *Config, ov Overrides) (*Config, error) {
	known := map[string]Threshold{}
	for _, th := range Thresholds() {
		known[th.Key] = th
	}
	js, err := json.Marshal(base)
	if err != nil {
		return nil, fmt.Errorf("copy detector config: %w", err)
	}
	cfg := &Config{}
	if err := json.Unmarshal(js, cfg); err != nil {
		return nil, fmt.Errorf("copy detector config: %w", err)
	}
	sections := make([]string, 0, len(ov))
	for s := range ov {
		sections = append(sections, s)
	}
	sort.Strings(sections)
	for _, section := range sections {
		for field, raw := range ov[section] {
			key := section + "." + field
			if section == SectionReport {
				key = field
			}
			th, ok := known[key]
			if !ok {
				return nil, fmt.Errorf("detector setting %s: not a threshold", key)
			}
			dst := reflect.ValueOf(cfg).Elem().FieldByIndex(th.index)
			dec := json.NewDecoder(strings.NewReader(string(raw)))
			if err := dec.Decode(dst.Addr().Interface()); err != nil {
				return nil, fmt.Errorf("detector setting %s: %w", key, err)
			}
		}
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("detector settings: %w", err)
	}
	return cfg, nil
}

// LoadOverrides reads detector_settings.
func LoadOverrides(ctx context.Context, pg *pgxpool.Pool) (Overrides, error) {
	rows, err := pg.Query(ctx, sqlText("pg_settings_get"))
	if err != nil {
		return nil, fmt.Errorf("read detector settings: %w", err)
	}
	out := Overrides{}
	var section string
	var fields map[string]json.RawMessage
	_, err = pgx.ForEachRow(rows, []any{&section, &fields}, func() error {
		out[section] = fields
		fields = nil
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read detector settings: %w", err)
	}
	return out, nil
}

// EffectiveConfig is base with the stored overrides applied and validated.
func EffectiveConfig(ctx context.Context, pg *pgxpool.Pool, base *Config) (*Config, error) {
	ov, err := LoadOverrides(ctx, pg)
	if err != nil {
		return nil, err
	}
	return Apply(base, ov)
}

// Reloader returns the Scheduler's Reload for r: before each pass it reads
// the stored overrides, applies them over base (defaults ← config file) and
// switches the runner to the result, then re-reads exemptions. Overrides
// that cannot be read or are invalid are logged and the runner keeps its
// last valid config: a bad row never stops detection.
func (r *Runner) Reloader(base *Config, log *slog.Logger) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if r.Env.PG != nil {
			cfg, err := EffectiveConfig(ctx, r.Env.PG, base)
			switch {
			case err != nil:
				log.Error("detector settings not applied; keeping the last valid thresholds", "err", err)
			default:
				if keys := ChangedThresholds(r.Env.Config, cfg); len(keys) > 0 {
					log.Info("detector thresholds changed", "settings", strings.Join(keys, ","))
				}
				r.Env.Config = cfg
				if r.Store != nil {
					r.Store.MaterialIncrease = cfg.MaterialIncrease
				}
			}
		}
		return r.ReloadExemptions(ctx)
	}
}

// ChangedThresholds lists the keys of the thresholds whose values differ
// between a and b (a nil a differs nowhere: nothing to compare with).
func ChangedThresholds(a, b *Config) []string {
	if a == nil || b == nil {
		return nil
	}
	var out []string
	for _, th := range Thresholds() {
		if th.Format(a) != th.Format(b) {
			out = append(out, th.Key)
		}
	}
	return out
}
