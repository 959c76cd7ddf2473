// Package eval owns how detectors are scored against a labelled run's ground
// truth (sim/'s runs, or another generator's loaded by name): precision and
// recall per detector, recall per cheat kind, how many honest look-alikes
// (seedboxes, NAT, CGNAT, dual stack, restarts, travel, ...) each detector
// flagged, the share of honest members reported by any detector, and the
// precision at k of the staff queue ordered by score, printed as Markdown or
// JSON.
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
)

//go:embed sql/flags.sql
var flagsSQL string

// Flag is one report of one detector about one member.
type Flag struct {
	ReportID int64
	Detector string
	UserID   uint64
	Status   string // open, confirmed, dismissed
	Score    float64
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
		if err := rows.Scan(&f.ReportID, &f.Detector, &id, &f.Status, &f.Score); err != nil {
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
	// HonestFlagged is how many honest members any detector reported;
	// HonestShare is that over all honest members.
	HonestFlagged int     `json:"honest_flagged"`
	HonestShare   float64 `json:"honest_flagged_share"`
	Queue         Queue   `json:"queue"`
}

// QueueDepths are the k of the queue's precision at k.
var QueueDepths = []int{25, 50, 100, 200}

// Queue is the staff queue: every open report about the run's members, one
// entry per report, ordered by score descending (equal scores: the older
// report first). A member reported by two detectors is two entries, as staff
// review them; each is right when the member is a cheater of any kind.
type Queue struct {
	Open        int           `json:"open_reports"`
	Right       int           `json:"right"` // entries about cheaters
	PrecisionAt []PrecisionAt `json:"precision_at"`
}

// PrecisionAt is the share of right entries among the first K of the queue
// (all of them when the queue is shorter: Entries < K).
type PrecisionAt struct {
	K         int     `json:"k"`
	Entries   int     `json:"entries"`
	Right     int     `json:"right"`
	Precision float64 `json:"precision"`
}

// At returns the precision at k, and false when k was not computed.
func (q Queue) At(k int) (PrecisionAt, bool) {
	for _, p := range q.PrecisionAt {
		if p.K == k {
			return p, true
		}
	}
	return PrecisionAt{}, false
}

// queue orders the open flags by score and measures precision at each depth.
func queue(flags []Flag, cheater func(uint64) bool) Queue {
	var open []Flag
	for _, f := range flags {
		if f.Status == "open" {
			open = append(open, f)
		}
	}
	sort.SliceStable(open, func(i, j int) bool {
		if open[i].Score != open[j].Score {
			return open[i].Score > open[j].Score
		}
		return open[i].ReportID < open[j].ReportID
	})
	q := Queue{Open: len(open)}
	right := make([]int, len(open)+1) // right[n]: right entries among the first n
	for i, f := range open {
		right[i+1] = right[i]
		if cheater(f.UserID) {
			right[i+1]++
		}
	}
	q.Right = right[len(open)]
	for _, k := range QueueDepths {
		n := min(k, len(open))
		q.PrecisionAt = append(q.PrecisionAt, PrecisionAt{K: k, Entries: n, Right: right[n], Precision: ratioOr1(right[n], n)})
	}
	return q
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
	cheatKinds := withExtra(labels.CheatKinds, kindTotal)
	lookKinds := withExtra(labels.LookalikeKinds, lookTotal)
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
	r.Queue = queue(flags, func(id uint64) bool { _, ok := cheatKind[id]; return ok })
	names := make([]string, 0, len(byDet))
	for n := range byDet {
		names = append(names, n)
	}
	sort.Strings(names)
	score := func(name string, flagged map[uint64]bool) Score {
		s := Score{Detector: name, Flagged: len(flagged), ByKind: map[string]Count{}, Lookalikes: map[string]Count{}}
		for _, k := range cheatKinds {
			s.ByKind[k] = Count{Total: kindTotal[k]}
		}
		for _, k := range lookKinds {
			s.Lookalikes[k] = Count{Total: lookTotal[k]}
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
	r.HonestFlagged = r.Detectors[len(r.Detectors)-1].FalsePositives
	r.HonestShare = ratio(r.HonestFlagged, r.Honest)
	return r
}

// withExtra is the vocabulary's kinds followed by the set's kinds it lacks
// (sorted): a kind eval does not know still shows.
func withExtra(known []string, counts map[string]int) []string {
	out := append([]string(nil), known...)
	in := make(map[string]bool, len(known))
	for _, k := range known {
		in[k] = true
	}
	var extra []string
	for k := range counts {
		if !in[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	return append(out, extra...)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// ratioOr1 is a/b, and 1 for an empty queue (no entry is wrong).
func ratioOr1(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// Markdown prints the report as three tables.
func (r Report) Markdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## Detector evaluation — run %s\n\n", r.Run)
	fmt.Fprintf(&b, "%d members: %d cheaters, %d honest; %d reports considered. Honest members reported by any detector: %d = %.2f %%.\n\n",
		r.Members, r.Cheaters, r.Honest, r.Reports, r.HonestFlagged, 100*r.HonestShare)
	b.WriteString("| detector | flagged | true pos. | false pos. | precision | recall | look-alikes flagged |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range r.Detectors {
		la := 0
		for _, c := range s.Lookalikes {
			la += c.Flagged
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %.2f | %.2f | %d |\n", s.Detector, s.Flagged, s.TruePositives, s.FalsePositives, s.Precision, s.Recall, la)
	}
	r.countTable(&b, "Recall by cheat kind", labels.CheatKinds, func(s Score) map[string]Count { return s.ByKind })
	r.countTable(&b, "Honest look-alikes flagged", labels.LookalikeKinds, func(s Score) map[string]Count { return s.Lookalikes })
	fmt.Fprintf(&b, "\n### Staff queue by score (%d open reports, %d about cheaters; one entry per report)\n\n", r.Queue.Open, r.Queue.Right)
	b.WriteString("|")
	for _, p := range r.Queue.PrecisionAt {
		fmt.Fprintf(&b, " precision@%d |", p.K)
	}
	b.WriteString("\n|" + strings.Repeat("---:|", len(r.Queue.PrecisionAt)) + "\n|")
	for _, p := range r.Queue.PrecisionAt {
		fmt.Fprintf(&b, " %s |", p.Cell())
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// Cell prints the precision with its counts: "0.96 (96/100)", "1.00 (40/40 of 100)"
// when the queue is shorter than k.
func (p PrecisionAt) Cell() string {
	if p.Entries < p.K {
		return fmt.Sprintf("%.2f (%d/%d of %d)", p.Precision, p.Right, p.Entries, p.K)
	}
	return fmt.Sprintf("%.2f (%d/%d)", p.Precision, p.Right, p.Entries)
}

// countTable writes one row per detector of flagged/total per kind, for
// the kinds the run has members of.
func (r Report) countTable(b *strings.Builder, title string, known []string, counts func(Score) map[string]Count) {
	kinds := r.kinds(known, counts)
	if len(kinds) == 0 {
		fmt.Fprintf(b, "\n### %s\n\nThe run has no member of these kinds.\n", title)
		return
	}
	fmt.Fprintf(b, "\n### %s (flagged / total)\n\n| detector |", title)
	for _, k := range kinds {
		fmt.Fprintf(b, " %s |", k)
	}
	b.WriteString("\n|---|" + strings.Repeat("---:|", len(kinds)) + "\n")
	for _, s := range r.Detectors {
		fmt.Fprintf(b, "| %s |", s.Detector)
		for _, k := range kinds {
			c := counts(s)[k]
			fmt.Fprintf(b, " %d/%d |", c.Flagged, c.Total)
		}
		b.WriteString("\n")
	}
}

// kinds lists the kinds of a count map (vocabulary order) that have members
// in the run.
func (r Report) kinds(known []string, counts func(Score) map[string]Count) []string {
	if len(r.Detectors) == 0 {
		return nil
	}
	m := counts(r.Detectors[len(r.Detectors)-1])
	totals := map[string]int{}
	for k, c := range m {
		totals[k] = c.Total
	}
	var out []string
	for _, k := range withExtra(known, totals) {
		if totals[k] > 0 {
			out = append(out, k)
		}
	}
	return out
}
