package admin

import (
	"crypto/sha1"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ratioguard/ratioguard/tracker/bencode"
)

// Meta is what the tracker needs from a .torrent file.
type Meta struct {
	InfoHash [20]byte // SHA-1 of the info dictionary exactly as it appears in the file
	Name     string
	Size     int64 // length, or the sum of files[].length
	Private  bool
	Announce string
}

// ParseTorrent reads a .torrent file (BEP 3; BEP 27 private flag).
func ParseTorrent(file []byte) (Meta, error) {
	top, err := bencode.DictRaw(file)
	if err != nil {
		return Meta{}, fmt.Errorf("not a .torrent file: %w", err)
	}
	rawInfo, ok := top["info"]
	if !ok {
		return Meta{}, errors.New("not a .torrent file: no info dictionary")
	}
	v, err := bencode.Decode(rawInfo)
	if err != nil {
		return Meta{}, fmt.Errorf("info dictionary: %w", err)
	}
	info, ok := v.(map[string]any)
	if !ok {
		return Meta{}, errors.New("info is not a dictionary")
	}
	m := Meta{InfoHash: sha1.Sum(rawInfo)}
	if m.Name, ok = info["name"].(string); !ok || m.Name == "" {
		return Meta{}, errors.New("info dictionary has no name")
	}
	if p, ok := info["private"].(int64); ok && p == 1 {
		m.Private = true
	}
	if raw, ok := top["announce"]; ok {
		if a, err := bencode.Decode(raw); err == nil {
			m.Announce, _ = a.(string)
		}
	}
	switch {
	case info["length"] != nil:
		n, ok := info["length"].(int64)
		if !ok || n < 0 {
			return Meta{}, errors.New("info length is not a non-negative integer")
		}
		m.Size = n
	case info["files"] != nil:
		files, ok := info["files"].([]any)
		if !ok || len(files) == 0 {
			return Meta{}, errors.New("info files is not a non-empty list")
		}
		for i, f := range files {
			fd, ok := f.(map[string]any)
			n, ok2 := fd["length"].(int64)
			if !ok || !ok2 || n < 0 {
				return Meta{}, fmt.Errorf("files[%d] has no valid length", i)
			}
			m.Size += n
		}
	default:
		return Meta{}, errors.New("info dictionary has neither length nor files")
	}
	return m, nil
}

// Promotion is a parsed promotion name.
type Promotion struct {
	Name            string
	DownloadPercent int
	UploadPercent   int
}

// ParsePromotion reads "free", "50%", "30%", "75%", "2x", "3x" and their
// combinations joined by "+" (e.g. "free+2x"); "" and "none" mean none.
func ParsePromotion(s string) (Promotion, error) {
	p := Promotion{Name: "none", DownloadPercent: 100, UploadPercent: 100}
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || s == "none" {
		return p, nil
	}
	if s == "neutral" { // neutral leech: neither side counted
		return Promotion{Name: "neutral", DownloadPercent: 0, UploadPercent: 0}, nil
	}
	var dl, up bool
	for _, part := range strings.Split(s, "+") {
		switch {
		case part == "free" || part == "freeleech":
			if dl {
				return p, fmt.Errorf("promotion %q sets the download factor twice", s)
			}
			dl, p.DownloadPercent = true, 0
		case strings.HasSuffix(part, "%"):
			n, err := strconv.Atoi(strings.TrimSuffix(part, "%"))
			if err != nil || n < 0 || n > 100 || dl {
				return p, fmt.Errorf("promotion %q: %q is not a download percentage from 0%% to 100%% (or it is given twice)", s, part)
			}
			dl, p.DownloadPercent = true, n
		case strings.HasSuffix(part, "x"):
			n, err := strconv.Atoi(strings.TrimSuffix(part, "x"))
			if err != nil || n < 1 || n > 10 || up {
				return p, fmt.Errorf("promotion %q: %q is not an upload multiplier from 1x to 10x (or it is given twice)", s, part)
			}
			up, p.UploadPercent = true, n*100
		default:
			return p, fmt.Errorf("unknown promotion %q (use free, 50%%, 30%%, 75%%, 2x, 3x or combinations like free+2x)", part)
		}
	}
	p.Name = s
	return p, nil
}
