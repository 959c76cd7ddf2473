// Package setup owns what a simulated run needs in Postgres before traffic
// flows: its members (by name, with their passkeys and who invited them:
// users.invited_by), its torrents (by info
// hash), the declared seedbox ranges, the run row and its ground-truth labels
// (tables sim_runs and sim_labels). It assigns the database ids back to the
// population so the traffic, the labels and the ledger agree. Every statement
// is idempotent: running setup twice for the same spec and seed changes
// nothing.
package setup

import (
	"context"
	"embed"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratioguard/ratioguard/internal/sqlfile"
	"github.com/ratioguard/ratioguard/sim/labels"
	"github.com/ratioguard/ratioguard/sim/population"
)

//go:embed sql/*.sql
var sqlFS embed.FS

var query = sqlfile.Queries(sqlFS)

// Run describes the run row.
type Run struct {
	Name     string // run id; also the prefix of member names (e.g. "sim7")
	Seed     uint64
	SpecName string
}

// UserPrefix is the prefix of the run's member names.
func UserPrefix(p *population.Population) string {
	return fmt.Sprintf("sim%d-u", p.Seed)
}

// Apply creates or refreshes the run's rows and assigns the database ids to
// the population's members and torrents. It returns the run's labels (with
// the database ids), also stored in sim_labels.
func Apply(ctx context.Context, pool *pgxpool.Pool, run Run, p *population.Population) (labels.Set, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return labels.Set{}, fmt.Errorf("sim setup: begin: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after commit this is a no-op
	if err := members(ctx, tx, p); err != nil {
		return labels.Set{}, err
	}
	if err := invites(ctx, tx, p); err != nil {
		return labels.Set{}, err
	}
	if err := torrents(ctx, tx, p); err != nil {
		return labels.Set{}, err
	}
	if err := seedboxes(ctx, tx, p); err != nil {
		return labels.Set{}, err
	}
	set := labels.FromPopulation(run.Name, p)
	if _, err := tx.Exec(ctx, query("run"), run.Name, int64(run.Seed), run.SpecName, UserPrefix(p), len(p.Members), p.Start, p.End); err != nil {
		return labels.Set{}, fmt.Errorf("sim setup: record run %s: %w", run.Name, err)
	}
	if err := storeLabels(ctx, tx, set); err != nil {
		return labels.Set{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return labels.Set{}, fmt.Errorf("sim setup: commit: %w", err)
	}
	return set, nil
}

func members(ctx context.Context, tx pgx.Tx, p *population.Population) error {
	names := make([]string, len(p.Members))
	keys := make([]string, len(p.Members))
	classes := make([]string, len(p.Members))
	byName := make(map[string]*population.Member, len(p.Members))
	for i, m := range p.Members {
		names[i], keys[i], classes[i] = m.Name, m.Passkey, m.Class
		byName[m.Name] = m
	}
	rows, err := tx.Query(ctx, query("users"), names, keys, classes)
	if err != nil {
		return fmt.Errorf("sim setup: create %d members: %w", len(names), err)
	}
	n := 0
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return fmt.Errorf("sim setup: read member id: %w", err)
		}
		byName[name].ID = uint64(id)
		n++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sim setup: create members: %w", err)
	}
	if n != len(names) {
		return fmt.Errorf("sim setup: %d of %d members created", n, len(names))
	}
	return nil
}

// invites writes the invite tree once every member has its id.
func invites(ctx context.Context, tx pgx.Tx, p *population.Population) error {
	ids := make([]int64, len(p.Members))
	inviters := make([]int64, len(p.Members))
	for i, m := range p.Members {
		ids[i] = int64(m.ID)
		if m.InvitedBy != nil {
			inviters[i] = int64(m.InvitedBy.ID)
		}
	}
	if _, err := tx.Exec(ctx, query("invites"), ids, inviters); err != nil {
		return fmt.Errorf("sim setup: record who invited %d members: %w", len(ids), err)
	}
	return nil
}

