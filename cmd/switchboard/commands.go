package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"switchboard/auth"
	"switchboard/connectaws"
	"switchboard/conversations"
	"switchboard/ent/tenant"
	"switchboard/livestatus"
	"switchboard/mail"
	"switchboard/minutes"
	"switchboard/seed"
	"switchboard/server"
	"switchboard/viewer"
)

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.flags(fs, getenv)
	def := func(name, d string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return d
	}
	fs.StringVar(&c.addr, "addr", def("SWITCHBOARD_ADDR", "127.0.0.1:8080"), "where to listen ($SWITCHBOARD_ADDR)")
	fs.StringVar(&c.allowedOrigins, "allowed-origins", def("SWITCHBOARD_ALLOWED_ORIGINS", ""),
		"comma-separated browser origins, besides the server's own, that may open a WebSocket ($SWITCHBOARD_ALLOWED_ORIGINS)")
	fs.BoolVar(&c.seed, "seed", def("SWITCHBOARD_SEED", "true") == "true",
		"load the demo tenant when the embedded store is empty ($SWITCHBOARD_SEED)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	log := newLogger(stderr)
	server.TuneRuntime()
	secret, err := c.secret()
	if err != nil {
		return err
	}
	if err := c.ensureEncryptionKey(); err != nil {
		return err
	}
	verifier, err := auth.NewVerifier(ctx, auth.Options{Secret: secret, Issuer: c.oidcIssuer, Audience: c.oidcAudience})
	if err != nil {
		return err
	}
	st, err := c.openStore(ctx, log)
	if err != nil {
		return err
	}
	defer st.Close()

	var demoTenant string
	if c.seed && st.Dialect == dialect.SQLite {
		op := viewer.NewContext(ctx, &viewer.Viewer{Subject: "serve", Role: viewer.RoleOperator})
		n, err := st.Client.Tenant.Query().Where(tenant.LifecycleNEQ(tenant.LifecycleDECOMMISSIONED)).Count(op)
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

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	var origins []string
	for _, o := range strings.Split(c.allowedOrigins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			origins = append(origins, o)
		}
	}
	clients, err := connectaws.New(ctx, connectaws.Options{
		STSEndpoint:     getenv("SWITCHBOARD_AWS_STS_ENDPOINT"),
		ConnectEndpoint: getenv("SWITCHBOARD_AWS_CONNECT_ENDPOINT"),
		S3Endpoint:      getenv("SWITCHBOARD_AWS_S3_ENDPOINT"),
		SESEndpoint:     getenv("SWITCHBOARD_AWS_SES_ENDPOINT"),
	})
	if err != nil {
		return err
	}
	mailer, err := mail.New(mail.Options{Client: st.Client, AWS: clients, Logger: log})
	if err != nil {
		return err
	}
	app, err := server.New(ctx, st, verifier, server.Config{
		AllowedOrigins: origins,
		Logger:         log,
		Connect:        livestatus.ConnectAWS{Clients: clients},
		Chats:          conversations.ConnectAWS{Clients: clients},
		Mail:           mailer,
	})
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
	if demoTenant != "" {
		tok, err := auth.Mint(secret, auth.Claims{Email: seed.AdminEmail, Name: "Ada Admin", Tenant: demoTenant, Role: auth.RoleAdmin}, 24*time.Hour, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Paste into the explorer's Headers tab to act as the demo tenant's admin (valid 24h):\n{\"Authorization\": \"Bearer %s\"}\n", tok)
	}
	recorder := &minutes.Recorder{Client: st.Client, Logger: log, Lock: func(ctx context.Context) (func(), bool, error) {
		return st.TryLock(ctx, minutes.LockKey)
	}}
	go recorder.Run(ctx) // each UTC day's minute record, once the day is over
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func migrateCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c config
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.flags(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	st, err := c.openStore(ctx, newLogger(stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintln(stdout, "the store is up to date")
	return nil
}

func seedCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c config
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.flags(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	st, err := c.openStore(ctx, newLogger(stderr))
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

func tokenCmd(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c config
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.flags(fs, getenv)
	tenantID := fs.String("tenant", "", "the tenant's ID (not for operators)")
	email := fs.String("email", "", "the person's email")
	role := fs.String("role", "agent", "agent, supervisor, admin or operator")
	name := fs.String("name", "", "the person's name")
	ttl := fs.Duration("ttl", time.Hour, "how long the token is valid")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	r, err := auth.ParseRole(strings.ToLower(*role))
	if err != nil {
		return err
	}
	secret, err := c.secret()
	if err != nil {
		return err
	}
	tok, err := auth.Mint(secret, auth.Claims{Email: *email, Name: *name, Tenant: *tenantID, Role: r}, *ttl, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}
