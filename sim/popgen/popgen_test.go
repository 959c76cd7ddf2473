package popgen

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/sim/labels"
)

const setupJSON = `{"members": [
 {"name": "Abird", "passkey": "1b095f0849e3cbf4a7b3fbe82d5058c3", "class": "User", "invited_by": "", "seedbox_cidrs": []},
 {"name": "Bearli", "passkey": "df2eff354c3e881dd01554a20f3f1cfd", "class": "User", "invited_by": "Abird", "seedbox_cidrs": []},
 {"name": "pandabear1985", "passkey": "40d1edd695eafd4bed39cd1d85bba0c4", "class": "User", "invited_by": "", "seedbox_cidrs": []},
 {"name": "seedy", "passkey": "7d85182af98a1813cfce2616126a428b", "class": "User", "invited_by": "", "seedbox_cidrs": ["10.0.0.0/24"]},
 {"name": "quiet", "passkey": "8abde69be77434ce6d144cbe35a0329a", "class": "User", "invited_by": "", "seedbox_cidrs": []}
], "torrents": [{"info_hash": "00", "name": "t", "size": 1}]}`

const labelsJSON = `{
 "members": {
  "Abird": [{"kind": "inflater", "from_ts": 1791216670}],
  "Bearli": [{"kind": "colluder", "from_ts": 1791299269, "partner": "pandabear1985"}],
  "pandabear1985": [{"kind": "colluder", "from_ts": 1791299269, "partner": "Bearli"}]
 },
 "honest_lookalikes": {
  "seedy": ["seedbox", "fresh_rush", "dualstack", "moonlighting"]
 }
}`

func writeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func requests(first, last int64) string {
	var b strings.Builder
	for _, ts := range []int64{first, first + 1000, last} {
		b.WriteString(`{"ts":` + strconv.FormatInt(ts, 10) + `,"ip":"10.0.0.1","path":"/x/announce?info_hash=a","ua":"qBittorrent/4.5.2"}` + "\n")
	}
	return b.String()
}

func TestReadMapsKindsAndWindow(t *testing.T) {
	dir := writeDir(t, map[string]string{
		SetupFile:    setupJSON,
		LabelsFile:   labelsJSON,
		RequestsFile: requests(1790812800000, 1792627468016),
	})
	p, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Abird", "Bearli", "pandabear1985", "seedy", "quiet"}; !reflect.DeepEqual(p.Members, want) {
		t.Fatalf("members %v, want %v", p.Members, want)
	}
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	if !p.Start.Equal(start) || !p.End.Equal(time.Unix(1792627469, 0)) {
		t.Fatalf("window %s – %s", p.Start, p.End)
	}
	want := []labels.Named{
		{Name: "Abird", Role: labels.Cheater, Kind: labels.Inflater, Start: time.Unix(1791216670, 0).UTC()},
		{Name: "Bearli", Role: labels.Cheater, Kind: "colluding_pair", Start: time.Unix(1791299269, 0).UTC(), Partner: "pandabear1985"},
		{Name: "pandabear1985", Role: labels.Cheater, Kind: "colluding_pair", Start: time.Unix(1791299269, 0).UTC(), Partner: "Bearli"},
		{Name: "seedy", Role: labels.Lookalike, Kind: "dual_stack", Start: start},
		{Name: "seedy", Role: labels.Lookalike, Kind: labels.FreshRush, Start: start},
		{Name: "seedy", Role: labels.Lookalike, Kind: "moonlighting", Start: start},
		{Name: "seedy", Role: labels.Lookalike, Kind: "seedbox", Start: start},
	}
	if !reflect.DeepEqual(p.Labels, want) {
		t.Fatalf("labels\n%+v\nwant\n%+v", p.Labels, want)
	}
	if !reflect.DeepEqual(p.Unknown, []string{"moonlighting"}) {
		t.Fatalf("unknown kinds %v", p.Unknown)
	}
}

// Every popgen kind and tag of its README maps into the vocabulary eval
// reports.
func TestEveryPopgenKindMaps(t *testing.T) {
	vocab := map[string]bool{}
	for _, k := range append(append([]string(nil), labels.CheatKinds...), labels.LookalikeKinds...) {
		vocab[k] = true
	}
	for _, k := range []string{"naive_faker", "careful_faker", "inflater", "colluder", "sharer", "sold", "leaked_passkey", "leech_service", "ghost_leecher",
		"seedbox", "nat", "cgnat", "dualstack", "ipv6_privacy", "travel", "restarts", "fresh_rush", "dynamic_ip", "dead_swarm"} {
		v, ok := MapKind(k)
		if !ok || !vocab[v] {
			t.Errorf("popgen kind %s maps to %q (known %v), not in the vocabulary", k, v, ok)
		}
	}
	for k, v := range map[string]string{"colluder": "colluding_pair", "sharer": "shared_account", "sold": "sold_account", "nat": "nat_household", "dualstack": "dual_stack"} {
		if got, _ := MapKind(k); got != v {
			t.Errorf("%s → %s, want %s", k, got, v)
		}
	}
}

func TestReadRejects(t *testing.T) {
	good := map[string]string{SetupFile: setupJSON, LabelsFile: labelsJSON, RequestsFile: requests(1790812800000, 1790812900000)}
	for name, c := range map[string]struct{ file, body, want string }{
		"stranger":       {LabelsFile, `{"members": {"nobody": [{"kind": "sold", "from_ts": 1}]}}`, `"nobody", who is not a member`},
		"partner":        {LabelsFile, `{"members": {"Bearli": [{"kind": "colluder", "from_ts": 1, "partner": "ghost"}]}}`, `partner "ghost"`},
		"no from_ts":     {LabelsFile, `{"members": {"Bearli": [{"kind": "sold"}]}}`, "from_ts are required"},
		"both roles":     {LabelsFile, `{"members": {"Bearli": [{"kind": "sold", "from_ts": 1}]}, "honest_lookalikes": {"Bearli": ["nat"]}}`, "both cheater and honest"},
		"not labels":     {LabelsFile, `{"labels": []}`, "neither"},
		"twice":          {SetupFile, `{"members": [{"name": "a"}, {"name": "a"}]}`, `"a" twice`},
		"no members":     {SetupFile, `{"members": []}`, "no members"},
		"unsorted":       {RequestsFile, requests(1790812900000, 1790812800000), "not sorted"},
		"no ts":          {RequestsFile, `{"ip":"1.2.3.4"}` + "\n", "no ts"},
		"empty requests": {RequestsFile, "", "line 1"},
	} {
		files := map[string]string{}
		for k, v := range good {
			files[k] = v
		}
		files[c.file] = c.body
		if _, err := Read(writeDir(t, files)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", name, err, c.want)
		}
	}
	if _, err := Read(t.TempDir()); err == nil {
		t.Error("an empty directory was read")
	}
}
