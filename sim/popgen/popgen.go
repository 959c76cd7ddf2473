// Package popgen reads the ground truth of a population written by popgen
// (../shared/popgen: an announce-traffic generator written apart from sim/,
// used to measure the detectors on a world they were not built on): the
// labels of labels.json with popgen's kind names mapped to the vocabulary of
// sim/labels, every member name of setup.json (the run's membership once
// `ratioguard import site` created them) and the time window of
// requests.jsonl. sim/setup stores them in sim_runs, sim_run_members and
// sim_labels.
package popgen

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/ratioguard/ratioguard/sim/labels"
	"github.com/ratioguard/ratioguard/sim/population"
)

// The files of a popgen output directory.
const (
	LabelsFile   = "labels.json"
	SetupFile    = "setup.json"
	RequestsFile = "requests.jsonl"
)

// kinds maps popgen's cheater kinds and look-alike tags to the vocabulary of
// sim/labels (sim/population's names where sim models the same behaviour).
var kinds = map[string]string{
	// cheaters
	"naive_faker":    string(population.NaiveFaker),
	"careful_faker":  string(population.CarefulFaker),
	"inflater":       labels.Inflater,
	"colluder":       string(population.Colluder),
	"sharer":         string(population.SharedAccount),
	"sold":           string(population.SoldAccount),
	"leaked_passkey": string(population.LeakedPasskey),
	"leech_service":  string(population.LeechService),
	"ghost_leecher":  string(population.GhostLeecher),
	// honest look-alikes
	"seedbox":      string(population.Seedbox),
	"nat":          string(population.NATHousehold),
	"cgnat":        string(population.CGNAT),
	"dualstack":    string(population.DualStack),
	"ipv6_privacy": string(population.IPv6Privacy),
	"travel":       string(population.Travel),
	"restarts":     string(population.Restarts),
	"fresh_rush":   labels.FreshRush,
	"dynamic_ip":   labels.DynamicIP,
	"dead_swarm":   labels.DeadSwarm,
}

// MapKind returns the vocabulary's name of a popgen kind or tag; a kind this
// package does not know is kept as it is (ok false), so a newer popgen's
// kind still shows in eval under its own name.
func MapKind(k string) (name string, ok bool) {
	if v, ok := kinds[k]; ok {
		return v, true
	}
	return k, false
}

// Population is what a popgen directory says about its run.
type Population struct {
	Members []string       // every member of setup.json, in its order
	Labels  []labels.Named // sorted by name, then kind
	Start   time.Time      // the first announce, truncated to the second
	End     time.Time      // after the last announce: the next whole second
	Unknown []string       // popgen kinds kept under their own name (sorted)
}

// Read reads labels.json, setup.json and the first and last lines of
// requests.jsonl of a popgen output directory.
func Read(dir string) (*Population, error) {
	p := &Population{}
	var err error
	if p.Start, p.End, err = Window(filepath.Join(dir, RequestsFile)); err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(dir, SetupFile))
	if err != nil {
		return nil, fmt.Errorf("popgen: %w", err)
	}
	p.Members, err = ReadMembers(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("popgen: %s: %w", filepath.Join(dir, SetupFile), err)
	}
	f, err = os.Open(filepath.Join(dir, LabelsFile))
	if err != nil {
		return nil, fmt.Errorf("popgen: %w", err)
	}
	p.Labels, p.Unknown, err = ReadLabels(f, p.Start)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("popgen: %s: %w", filepath.Join(dir, LabelsFile), err)
	}
	known := make(map[string]bool, len(p.Members))
	for _, m := range p.Members {
		known[m] = true
	}
	for _, l := range p.Labels {
		if !known[l.Name] {
			return nil, fmt.Errorf("popgen: %s labels %q, who is not a member in %s", LabelsFile, l.Name, SetupFile)
		}
		if l.Partner != "" && !known[l.Partner] {
			return nil, fmt.Errorf("popgen: %s gives %q the partner %q, who is not a member in %s", LabelsFile, l.Name, l.Partner, SetupFile)
		}
	}
	return p, nil
}

