package main

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/ratioguard/ratioguard/schemas/events"
)

func runVersion(_ context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "version")
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	v := map[string]any{"version": "dev", "go": runtime.Version(), "event_schema": events.SchemaVersion}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v["version"] = bi.Main.Version
	}
	if *asJSON {
		return json.NewEncoder(env.stdout).Encode(v)
	}
	_, err := fmt.Fprintf(env.stdout, "ratioguard %s (%s, event schema v%d)\n", v["version"], v["go"], events.SchemaVersion)
	return err
}
