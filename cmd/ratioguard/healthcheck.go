package main

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// runHealthcheck probes a URL and fails unless it answers 200: the container
// healthcheck of images that have no curl.
func runHealthcheck(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "healthcheck")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"usage: ratioguard healthcheck URL"}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fs.Arg(0), nil)
	if err != nil {
		return usageError{fmt.Sprintf("bad url %q: %v", fs.Arg(0), err)}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("probe %s: %w", fs.Arg(0), err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("probe %s: status %s", fs.Arg(0), resp.Status)
	}
	return nil
}
