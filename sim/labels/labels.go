// Package labels owns the simulator's ground truth: one row per cheating
// member (kind and start time) and one per honest look-alike trait, written as
// JSON or CSV and stored in the Postgres table sim_labels, so eval can compute
// precision, recall and false positives among look-alikes.
package labels

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ratioguard/ratioguard/sim/population"
)

// Role says whether a label marks a cheater or an honest look-alike.
type Role string

// Roles.
const (
	Cheater   Role = "cheater"
	Lookalike Role = "lookalike"
)

// Label is one ground-truth fact about a member.
type Label struct {
	Run     string    `json:"run"`
	UserID  uint64    `json:"user_id"`
	Passkey string    `json:"passkey"`
	Name    string    `json:"name"`
	Role    Role      `json:"role"`
	Kind    string    `json:"kind"`
	Start   time.Time `json:"start"`             // cheating starts; the run start for look-alikes
	Partner uint64    `json:"partner,omitempty"` // the other member of a colluding pair
}

// Set is the ground truth of one run plus the size of the population (to
// count honest members).
type Set struct {
	Run     string  `json:"run"`
	Members int     `json:"members"`
	Labels  []Label `json:"labels"`
}

// FromPopulation lists the labels of a population, sorted by user and kind.
func FromPopulation(run string, p *population.Population) Set {
	s := Set{Run: run, Members: len(p.Members)}
	for _, m := range p.Members {
		if m.Cheat != "" {
			l := Label{Run: run, UserID: m.ID, Passkey: m.Passkey, Name: m.Name, Role: Cheater, Kind: string(m.Cheat), Start: m.CheatStart.UTC()}
			if m.Partner != nil {
				l.Partner = m.Partner.ID
			}
			s.Labels = append(s.Labels, l)
		}
		for _, k := range m.Lookalikes {
			s.Labels = append(s.Labels, Label{Run: run, UserID: m.ID, Passkey: m.Passkey, Name: m.Name, Role: Lookalike, Kind: string(k), Start: p.Start.UTC()})
		}
	}
	sort.SliceStable(s.Labels, func(i, j int) bool {
		a, b := s.Labels[i], s.Labels[j]
		if a.UserID != b.UserID {
			return a.UserID < b.UserID
		}
		return a.Kind < b.Kind
	})
	return s
}

var csvHeader = []string{"run", "user_id", "passkey", "name", "role", "kind", "start", "partner"}

// Write writes the set as JSON, or as CSV when path ends in .csv.
func (s Set) Write(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write labels: %w", err)
	}
	if strings.EqualFold(filepath.Ext(path), ".csv") {
		err = s.WriteCSV(f)
	} else {
		enc := json.NewEncoder(f)
		enc.SetIndent("", "  ")
		err = enc.Encode(s)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write labels %s: %w", path, err)
	}
	return nil
}

// WriteCSV writes one row per label with a header.
func (s Set) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, l := range s.Labels {
		partner := ""
		if l.Partner != 0 {
			partner = strconv.FormatUint(l.Partner, 10)
		}
		rec := []string{l.Run, strconv.FormatUint(l.UserID, 10), l.Passkey, l.Name, string(l.Role), l.Kind, l.Start.Format(time.RFC3339), partner}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// Read reads a set written by Write (JSON or CSV by extension). A CSV file
// does not carry the member count; members is then taken from the caller.
func Read(path string) (Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return Set{}, fmt.Errorf("read labels: %w", err)
	}
	defer f.Close()
	if strings.EqualFold(filepath.Ext(path), ".csv") {
		s, err := ReadCSV(f)
		if err != nil {
			return Set{}, fmt.Errorf("read labels %s: %w", path, err)
		}
		return s, nil
	}
	var s Set
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Set{}, fmt.Errorf("read labels %s: %w", path, err)
	}
	return s, s.validate()
}

// ReadCSV parses the CSV form.
func ReadCSV(r io.Reader) (Set, error) {
	cr := csv.NewReader(r)
	recs, err := cr.ReadAll()
	if err != nil {
		return Set{}, err
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != strings.Join(csvHeader, ",") {
		return Set{}, fmt.Errorf("missing header %v", csvHeader)
	}
	var s Set
	for i, rec := range recs[1:] {
		id, err := strconv.ParseUint(rec[1], 10, 64)
		if err != nil {
			return Set{}, fmt.Errorf("line %d: user_id %q: %w", i+2, rec[1], err)
		}
		start, err := time.Parse(time.RFC3339, rec[6])
		if err != nil {
			return Set{}, fmt.Errorf("line %d: start %q: %w", i+2, rec[6], err)
		}
		var partner uint64
		if rec[7] != "" {
			if partner, err = strconv.ParseUint(rec[7], 10, 64); err != nil {
				return Set{}, fmt.Errorf("line %d: partner %q: %w", i+2, rec[7], err)
			}
		}
		s.Run = rec[0]
		s.Labels = append(s.Labels, Label{Run: rec[0], UserID: id, Passkey: rec[2], Name: rec[3], Role: Role(rec[4]), Kind: rec[5], Start: start, Partner: partner})
	}
	return s, s.validate()
}

func (s Set) validate() error {
	for i, l := range s.Labels {
		if l.Role != Cheater && l.Role != Lookalike {
			return fmt.Errorf("label %d: role %q is neither cheater nor lookalike", i, l.Role)
		}
		if l.UserID == 0 || l.Kind == "" {
			return fmt.Errorf("label %d: user_id and kind are required", i)
		}
	}
	return nil
}
