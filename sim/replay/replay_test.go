package replay

import (
	"context"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/sim/population"
	"github.com/ratioguard/ratioguard/sim/spec"
)

func smallSpec(t testing.TB, seed uint64) (*spec.Spec, *population.Population) {
	t.Helper()
	s := spec.Default()
	s.Seed = seed
	s.Duration = 36 * time.Hour
	p, err := population.Build(s, s.Start, s.Start.Add(s.Duration))
	if err != nil {
		t.Fatal(err)
	}
	return s, p
}

func TestSameSeedSameEventStream(t *testing.T) {
	ctx := context.Background()
	var digests []string
	for _, seed := range []uint64{7, 7, 8} {
		s, p := smallSpec(t, seed)
		res, err := Run(ctx, s, p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Events == 0 || res.Events != res.Announces || res.Unencodable != 0 || res.Sanitized == 0 {
			t.Fatalf("seed %d: %d events for %d announces", seed, res.Events, res.Announces)
		}
		t.Logf("seed %d: %d events, %d refused %v, %d sanitized, sha256 %s", seed, res.Events, res.Refused, res.Refusals, res.Sanitized, res.Digest)
		digests = append(digests, res.Digest)
	}
	if digests[0] != digests[1] {
		t.Fatalf("same seed, different event streams: %s vs %s", digests[0], digests[1])
	}
	if digests[0] == digests[2] {
		t.Fatalf("different seeds gave the same event stream %s", digests[0])
	}
}
