// Package quality owns the detectors' quality bar: which cheat kinds each
// detector is answerable for, the bar itself, and the tables of
// docs/DETECTION.md built from `ratioguard sim eval --json` of labelled
// populations from two generators: the project's simulator (the specs in
// specs/) and popgen, written apart from it (../shared/popgen). Both are
// run end to end by scripts/detection-report.sh.
package quality

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/ratioguard/ratioguard/sim/eval"
)

// Target is what one detector answers for: recall is measured on each of
// Kinds; a flag on a member of Kinds or Related counts as right for the
// kind precision (a leaked passkey is multi-IP use of an account too).
type Target struct {
	Detector string
	Kinds    []string
	Related  []string
	// MinRecall is the recall each of Kinds must reach, beside precision ≥
	// MinPrecision; 0: the detector is not held to the bar.
	MinRecall float64
}

// Bar says whether the detector is held to the bar.
func (t Target) Bar() bool { return t.MinRecall > 0 }

// The quality bar of issue 11.
const (
	MinPrecision = 0.95 // every detector held to the bar
	// MaxHonestShare is the most honest members all detectors together may
	// report, as a share of the honest members.
	MaxHonestShare = 0.005
	// QueueK and MinQueuePrecision: the first QueueK reports of the staff
	// queue ordered by score are right at least this often.
	QueueK            = 100
	MinQueuePrecision = 0.97
)

var fakers = []string{"naive_faker", "careful_faker", "colluding_pair", "inflater"}

// Targets lists every detector's kinds, the bar detectors first.
var Targets = []Target{
	{Detector: "faked_upload", Kinds: fakers, MinRecall: 0.90},
	{Detector: "multi_ip", Kinds: []string{"shared_account"}, Related: []string{"leaked_passkey"}, MinRecall: 0.90},
	{Detector: "account_selling", Kinds: []string{"sold_account"}, MinRecall: 0.90},
	{Detector: "leaked_passkey", Kinds: []string{"leaked_passkey"}, Related: []string{"shared_account"}, MinRecall: 0.80},
	{Detector: "ghost_leecher", Kinds: []string{"ghost_leecher"}, MinRecall: 0.80},
	{Detector: "cloud_leech", Kinds: []string{"leech_service"}, Related: []string{"leaked_passkey"}, MinRecall: 0.80},
	{Detector: "nexusphp_baseline", Kinds: fakers},
	{Detector: "invite_tree", Kinds: []string{"invite_seller"}},
}

// Population is one evaluated run: its spec, the evaluation after one full
// pass over the window, the evaluation after the scheduled incremental
// passes (when they ran) and the pipeline's facts (key=value lines: timings,
// and generator, name, seed, mix, heldout).
type Population struct {
	Spec        string
	Report      eval.Report
	Incremental *eval.Report
	Times       map[string]string
}

// Generator is the population's generator: "sim" unless the facts say.
func (p Population) Generator() string {
	if g := p.Times["generator"]; g != "" {
		return g
	}
	return "sim"
}

// HeldOut says whether the population was kept out of development.
func (p Population) HeldOut() bool { return p.Times["heldout"] == "1" }

// Load reads "SPEC=EVAL.json[=FACTS]" arguments. FACTS are key=value lines;
// spec=… replaces SPEC, incremental_eval=PATH names the evaluation after the
// incremental passes.
func Load(args []string) ([]Population, error) {
	var out []Population
	for _, a := range args {
		parts := strings.Split(a, "=")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, fmt.Errorf("quality: want SPEC=EVAL.json[=FACTS], got %q", a)
		}
		p := Population{Spec: parts[0], Times: map[string]string{}}
		if err := readReport(parts[1], &p.Report); err != nil {
			return nil, err
		}
		if len(parts) == 3 {
			t, err := os.ReadFile(parts[2])
			if err != nil {
				return nil, fmt.Errorf("quality: read facts: %w", err)
			}
			for _, line := range strings.Split(strings.TrimSpace(string(t)), "\n") {
				if k, v, ok := strings.Cut(line, "="); ok {
					p.Times[strings.TrimSpace(k)] = strings.TrimSpace(v)
				}
			}
		}
		if spec := p.Times["spec"]; spec != "" {
			p.Spec = spec // how the population was made, when it does not fit in an argument (popgen's -mix has "=")
		}
		if path := p.Times["incremental_eval"]; path != "" {
			p.Incremental = new(eval.Report)
			if err := readReport(path, p.Incremental); err != nil {
				return nil, err
			}
		}
		out = append(out, p)
	}
	return out, nil
}

