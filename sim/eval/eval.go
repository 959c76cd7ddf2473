// Package eval owns how detectors are scored against a simulator run's ground
// truth: precision and recall per detector, recall per cheat kind, and how many
// honest look-alikes (seedboxes, NAT, CGNAT, dual stack, restarts, travel)
// each detector flagged, printed as Markdown or JSON.
package eval

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratioguard/ratioguard/sim/labels"
	"github.com/ratioguard/ratioguard/sim/population"
)

//go:embed sql/flags.sql
var flagsSQL string

// Flag is one detector flagging one member.
type Flag struct {
	Detector string
	UserID   uint64
	Status   string // open, confirmed, dismissed
}

// LoadFlags reads the cheat reports about a run's members.
func LoadFlags(ctx context.Context, pool *pgxpool.Pool, run string) ([]Flag, error) {
	rows, err := pool.Query(ctx, flagsSQL, run)
	if err != nil {
		return nil, fmt.Errorf("load cheat reports of run %s: %w", run, err)
	}
	defer rows.Close()
	var out []Flag
	for rows.Next() {
		var f Flag
		var id int64
		if err := rows.Scan(&f.Detector, &id, &f.Status); err != nil {
			return nil, fmt.Errorf("load cheat reports: %w", err)
		}
		f.UserID = uint64(id)
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load cheat reports: %w", err)
	}
	return out, nil
}

// Count is flagged out of total.
type Count struct {
	Total   int     `json:"total"`
	Flagged int     `json:"flagged"`
	Rate    float64 `json:"rate"`
}

// Score is one detector's (or all detectors together, "any") result.
type Score struct {
	Detector       string           `json:"detector"`
	Flagged        int              `json:"flagged_members"`
	TruePositives  int              `json:"true_positives"`
	FalsePositives int              `json:"false_positives"`
	Precision      float64          `json:"precision"`
	Recall         float64          `json:"recall"`
	ByKind         map[string]Count `json:"recall_by_kind"`
	Lookalikes     map[string]Count `json:"lookalikes_flagged"`
}

// Report is the evaluation of one run.
type Report struct {
	Run       string  `json:"run"`
	Members   int     `json:"members"`
	Cheaters  int     `json:"cheaters"`
	Honest    int     `json:"honest"`
	Reports   int     `json:"reports"`
	Detectors []Score `json:"detectors"` // sorted by name, then "any"
}

// Options tune the scoring.
type Options struct {
	// ExcludeDismissed ignores reports staff dismissed.
	ExcludeDismissed bool
}

// Evaluate scores the flags against the labels.
func Evaluate(set labels.Set, flags []Flag, opts Options) Report {
	cheatKind := map[uint64]string{}
	look := map[uint64][]string{}
	kindTotal := map[string]int{}
	lookTotal := map[string]int{}
	for _, l := range set.Labels {
		switch l.Role {
		case labels.Cheater:
			cheatKind[l.UserID] = l.Kind
		case labels.Lookalike:
			look[l.UserID] = append(look[l.UserID], l.Kind)
		}
	}
	for _, k := range cheatKind {
		kindTotal[k]++
	}
	for id, ks := range look {
		if _, cheat := cheatKind[id]; cheat {
			continue
		}
		for _, k := range ks {
			lookTotal[k]++
		}
	}
	r := Report{Run: set.Run, Members: set.Members, Cheaters: len(cheatKind), Honest: set.Members - len(cheatKind)}
	byDet := map[string]map[uint64]bool{}
	anyDet := map[uint64]bool{}
	for _, f := range flags {
		if opts.ExcludeDismissed && f.Status == "dismissed" {
			continue
		}
		r.Reports++
		if byDet[f.Detector] == nil {
			byDet[f.Detector] = map[uint64]bool{}
		}
		byDet[f.Detector][f.UserID] = true
		anyDet[f.UserID] = true
	}
	names := make([]string, 0, len(byDet))
	for n := range byDet {
		names = append(names, n)
	}
	sort.Strings(names)
	score := func(name string, flagged map[uint64]bool) Score {
		s := Score{Detector: name, Flagged: len(flagged), ByKind: map[string]Count{}, Lookalikes: map[string]Count{}}
		for _, k := range population.CheatKinds {
			s.ByKind[string(k)] = Count{Total: kindTotal[string(k)]}
		}
		for _, k := range population.LookalikeKinds {
			s.Lookalikes[string(k)] = Count{Total: lookTotal[string(k)]}
		}
		for id := range flagged {
			if k, ok := cheatKind[id]; ok {
				s.TruePositives++
				c := s.ByKind[k]
				c.Flagged++
				s.ByKind[k] = c
				continue
			}
			s.FalsePositives++
			for _, k := range look[id] {
				c := s.Lookalikes[k]
				c.Flagged++
				s.Lookalikes[k] = c
			}
		}
		s.Precision = ratio(s.TruePositives, s.Flagged)
		s.Recall = ratio(s.TruePositives, len(cheatKind))
		for k, c := range s.ByKind {
			c.Rate = ratio(c.Flagged, c.Total)
			s.ByKind[k] = c
		}
		for k, c := range s.Lookalikes {
			c.Rate = ratio(c.Flagged, c.Total)
			s.Lookalikes[k] = c
		}
		return s
	}
	for _, n := range names {
		r.Detectors = append(r.Detectors, score(n, byDet[n]))
	}
	r.Detectors = append(r.Detectors, score("any", anyDet))
	return r
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Markdown prints the report as three tables.
func (r Report) Markdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## Detector evaluation — run %s\n\n", r.Run)
	fmt.Fprintf(&b, "%d members: %d cheaters, %d honest; %d reports considered.\n\n", r.Members, r.Cheaters, r.Honest, r.Reports)
	b.WriteString("| detector | flagged | true pos. | false pos. | precision | recall | look-alikes flagged |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range r.Detectors {
		la := 0
		for _, c := range s.Lookalikes {
			la += c.Flagged
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %.2f | %.2f | %d |\n", s.Detector, s.Flagged, s.TruePositives, s.FalsePositives, s.Precision, s.Recall, la)
	}
	r.countTable(&b, "Recall by cheat kind", population.CheatKinds, func(s Score) map[string]Count { return s.ByKind })
	r.countTable(&b, "Honest look-alikes flagged", population.LookalikeKinds, func(s Score) map[string]Count { return s.Lookalikes })
	_, err := io.WriteString(w, b.String())
	return err
}

// countTable writes one row per detector of flagged/total per kind.
func (r Report) countTable(b *strings.Builder, title string, kinds []population.Kind, counts func(Score) map[string]Count) {
	fmt.Fprintf(b, "\n### %s (flagged / total)\n\n| detector |", title)
	for _, k := range kinds {
		fmt.Fprintf(b, " %s |", k)
	}
	b.WriteString("\n|---|" + strings.Repeat("---:|", len(kinds)) + "\n")
	for _, s := range r.Detectors {
		fmt.Fprintf(b, "| %s |", s.Detector)
		for _, k := range kinds {
			c := counts(s)[string(k)]
			fmt.Fprintf(b, " %d/%d |", c.Flagged, c.Total)
		}
		b.WriteString("\n")
	}
}
