package main

import "context"

// Subcommands whose issues have not landed yet: each says so and fails.

func runTracker(context.Context, *cliEnv, []string) error   { return errNotImplemented("tracker") }
func runIngest(context.Context, *cliEnv, []string) error    { return errNotImplemented("ingest") }
func runReconcile(context.Context, *cliEnv, []string) error { return errNotImplemented("reconcile") }
func runReports(context.Context, *cliEnv, []string) error   { return errNotImplemented("reports") }
func runAll(context.Context, *cliEnv, []string) error       { return errNotImplemented("all") }
func runUser(context.Context, *cliEnv, []string) error      { return errNotImplemented("user") }
func runTorrent(context.Context, *cliEnv, []string) error   { return errNotImplemented("torrent") }
func runStaff(context.Context, *cliEnv, []string) error     { return errNotImplemented("staff") }
func runSim(context.Context, *cliEnv, []string) error       { return errNotImplemented("sim") }
