package main

import "context"

// Subcommands whose issues have not landed yet: each says so and fails.

func runAll(context.Context, *cliEnv, []string) error { return errNotImplemented("all") }
