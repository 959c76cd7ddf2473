package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/ratioguard/ratioguard/importer/site"
	"github.com/ratioguard/ratioguard/importer/sitedb"
	"github.com/ratioguard/ratioguard/internal/pgconn"
	"github.com/ratioguard/ratioguard/tracker/control"
)

type siteDBOptions struct {
	dryRun, asJSON, skipInvalid bool
}

// siteDBChange is a site.Change named by the site's row.
type siteDBChange struct {
	Row   string `json:"row"` // "users_main ID 12"
	Name  string `json:"name"`
	Field string `json:"field,omitempty"` // "": created
	Old   string `json:"old,omitempty"`
	New   string `json:"new,omitempty"`
}

// siteDBReport is what `import site --from` prints with --json.
type siteDBReport struct {
	site.Summary
	Site    string           `json:"site"`
	Source  string           `json:"source"` // host and database, never the password
	Changes []siteDBChange   `json:"changes"`
	Skipped []sitedb.Problem `json:"skipped"`
	LeftOut []string         `json:"left_out"`
	// Control: what the control service was given (tokens, groups, client
	// lists, members who may not leech ...), one line each.
	Control sitedb.ControlSummary `json:"control"`
}

// importSiteDB is `ratioguard import site --from KIND DSN`: the site's
// database read (importer/sitedb) and imported as a site file is.
func importSiteDB(ctx context.Context, env *cliEnv, pgURL, from, dsn string, opt siteDBOptions) error {
	kind, err := sitedb.ParseKind(from)
	if err != nil {
		return usageError{err.Error() + "\n\n" + importUsage}
	}
	src := dsnSource(dsn)
	db, err := sitedb.Open(dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	snap, err := sitedb.Read(ctx, db, kind, env.log)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	f, skipped, err := snap.File(opt.skipInvalid)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	pool, err := pgconn.Connect(ctx, pgURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	s, err := site.Import(ctx, pool, f, site.Options{DryRun: opt.dryRun, Log: env.log, Changes: true})
	if err != nil {
		return fmt.Errorf("%s: %w", src, relabel(snap, err))
	}
	cs, err := sitedb.ApplyControl(ctx, control.New(pool, nil, env.log), pool, snap, opt.dryRun, env.log)
	if err != nil {
		return fmt.Errorf("%s: members and torrents imported; tokens, groups and client lists: %w", src, err)
	}
	rep := siteDBReport{Summary: s, Site: string(kind), Source: src, Skipped: skipped, LeftOut: snap.LeftOut(), Control: cs}
	rep.Summary.Changes = nil
	sort.SliceStable(s.Changes, func(i, j int) bool { return recordKey(s.Changes[i].Record) < recordKey(s.Changes[j].Record) })
	for _, c := range s.Changes {
		row := c.Record
		if r, ok := snap.RowOf(c.Record); ok {
			row = r.String()
		}
		rep.Changes = append(rep.Changes, siteDBChange{Row: row, Name: c.Name, Field: c.Field, Old: c.Old, New: c.New})
	}
	env.log.Info("import site", "from", kind, "source", src, "members_created", s.Members.Created, "members_updated", s.Members.Updated,
		"torrents_created", s.Torrents.Created, "torrents_updated", s.Torrents.Updated, "skipped", len(skipped),
		"dry_run", s.DryRun, "seconds", s.Seconds)
	if opt.asJSON {
		return json.NewEncoder(env.stdout).Encode(rep)
	}
	return printSiteDBReport(env.stdout, rep)
}

// relabel names the records of an *site.InvalidError by their rows (the
// checks that need ratioguard's database: a passkey or site id a member
// outside the site holds, ...).
func relabel(snap *sitedb.Snapshot, err error) error {
	var inv *site.InvalidError
	if !errors.As(err, &inv) {
		return err
	}
	out := &sitedb.InvalidError{}
	for _, p := range inv.Problems {
		r, _ := snap.RowOf(p.Record)
		out.Problems = append(out.Problems, sitedb.Problem{Row: r, Name: p.Name, Field: p.Field, Msg: p.Msg})
	}
	return out
}

// printSiteDBReport prints the summary, then every difference: with
// --dry-run each record created and each field changed, otherwise each
// field changed (records created are counted).
func printSiteDBReport(w io.Writer, rep siteDBReport) error {
	if err := printSiteSummary(w, rep.Site+" database "+rep.Source, rep.Summary); err != nil {
		return err
	}
	var b strings.Builder
	for _, l := range rep.LeftOut {
		fmt.Fprintf(&b, "left out: %s\n", l)
	}
	for _, p := range rep.Skipped {
		fmt.Fprintf(&b, "skipped (invalid): %s\n", p)
	}
	fmt.Fprintf(&b, "control:        %d changes (tokens, groups, client lists, members who may not leech), %d refused\n",
		len(rep.Control.Changes), len(rep.Control.Refused))
	for _, l := range rep.Control.Refused {
		fmt.Fprintf(&b, "refused: %s\n", l)
	}
	for _, c := range rep.Changes {
		switch {
		case c.Field == "" && rep.DryRun:
			fmt.Fprintf(&b, "%s %q: created\n", c.Row, c.Name)
		case c.Field != "":
			fmt.Fprintf(&b, "%s %q: %s: %s -> %s\n", c.Row, c.Name, c.Field, c.Old, c.New)
		}
	}
	for _, l := range rep.Control.Changes {
		fmt.Fprintln(&b, l)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// recordKey orders records as the file: members, then torrents, by index
// ("members[3]" before "members[12]").
func recordKey(rec string) int64 {
	kind, idx, _ := strings.Cut(strings.TrimSuffix(rec, "]"), "[")
	n, _ := strconv.ParseInt(idx, 10, 64)
	if kind == "torrents" {
		n += 1 << 40
	}
	return n
}

// dsnSource names the site's database without its password.
func dsnSource(dsn string) string {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return "the site's database"
	}
	return cfg.Addr + "/" + cfg.DBName
}
