package stream

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ratioguard/ratioguard/schemas/events"
)

// HoldSpool keeps the spool segments a previous process left in spoolDir
// for ReadSpool: it replaces dst with hard links to them (copies when dst
// is on another file system). Call it before New, which replays the spool
// to Kafka and deletes segments as Kafka acknowledges them. It returns the
// number of segments held.
func HoldSpool(spoolDir, dst string) (int, error) {
	if err := os.RemoveAll(dst); err != nil {
		return 0, fmt.Errorf("hold spool: clear %s: %w", dst, err)
	}
	names, err := segmentNames(spoolDir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil || len(names) == 0 {
		return 0, err
	}
	if err := os.MkdirAll(dst, 0o750); err != nil {
		return 0, fmt.Errorf("hold spool: %w", err)
	}
	for _, n := range names {
		src, to := filepath.Join(spoolDir, n), filepath.Join(dst, n)
		if err := os.Link(src, to); err != nil {
			if err := copyFile(src, to); err != nil {
				return 0, fmt.Errorf("hold spool segment %s: %w", n, err)
			}
		}
	}
	syncDir(dst)
	return len(names), nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// segmentNames lists the spool segments of dir in replay order.
func segmentNames(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read spool directory: %w", err)
	}
	type seg struct {
		id   uint64
		name string
	}
	var segs []seg
	for _, e := range entries {
		base, ok := strings.CutSuffix(e.Name(), segmentSuffix)
		if !ok || e.IsDir() {
			continue
		}
		if id, err := strconv.ParseUint(base, 16, 64); err == nil {
			segs = append(segs, seg{id, e.Name()})
		}
	}
	slices.SortFunc(segs, func(a, b seg) int {
		switch {
		case a.id < b.id:
			return -1
		case a.id > b.id:
			return 1
		}
		return 0
	})
	names := make([]string, len(segs))
	for i, s := range segs {
		names[i] = s.name
	}
	return names, nil
}

// SpoolRead is what ReadSpool found.
type SpoolRead struct {
	Events   int   // records decoded and given to fn
	Segments int   // segment files read
	Torn     int64 // bytes after the last intact record of a segment (a crash's torn tail)
	Invalid  int   // intact records whose event does not decode (skipped)
}

// ReadSpool decodes the events of the spool segments in dir, oldest first,
// and gives each to fn (which must not keep it past the call if it reuses
// it; ReadSpool does not). A segment is read up to its last intact record
// (length and CRC), as the producer does at start. A missing dir is empty.
func ReadSpool(dir string, fn func(*events.Announce)) (SpoolRead, error) {
	var rd SpoolRead
	names, err := segmentNames(dir)
	if errors.Is(err, os.ErrNotExist) {
		return rd, nil
	}
	if err != nil {
		return rd, err
	}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return rd, fmt.Errorf("read spool segment: %w", err)
		}
		rd.Segments++
		if len(b) < magicLen || string(b[:magicLen]) != segmentMagic {
			rd.Torn += int64(len(b))
			continue
		}
		b = b[magicLen:]
		for len(b) > 0 {
			r, size, err := parseRecord(b)
			if err != nil || size == 0 {
				break
			}
			b = b[size:]
			ev, err := events.Decode(r.value)
			if err != nil {
				rd.Invalid++
				continue
			}
			rd.Events++
			fn(ev)
		}
		rd.Torn += int64(len(b))
	}
	return rd, nil
}
