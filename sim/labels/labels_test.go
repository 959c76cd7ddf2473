package labels

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ratioguard/ratioguard/sim/population"
	"github.com/ratioguard/ratioguard/sim/spec"
)

func build(t *testing.T, path string) *population.Population {
	t.Helper()
	s, err := spec.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := population.Build(s, s.Start, s.Start.Add(s.Duration))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The labels of the shipped small spec name every cheat kind and every
// look-alike kind, and cheaters are never labelled look-alikes.
func TestLabelsCoverEveryKind(t *testing.T) {
	p := build(t, "../specs/small.yaml")
	set := FromPopulation("sim7", p)
	kinds := map[Role]map[string]int{Cheater: {}, Lookalike: {}}
	cheaters := map[uint64]bool{}
	for _, l := range set.Labels {
		kinds[l.Role][l.Kind]++
		if l.Role == Cheater {
			cheaters[l.UserID] = true
			if l.Start.Before(p.Start) || !l.Start.Before(p.End) {
				t.Errorf("cheater %d starts at %s, outside the run", l.UserID, l.Start)
			}
		}
	}
	for _, k := range population.CheatKinds {
		if kinds[Cheater][string(k)] == 0 {
			t.Errorf("no cheater of kind %s", k)
		}
	}
	for _, k := range population.LookalikeKinds {
		if kinds[Lookalike][string(k)] == 0 {
			t.Errorf("no look-alike of kind %s", k)
		}
	}
	for _, l := range set.Labels {
		if l.Role == Lookalike && cheaters[l.UserID] {
			t.Errorf("cheater %d also labelled look-alike %s", l.UserID, l.Kind)
		}
		if l.Kind == string(population.Colluder) && l.Partner == 0 {
			t.Errorf("colluder %d without partner", l.UserID)
		}
	}
	t.Logf("cheaters %v, look-alikes %v", kinds[Cheater], kinds[Lookalike])
}

func TestSameSeedSameLabelsAndRoundTrip(t *testing.T) {
	a := FromPopulation("r", build(t, "../specs/small.yaml"))
	b := FromPopulation("r", build(t, "../specs/small.yaml"))
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same spec and seed gave different labels")
	}
	dir := t.TempDir()
	for _, name := range []string{"l.json", "l.csv"} {
		path := filepath.Join(dir, name)
		if err := a.Write(path); err != nil {
			t.Fatal(err)
		}
		got, err := Read(path)
		if err != nil {
			t.Fatal(err)
		}
		if name == "l.csv" {
			got.Members = a.Members
		}
		if !reflect.DeepEqual(got, a) {
			t.Fatalf("%s round trip changed the labels", name)
		}
	}
}
