// Package integrations keeps the tenant's credentials for other services —
// today its Microsoft Entra ID application — sealed at rest with the
// server's keyring (package sealed), checked before they are kept, and
// never read back out.
package integrations

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"switchboard/apierror"
	"switchboard/ent"
	"switchboard/ent/microsoftintegration"
	"switchboard/ent/privacy"
	"switchboard/gid"
	"switchboard/microsoft"
	"switchboard/sealed"
	"switchboard/viewer"
)

// Microsoft keeps the Microsoft integration.
type Microsoft struct {
	Keyring *sealed.Keyring
	// Authority is Entra ID's (microsoft.DefaultAuthority when empty);
	// tests point it at a local one.
	Authority  string
	HTTPClient *http.Client
}

// Status is the integration as the console shows it: never the secret.
type Status struct {
	Configured                  bool
	DirectoryTenantID, ClientID string
	UpdatedAt                   time.Time
}

// secretAAD binds a sealed secret to its tenant and field, so that one
// copied to another row does not open.
func secretAAD(tenantID gid.ID) []byte {
	return []byte("tenant/" + string(tenantID) + "/microsoft.clientSecret")
}

// Set checks the credentials with Entra ID (a client-credentials token
// request) and keeps them, the secret sealed. Bad or refused credentials
// are BAD_USER_INPUT saying what to fix, and nothing is kept. Only admins
// may (the MicrosoftIntegration policy); no transaction is open while
// Entra ID answers.
func (m *Microsoft) Set(ctx context.Context, c *ent.Client, creds microsoft.Credentials) (Status, error) {
	creds.DirectoryTenantID, creds.ClientID = strings.TrimSpace(creds.DirectoryTenantID), strings.TrimSpace(creds.ClientID)
	if err := microsoft.Validate(creds); err != nil {
		return Status{}, apierror.Wrap(apierror.BadUserInput, err, "%s", strings.TrimPrefix(err.Error(), "microsoft: "))
	}
	// Who may is asked before Entra ID is: the current row is read under
	// the policy (admins only).
	existing, err := c.MicrosoftIntegration.Query().Only(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return Status{}, err
	}
	if m == nil || m.Keyring == nil {
		return Status{}, apierror.New(apierror.BadUserInput, "this server has no encryption key for integration credentials")
	}
	authority := m.Authority
	if authority == "" {
		authority = microsoft.DefaultAuthority
	}
	if err := microsoft.Check(ctx, authority, creds, m.HTTPClient); err != nil {
		if ce, ok := errors.AsType[*microsoft.CheckError](err); ok && ce.Reason == microsoft.ReasonUnreachable {
			return Status{}, apierror.Wrap(apierror.Upstream, err, "%s", strings.TrimPrefix(err.Error(), "microsoft: "))
		}
		return Status{}, apierror.Wrap(apierror.BadUserInput, err, "%s", strings.TrimPrefix(err.Error(), "microsoft: "))
	}
	tenantID := viewer.FromContext(ctx).TenantID
	secret, err := m.Keyring.Seal([]byte(creds.ClientSecret), secretAAD(tenantID))
	if err != nil {
		return Status{}, err
	}
	var saved *ent.MicrosoftIntegration
	if existing != nil {
		saved, err = existing.Update().
			SetDirectoryTenantID(creds.DirectoryTenantID).SetClientID(creds.ClientID).SetClientSecretSealed(secret).
			Save(ctx)
	} else {
		saved, err = c.MicrosoftIntegration.Create().
			SetDirectoryTenantID(creds.DirectoryTenantID).SetClientID(creds.ClientID).SetClientSecretSealed(secret).
			Save(ctx)
	}
	if err != nil {
		return Status{}, err
	}
	return statusOf(saved), nil
}

// Get returns the integration's status (Configured false: none).
func (m *Microsoft) Get(ctx context.Context, c *ent.Client) (Status, error) {
	i, err := c.MicrosoftIntegration.Query().Only(ctx)
	if ent.IsNotFound(err) {
		return Status{}, nil
	}
	if err != nil {
		return Status{}, err
	}
	return statusOf(i), nil
}

func statusOf(i *ent.MicrosoftIntegration) Status {
	return Status{Configured: true, DirectoryTenantID: i.DirectoryTenantID, ClientID: i.ClientID, UpdatedAt: i.UpdatedAt}
}

// Reseal seals again, under the keyring's current key, every secret sealed
// under a previous one, across tenants, and returns how many it resealed:
// `switchboard reencrypt`, after a key rotation. A secret that does not
// open with any key of the keyring is an error naming its tenant.
func Reseal(ctx context.Context, c *ent.Client, k *sealed.Keyring) (int, error) {
	ctx = viewer.NewContext(ctx, viewer.SystemOperator("reencrypt"))
	all, err := c.MicrosoftIntegration.Query().All(allTenants(ctx))
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, i := range all {
		if !k.NeedsRotation(i.ClientSecretSealed) {
			continue
		}
		plain, err := k.Open(i.ClientSecretSealed, secretAAD(i.TenantID))
		if err != nil {
			errs = append(errs, errors.New("tenant "+string(i.TenantID)+": "+err.Error()))
			continue
		}
		again, err := k.Seal(plain, secretAAD(i.TenantID))
		if err != nil {
			return n, err
		}
		tctx := viewer.NewContext(ctx, viewer.System(i.TenantID, "reencrypt"))
		if err := c.MicrosoftIntegration.UpdateOneID(i.ID).
			Where(microsoftintegration.ClientSecretSealed(i.ClientSecretSealed)).
			SetClientSecretSealed(again).Exec(allTenants(tctx)); err != nil && !ent.IsNotFound(err) {
			return n, err
		}
		n++
	}
	return n, errors.Join(errs...)
}

// allTenants reads and writes across tenants: the re-encryption is the
// platform's, and touches nothing but the sealed value.
func allTenants(ctx context.Context) context.Context {
	return privacy.DecisionContext(ctx, privacy.Allow)
}