func torrents(ctx context.Context, tx pgx.Tx, p *population.Population) error {
	hashes := make([][]byte, len(p.Torrents))
	names := make([]string, len(p.Torrents))
	sizes := make([]int64, len(p.Torrents))
	created := make([]time.Time, len(p.Torrents))
	byHash := make(map[[20]byte]*population.Torrent, len(p.Torrents))
	for i, t := range p.Torrents {
		hashes[i], names[i], sizes[i], created[i] = t.InfoHash[:], t.Name, t.Size, t.Created
		byHash[t.InfoHash] = t
	}
	rows, err := tx.Query(ctx, query("torrents"), hashes, names, sizes, created)
	if err != nil {
		return fmt.Errorf("sim setup: register %d torrents: %w", len(hashes), err)
	}
	n := 0
	for rows.Next() {
		var id int64
		var h []byte
		if err := rows.Scan(&id, &h); err != nil {
			return fmt.Errorf("sim setup: read torrent id: %w", err)
		}
		t := byHash[[20]byte(h)]
		if t == nil {
			return fmt.Errorf("sim setup: database returned unknown info hash %x", h)
		}
		t.ID = uint64(id)
		n++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sim setup: register torrents: %w", err)
	}
	if n != len(hashes) {
		return fmt.Errorf("sim setup: %d of %d torrents registered", n, len(hashes))
	}
	return nil
}

func seedboxes(ctx context.Context, tx pgx.Tx, p *population.Population) error {
	if len(p.SeedboxRanges) == 0 {
		return nil
	}
	ids := make([]int64, len(p.SeedboxRanges))
	cidrs := make([]string, len(p.SeedboxRanges))
	for i, r := range p.SeedboxRanges {
		ids[i], cidrs[i] = int64(r.Member.ID), r.Prefix.Masked().String()
	}
	if _, err := tx.Exec(ctx, query("seedbox"), ids, cidrs); err != nil {
		return fmt.Errorf("sim setup: declare %d seedbox ranges: %w", len(ids), err)
	}
	return nil
}

func storeLabels(ctx context.Context, tx pgx.Tx, set labels.Set) error {
	if _, err := tx.Exec(ctx, query("labels_delete"), set.Run); err != nil {
		return fmt.Errorf("sim setup: clear labels of %s: %w", set.Run, err)
	}
	n := len(set.Labels)
	ids, partners := make([]int64, n), make([]int64, n)
	roles, kinds := make([]string, n), make([]string, n)
	starts := make([]time.Time, n)
	for i, l := range set.Labels {
		ids[i], roles[i], kinds[i], starts[i], partners[i] = int64(l.UserID), string(l.Role), l.Kind, l.Start, int64(l.Partner)
	}
	if _, err := tx.Exec(ctx, query("labels_insert"), set.Run, ids, roles, kinds, starts, partners); err != nil {
		return fmt.Errorf("sim setup: store %d labels: %w", n, err)
	}
	return nil
}

// LoadLabels reads a run's labels back from Postgres.
func LoadLabels(ctx context.Context, pool *pgxpool.Pool, run string) (labels.Set, error) {
	rows, err := pool.Query(ctx, query("labels_select"), run)
	if err != nil {
		return labels.Set{}, fmt.Errorf("load labels of run %s: %w", run, err)
	}
	defer rows.Close()
	set := labels.Set{Run: run}
	found := false
	for rows.Next() {
		found = true
		var members int
		var id, partner *int64
		var passkey, name, role, kind *string
		var start *time.Time
		if err := rows.Scan(&members, &id, &passkey, &name, &role, &kind, &start, &partner); err != nil {
			return labels.Set{}, fmt.Errorf("load labels of run %s: %w", run, err)
		}
		set.Members = members
		if id == nil {
			continue // a run without labels
		}
		l := labels.Label{Run: run, UserID: uint64(*id), Role: labels.Role(*role), Kind: *kind, Start: start.UTC()}
		if passkey != nil {
			l.Passkey, l.Name = *passkey, *name
		}
		if partner != nil {
			l.Partner = uint64(*partner)
		}
		set.Labels = append(set.Labels, l)
	}
	if err := rows.Err(); err != nil {
		return labels.Set{}, fmt.Errorf("load labels of run %s: %w", run, err)
	}
	if !found {
		return labels.Set{}, fmt.Errorf("no simulator run %q in sim_runs (run `ratioguard sim setup` or `sim live` first)", run)
	}
	return set, nil
}

