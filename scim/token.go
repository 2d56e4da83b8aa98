package scim

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"switchboard/apierror"
	"switchboard/credential"
	"switchboard/ent"
	"switchboard/ent/privacy"
	"switchboard/ent/scimtoken"
	"switchboard/gid"
	"switchboard/viewer"
)

// TokenPrefix starts every SCIM token, so that a leaked one is recognised.
const TokenPrefix = "sbs_"

// touchInterval is how stale a token's last_used_at may get: it is written
// at most once per interval, not on every request.
const touchInterval = time.Minute

// ErrUnauthenticated is returned by Authenticate for a missing, unknown or
// revoked token.
var ErrUnauthenticated = errors.New("scim: unknown or revoked token")

// CreateToken makes a SCIM bearer token for the viewer's tenant, named
// name, and returns it with its record. Only its SHA-256 is stored: the
// token is returned here, once. The viewer in ctx must be an admin of the
// tenant (a person, not a service).
func CreateToken(ctx context.Context, c *ent.Client, name, createdBy string) (token string, t *ent.ScimToken, err error) {
	if err := mayManageTokens(ctx); err != nil {
		return "", nil, err
	}
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", nil, apierror.New(apierror.BadUserInput, "a SCIM token needs a name")
	case utf8.RuneCountInString(name) > 100:
		return "", nil, apierror.New(apierror.BadUserInput, "a SCIM token's name has at most 100 characters")
	}
	token, hash := credential.New(TokenPrefix)
	create := c.ScimToken.Create().SetName(name).SetTokenHash(hash)
	if createdBy = strings.TrimSpace(createdBy); createdBy != "" {
		create.SetCreatedBy(truncateRunes(createdBy, 320))
	}
	t, err = create.Save(ctx)
	if err != nil {
		return "", nil, err
	}
	return token, t, nil
}

// RevokeToken revokes a token of the viewer's tenant; revoking a revoked
// token changes nothing. Another tenant's token is not found. The viewer
// must be an admin of the tenant.
func RevokeToken(ctx context.Context, c *ent.Client, id gid.ID) (*ent.ScimToken, error) {
	if err := mayManageTokens(ctx); err != nil {
		return nil, err
	}
	t, err := c.ScimToken.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apierror.New(apierror.NotFound, "no such SCIM token")
	}
	if err != nil {
		return nil, err
	}
	if t.RevokedAt != nil {
		return t, nil
	}
	return c.ScimToken.UpdateOne(t).SetRevokedAt(time.Now()).Save(ctx)
}

func mayManageTokens(ctx context.Context) error {
	v := viewer.FromContext(ctx)
	if !v.InTenant(viewer.RoleAdmin) || v.Service != "" {
		return apierror.New(apierror.Forbidden, "only the tenant's admins manage SCIM tokens")
	}
	return nil
}

// Authenticate finds the tenant of a bearer token (without "Bearer "):
// ErrUnauthenticated when it is unknown or revoked. It records when the
// token was last used, at most once a minute; failing to is not an error.
func Authenticate(ctx context.Context, c *ent.Client, bearer string) (tenantID gid.ID, err error) {
	if !strings.HasPrefix(bearer, TokenPrefix) || len(bearer) > 200 {
		return "", ErrUnauthenticated
	}
	// The token is the caller's only credential, so the lookup by its hash
	// runs across tenants; nothing else does.
	t, err := c.ScimToken.Query().
		Where(scimtoken.TokenHash(credential.Hash(bearer))).
		Only(privacy.DecisionContext(ctx, privacy.Allow))
	switch {
	case ent.IsNotFound(err):
		return "", ErrUnauthenticated
	case err != nil:
		return "", err
	case t.RevokedAt != nil:
		return "", ErrUnauthenticated
	}
	now := time.Now()
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= touchInterval {
		_, _ = c.ScimToken.Update().
			Where(scimtoken.ID(t.ID), scimtoken.Or(scimtoken.LastUsedAtIsNil(), scimtoken.LastUsedAtLT(now.Add(-touchInterval)))).
			SetLastUsedAt(now).
			Save(ServiceContext(ctx, t.TenantID))
	}
	return t.TenantID, nil
}

// ServiceContext returns ctx with the viewer the SCIM service acts as for
// a tenant: its identity provider (viewer.SCIM), with the rights the data
// layer gives viewer.ServiceSCIM (organisation contacts of source SCIM only).
func ServiceContext(ctx context.Context, tenantID gid.ID) context.Context {
	return viewer.NewContext(ctx, viewer.SCIM(tenantID))
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
