package livestatus_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"switchboard/ent"
	"switchboard/ent/agentstatus"
	"switchboard/internal/testenv"
	"switchboard/livestatus"
	"switchboard/viewer"
)

// TestChangesSince, on both stores: the latest change of each agent of
// every tenant since the time, oldest first; agents whose last change is
// older are left out, and each tenant's events are its own.
func TestChangesSince(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		st := testenv.OpenStore(t, b.URL(t))
		c := st.Client
		op := viewer.NewContext(context.Background(), viewer.SystemOperator("test"))
		now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
		svc := livestatus.NewService(c, &livestatus.Publisher{Broker: livestatus.NewBroker()},
			livestatus.Options{Postgres: st.Dialect == dialect.Postgres, Now: func() time.Time { return now }})

		type tenantFixture struct {
			sup                 context.Context
			available, lunch    *ent.AgentStatus
			early, late, silent *ent.Agent
		}
		setup := func(name string) tenantFixture {
			tn := c.Tenant.Create().SetName(name).SaveX(op)
			admin := viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleAdmin, TenantID: tn.ID, Email: "admin@" + name + ".example"})
			f := tenantFixture{sup: viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleSupervisor, TenantID: tn.ID, Email: "sup@" + name + ".example"})}
			f.available = c.AgentStatus.Create().SetName("Available").SetType(agentstatus.TypeROUTABLE).SaveX(admin)
			f.lunch = c.AgentStatus.Create().SetName("Lunch").SetType(agentstatus.TypeCUSTOM).SaveX(admin)
			for i, a := range []**ent.Agent{&f.early, &f.late, &f.silent} {
				*a = c.Agent.Create().SetName(fmt.Sprintf("%s agent %d", name, i)).SetEmail(fmt.Sprintf("agent%d@%s.example", i, name)).SaveX(admin)
			}
			return f
		}
		acme, bolt := setup("acme"), setup("bolt")
		set := func(f tenantFixture, a *ent.Agent, s *ent.AgentStatus) {
			t.Helper()
			if _, err := svc.SetStatus(f.sup, &a.ID, s.ID); err != nil {
				t.Fatal(err)
			}
			now = now.Add(time.Second)
		}
		set(acme, acme.silent, acme.available) // before the gap
		since := now
		set(acme, acme.early, acme.available)
		set(bolt, bolt.late, bolt.available)
		set(acme, acme.late, acme.available)
		set(acme, acme.early, acme.lunch) // early's latest
		set(bolt, bolt.late, bolt.lunch)

		events, err := livestatus.ChangesSince(context.Background(), c, since)
		if err != nil {
			t.Fatal(err)
		}
		type got struct{ agent, status, previous string }
		var gotEvents []got
		for _, ev := range events {
			g := got{agent: string(ev.Agent.ID), status: ev.Status.Name}
			if ev.Previous != nil {
				g.previous = ev.Previous.Name
			}
			if ev.Agent.Edges.CurrentStatus != ev.Status || ev.Status.TenantID != ev.TenantID() {
				t.Errorf("event of %s: current status %v, status of tenant %s", ev.Agent.ID, ev.Agent.Edges.CurrentStatus, ev.Status.TenantID)
			}
			gotEvents = append(gotEvents, g)
		}
		want := []got{
			{string(acme.late.ID), "Available", ""},
			{string(acme.early.ID), "Lunch", "Available"},
			{string(bolt.late.ID), "Lunch", "Available"},
		}
		if len(gotEvents) != len(want) {
			t.Fatalf("events %+v, want %+v", gotEvents, want)
		}
		for i := range want {
			if gotEvents[i] != want[i] {
				t.Fatalf("events %+v, want %+v", gotEvents, want)
			}
		}
		if events, err := livestatus.ChangesSince(context.Background(), c, now); err != nil || len(events) != 0 {
			t.Fatalf("since the last change: %d events, %v", len(events), err)
		}
	})
}