// Named is a labelled run whose members exist already, created by an import
// (`ratioguard import site`) from another generator's files, and known by
// name: member names share no prefix, so the run's membership is stored
// (sim_run_members) and its user_prefix is NULL.
type Named struct {
	Run        Run
	Members    []string // every member of the run, by name
	Start, End time.Time
	Labels     []labels.Named
}

// ApplyNamed records a named run: the run row, its members and its labels
// with names resolved to user ids, in one transaction. A member or partner
// missing from users fails it. Running it again replaces the run's rows.
func ApplyNamed(ctx context.Context, pool *pgxpool.Pool, n Named) (labels.Set, error) {
	if !n.End.After(n.Start) {
		return labels.Set{}, fmt.Errorf("sim labels: run %s: end %s is not after start %s", n.Run.Name, n.End, n.Start)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return labels.Set{}, fmt.Errorf("sim labels: begin: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after commit this is a no-op
	if _, err := tx.Exec(ctx, query("run"), n.Run.Name, int64(n.Run.Seed), n.Run.SpecName, nil, len(n.Members), n.Start, n.End); err != nil {
		return labels.Set{}, fmt.Errorf("sim labels: record run %s: %w", n.Run.Name, err)
	}
	if _, err := tx.Exec(ctx, query("run_members_delete"), n.Run.Name); err != nil {
		return labels.Set{}, fmt.Errorf("sim labels: clear members of %s: %w", n.Run.Name, err)
	}
	rows, err := tx.Query(ctx, query("run_members"), n.Run.Name, n.Members)
	if err != nil {
		return labels.Set{}, fmt.Errorf("sim labels: record %d members of %s: %w", len(n.Members), n.Run.Name, err)
	}
	ids := make(map[string]uint64, len(n.Members))
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return labels.Set{}, fmt.Errorf("sim labels: read member id: %w", err)
		}
		ids[name] = uint64(id)
	}
	if err := rows.Err(); err != nil {
		return labels.Set{}, fmt.Errorf("sim labels: record members of %s: %w", n.Run.Name, err)
	}
	if len(ids) != len(n.Members) {
		var missing []string
		for _, m := range n.Members {
			if _, ok := ids[m]; !ok {
				missing = append(missing, m)
			}
		}
		return labels.Set{}, fmt.Errorf("sim labels: %d of %d members of run %s are not in users (import them first, e.g. `ratioguard import site`): %s",
			len(missing), len(n.Members), n.Run.Name, firstNames(missing, 5))
	}
	set := labels.Set{Run: n.Run.Name, Members: len(n.Members)}
	for _, l := range n.Labels {
		id, ok := ids[l.Name]
		if !ok {
			return labels.Set{}, fmt.Errorf("sim labels: label %s of %q, who is not a member of run %s", l.Kind, l.Name, n.Run.Name)
		}
		out := labels.Label{Run: n.Run.Name, UserID: id, Name: l.Name, Role: l.Role, Kind: l.Kind, Start: l.Start.UTC()}
		if l.Partner != "" {
			if out.Partner, ok = ids[l.Partner]; !ok {
				return labels.Set{}, fmt.Errorf("sim labels: partner %q of %q is not a member of run %s", l.Partner, l.Name, n.Run.Name)
			}
		}
		set.Labels = append(set.Labels, out)
	}
	if err := storeLabels(ctx, tx, set); err != nil {
		return labels.Set{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return labels.Set{}, fmt.Errorf("sim labels: commit: %w", err)
	}
	return set, nil
}

func firstNames(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:n], ", ") + fmt.Sprintf(" and %d more", len(names)-n)
}
