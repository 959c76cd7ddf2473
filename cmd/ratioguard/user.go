package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ratioguard/ratioguard/internal/config"
	"github.com/ratioguard/ratioguard/internal/pgconn"
	"github.com/ratioguard/ratioguard/tracker/admin"
)

func runUser(ctx context.Context, env *cliEnv, args []string) error {
	if len(args) == 0 || args[0] != "add" {
		return usageError{"usage: ratioguard user add NAME [--class C] [--json]"}
	}
	eng := config.FromEnv()
	fs := newFlagSet(env, "user add")
	eng.RegisterFlags(fs)
	class := fs.String("class", "member", "member class: member, power_user, elite, vip, uploader, staff or the site's own name (exemptions: detectors' staff_classes, enforce's exempt_classes)")
	base := fs.String("tracker-url", "http://"+config.Getenv(config.EnvTrackerAddr, config.DefaultTrackerAddr), "tracker base URL for the announce URL")
	asJSON := fs.Bool("json", false, "print the member as JSON")
	if err := fs.Parse(interleave(args[1:])); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"user add takes exactly one NAME"}
	}
	pool, err := pgconn.Connect(ctx, eng.PostgresURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	u, err := admin.AddUser(ctx, pool, fs.Arg(0), *class, *base)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(env.stdout).Encode(u)
	}
	_, err = fmt.Fprintf(env.stdout, "member %s (id %d, %s)\npasskey:      %s\nannounce URL: %s\n", u.Name, u.ID, u.Class, u.Passkey, u.AnnounceURL)
	return err
}

// interleave moves positional arguments after the flags so that
// "add NAME --json" parses like "add --json NAME".
func interleave(args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(a) > 1 && a[0] == '-' {
			flags = append(flags, a)
			continue
		}
		// The value of the flag just before ("--from gazelle DSN": DSN is
		// positional, since gazelle is the value).
		if i > 0 && len(args[i-1]) > 1 && args[i-1][0] == '-' && needsValue(args[i-1]) {
			flags = append(flags, a)
			continue
		}
		pos = append(pos, a)
	}
	return append(flags, pos...)
}

// needsValue: a "--name" flag without "=value" that is not boolean takes the next argument.
func needsValue(f string) bool {
	for _, b := range []string{"-json", "--json", "-dry-run", "--dry-run", "-skip-invalid", "--skip-invalid", "-h", "--help", "-help"} {
		if f == b {
			return false
		}
	}
	for i := 0; i < len(f); i++ {
		if f[i] == '=' {
			return false
		}
	}
	return true
}
