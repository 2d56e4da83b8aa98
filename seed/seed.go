// Package seed loads the demo tenant: agents, statuses, contacts,
// templates and a module, so that a fresh server has something to show.
package seed

import (
	"context"
	"fmt"
	"time"

	"switchboard/ent"
	"switchboard/ent/agent"
	"switchboard/ent/agentstatus"
	"switchboard/ent/contact"
	"switchboard/ent/module"
	"switchboard/ent/schema/schematype"
	"switchboard/ent/template"
	"switchboard/ent/tenant"
	"switchboard/gid"
	"switchboard/viewer"
)

// DemoTenantName names the demo tenant; seeding finds it by this name.
const DemoTenantName = "Demo Contact Centre"

// AdminEmail is the demo tenant's admin.
const AdminEmail = "ada.admin@demo.example.com"

// Result says what the seed holds.
type Result struct {
	TenantID gid.ID
	// Created is true when this run created the tenant.
	Created bool
}

type demoAgent struct {
	name, email, username string
	role                  viewer.Role
	status                string // initial status name, "" for never set
}

var agents = []demoAgent{
	{"Ada Admin", AdminEmail, "ada.admin", viewer.RoleAdmin, ""},
	{"Sam Supervisor", "sam.supervisor@demo.example.com", "sam.supervisor", viewer.RoleSupervisor, "Available"},
	{"Alex Agent", "alex.agent@demo.example.com", "alex.agent", viewer.RoleAgent, "Available"},
	{"Bea Brown", "bea.brown@demo.example.com", "bea.brown", viewer.RoleAgent, "Lunch"},
	{"Chen Li", "chen.li@demo.example.com", "chen.li", viewer.RoleAgent, "Available"},
	{"Dara Okafor", "dara.okafor@demo.example.com", "dara.okafor", viewer.RoleAgent, "Break"},
	{"Eli Novak", "eli.novak@demo.example.com", "eli.novak", viewer.RoleAgent, "Offline"},
	{"Farah Haddad", "farah.haddad@demo.example.com", "farah.haddad", viewer.RoleAgent, "Training"},
}

var statuses = []struct {
	name string
	typ  agentstatus.Type
}{
	{"Available", agentstatus.TypeROUTABLE},
	{"Offline", agentstatus.TypeOFFLINE},
	{"Lunch", agentstatus.TypeCUSTOM},
	{"Break", agentstatus.TypeCUSTOM},
	{"Training", agentstatus.TypeCUSTOM},
	{"Meeting", agentstatus.TypeCUSTOM},
}

var orgContacts = []struct{ name, email, phone, title string }{
	{"IT Service Desk", "servicedesk@demo.example.com", "+61298765432", "Service desk"},
	{"Priya Raman", "priya.raman@demo.example.com", "+61398761234", "Head of Customer Care"},
	{"Tom Walsh", "tom.walsh@demo.example.com", "+442079460000", "Escalations"},
}

var templates = []struct {
	name    string
	channel template.Channel
	body    string
}{
	{"Greeting", template.ChannelCHAT, "<p>Hello {{customer.firstName}}, thanks for contacting {{company}}. How can I help?</p>"},
	{"Closing", template.ChannelCHAT, "<p>Thanks for chatting with us, {{customer.firstName}}. Have a <strong>great</strong> day!</p>"},
	{"Callback", template.ChannelSMS, "Hi {{customer.firstName}}, we missed your call. We'll ring you back shortly. - {{company}}"},
}