func readReport(path string, r *eval.Report) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("quality: read evaluation: %w", err)
	}
	if err := json.Unmarshal(b, r); err != nil {
		return fmt.Errorf("quality: parse evaluation %s: %w", path, err)
	}
	return nil
}

// KindRecall is one kind's members flagged out of those in the population.
type KindRecall struct {
	Kind          string
	Caught, Total int
}

// Recall is Caught/Total (0 without members).
func (k KindRecall) Recall() float64 {
	if k.Total == 0 {
		return 0
	}
	return float64(k.Caught) / float64(k.Total)
}

// Figures are one detector's numbers on one population.
type Figures struct {
	Flagged        int
	Honest         int     // flags on honest members
	Precision      float64 // 1 − flags on honest members / flags (sim eval's)
	KindPrecision  float64 // flags on members of its kinds (or related) / flags
	Caught, Total  int     // members of its kinds flagged / in the population
	Recall         float64
	ByKind         []KindRecall // each of the target's kinds the population has members of
	LookalikesFlag int
	minRecall      float64
}

// Covered says whether the population has members of the detector's kinds.
func (f Figures) Covered() bool { return f.Total > 0 }

// Pass reports whether the figures meet the bar: something flagged,
// precision ≥ MinPrecision and every kind the population has at or above
// the target's recall.
func (f Figures) Pass() bool {
	if f.Flagged == 0 || f.Precision < MinPrecision {
		return false
	}
	for _, k := range f.ByKind {
		if k.Recall() < f.minRecall {
			return false
		}
	}
	return true
}

// Figures computes t's figures from an evaluation.
func (t Target) Figures(r eval.Report) Figures {
	var s eval.Score
	for _, d := range r.Detectors {
		if d.Detector == t.Detector {
			s = d
		}
	}
	f := Figures{Flagged: s.Flagged, Honest: s.FalsePositives, minRecall: t.MinRecall}
	right := 0
	for _, k := range t.Kinds {
		c := s.ByKind[k]
		total := kindTotal(r, k)
		f.Caught += c.Flagged
		f.Total += total
		right += c.Flagged
		if total > 0 {
			f.ByKind = append(f.ByKind, KindRecall{Kind: k, Caught: c.Flagged, Total: total})
		}
	}
	for _, k := range t.Related {
		right += s.ByKind[k].Flagged
	}
	for _, c := range s.Lookalikes {
		f.LookalikesFlag += c.Flagged
	}
	f.Precision = ratioOr1(s.Flagged-s.FalsePositives, s.Flagged)
	f.KindPrecision = ratioOr1(right, s.Flagged)
	if f.Total > 0 {
		f.Recall = float64(f.Caught) / float64(f.Total)
	}
	return f
}

// kindTotal is how many members of kind k the population has (every
// detector's score carries the totals; a detector that flagged nobody may
// be absent).
func kindTotal(r eval.Report, k string) int {
	n := 0
	for _, d := range r.Detectors {
		n = max(n, d.ByKind[k].Total)
	}
	return n
}

