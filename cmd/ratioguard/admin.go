package main

import (
	"context"
	"errors"
	"flag"

	"github.com/ratioguard/ratioguard/internal/ops"
)

// The default admin addresses (/metrics, /healthz, /readyz) of the stages
// run on their own; `ratioguard all` serves every stage on one, the
// tracker's.
const (
	defaultTrackerAdmin   = "127.0.0.1:6970"
	defaultIngestAdmin    = "127.0.0.1:6971"
	defaultDetectAdmin    = "127.0.0.1:6972"
	defaultEnforceAdmin   = "127.0.0.1:6973"
	defaultReportsAdmin   = "127.0.0.1:6974"
	defaultWritebackAdmin = "127.0.0.1:6975"
)

// adminFlag registers --admin-addr with the stage's default.
func adminFlag(fs *flag.FlagSet, def string) *string {
	return fs.String("admin-addr", def, "admin address serving /metrics, /healthz and /readyz, apart from public traffic (empty: none; under `all`, all's --admin-addr)")
}

// startAdmin returns the operations server of stage: under `ratioguard all`
// the one every stage shares (a stage's own --admin-addr is then refused),
// else a new one listening on addr. Until the stage replaces it, its
// readiness check says it is starting. stop ends the server's listener (if
// it has its own) and waits for it.
func startAdmin(ctx context.Context, env *cliEnv, fs *flag.FlagSet, stage, addr string) (adm *ops.Server, stop func(), err error) {
	if env.ops != nil {
		set := false
		fs.Visit(func(f *flag.Flag) { set = set || f.Name == "admin-addr" })
		if set {
			return nil, nil, usageError{"under `ratioguard all` the stages share all's --admin-addr: remove --admin-addr from --" + stage + "-flags"}
		}
		env.ops.Check(stage, starting)
		return env.ops, func() {}, nil
	}
	// Not ready until the stage replaces this check with its own: checked
	// before the listener serves, so no /readyz answers 200 in between.
	adm = ops.New(env.log)
	adm.Check(stage, starting)
	actx, cancel := context.WithCancel(ctx)
	wait, err := adm.Start(actx, addr)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	return adm, func() { cancel(); wait() }, nil
}

var errStarting = errors.New("starting")

// starting is a stage's readiness check until it has its own.
func starting(context.Context) error { return errStarting }
