package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"switchboard/auth"
	"switchboard/cmd/switchboard/wire"
	"switchboard/integrations"
	"switchboard/seed"
	"switchboard/store"
	"switchboard/viewer"
)

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c config
	if err := parseFlags("serve", args, getenv, stderr, c.serveFlags); err != nil {
		return err
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	wire.TuneRuntime()
	// The port first: a server that cannot listen writes nothing.
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	secret, err := c.secret()
	if err != nil {
		return err
	}
	keys, err := c.encryptionKeys()
	if err != nil {
		return err
	}
	if err := c.checkPublicURL(); err != nil {
		return err
	}
	st, err := c.openStore(ctx, log)
	if err != nil {
		return err
	}
	defer st.Close()

	var demoTenant string
	if c.seed && st.Dialect == dialect.SQLite {
		op := viewer.NewContext(ctx, viewer.SystemOperator("serve"))
		n, err := st.Client.Tenant.Query().Count(op)
		if err != nil {
			return err
		}
		if n == 0 {
			res, err := seed.Demo(ctx, st.Client)
			if err != nil {
				return err
			}
			demoTenant = string(res.TenantID)
			log.Info("loaded the demo tenant into the empty store", "tenant", demoTenant)
		}
	}

	wc := c.wire(st, secret, log)
	wc.EncryptionKeys = keys
	wc.Tracing = c.tracing(getenv)
	// On a developer's embedded store with the demo, the explorer opens
	// signed in as the demo's admin, on every run.
	var demoHeaders string
	if c.seed && st.Dialect == dialect.SQLite {
		if id, err := seed.DemoTenant(ctx, st.Client); err == nil {
			tok, err := auth.Mint(secret, auth.Claims{Email: seed.AdminEmail, Name: "Ada Admin", Tenant: string(id), Role: auth.RoleAdmin}, 24*time.Hour, time.Now())
			if err != nil {
				return err
			}
			demoHeaders = fmt.Sprintf(`{"Authorization": "Bearer %s"}`, tok)
			wc.ExplorerHeaders = demoHeaders
		}
	}
	app, err := wire.New(ctx, wc)
	if err != nil {
		return err
	}
	defer app.Close()
	srv := &http.Server{
		Handler:           app,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	url := "http://" + ln.Addr().String() + "/"
	fmt.Fprintf(stdout, "switchboard is serving on %s (query explorer; GraphQL at %squery)\n", url, url)
	if demoTenant != "" && demoHeaders != "" {
		fmt.Fprintf(stdout, "The explorer opens signed in as the demo tenant's admin; elsewhere, send this header (valid 24h):\n%s\n", demoHeaders)
		fmt.Fprintln(stdout, "Another at any time: switchboard token --demo --role admin (or agent, supervisor)")
	}
	go app.Recorder().Run(ctx)  // each UTC day's minute record, once the day is over
	go app.Usage().Run(ctx)     // each tenant's usage hours, once each hour is over
	go app.Retention().Run(ctx) // tenants unsubscribed for longer than -decommission-after, if set
	if m := app.Meter(); m != nil {
		go m.Run(ctx) // each closed hour to AWS Marketplace, once
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Draining: not ready, WebSockets told to go elsewhere (1001), and
	// requests served a while longer while load balancers notice; then
	// the listener closes and the requests in flight are waited for.
	log.Info("shutting down", "delay", c.shutdownDelay)
	app.Drain()
	time.Sleep(c.shutdownDelay)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// meterWait is how long `switchboard meter` waits for a replica that is
// closing or metering hours at that moment.
const meterWait = 2 * time.Minute

func meterCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c config
	var hourFlag string
	if err := parseFlags("meter", args, getenv, stderr, func(fs *flagSet) {
		c.sharedFlags(fs)
		c.meteringFlags(fs)
		fs.StringVar(&hourFlag, "hour", "", "meter only this hour (RFC 3339, on the hour, e.g. 2026-12-01T10:00:00Z); default: every closed hour not yet metered")
	}); err != nil {
		return err
	}
	var hour time.Time
	if hourFlag != "" {
		h, err := time.Parse(time.RFC3339, hourFlag)
		if err != nil {
			return fmt.Errorf("-hour %q is no RFC 3339 time, e.g. 2026-12-01T10:00:00Z", hourFlag)
		}
		hour = h.UTC()
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	st, err := c.openStore(ctx, log)
	if err != nil {
		return err
	}
	defer st.Close()
	closer, meter, err := wire.Metering(ctx, c.wire(st, nil, log), meterWait)
	if err != nil {
		return err
	}
	sent, err := meter.OnDemand(ctx, closer, hour)
	for _, s := range sent {
		fmt.Fprintf(stdout, "%s\t%s\t%d\t%s\n", s.TenantID, s.Hour.UTC().Format(time.RFC3339), s.Quantity, s.Status)
	}
	if err != nil {
		return err
	}
	if len(sent) == 0 {
		fmt.Fprintln(stdout, "nothing to meter: every closed hour of a tenant with a Marketplace buyer has been metered")
		return nil
	}
	fmt.Fprintf(stdout, "%d records sent to AWS Marketplace\n", len(sent))
	return nil
}

// reencryptCmd seals again, under the current encryption key, every
// credential sealed under a previous one, after a key rotation.
func reencryptCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c config
	if err := parseFlags("reencrypt", args, getenv, stderr, c.sharedFlags); err != nil {
		return err
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	keys, err := c.encryptionKeys()
	if err != nil {
		return err
	}
	keyring, err := keys.Keyring()
	if err != nil {
		return err
	}
	st, err := c.openStore(ctx, log)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := integrations.Reseal(ctx, st.Client, keyring)
	fmt.Fprintf(stdout, "%d credentials sealed again under the current key\n", n)
	return err
}

func migrateCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c config
	if err := parseFlags("migrate", args, getenv, stderr, c.sharedFlags); err != nil {
		return err
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	st, err := c.openStore(ctx, log)
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintln(stdout, "the store is up to date")
	return nil
}

func seedCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c config
	if err := parseFlags("seed", args, getenv, stderr, c.sharedFlags); err != nil {
		return err
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	st, err := c.openStore(ctx, log)
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := seed.Demo(ctx, st.Client)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "demo tenant %s (%q) is loaded; its admin is %s\n", res.TenantID, seed.DemoTenantName, seed.AdminEmail)
	return nil
}

func tokenCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c config
	var tenantID, email, role, name string
	var ttl time.Duration
	var demo bool
	if err := parseFlags("token", args, getenv, stderr, func(fs *flagSet) {
		c.sharedFlags(fs)
		fs.StringVar(&tenantID, "tenant", "", "the tenant's ID (not for operators)")
		fs.StringVar(&email, "email", "", "the person's email")
		fs.StringVar(&role, "role", "agent", "agent, supervisor, admin or operator")
		fs.StringVar(&name, "name", "", "the person's name")
		fs.DurationVar(&ttl, "ttl", time.Hour, "how long the token is valid")
		fs.BoolVar(&demo, "demo", false, "act as the demo tenant's person of -role (its tenant, email and name from the store)")
	}); err != nil {
		return err
	}
	r, err := auth.ParseRole(strings.ToLower(role))
	if err != nil {
		return err
	}
	secret, err := c.existingSecret()
	if err != nil {
		return err
	}
	if demo {
		if tenantID, email, name, err = c.demoPerson(ctx, r); err != nil {
			return err
		}
	}
	tok, err := auth.Mint(secret, auth.Claims{Email: email, Name: name, Tenant: tenantID, Role: r}, ttl, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}

// demoPerson returns the demo tenant's ID and the name and email of its
// person of role r, from the configured store.
func (c *config) demoPerson(ctx context.Context, r auth.Role) (tenantID, email, name string, err error) {
	name, email, ok := seed.DemoPerson(viewer.Role(strings.ToUpper(string(r))))
	if !ok {
		return "", "", "", fmt.Errorf("the demo tenant has no %s (operators belong to no tenant: use --email)", r)
	}
	st, err := store.Open(ctx, c.databaseURL)
	if err != nil {
		return "", "", "", err
	}
	defer st.Close()
	id, err := seed.DemoTenant(ctx, st.Client)
	if err != nil {
		return "", "", "", err
	}
	return string(id), email, name, nil
}