// Demo loads the demo tenant, idempotently: what exists (by name or email)
// is left as it is, what is missing is created.
func Demo(ctx context.Context, client *ent.Client) (Result, error) {
	op := viewer.NewContext(ctx, viewer.SystemOperator("seed"))
	var res Result
	t, err := client.Tenant.Query().Where(tenant.Name(DemoTenantName)).First(op)
	switch {
	case ent.IsNotFound(err):
		t, err = client.Tenant.Create().
			SetName(DemoTenantName).
			SetContactName("Ada Admin").
			SetContactEmail(AdminEmail).
			SetProduct("agent-desktop").
			SetSeats(25).
			SetDefaultRegion("AU").
			Save(op)
		if err != nil {
			return res, fmt.Errorf("seed: tenant: %w", err)
		}
		res.Created = true
	case err != nil:
		return res, fmt.Errorf("seed: tenant: %w", err)
	}
	res.TenantID = t.ID
	admin := viewer.NewContext(ctx, &viewer.Viewer{Subject: "seed", Email: AdminEmail, Role: viewer.RoleAdmin, TenantID: t.ID})
	tx, err := client.Tx(admin)
	if err != nil {
		return res, err
	}
	if err := fill(admin, tx.Client()); err != nil {
		_ = tx.Rollback()
		return res, fmt.Errorf("seed: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return res, err
	}
	// The past four weeks of the agents' statuses, minute by minute, once.
	return res, History(ctx, client, t.ID, DemoHistoryDays, time.Now())
}

func fill(ctx context.Context, c *ent.Client) error {
	statusByName := map[string]*ent.AgentStatus{}
	for i, s := range statuses {
		st, err := c.AgentStatus.Query().Where(agentstatus.Name(s.name)).Only(ctx)
		if ent.IsNotFound(err) {
			st, err = c.AgentStatus.Create().SetName(s.name).SetType(s.typ).SetDisplayOrder(i + 1).Save(ctx)
		}
		if err != nil {
			return fmt.Errorf("status %s: %w", s.name, err)
		}
		statusByName[s.name] = st
	}
	now := time.Now().UTC().Truncate(time.Second)
	var alex *ent.Agent
	for i, a := range agents {
		ag, err := c.Agent.Query().Where(agent.Email(a.email)).Only(ctx)
		if ent.IsNotFound(err) {
			create := c.Agent.Create().SetName(a.name).SetEmail(a.email).SetConnectUsername(a.username).SetRole(a.role)
			if st := statusByName[a.status]; st != nil {
				since := now.Add(-time.Duration(5+7*i) * time.Minute)
				create.SetCurrentStatusID(st.ID).SetStatusSince(since)
			}
			ag, err = create.Save(ctx)
			if err == nil && ag.CurrentStatusID != nil {
				err = c.AgentStatusChange.Create().
					SetAgentID(ag.ID).SetStatusID(*ag.CurrentStatusID).
					SetChangedAt(*ag.StatusSince).SetChangedBy("seed").SetSource("SYSTEM").
					Exec(ctx)
			}
		}
		if err != nil {
			return fmt.Errorf("agent %s: %w", a.email, err)
		}
		if a.username == "alex.agent" {
			alex = ag
		}
	}
	for _, oc := range orgContacts {
		n, err := c.Contact.Query().Where(contact.Name(oc.name), contact.ScopeEQ(contact.ScopeORGANISATION)).Count(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		err = c.Contact.Create().
			SetName(oc.name).SetScope(contact.ScopeORGANISATION).
			SetEmail(oc.email).SetPhoneNumber(oc.phone).SetJobTitle(oc.title).
			SetEmails([]schematype.ContactPoint{{Type: "work", Value: oc.email, Primary: true}}).
			SetPhoneNumbers([]schematype.ContactPoint{{Type: "work", Value: oc.phone, Primary: true}}).
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("contact %s: %w", oc.name, err)
		}
	}
	if alex != nil {
		// A personal contact is its owner's: made and seen as Alex.
		alexCtx := viewer.NewContext(ctx, &viewer.Viewer{Subject: "seed", Email: alex.Email, Role: viewer.RoleAgent, TenantID: alex.TenantID, AgentID: alex.ID})
		n, err := c.Contact.Query().Where(contact.OwnerID(alex.ID)).Count(alexCtx)
		if err != nil {
			return err
		}
		if n == 0 {
			err = c.Contact.Create().SetName("Jordan Customer").SetOwnerID(alex.ID).
				SetEmail("jordan@customer.example.net").SetPhoneNumber("+61412345678").Exec(alexCtx)
			if err != nil {
				return fmt.Errorf("personal contact: %w", err)
			}
		}
	}
	for _, tp := range templates {
		n, err := c.Template.Query().Where(template.Name(tp.name), template.ChannelEQ(tp.channel)).Count(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			if err := c.Template.Create().SetName(tp.name).SetChannel(tp.channel).SetBody(tp.body).Exec(ctx); err != nil {
				return fmt.Errorf("template %s: %w", tp.name, err)
			}
		}
	}
	if n, err := c.Module.Query().Where(module.Name("Knowledge base")).Count(ctx); err != nil {
		return err
	} else if n == 0 {
		if err := c.Module.Create().SetName("Knowledge base").SetURL("https://kb.demo.example.com/").SetPosition(1).Exec(ctx); err != nil {
			return fmt.Errorf("module: %w", err)
		}
	}
	return nil
}

// DemoPerson returns the name and email of the demo tenant's first person
// with the role, for tokens that act as them; ok is false for a role no
// demo person has (operators belong to no tenant).
func DemoPerson(role viewer.Role) (name, email string, ok bool) {
	for _, a := range agents {
		if a.role == role {
			return a.name, a.email, true
		}
	}
	return "", "", false
}

// DemoTenant returns the ID of the demo tenant in the store, or an error
// that says it is not loaded.
func DemoTenant(ctx context.Context, client *ent.Client) (gid.ID, error) {
	op := viewer.NewContext(ctx, viewer.SystemOperator("seed"))
	t, err := client.Tenant.Query().Where(tenant.Name(DemoTenantName)).First(op)
	if ent.IsNotFound(err) {
		return "", fmt.Errorf("seed: the demo tenant %q is not in the store (run switchboard seed, or serve on an empty embedded store)", DemoTenantName)
	}
	if err != nil {
		return "", fmt.Errorf("seed: finding the demo tenant: %w", err)
	}
	return t.ID, nil
}