// ratioOr1 is a/b, and 1 when nothing was flagged (no flag is wrong).
func ratioOr1(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// QueueFigures are the population-wide figures of the bar.
type QueueFigures struct {
	HonestFlagged int
	HonestShare   float64
	Open          int
	At            eval.PrecisionAt // at QueueK
}

// Queue computes the population-wide figures of an evaluation.
func Queue(r eval.Report) QueueFigures {
	at, _ := r.Queue.At(QueueK)
	return QueueFigures{HonestFlagged: r.HonestFlagged, HonestShare: r.HonestShare, Open: r.Queue.Open, At: at}
}

// HonestPass: honest members reported by any detector ≤ MaxHonestShare.
func (q QueueFigures) HonestPass() bool { return q.HonestShare <= MaxHonestShare }

// QueuePass: precision at QueueK ≥ MinQueuePrecision (over the whole queue
// when it is shorter).
func (q QueueFigures) QueuePass() bool { return q.At.Precision >= MinQueuePrecision }

// Name is the population's name in the tables.
func (p Population) Name() string {
	if n := p.Times["name"]; n != "" {
		return n
	}
	return strings.TrimSuffix(filepath.Base(p.Spec), filepath.Ext(p.Spec))
}

// pass is one evaluation of a population: after the full pass, or after
// the incremental passes.
type pass struct {
	pop    Population
	label  string
	report eval.Report
}

func passes(p Population) []pass {
	out := []pass{{pop: p, label: "full", report: p.Report}}
	if p.Incremental != nil {
		out = append(out, pass{pop: p, label: "incremental", report: *p.Incremental})
	}
	return out
}

var generators = map[string]struct{ title, pipeline string }{
	"sim": {"the project's simulator (`sim/`)",
		"Each population ran end to end on the real engines: fresh Postgres and ClickHouse databases, `ratioguard migrate`, " +
			"`ratioguard sim replay` (setup, then the tracker's announce core on a simulated clock) to a fresh Kafka topic, " +
			"`ratioguard ingest` until the ClickHouse loader stored the topic's end offsets, `ratioguard detect --once` over the whole " +
			"simulated window, `ratioguard sim eval --json`."},
	"popgen": {"popgen, an independently written generator (`../shared/popgen`)",
		"Each population was generated by popgen and run end to end on the real engines: fresh Postgres and ClickHouse databases, " +
			"`ratioguard migrate`, `ratioguard import site setup.json` (members with their own passkeys and classes, torrents), " +
			"`ratioguard import announces requests.jsonl` (the tracker's own frontend parser and announce core on the log's clock) to a " +
			"fresh Kafka topic, `ratioguard ingest` until the ClickHouse loader stored the topic's end offsets, " +
			"`ratioguard sim labels --popgen` (labels.json, members by name), then two evaluations from empty report tables: " +
			"**full**, one `ratioguard detect --once` pass over the whole window, and **incremental**, the scheduled passes " +
			"replayed on the log's clock (`ratioguard detect --replay-step`: the first pass full, then one incremental pass per step, " +
			"each detector over its own lookback ending at the pass), each followed by `ratioguard sim eval --json`. " +
			"Development seeds were looked at while tuning; the held-out seed was not."},
}

// Markdown writes, per generator, the populations, the bar per detector
// and population, the queue and honest-member figures, the side-by-side
// with NexusPHP's rules; then each population's full evaluation.
func Markdown(w io.Writer, pops []Population) error {
	var b strings.Builder
	var order []string
	byGen := map[string][]Population{}
	for _, p := range pops {
		g := p.Generator()
		if byGen[g] == nil {
			order = append(order, g)
		}
		byGen[g] = append(byGen[g], p)
	}
	fmt.Fprintf(&b, "## The bar\n\nfaked_upload, multi_ip and account_selling: precision ≥ %.2f and recall ≥ 0.90 for each cheat kind they cover "+
		"(naive, careful, inflater, colluder; sharer; sold); leaked_passkey, ghost_leecher and cloud_leech: precision ≥ %.2f and recall ≥ 0.80; "+
		"honest members reported by any detector ≤ %.1f %%; precision@%d of the staff queue ordered by score ≥ %.2f. "+
		"**Precision** is sim eval's: a flag on an honest member is the false positive. **Kind precision** is stricter: the share of "+
		"flags on members of the detector's own cheat kinds (or related ones, in parentheses). **Recall** is per kind, over the kinds "+
		"the population has members of. The **queue** is every open report, one entry per report (a member reported by two detectors "+
		"is two entries, as staff review them), ordered by score descending; an entry is right when its member is a cheater of any kind, "+
		"and precision@k counts the first k (the whole queue when it is shorter).\n\n",
		MinPrecision, MinPrecision, 100*MaxHonestShare, QueueK, MinQueuePrecision)
	for _, g := range order {
		section(&b, g, byGen[g])
	}
	b.WriteString("\n## Full evaluations\n\n")
	for _, p := range pops {
		for _, ps := range passes(p) {
			var e strings.Builder
			if err := ps.report.Markdown(&e); err != nil {
				return err
			}
			// One level deeper than sim eval prints, under this section.
			s := strings.ReplaceAll("\n"+e.String(), "\n### ", "\n#### ")
			s = strings.ReplaceAll(s, "\n## Detector evaluation — run "+ps.report.Run+"\n",
				fmt.Sprintf("\n### %s — %s (run %s, %s pass)\n", p.Generator(), p.Name(), ps.report.Run, ps.label))
			b.WriteString(s[1:] + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func section(b *strings.Builder, gen string, pops []Population) {
	g, ok := generators[gen]
	if !ok {
		g.title = gen
	}
	fmt.Fprintf(b, "## Quality bar on %s\n\n", g.title)
	if g.pipeline != "" {
		b.WriteString(g.pipeline)
		for _, p := range pops {
			if gen == "sim" && p.Incremental != nil {
				b.WriteString(" The **incremental** rows are the scheduled passes replayed on the simulated clock (`ratioguard detect --replay-step`) from empty report tables.")
				break
			}
		}
		b.WriteString("\n\n")
	}
	populationTable(b, gen, pops)
	summary(b, pops)
	detectorTable(b, pops)
	baseline(b, pops)
	switch gen {
	case "sim":
		b.WriteString(simLimits)
	case "popgen":
		b.WriteString(popgenLimits)
	}
}

// failures lists the detector errors the pipeline recorded.
func failures(b *strings.Builder, pops []Population) {
	for _, p := range pops {
		for _, k := range []struct{ key, what string }{{"detect_errors", "full pass"}, {"incremental_errors", "incremental passes"}} {
			if e := p.Times[k.key]; e != "" {
				fmt.Fprintf(b, "**%s, %s: detectors failed** — %s\n\n", p.Name(), k.what, e)
			}
		}
	}
}

func populationTable(b *strings.Builder, gen string, pops []Population) {
	defer failures(b, pops)
	if gen == "sim" {
		incremental := false
		for _, p := range pops {
			incremental = incremental || p.Incremental != nil
		}
		b.WriteString("| population | spec | members | cheaters | announces | replay s | ingest s | detect s |")
		if incremental {
			b.WriteString(" incremental passes |")
		}
		b.WriteString("\n|---|---|---:|---:|---:|---:|---:|---:|")
		if incremental {
			b.WriteString("---|")
		}
		b.WriteString("\n")
		for _, p := range pops {
			fmt.Fprintf(b, "| %s | `%s` | %d | %d | %s | %s | %s | %s |", p.Name(), p.Spec, p.Report.Members, p.Report.Cheaters,
				p.Times["events"], p.Times["replay_s"], p.Times["ingest_s"], p.Times["detect_s"])
			if incremental {
				fmt.Fprintf(b, " %s |", incrementalCell(p))
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
		return
	}
	b.WriteString("| population | role | generated by | members | cheaters | announces | import s | ingest s | full pass s | incremental passes |\n" +
		"|---|---|---|---:|---:|---:|---:|---:|---:|---|\n")
	for _, p := range pops {
		role := "development"
		if p.HeldOut() {
			role = "**held out**"
		}
		fmt.Fprintf(b, "| %s | %s | `%s` | %d | %d | %s | %s | %s | %s | %s |\n", p.Name(), role, p.Spec, p.Report.Members, p.Report.Cheaters,
			p.Times["events"], p.Times["import_s"], p.Times["ingest_s"], p.Times["detect_s"], incrementalCell(p))
	}
	b.WriteString("\n")
}

func incrementalCell(p Population) string {
	if p.Incremental == nil {
		return "not run"
	}
	return fmt.Sprintf("%s every %s, %s s", p.Times["incremental_passes"], p.Times["incremental_step"], p.Times["incremental_s"])
}

// summary is one row per population and pass: the bar, item by item.
func summary(b *strings.Builder, pops []Population) {
	b.WriteString("Bar by population (precision / lowest recall of a kind the population has; ✓ met, ✗ not met, — no member of its kinds):\n\n| population | pass |")
	var bar []Target
	for _, t := range Targets {
		if t.Bar() {
			bar = append(bar, t)
			fmt.Fprintf(b, " %s |", t.Detector)
		}
	}
	fmt.Fprintf(b, " honest reported (≤ %.1f %%) | precision@%d (≥ %.2f) |\n|---|---|%s---:|---:|\n", 100*MaxHonestShare, QueueK, MinQueuePrecision, strings.Repeat("---|", len(bar)))
	for _, p := range pops {
		for _, ps := range passes(p) {
			name := p.Name()
			if p.HeldOut() {
				name += " (held out)"
			}
			fmt.Fprintf(b, "| %s | %s |", name, ps.label)
			for _, t := range bar {
				f := t.Figures(ps.report)
				if !f.Covered() {
					b.WriteString(" — |")
					continue
				}
				low := 1.0
				for _, k := range f.ByKind {
					low = min(low, k.Recall())
				}
				fmt.Fprintf(b, " %.2f / %.2f %s |", f.Precision, low, mark(f.Pass()))
			}
			q := Queue(ps.report)
			fmt.Fprintf(b, " %d = %.2f %% %s | %s %s |\n", q.HonestFlagged, 100*q.HonestShare, mark(q.HonestPass()), q.At.Cell(), mark(q.QueuePass()))
		}
	}
	b.WriteString("\n")
}

func mark(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}

// detectorTable is one row per detector, population and pass.
func detectorTable(b *strings.Builder, pops []Population) {
	b.WriteString("| detector | kinds (related) | population | pass | flagged | on honest | precision | kind precision | recall by kind | look-alikes flagged | bar |\n" +
		"|---|---|---|---|---:|---:|---:|---:|---|---:|---|\n")
	for _, t := range Targets {
		for _, p := range pops {
			for _, ps := range passes(p) {
				f := t.Figures(ps.report)
				bar := ""
				if t.Bar() && f.Covered() {
					bar = "**met**"
					if !f.Pass() {
						bar = "**not met**"
					}
				}
				kinds := strings.Join(t.Kinds, ", ")
				if len(t.Related) > 0 {
					kinds += " (" + strings.Join(t.Related, ", ") + ")"
				}
				var rec []string
				for _, k := range f.ByKind {
					rec = append(rec, fmt.Sprintf("%s %d/%d", k.Kind, k.Caught, k.Total))
				}
				recall := "no members"
				if len(rec) > 0 {
					recall = strings.Join(rec, ", ")
				}
				fmt.Fprintf(b, "| %s | %s | %s | %s | %d | %d | %.2f | %.2f | %s | %d | %s |\n", t.Detector, kinds, p.Name(), ps.label,
					f.Flagged, f.Honest, f.Precision, f.KindPrecision, recall, f.LookalikesFlag, bar)
			}
		}
	}
}

// baseline compares faked_upload with NexusPHP's inline rules per kind
// (full passes), over the cheat kinds the populations have members of.
func baseline(b *strings.Builder, pops []Population) {
	b.WriteString("\n### Side by side: NexusPHP's inline rules (baseline) and ours\n\nMembers of each cheat kind flagged (flagged/total) and honest members flagged, full pass.\n\n")
	dets := []string{"nexusphp_baseline", "faked_upload", "multi_ip", "account_selling", "any"}
	var kinds []string
	for _, k := range []string{"naive_faker", "careful_faker", "colluding_pair", "inflater", "shared_account", "sold_account", "leaked_passkey", "leech_service", "ghost_leecher"} {
		for _, p := range pops {
			if kindTotal(p.Report, k) > 0 {
				kinds = append(kinds, k)
				break
			}
		}
	}
	b.WriteString("| population | detector |")
	for _, k := range kinds {
		b.WriteString(" " + k + " |")
	}
	b.WriteString(" honest flagged |\n|---|---|" + strings.Repeat("---:|", len(kinds)+1) + "\n")
	for _, p := range pops {
		byName := map[string]eval.Score{}
		for _, s := range p.Report.Detectors {
			byName[s.Detector] = s
		}
		for _, d := range dets {
			s, ok := byName[d]
			fmt.Fprintf(b, "| %s | %s |", p.Name(), d)
			for _, k := range kinds {
				fmt.Fprintf(b, " %d/%d |", s.ByKind[k].Flagged, kindTotal(p.Report, k))
			}
			hon := "0"
			if ok {
				hon = strconv.Itoa(s.FalsePositives)
			}
			fmt.Fprintf(b, " %s |\n", hon)
		}
	}
	// What the baseline misses that faked_upload catches, summed.
	miss := map[string][2]int{}
	for _, p := range pops {
		var nx, fu eval.Score
		for _, s := range p.Report.Detectors {
			switch s.Detector {
			case "nexusphp_baseline":
				nx = s
			case "faked_upload":
				fu = s
			}
		}
		for _, k := range fakers {
			if kindTotal(p.Report, k) == 0 {
				continue
			}
			m := miss[k]
			m[0] += nx.ByKind[k].Flagged
			m[1] += fu.ByKind[k].Flagged
			miss[k] = m
		}
	}
	keys := make([]string, 0, len(miss))
	for k := range miss {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b.WriteString("\nFakers caught over all these populations, baseline vs faked_upload:")
	for _, k := range keys {
		fmt.Fprintf(b, " %s %d vs %d;", k, miss[k][0], miss[k][1])
	}
	b.WriteString("\n")
}

// popgenLimits is what the popgen figures cannot show by themselves,
// measured on the development seeds (1, 2, 3, 7, 29, 43; 11 for size).
const popgenLimits = `
### Reading the figures: what no detector can see

- **Inflaters are what conservation sees, and only that.** A real client reporting 1.5–3× its real upload leaves
  an excess of (k−1)/k of its claims in each swarm it uploads to; its share of a swarm's upload is small (median
  4.7 % on seed 1), and in 7 of 10 inflaters the inflation begins after the window opens. Honest swarms do not
  balance exactly, and most of their imbalance was timing: a leecher takes a whole copy in minutes just before a
  bucket boundary and announces its completion at once, while its seeders announce that upload up to half an hour
  later, and a delta shared in proportion to time put part of it where nobody downloaded. Since session 7 an upload
  delta that straddles a boundary is shared by when the swarm's leechers downloaded (the download profile). Over
  6-hour bucket-torrents with no labelled cheater among their members that acquired 1 GiB or more, |excess| ÷ acquired
  went at the 90th percentile from 6.1 % to 0.8 % (seed 1), 6.4 → 0.6 % (seed 2), 6.7 → 0.6 % (seed 29), 20.8 → 3.0 %
  (the simulator's qual-c), and at the 99th from 41–46 % to 8–13 % (58 → 22 % on qual-c). That let the noise model
  narrow from 0.02 / 0.02 / 64 MiB to 0.015 / 0.01 / 32 MiB. Narrower still was measured and not landed: at 0.01 /
  0.005 / 16 MiB the fit over the whole window (the report's full pass) found 232 of 394 inflaters on six seeds
  with no honest member, but the scheduled passes — a 7-day window fitted again every hour, so many more chances
  for an honest swarm's excursion to cross the bar — reported 7 honest members on seed 1 (0.6 %) and 4 on seed 2.
  At 0.015 / 0.01 / 32 MiB the scheduled passes (replayed every 8 h, the fit alone) reported none on seeds 1, 2, 3
  and 7 and 4 and 3 on seeds 29 and 43, three of them on evidence in one swarm that persisted for days on the
  ` + "`balance_z_days`" + ` route, which now needs 3.5 noise widths (was 2.5): 2 and 2 remain. The honest members the fit
  blamed at the narrower widths on the full pass (1–2 per simulator population, 2 on the 10,000-member seed 11)
  each had less than one copy of the torrent unexplained, in one bucket of one swarm — a leecher nobody saw takes
  at most one copy — so evidence in one swarm now needs more than a whole copy unexplained there on the
  ` + "`balance_z_single`" + ` route as on the ` + "`balance_z_days`" + ` one. Measured with the fit alone (full pass), inflaters went from
  22 to 25 of 40 (seed 1), 28 → 30 / 65 (2), 11 → 12 / 24 (3), 21 → 29 / 57 (7), 54 → 62 / 124 (29), 45 → 46 / 84 (43),
  115 → 136 / 287 (the 10,000-member seed 11), the simulator's careful fakers 3 → 3 / 10, 2 → 4 / 12, 2 → 2 / 10,
  with no honest member on those ten populations. Still missed (seeds 1 and 7): small uploaders (under about 5 GiB announced, so under the 2 GiB
  reporting floor or 4 noise widths); inflaters whose swarms are crowded by naive fakers, which pick the busiest
  torrents and explain the swarm's excess first (seed 1: α 0.00 on 134 GiB uploaded, 121 GiB of it on one
  52 GiB torrent whose swarm shows 19 TiB of excess); and inflaters in swarms short of upload, where a leaked
  passkey's refused strangers download from each other (their acquisition counts, their upload is never credited)
  and the deficit absorbs the inflater's excess (seed 7: α 0.00 on 62.6 GiB). Counting refused peers' acquisition
  is deliberate: dropping it would blame the honest seeders those strangers took their copies from. Tried and not
  landed (development populations, full pass): 0.005 / 0.003 / 8 MiB, +22 inflaters over 0.01 / 0.005 / 16 MiB
  but honest members reported on seed 2, qual-a and seed 11; lower floors and bars (1 GiB or 512 MiB, z 3.5, 2
  without the hardest torrent or days) +0–3 per population and an honest member on qual-a at 1 GiB; earlier
  sessions: a slack per bucket boundary absorbs inflaters' excess, a change point +1–2, other members' fitted fake
  bytes as noise loses careful fakers, 24-hour buckets, noise from each member's own bytes and refused peers'
  counter upload counted all worse.
- **Sold accounts without a past.** The old owner of a sold account is silent at least 10 days before the sale; when
  the sale comes late in the window, the old owner never announces in it (popgen: the old owner is visible only
  in windows of 14 days or more), and the new owner is indistinguishable from a new member. On seed 7, 3 of the 4
  sold accounts not reported had no announce before the sale, the fourth one announce after it.
- **Invite sellers are not labelled by popgen** (its sellers are ordinary members who invited the accounts later
  sold). invite_tree counts only staff-confirmed invitee reports by default, so it reports nobody in these
  automated runs; with ` + "`invite_tree.count_open`" + ` set to high and critical it reports those sellers.
`

// simLimits is what the sim figures cannot show by themselves.
const simLimits = `
### Reading the figures: what no detector can see

- **Cheaters whose cheat left no traffic.** A careful faker's tool and a shared account's extra users start with no
  torrents (sim/population clones the agent without its seeds); one that grabs nothing before the run ends never
  announces, and a careful faker that never uploads fakes nothing. Such members stay labelled cheaters and count as
  misses. The specs start cheating at 30–60 % of the run and use 1 grab a day so that most cheaters act; in earlier
  runs with cheating from 40–70 % and 0.6 grabs a day, 3 of 10 careful fakers and 2 of 10 shared accounts of one
  population had no cheat announce at all. (popgen labels a member only for what its traffic shows.)
- **Shared accounts used one at a time.** When the owner's client goes idle for days and the sharer's starts, the
  traffic is sequential, like travel; multi-IP sharing (concurrent sites) cannot tell it from a member on a trip.
- **Sold accounts without a past.** A sale is a change point: with no announce before it (a sale at the very start
  of the data), the new owner is indistinguishable from a new member. The specs keep every sale after some history.
- **Leaked passkeys and leech services look like sales** when the owner happens to be idle for days before the
  strangers appear (one clean change of network and client after a silence); they are cheaters, so eval counts
  them right, but the kind precision of account_selling shows them.
- **Careful fakers that fake little.** A careful faker here adds 100–600 KiB/s to its real upload, and only while
  real leechers are present: over a run that is a few GiB spread over swarms whose honest imbalance (lost
  ` + "`stopped`" + ` announces, counter resets, ghost leechers) is of the same order. Swarm conservation reports those whose
  unexplained upload stands out across several swarms; the rest are missed. Their client fingerprint is
  stylistic and never reports a member on its own.
- **NexusPHP's inline rules at their default level catch nothing here**: the simulated fakers stay far below
  100 MiB/s (naive ones fake 0.5–5 MiB/s), and level 1 has no leecher-based rule.
`
