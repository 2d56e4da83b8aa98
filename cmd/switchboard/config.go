package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"

	"switchboard/auth"
	"switchboard/store"
)

// config is the configuration every command shares.
type config struct {
	addr           string
	databaseURL    string
	dataDir        string
	jwtSecret      string
	oidcIssuer     string
	oidcAudience   string
	encryptionKey  string
	allowedOrigins string
	seed           bool
}

// flags registers the shared flags, defaulting each to its environment variable.
func (c *config) flags(fs *flag.FlagSet, getenv func(string) string) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&c.databaseURL, "database-url", env("SWITCHBOARD_DATABASE_URL", store.DefaultURL),
		"sqlite://PATH (embedded) or postgres://... ($SWITCHBOARD_DATABASE_URL)")
	fs.StringVar(&c.dataDir, "data-dir", env("SWITCHBOARD_DATA_DIR", ""),
		"folder for generated secrets; default: the embedded store's folder, or ./data ($SWITCHBOARD_DATA_DIR)")
	fs.StringVar(&c.jwtSecret, "jwt-secret", env("SWITCHBOARD_JWT_SECRET", ""),
		"HS256 secret for local tokens; generated and kept in the data folder when unset ($SWITCHBOARD_JWT_SECRET)")
	fs.StringVar(&c.oidcIssuer, "oidc-issuer", env("SWITCHBOARD_OIDC_ISSUER", ""),
		"also accept tokens of this OpenID Connect issuer ($SWITCHBOARD_OIDC_ISSUER)")
	fs.StringVar(&c.oidcAudience, "oidc-audience", env("SWITCHBOARD_OIDC_AUDIENCE", ""),
		"the audience OIDC tokens must carry ($SWITCHBOARD_OIDC_AUDIENCE)")
	fs.StringVar(&c.encryptionKey, "encryption-key", env("SWITCHBOARD_ENCRYPTION_KEY", ""),
		"key for secrets held at rest; generated and kept in the data folder when unset ($SWITCHBOARD_ENCRYPTION_KEY)")
}

// dataFolder is where generated secrets are kept.
func (c *config) dataFolder() string {
	if c.dataDir != "" {
		return c.dataDir
	}
	if p, ok := strings.CutPrefix(c.databaseURL, "sqlite://"); ok && p != "" {
		return filepath.Dir(p)
	}
	return "data"
}

// secret returns the JWT signing secret: the configured one, or the one
// generated on first run and kept in the data folder.
func (c *config) secret() ([]byte, error) {
	if c.jwtSecret != "" {
		return []byte(c.jwtSecret), nil
	}
	return auth.LoadOrCreateSecret(filepath.Join(c.dataFolder(), "jwt-secret"))
}

// ensureEncryptionKey makes sure a key for secrets at rest exists.
func (c *config) ensureEncryptionKey() error {
	if c.encryptionKey != "" {
		if len(c.encryptionKey) < 32 {
			return fmt.Errorf("SWITCHBOARD_ENCRYPTION_KEY must be at least 32 characters")
		}
		return nil
	}
	_, err := auth.LoadOrCreateSecret(filepath.Join(c.dataFolder(), "encryption-key"))
	return err
}

// openStore opens and migrates the configured store.
func (c *config) openStore(ctx context.Context, log *slog.Logger) (*store.Store, error) {
	st, err := store.Open(ctx, c.databaseURL)
	if err != nil {
		return nil, err
	}
	applied, err := st.Migrate(ctx)
	if err != nil {
		st.Close()
		return nil, err
	}
	for _, v := range applied {
		log.Info("applied migration", "version", v)
	}
	return st, nil
}

func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}
