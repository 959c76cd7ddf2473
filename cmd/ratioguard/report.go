package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/ratioguard/ratioguard/detectors"
	"github.com/ratioguard/ratioguard/internal/config"
	"github.com/ratioguard/ratioguard/internal/pgconn"
)

func runReport(ctx context.Context, env *cliEnv, args []string) error {
	if len(args) == 0 || args[0] != "list" {
		return usageError{"usage: ratioguard report list [--status open|confirmed|dismissed] [--detector NAME] [--limit N] [--json]"}
	}
	eng := config.FromEnv()
	fs := newFlagSet(env, "report list")
	eng.RegisterFlags(fs)
	status := fs.String("status", "", "only reports with this status (open, confirmed, dismissed)")
	detector := fs.String("detector", "", "only reports of this detector")
	limit := fs.Int("limit", 1000, "at most this many reports, newest first")
	asJSON := fs.Bool("json", false, "print the reports (with evidence) as JSON")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	switch *status {
	case "", "open", "confirmed", "dismissed":
	default:
		return usageError{fmt.Sprintf("--status must be open, confirmed or dismissed, got %q", *status)}
	}
	pg, err := pgconn.Connect(ctx, eng.PostgresURL)
	if err != nil {
		return err
	}
	defer pg.Close()
	store := &detectors.Store{PG: pg}
	reports, err := store.List(ctx, *status, *detector, *limit)
	if err != nil {
		return err
	}
	if *asJSON {
		if reports == nil {
			reports = []detectors.Report{}
		}
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(reports)
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tDETECTOR\tSUBJECT\tSCORE\tSEVERITY\tSTATUS\tWINDOW\tSUMMARY")
	for _, r := range reports {
		var ev struct {
			Summary string `json:"summary"`
		}
		_ = json.Unmarshal(r.Evidence, &ev)
		fmt.Fprintf(tw, "%d\t%s\t%s:%s\t%.2f\t%s\t%s\t%s … %s\t%s\n", r.ID, r.Detector, r.SubjectKind, r.SubjectID, r.Score,
			r.Severity, r.Status, r.WindowStart.UTC().Format("2006-01-02 15:04"), r.WindowEnd.UTC().Format("2006-01-02 15:04"), ev.Summary)
	}
	return tw.Flush()
}
