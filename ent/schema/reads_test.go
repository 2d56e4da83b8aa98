package schema_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"switchboard/apierror"
	"switchboard/apierror/classify"
	"switchboard/ent"
	"switchboard/ent/contact"
	"switchboard/ent/interaction"
	"switchboard/ent/privacy"
	"switchboard/ent/schema"
	"switchboard/internal/testenv"
	"switchboard/viewer"
)

// TestReadRules exercises the read rules that are not "the whole tenant"
// through the ent client, as node(id:) and the domain packages meet them.
func TestReadRules(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		c := testenv.OpenStore(t, b.URL(t)).Client
		bg := context.Background()
		op := viewer.NewContext(bg, &viewer.Viewer{Role: viewer.RoleOperator, Email: "op@x"})
		ta := c.Tenant.Create().SetName("A").SaveX(op)
		tb := c.Tenant.Create().SetName("B").SaveX(op)
		as := func(tn *ent.Tenant, r viewer.Role, agentID ...*ent.Agent) context.Context {
			v := &viewer.Viewer{Role: r, TenantID: tn.ID, Email: "x@" + string(tn.ID)}
			if len(agentID) > 0 {
				v.AgentID = agentID[0].ID
			}
			return viewer.NewContext(bg, v)
		}
		aAdmin, bAdmin := as(ta, viewer.RoleAdmin), as(tb, viewer.RoleAdmin)
		alex := c.Agent.Create().SetName("Alex").SetEmail("alex@a.example").SaveX(aAdmin)
		bea := c.Agent.Create().SetName("Bea").SetEmail("bea@a.example").SaveX(aAdmin)
		aAgent, aSup := as(ta, viewer.RoleAgent, alex), as(ta, viewer.RoleSupervisor)
		bAgent := as(tb, viewer.RoleAgent)
		scimA := viewer.NewContext(bg, &viewer.Viewer{Role: viewer.RoleAdmin, TenantID: ta.ID, Service: viewer.ServiceSCIM, Email: "scim"})

		newInstance := func(ctx context.Context, n string) *ent.Instance {
			return c.Instance.Create().
				SetInstanceArn("arn:aws:connect:ap-southeast-2:123456789012:instance/11111111-2222-3333-4444-55555555555" + n).
				SetRegion("ap-southeast-2").SetRoleArn("arn:aws:iam::123456789012:role/Switchboard").SetExternalID("x" + n).
				SaveX(ctx)
		}
		aInst, bInst := newInstance(aAdmin, "1"), newInstance(bAdmin, "2")
		aToken := c.ScimToken.Create().SetName("Entra ID").SetTokenHash([]byte("hash-a")).SaveX(aAdmin)

		// refused checks a read was refused for the client, in the policy's words.
		refused := func(t *testing.T, what string, err error) {
			t.Helper()
			code, msg := classify.Of(err)
			if !errors.Is(err, privacy.Deny) || code != apierror.Forbidden || msg == "not allowed" {
				t.Errorf("%s: %v (%s %q), want a FORBIDDEN privacy denial with the policy's message", what, err, code, msg)
			}
		}

		t.Run("instance", func(t *testing.T) {
			if got, err := c.Instance.Get(aAdmin, aInst.ID); err != nil || got.ID != aInst.ID {
				t.Fatalf("the admin reads its instance: %v", err)
			}
			for who, ctx := range map[string]context.Context{"agent": aAgent, "supervisor": aSup, "SCIM client": scimA, "operator": op} {
				_, err := c.Instance.Get(ctx, aInst.ID)
				refused(t, who, err)
			}
			if _, err := c.Instance.Get(bAdmin, aInst.ID); !ent.IsNotFound(err) {
				t.Errorf("B's admin gets A's instance: %v", err)
			}
			// ReadInstance: the viewer's own tenant's instance, and no other.
			if got, err := c.Instance.Query().Only(schema.ReadInstance(aAgent)); err != nil || got.ID != aInst.ID {
				t.Errorf("an agent reads its tenant's instance under ReadInstance: %v", err)
			}
			if got, err := c.Instance.Query().Only(schema.ReadInstance(bAgent)); err != nil || got.ID != bInst.ID {
				t.Errorf("B's agent under ReadInstance: %v, %v", got, err)
			}
			if _, err := c.Instance.Get(schema.ReadInstance(bAgent), aInst.ID); !ent.IsNotFound(err) {
				t.Errorf("B's agent gets A's instance under ReadInstance: %v", err)
			}
			if n, err := c.Instance.Query().Count(schema.ReadInstance(op)); err != nil || n != 0 {
				t.Errorf("an operator under ReadInstance counts %d instances: %v", n, err)
			}
			// The grant is the viewer's: a context given another viewer loses it.
			other := viewer.NewContext(schema.ReadInstance(aAgent), &viewer.Viewer{Role: viewer.RoleAgent, TenantID: ta.ID, AgentID: bea.ID})
			_, err := c.Instance.Query().Only(other)
			refused(t, "another viewer under the agent's grant", err)
			// It grants Instance reads only.
			if _, err := c.ScimToken.Query().All(schema.ReadInstance(aAgent)); !errors.Is(err, privacy.Deny) {
				t.Errorf("ReadInstance reads SCIM tokens: %v", err)
			}
		})

		t.Run("SCIM tokens", func(t *testing.T) {
			if got, err := c.ScimToken.Query().All(aAdmin); err != nil || len(got) != 1 {
				t.Fatalf("the admin lists %v: %v", got, err)
			}
			for who, ctx := range map[string]context.Context{"agent": aAgent, "supervisor": aSup, "SCIM client": scimA, "operator": op} {
				_, err := c.ScimToken.Get(ctx, aToken.ID)
				refused(t, who, err)
			}
			if _, err := c.ScimToken.Get(bAdmin, aToken.ID); !ent.IsNotFound(err) {
				t.Errorf("B's admin gets A's token: %v", err)
			}
			// The SCIM client still records when its token was last used.
			if n, err := c.ScimToken.Update().SetLastUsedAt(time.Now()).Save(scimA); err != nil || n != 1 {
				t.Errorf("the SCIM client touches its token: %d, %v", n, err)
			}
		})

		t.Run("whole-tenant interactions", func(t *testing.T) {
			record := func(ctx context.Context, a *ent.Agent, id string) {
				c.Interaction.Create().SetAgentID(a.ID).SetContactID(id).SetChannel(interaction.ChannelVOICE).
					SetConnectionType(interaction.ConnectionTypeINBOUND).SetPhoneNumber("+61298765432").SetStartedAt(time.Now()).ExecX(ctx)
			}
			record(aAgent, alex, "c-1")
			record(aSup, bea, "c-2")
			byPhone := func(ctx context.Context) ([]*ent.Interaction, error) {
				return c.Interaction.Query().Where(interaction.PhoneNumber("+61298765432")).All(ctx)
			}
			if got, err := byPhone(aAgent); err != nil || len(got) != 1 {
				t.Errorf("an agent reads its own: %v, %v", got, err)
			}
			_, err := byPhone(schema.WholeTenant(aAgent))
			refused(t, "an agent's whole-tenant read", err)
			if got, err := byPhone(schema.WholeTenant(aSup)); err != nil || len(got) != 2 {
				t.Errorf("a supervisor's whole-tenant read: %v, %v", got, err)
			}
			if got, err := byPhone(schema.WholeTenant(bAdmin)); err != nil || len(got) != 0 {
				t.Errorf("B's admin's whole-tenant read: %v, %v", got, err)
			}
		})

		t.Run("a personal contact's owner is its maker", func(t *testing.T) {
			mine := c.Contact.Create().SetName("Jordan").SaveX(aAgent)
			if mine.OwnerID == nil || *mine.OwnerID != alex.ID || mine.Scope != contact.ScopePERSONAL {
				t.Fatalf("created %+v", mine)
			}
			err := c.Contact.Create().SetName("X").Exec(aAdmin) // an admin without an agent record
			if code, _ := classify.Of(err); code != apierror.BadUserInput {
				t.Errorf("a personal contact without an agent record: %v", err)
			}
			err = c.Contact.Create().SetName("X").SetOwnerID(bea.ID).Exec(aAgent)
			refused(t, "a personal contact for another", err)
			err = c.Contact.Create().SetName("X").SetScope(contact.ScopeORGANISATION).Exec(aAgent)
			refused(t, "an agent's organisation contact", err)
			if err := c.Contact.Create().SetName("Desk").SetScope(contact.ScopeORGANISATION).Exec(aAdmin); err != nil {
				t.Errorf("an admin's organisation contact: %v", err)
			}
		})

		t.Run("internal denials stay vague", func(t *testing.T) {
			_, err := c.Instance.Query().All(bg) // no viewer
			if code, msg := classify.Of(err); !errors.Is(err, privacy.Deny) || code != apierror.Forbidden || msg != "not allowed" {
				t.Errorf("a read without a viewer: %v (%s %q)", err, code, msg)
			}
		})
	})
}
