package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/ratioguard/ratioguard/internal/config"
	"github.com/ratioguard/ratioguard/internal/pgconn"
	"github.com/ratioguard/ratioguard/tracker/admin"
)

func runTorrent(ctx context.Context, env *cliEnv, args []string) error {
	if len(args) == 0 || args[0] != "add" {
		return usageError{"usage: ratioguard torrent add FILE.torrent [--promo free|50%|30%|75%|2x|3x|free+2x...] [--promo-until RFC3339] [--json]"}
	}
	eng := config.FromEnv()
	fs := newFlagSet(env, "torrent add")
	eng.RegisterFlags(fs)
	promo := fs.String("promo", "", "promotion: free, 50%, 30%, 75% (download counted), 2x, 3x (upload), or combinations like free+2x")
	untilS := fs.String("promo-until", "", "end of the promotion, RFC 3339 (default: no end)")
	uploader := fs.Int64("uploader", 0, "uploader's member id")
	asJSON := fs.Bool("json", false, "print the torrent as JSON")
	if err := fs.Parse(interleave(args[1:])); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"torrent add takes exactly one FILE.torrent"}
	}
	var until *time.Time
	if *untilS != "" {
		t, err := time.Parse(time.RFC3339, *untilS)
		if err != nil {
			return usageError{fmt.Sprintf("--promo-until %q is not RFC 3339 (e.g. 2026-06-01T00:00:00Z)", *untilS)}
		}
		until = &t
	}
	file, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("read torrent file: %w", err)
	}
	pool, err := pgconn.Connect(ctx, eng.PostgresURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	t, err := admin.AddTorrent(ctx, pool, file, *promo, until, *uploader)
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	if *asJSON {
		return json.NewEncoder(env.stdout).Encode(t)
	}
	_, err = fmt.Fprintf(env.stdout, "torrent %s (id %d)\ninfo_hash: %s\nsize:      %d bytes\npromotion: %s\n", t.Name, t.ID, t.InfoHash, t.Size, t.Promotion)
	return err
}
