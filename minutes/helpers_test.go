package minutes_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"switchboard/ent"
	"switchboard/ent/agentstatus"
	"switchboard/ent/agentstatusday"
	"switchboard/gid"
	"switchboard/minutes"
	"switchboard/viewer"
)

// tenantFixture is a tenant with the usual statuses, and contexts of its
// admin and of one of its supervisors.
type tenantFixture struct {
	client     *ent.Client
	id         gid.ID
	admin, sup context.Context
	status     map[string]gid.ID // by name
}

var fixtureStatuses = []struct {
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

func newTenant(t testing.TB, c *ent.Client, name string) *tenantFixture {
	t.Helper()
	op := viewer.NewContext(context.Background(), &viewer.Viewer{Email: "op@switchboard", Role: viewer.RoleOperator})
	tn, err := c.Tenant.Create().SetName(name).Save(op)
	if err != nil {
		t.Fatal(err)
	}
	f := &tenantFixture{
		client: c,
		id:     tn.ID,
		admin:  viewer.NewContext(context.Background(), &viewer.Viewer{Email: "admin@" + name, Role: viewer.RoleAdmin, TenantID: tn.ID}),
		sup:    viewer.NewContext(context.Background(), &viewer.Viewer{Email: "sup@" + name, Role: viewer.RoleSupervisor, TenantID: tn.ID}),
		status: map[string]gid.ID{},
	}
	for i, s := range fixtureStatuses {
		st, err := c.AgentStatus.Create().SetName(s.name).SetType(s.typ).SetDisplayOrder(i + 1).Save(f.admin)
		if err != nil {
			t.Fatal(err)
		}
		f.status[s.name] = st.ID
	}
	return f
}

// addAgents creates n agents named prefix-0, prefix-1, ...
func (f *tenantFixture) addAgents(t testing.TB, prefix string, n int) []*ent.Agent {
	t.Helper()
	var out []*ent.Agent
	for start := 0; start < n; start += 500 {
		var creates []*ent.AgentCreate
		for i := start; i < min(n, start+500); i++ {
			creates = append(creates, f.client.Agent.Create().
				SetName(fmt.Sprintf("%s %d", prefix, i)).
				SetEmail(fmt.Sprintf("%s-%d@agents.example.com", prefix, i)))
		}
		agents, err := f.client.Agent.CreateBulk(creates...).Save(f.admin)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, agents...)
	}
	return out
}

// change appends one change to the agent's status log.
func (f *tenantFixture) change(t testing.TB, agentID gid.ID, status string, at time.Time) {
	t.Helper()
	id, ok := f.status[status]
	if !ok {
		t.Fatalf("no status %q", status)
	}
	err := f.client.AgentStatusChange.Create().
		SetAgentID(agentID).SetStatusID(id).SetChangedAt(at).SetChangedBy("test").
		Exec(f.sup)
	if err != nil {
		t.Fatal(err)
	}
}

// days returns the tenant's day rows of the given day, by agent.
func (f *tenantFixture) days(t testing.TB, day time.Time) map[gid.ID]*ent.AgentStatusDay {
	t.Helper()
	rows, err := f.client.AgentStatusDay.Query().Where(agentstatusday.Day(day)).All(f.sup)
	if err != nil {
		t.Fatal(err)
	}
	out := map[gid.ID]*ent.AgentStatusDay{}
	for _, r := range rows {
		if r.TenantID != f.id {
			t.Fatalf("tenant %s reads a row of tenant %s", f.id, r.TenantID)
		}
		out[r.AgentID] = r
	}
	return out
}

func decode(t testing.TB, row *ent.AgentStatusDay) minutes.Day {
	t.Helper()
	d, err := minutes.Decode(row.Minutes)
	if err != nil {
		t.Fatalf("agent %s: %v", row.AgentID, err)
	}
	return d
}
