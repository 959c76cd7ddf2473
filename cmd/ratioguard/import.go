package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/ratioguard/ratioguard/importer/site"
	"github.com/ratioguard/ratioguard/internal/config"
	"github.com/ratioguard/ratioguard/internal/pgconn"
)

const importUsage = `usage: ratioguard import site FILE [--dry-run] [--json]
       ratioguard import site --from gazelle|unit3d|nexusphp DSN [--dry-run] [--json] [--skip-invalid]
       ratioguard import announces [flags] FILE...

  site       members and torrents from a site file (docs/IMPORT.md "Site file"),
             or --from the site's own database (DSN: user:pass@tcp(host:3306)/db)
  announces  replay announce logs through the tracker into Kafka`

// runImport is `ratioguard import site|announces`.
func runImport(ctx context.Context, env *cliEnv, args []string) error {
	if len(args) == 0 {
		return usageError{importUsage}
	}
	switch args[0] {
	case "site":
		return importSite(ctx, env, args[1:])
	case "announces":
		return importAnnounces(ctx, env, args[1:])
	case "-h", "--help", "help":
		_, err := fmt.Fprintln(env.stderr, importUsage)
		return err
	}
	return usageError{fmt.Sprintf("unknown import %q\n\n%s", args[0], importUsage)}
}

// importSite is `ratioguard import site FILE`.
func importSite(ctx context.Context, env *cliEnv, args []string) error {
	eng := config.FromEnv()
	fs := newFlagSet(env, "import site")
	eng.RegisterFlags(fs)
	dryRun := fs.Bool("dry-run", false, "check the file and print what would change, write nothing")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	from := fs.String("from", "", "read the site's own database (gazelle, unit3d or nexusphp); the argument is its DSN")
	skipInvalid := fs.Bool("skip-invalid", false, "with --from: leave out (and list) the site's rows the checks refuse instead of importing nothing")
	if err := fs.Parse(interleave(args)); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"import site takes exactly one FILE (or, with --from, one DSN)\n\n" + importUsage}
	}
	if *from != "" {
		return importSiteDB(ctx, env, eng.PostgresURL, *from, fs.Arg(0), siteDBOptions{dryRun: *dryRun, asJSON: *asJSON, skipInvalid: *skipInvalid})
	}
	if *skipInvalid {
		return usageError{"--skip-invalid goes with --from\n\n" + importUsage}
	}
	f, err := site.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	pool, err := pgconn.Connect(ctx, eng.PostgresURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	s, err := site.Import(ctx, pool, f, site.Options{DryRun: *dryRun, Log: env.log})
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	env.log.Info("import site", "file", fs.Arg(0), "members_created", s.Members.Created, "members_updated", s.Members.Updated,
		"torrents_created", s.Torrents.Created, "torrents_updated", s.Torrents.Updated, "dry_run", s.DryRun, "seconds", s.Seconds)
	if *asJSON {
		return json.NewEncoder(env.stdout).Encode(s)
	}
	return printSiteSummary(env.stdout, fs.Arg(0), s)
}

func printSiteSummary(w io.Writer, file string, s site.Summary) error {
	m, t, b := s.Members, s.Torrents, s.Seedboxes
	head := "imported"
	if s.DryRun {
		head = "dry run (nothing written) of"
	}
	_, err := fmt.Fprintf(w, "%s %s in %.2f s\nmembers:        %d created, %d updated%s, %d unchanged\ntorrents:       %d created, %d updated%s, %d unchanged\nseedbox ranges: %d declared by %d members (%d added, %d removed; %d members' sets changed)\n",
		head, file, s.Seconds,
		m.Created, m.Updated, fields("passkey", m.Changed.Passkey, "class", m.Changed.Class, "enabled", m.Changed.Enabled,
			"invited_by", m.Changed.InvitedBy, "created_at", m.Changed.CreatedAt, "site_id", m.Changed.SiteID), m.Unchanged,
		t.Created, t.Updated, fields("name", t.Changed.Name, "size", t.Changed.Size, "promotion", t.Changed.Promotion,
			"created_at", t.Changed.CreatedAt, "uploader", t.Changed.Uploader, "site_id", t.Changed.SiteID), t.Unchanged,
		b.Set, b.Declaring, b.Added, b.Removed, b.Changed)
	if err == nil && s.Secrets.Members > 0 {
		r := s.Secrets
		_, err = fmt.Fprintf(w, "report secrets: %d for %d members (%d written, %d removed; %d members' sets changed)\n",
			r.Set, r.Members, r.Written, r.Removed, r.Changed)
	}
	if h := s.History; err == nil && h.Openings > 0 {
		_, err = fmt.Fprintf(w, "opening balances: %d (%d written, %d revised by the difference, %d kept, %d unchanged)\n",
			h.Openings, h.OpeningsWritten, h.OpeningsRevised, h.OpeningsKept, h.Openings-h.OpeningsWritten-h.OpeningsRevised-h.OpeningsKept)
	}
	if h := s.History; err == nil && h.SnatchMembers > 0 {
		_, err = fmt.Fprintf(w, "site snatches:  %d of %d members (%d written, %d removed)\n",
			h.Snatches, h.SnatchMembers, h.SnatchesWritten, h.SnatchesRemoved)
	}
	if h := s.History; err == nil && h.PeerMembers > 0 {
		_, err = fmt.Fprintf(w, "old tracker's peers: %d of %d members (%d written, %d removed)\n",
			h.Peers, h.PeerMembers, h.PeersWritten, h.PeersRemoved)
	}
	if h := s.History; err == nil && h.MembersKept > 0 {
		_, err = fmt.Fprintf(w, "kept:           %d members' opening, snatches or peers differ from the file and were kept (ratioguard credited them since; docs/IMPORT.md)\n",
			h.MembersKept)
	}
	return err
}

// fields formats "name count" pairs with a non-zero count: " (class 2, passkey 1)".
func fields(kv ...any) string {
	var parts []string
	for i := 0; i+1 < len(kv); i += 2 {
		if n := kv[i+1].(int); n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", kv[i], n))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
