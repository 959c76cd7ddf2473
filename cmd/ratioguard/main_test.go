package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

func testEnv() (*cliEnv, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &cliEnv{stdout: &out, stderr: &errb, log: slog.New(slog.NewTextHandler(&errb, nil))}, &out, &errb
}

func TestUnknownCommandIsUsageError(t *testing.T) {
	env, _, errb := testEnv()
	if code := run(context.Background(), env, []string{"frobnicate"}); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	if !strings.Contains(errb.String(), `unknown command "frobnicate"`) {
		t.Fatalf("stderr = %q", errb.String())
	}
}

func TestVersionJSON(t *testing.T) {
	env, out, _ := testEnv()
	if code := run(context.Background(), env, []string{"version", "--json"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(out.String(), `"event_schema":1`) {
		t.Fatalf("stdout = %q", out.String())
	}
}

// Every subcommand either works or says it is not implemented and fails:
// none may exit 0 while doing nothing.
func TestStubsFailLoudly(t *testing.T) {
	for name, cmd := range commands() {
		if name == "version" || name == "migrate" {
			continue
		}
		err := cmd.run(context.Background(), &cliEnv{}, []string{"--definitely-not-a-flag"})
		if err == nil {
			t.Errorf("%s with a bad flag returned nil", name)
		}
	}
}
