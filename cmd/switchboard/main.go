// Command switchboard is the GraphQL backend of the agent desktop.
//
//	switchboard [serve]   run the server (migrates first; seeds an empty embedded store)
//	switchboard migrate   bring the store's schema up to date
//	switchboard token     print a signed bearer token for local use
//	switchboard seed      load the demo tenant (idempotent)
//	switchboard meter     meter closed hours to AWS Marketplace now
//	switchboard reencrypt seal credentials again under the current encryption key
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"switchboard/cmd/switchboard/wire"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] == "serve" || strings.HasPrefix(os.Args[1], "-") {
		wire.ExecWithSmallStacks()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "switchboard:", err)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

// run is the whole program, with its environment passed in for tests.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprint(stdout, usage)
		return nil
	}
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stdout, stderr)
	case "migrate":
		return migrateCmd(ctx, args, getenv, stdout, stderr)
	case "token":
		return tokenCmd(ctx, args, getenv, stdout, stderr)
	case "meter":
		return meterCmd(ctx, args, getenv, stdout, stderr)
	case "reencrypt":
		return reencryptCmd(ctx, args, getenv, stdout, stderr)
	case "seed":
		return seedCmd(ctx, args, getenv, stdout, stderr)
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "switchboard: unknown command %q\n\n%s", cmd, usage)
	return errUsage
}

const usage = `switchboard: the GraphQL backend of the agent desktop

Commands:
  serve     run the server (the default); migrates first, seeds an empty embedded store
  migrate   bring the store's schema up to date and exit
  token     print a signed bearer token: token --tenant ID --email E --role R [--name N] [--ttl 1h], or token --demo --role R
  seed      load the demo tenant, agents, statuses, contacts and templates (idempotent)
  reencrypt seal every credential sealed under a previous encryption key (-encryption-keys-previous) again under the current one
  meter     meter every closed hour not yet sent to AWS Marketplace now (or meter --hour 2026-12-01T10:00:00Z), print what was sent, and exit; safe beside running replicas

Run "switchboard COMMAND -h" for a command's flags; each flag has an environment variable.
`
