package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/ratioguard/ratioguard/internal/config"
	"github.com/ratioguard/ratioguard/internal/pgconn"
	"github.com/ratioguard/ratioguard/reports"
)

func runStaff(ctx context.Context, env *cliEnv, args []string) error {
	if len(args) == 0 || args[0] != "add" {
		return usageError{"usage: ratioguard staff add NAME [--role moderator|admin] [--password-stdin] [--json]"}
	}
	eng := config.FromEnv()
	fs := newFlagSet(env, "staff add")
	eng.RegisterFlags(fs)
	role := fs.String("role", "moderator", "moderator or admin")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input (otherwise one is generated and printed once)")
	asJSON := fs.Bool("json", false, "print the account as JSON")
	if err := fs.Parse(interleave(args[1:])); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"staff add takes exactly one NAME"}
	}
	password, generated := "", false
	if *fromStdin {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("read password from stdin: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	} else {
		b := make([]byte, 18)
		if _, err := rand.Read(b); err != nil {
			return fmt.Errorf("generate password: %w", err)
		}
		password, generated = base64.RawURLEncoding.EncodeToString(b), true
	}
	pool, err := pgconn.Connect(ctx, eng.PostgresURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	st, err := reports.NewStore(pool).CreateStaff(ctx, fs.Arg(0), password, *role)
	if err != nil {
		return err
	}
	out := map[string]any{"id": st.ID, "name": st.Name, "role": st.Role}
	if generated {
		out["password"] = password
	}
	if *asJSON {
		return json.NewEncoder(env.stdout).Encode(out)
	}
	fmt.Fprintf(env.stdout, "staff %s (id %d, %s)\n", st.Name, st.ID, st.Role)
	if generated {
		fmt.Fprintf(env.stdout, "password: %s (shown once)\n", password)
	}
	return nil
}