// ReadMembers returns the member names of a setup.json, in order.
func ReadMembers(r io.Reader) ([]string, error) {
	var setup struct {
		Members []struct {
			Name string `json:"name"`
		} `json:"members"`
	}
	if err := json.NewDecoder(r).Decode(&setup); err != nil {
		return nil, err
	}
	out := make([]string, len(setup.Members))
	seen := make(map[string]bool, len(setup.Members))
	for i, m := range setup.Members {
		if m.Name == "" {
			return nil, fmt.Errorf("member %d has no name", i)
		}
		if seen[m.Name] {
			return nil, fmt.Errorf("member %q twice", m.Name)
		}
		seen[m.Name] = true
		out[i] = m.Name
	}
	if len(out) == 0 {
		return nil, errors.New("no members")
	}
	return out, nil
}

// ReadLabels parses a labels.json: cheaters (kind, from_ts in unix seconds,
// a colluder's partner) and honest look-alikes, whose labels start at
// start. It returns the labels sorted by name and kind, and the popgen kinds
// it did not know (kept under their own name).
func ReadLabels(r io.Reader, start time.Time) ([]labels.Named, []string, error) {
	var file struct {
		Members map[string][]struct {
			Kind    string `json:"kind"`
			FromTS  *int64 `json:"from_ts"`
			Partner string `json:"partner"`
		} `json:"members"`
		Lookalikes map[string][]string `json:"honest_lookalikes"`
	}
	if err := json.NewDecoder(r).Decode(&file); err != nil {
		return nil, nil, err
	}
	if file.Members == nil && file.Lookalikes == nil {
		return nil, nil, errors.New(`neither "members" nor "honest_lookalikes"`)
	}
	unknown := map[string]bool{}
	kind := func(k string) string {
		v, ok := MapKind(k)
		if !ok {
			unknown[k] = true
		}
		return v
	}
	var out []labels.Named
	for name, cheats := range file.Members {
		for _, c := range cheats {
			if c.Kind == "" || c.FromTS == nil {
				return nil, nil, fmt.Errorf("cheater %q: kind and from_ts are required", name)
			}
			out = append(out, labels.Named{Name: name, Role: labels.Cheater, Kind: kind(c.Kind), Start: time.Unix(*c.FromTS, 0).UTC(), Partner: c.Partner})
		}
	}
	for name, tags := range file.Lookalikes {
		if _, cheat := file.Members[name]; cheat {
			return nil, nil, fmt.Errorf("%q is labelled both cheater and honest look-alike", name)
		}
		for _, t := range tags {
			if t == "" {
				return nil, nil, fmt.Errorf("look-alike %q: empty tag", name)
			}
			out = append(out, labels.Named{Name: name, Role: labels.Lookalike, Kind: kind(t), Start: start.UTC()})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Kind < out[j].Kind
	})
	var unk []string
	for k := range unknown {
		unk = append(unk, k)
	}
	sort.Strings(unk)
	return out, unk, nil
}

// Window returns the time span of a requests.jsonl (sorted by ts, unix ms):
// its first announce truncated to the second, and the whole second after its
// last. Only the first line and the file's tail are read.
func Window(path string) (start, end time.Time, err error) {
	f, err := os.Open(path)
	if err != nil {
		return start, end, fmt.Errorf("popgen: %w", err)
	}
	defer f.Close()
	first, err := bufio.NewReader(f).ReadBytes('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return start, end, fmt.Errorf("popgen: read %s: %w", path, err)
	}
	t0, err := lineTS(first)
	if err != nil {
		return start, end, fmt.Errorf("popgen: %s line 1: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		return start, end, fmt.Errorf("popgen: %w", err)
	}
	const tail = 64 << 10
	off := max(st.Size()-tail, 0)
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return start, end, fmt.Errorf("popgen: read %s: %w", path, err)
	}
	lines := bytes.Split(bytes.TrimRight(buf, "\n"), []byte("\n"))
	t1, err := lineTS(lines[len(lines)-1])
	if err != nil {
		return start, end, fmt.Errorf("popgen: %s last line: %w", path, err)
	}
	if t1 < t0 {
		return start, end, fmt.Errorf("popgen: %s is not sorted by ts (last %d before first %d)", path, t1, t0)
	}
	start = time.UnixMilli(t0).UTC().Truncate(time.Second)
	end = time.UnixMilli(t1).UTC().Truncate(time.Second).Add(time.Second)
	return start, end, nil
}

func lineTS(line []byte) (int64, error) {
	var l struct {
		TS *int64 `json:"ts"`
	}
	if err := json.Unmarshal(line, &l); err != nil {
		return 0, err
	}
	if l.TS == nil {
		return 0, errors.New("no ts")
	}
	return *l.TS, nil
}
