// Package consoleusers keeps the admin console's people: the tenant's
// admins and supervisors, added by an admin or on their first sign-in, with
// when they last signed in.
package consoleusers

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"switchboard/apierror"
	"switchboard/contactpoint"
	"switchboard/ent"
	"switchboard/ent/adminuser"
	"switchboard/ent/schema"
	"switchboard/gid"
	"switchboard/viewer"
)

// List returns the tenant's console people by email (admins only: the
// AdminUser policy says so).
func List(ctx context.Context, c *ent.Client) ([]*ent.AdminUser, error) {
	return c.AdminUser.Query().Order(adminuser.ByEmail()).All(ctx)
}

// New is a person an admin adds.
type New struct {
	Email, Name, Organisation string
	Role                      viewer.Role
}

// Create adds a person to the console; an email already there is CONFLICT.
func Create(ctx context.Context, c *ent.Client, n New) (*ent.AdminUser, error) {
	email, err := contactpoint.NormaliseEmail(n.Email)
	if err != nil {
		return nil, apierror.New(apierror.BadUserInput, "email: %s", err)
	}
	u, err := c.AdminUser.Create().
		SetEmail(email).SetName(strings.TrimSpace(n.Name)).SetOrganisation(strings.TrimSpace(n.Organisation)).SetRole(n.Role).
		Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, apierror.New(apierror.Conflict, "%s is a person of the console already", email)
	}
	return u, err
}

// Delete removes a person from the console's list. Whether a person may
// sign in is the identity provider's to say (the token's role); one removed
// who signs in again is listed again.
func Delete(ctx context.Context, c *ent.Client, id gid.ID) error {
	err := c.AdminUser.DeleteOneID(id).Exec(ctx)
	if ent.IsNotFound(err) {
		return apierror.New(apierror.NotFound, "no such person of the console")
	}
	return err
}

// RecordEvery is how often a replica writes a person's sign-in: the first
// request of a person, then at most once in this long.
const RecordEvery = 15 * time.Minute

// SignIns records the sign-ins of a tenant's admins and supervisors: a
// person not yet listed is added, with the token's name and role, and
// every person's last sign-in is kept, at most once per RecordEvery per
// replica, so that requests do not each write.
type SignIns struct {
	client *ent.Client
	log    *slog.Logger
	mu     sync.Mutex
	seen   map[string]time.Time
}

// NewSignIns returns the recorder of sign-ins into client.
func NewSignIns(client *ent.Client, log *slog.Logger) *SignIns {
	if log == nil {
		log = slog.Default()
	}
	return &SignIns{client: client, log: log, seen: map[string]time.Time{}}
}

// Record records v's sign-in when v is a tenant's admin or supervisor (a
// person, not a service). A failure is logged, not returned: it must not
// stop the person signing in.
func (s *SignIns) Record(ctx context.Context, v *viewer.Viewer) {
	if s == nil || v == nil || v.TenantID == "" || v.Service != "" || v.Email == "" ||
		(v.Role != viewer.RoleAdmin && v.Role != viewer.RoleSupervisor) {
		return
	}
	key := string(v.TenantID) + "\x00" + v.Email
	now := time.Now()
	s.mu.Lock()
	last, ok := s.seen[key]
	if ok && now.Sub(last) < RecordEvery {
		s.mu.Unlock()
		return
	}
	if len(s.seen) > 100_000 {
		clear(s.seen)
	}
	s.seen[key] = now
	s.mu.Unlock()

	sctx := viewer.NewContext(context.WithoutCancel(ctx), viewer.System(v.TenantID, schema.SignInService))
	n, err := s.client.AdminUser.Update().
		Where(adminuser.Email(v.Email)).
		SetLastSignInAt(now).SetRole(v.Role).
		Save(sctx)
	if err == nil && n == 0 {
		name := strings.TrimSpace(v.Name)
		if name == "" {
			name = v.Email
		}
		err = s.client.AdminUser.Create().
			SetEmail(v.Email).SetName(name).SetRole(v.Role).SetLastSignInAt(now).
			OnConflictColumns(adminuser.FieldTenantID, adminuser.FieldEmail).UpdateLastSignInAt().
			Exec(sctx)
	}
	if err != nil {
		s.mu.Lock()
		delete(s.seen, key) // try again on the next request
		s.mu.Unlock()
		s.log.WarnContext(ctx, "console users: recording a sign-in", "tenant", v.TenantID, "err", err)
	}
}
