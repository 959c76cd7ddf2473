package core_test

import (
	"bytes"
	"testing"

	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/tracker/core"
)

func slots(n uint32) *uint32 { return &n }

// TestDownloadSlots is UNIT3D-Announce's rule: a member whose class has
// download slots may not start leeching once their leech sessions fill
// them; seeding, the leech sessions they already hold and stopping are
// never limited, and a session that completes or stops frees its slot.
func TestDownloadSlots(t *testing.T) {
	f := newFixture(t, core.Config{})
	u := f.user(1)
	u.DownloadSlots = slots(2)
	for id := uint64(1); id <= 5; id++ {
		f.torrent(id, core.NoPromotion)
	}
	f.mustAccept(req(1, 1, "a", "10.0.0.1", 5))
	f.mustAccept(req(1, 2, "a", "10.0.0.1", 5))
	if n := f.core.Leeching(1); n != 2 {
		t.Fatalf("leeching %d, want 2", n)
	}
	if msg := f.mustRefuse(req(1, 3, "a", "10.0.0.1", 5), events.Refusal_REFUSAL_DOWNLOAD_SLOTS); msg != "Download slot limit reached" {
		t.Fatalf("message %q", msg)
	}
	// The sessions held go on; a seed is never limited.
	f.clock.Advance(interval)
	f.mustAccept(at(req(1, 1, "a", "10.0.0.1", 5), 0, 100, 5, events.Event_EVENT_NONE))
	f.mustAccept(req(1, 3, "a", "10.0.0.1", 0))
	// A seeding session going back to leeching needs a slot too.
	f.mustRefuse(req(1, 3, "a", "10.0.0.1", 5), events.Refusal_REFUSAL_DOWNLOAD_SLOTS)
	// A completion frees its slot.
	f.mustAccept(at(req(1, 1, "a", "10.0.0.1", 5), 0, 200, 0, events.Event_EVENT_COMPLETED))
	f.mustAccept(req(1, 4, "a", "10.0.0.1", 5))
	f.mustRefuse(req(1, 5, "a", "10.0.0.1", 5), events.Refusal_REFUSAL_DOWNLOAD_SLOTS)
	// So does a stop (and the stop itself is never limited).
	f.mustAccept(at(req(1, 2, "a", "10.0.0.1", 5), 0, 0, 5, events.Event_EVENT_STOPPED))
	f.mustAccept(req(1, 5, "a", "10.0.0.1", 5))
	if n := f.core.Leeching(1); n != 2 {
		t.Fatalf("leeching %d, want 2", n)
	}
	// Other members are not concerned.
	f.user(2)
	for id := uint64(1); id <= 5; id++ {
		f.mustAccept(req(2, id, "b", "10.0.0.2", 5))
	}
	// Expiry frees the slots of silent sessions.
	f.clock.Advance(3 * interval)
	f.core.Expire()
	if n := f.core.Leeching(1); n != 0 {
		t.Fatalf("leeching %d after expiry, want 0", n)
	}
	f.mustAccept(req(1, 2, "a", "10.0.0.1", 5))
}

// TestDownloadSlotsZeroAndUnlimited: 0 slots is seeding only (UNIT3D's
// Some(0)); no slots (NULL) is unlimited.
func TestDownloadSlotsZeroAndUnlimited(t *testing.T) {
	f := newFixture(t, core.Config{})
	f.user(1).DownloadSlots = slots(0)
	f.user(2)
	f.torrent(1, core.NoPromotion)
	f.mustRefuse(req(1, 1, "a", "10.0.0.1", 5), events.Refusal_REFUSAL_DOWNLOAD_SLOTS)
	f.mustAccept(req(1, 1, "a", "10.0.0.1", 0))
	for id := uint64(10); id < 60; id++ {
		f.torrent(id, core.NoPromotion)
		f.mustAccept(req(2, id, "b", "10.0.0.2", 5))
	}
	if n := f.core.Leeching(2); n != 50 {
		t.Fatalf("leeching %d, want 50", n)
	}
}

// TestDownloadSlotsCountLearntSessions: the leech sessions another
// instance answered (learnt from the stream) fill the member's slots here,
// and a snapshot's restore counts them again.
func TestDownloadSlotsCountLearntSessions(t *testing.T) {
	other := newFixture(t, core.Config{})
	other.user(1).DownloadSlots = slots(2)
	for id := uint64(1); id <= 3; id++ {
		other.torrent(id, core.NoPromotion)
	}
	other.mustAccept(req(1, 1, "a", "10.0.0.1", 5))
	other.mustAccept(req(1, 2, "a", "10.0.0.1", 5))
	here := other.restarted(core.Config{})
	for _, ev := range other.events() {
		here.core.Learn(ev)
	}
	here.mustRefuse(req(1, 3, "a", "10.0.0.1", 5), events.Refusal_REFUSAL_DOWNLOAD_SLOTS)

	restored := other.restarted(core.Config{Epoch: other.core.Epoch()})
	if _, err := restored.core.ReadState(bytes.NewReader(snapshot(t, here.core))); err != nil {
		t.Fatal(err)
	}
	if n := restored.core.Leeching(1); n != 2 {
		t.Fatalf("leeching %d after restore, want 2", n)
	}
	restored.mustRefuse(req(1, 3, "a", "10.0.0.1", 5), events.Refusal_REFUSAL_DOWNLOAD_SLOTS)
	// Learning the stop of one of them frees a slot.
	stop := at(req(1, 1, "a", "10.0.0.1", 5), 0, 0, 5, events.Event_EVENT_STOPPED)
	other.mustAccept(stop)
	restored.core.Learn(other.sink.last(t))
	restored.mustAccept(req(1, 3, "a", "10.0.0.1", 5))
}
