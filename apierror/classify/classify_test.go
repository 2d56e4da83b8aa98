package classify_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect/sql"

	"switchboard/apierror"
	"switchboard/apierror/classify"
	"switchboard/ent"
	"switchboard/ent/agent"
	"switchboard/ent/agentstatus"
	"switchboard/ent/contact"
	"switchboard/ent/interaction"
	"switchboard/ent/predicate"
	"switchboard/gid"
	"switchboard/internal/testenv"
	"switchboard/viewer"
)

// secret stands for whatever an error may carry that a client must never
// see: SQL, table and column names, driver messages, values.
const secret = "s3cr3t-detail"

func TestOfWithoutAStore(t *testing.T) {
	cases := []struct {
		name string
		err  error
		code apierror.Code
		msg  string
	}{
		{"nil", nil, "", ""},
		{"apierror", apierror.New(apierror.Forbidden, "only admins configure the instance"), apierror.Forbidden, "only admins configure the instance"},
		{"apierror wrapped with %w", fmt.Errorf("resolver %s: %w", secret, apierror.New(apierror.BadUserInput, "bad first")), apierror.BadUserInput, "bad first"},
		{"apierror wrapped twice", fmt.Errorf("a: %w", fmt.Errorf("b: %w", apierror.New(apierror.Conflict, "taken"))), apierror.Conflict, "taken"},
		{"apierror with a cause", apierror.Wrap(apierror.Upstream, errors.New(secret), "Amazon Connect did not answer"), apierror.Upstream, "Amazon Connect did not answer"},
		{"apierror's code wins over its cause's", apierror.Wrap(apierror.Upstream, context.Canceled, "Amazon Connect did not answer"), apierror.Upstream, "Amazon Connect did not answer"},
		{"every code", apierror.New(apierror.Unauthenticated, "sign in"), apierror.Unauthenticated, "sign in"},
		{"context cancelled", context.Canceled, apierror.Internal, "request cancelled or timed out"},
		{"context cancelled, wrapped", fmt.Errorf("query %s: %w", secret, context.Canceled), apierror.Internal, "request cancelled or timed out"},
		{"deadline exceeded", context.DeadlineExceeded, apierror.Internal, "request cancelled or timed out"},
		{"deadline exceeded, wrapped", fmt.Errorf("query %s: %w", secret, context.DeadlineExceeded), apierror.Internal, "request cancelled or timed out"},
		{"unknown", errors.New("pq: password authentication failed for user " + secret), apierror.Internal, "internal error"},
		{"unknown, wrapped", fmt.Errorf("x: %w", errors.New(secret)), apierror.Internal, "internal error"},
		{"ent not found, built", &ent.NotFoundError{}, apierror.NotFound, "not found"},
		{"ent validation, built", &ent.ValidationError{Name: "seats"}, apierror.BadUserInput, "invalid value for seats"},
		{"ent constraint, built", &ent.ConstraintError{}, apierror.Conflict, "conflicts with an existing record"},
		{"ent not singular", &ent.NotSingularError{}, apierror.Internal, "internal error"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, msg := classify.Of(c.err)
			if code != c.code || msg != c.msg {
				t.Fatalf("Of(%v) = %s %q, want %s %q", c.err, code, msg, c.code, c.msg)
			}
			if strings.Contains(msg, secret) {
				t.Fatalf("the message leaks the detail: %q", msg)
			}
		})
	}
}

// fixture is a store with tenants A and B, each with an admin and an agent.
type fixture struct {
	c              *ent.Client
	op             context.Context
	adminA, adminB context.Context
	agentA, agentB context.Context
	alex, cy       *ent.Agent // agents of A and B
}

func newFixture(t *testing.T, b testenv.Backend) *fixture {
	t.Helper()
	st := testenv.OpenStore(t, b.URL(t))
	f := &fixture{c: st.Client, op: viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleOperator, Email: "op@platform.example"})}
	mk := func(name string) (admin, agent context.Context, ag *ent.Agent) {
		tn, err := f.c.Tenant.Create().SetName(name).Save(f.op)
		if err != nil {
			t.Fatal(err)
		}
		admin = viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleAdmin, TenantID: tn.ID, Email: "admin@" + name + ".example"})
		ag, err = f.c.Agent.Create().SetName("Agent of " + name).SetEmail("agent@" + name + ".example").Save(admin)
		if err != nil {
			t.Fatal(err)
		}
		agent = viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleAgent, TenantID: tn.ID, AgentID: ag.ID, Email: ag.Email})
		return admin, agent, ag
	}
	f.adminA, f.agentA, f.alex = mk("acme")
	f.adminB, f.agentB, f.cy = mk("bolt")
	return f
}

// TestOfStoreErrors provokes each kind of error through ent on a real
// store and checks the code and message a client gets.
func TestOfStoreErrors(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := newFixture(t, b)
		c := f.c
		cases := []struct {
			name string
			run  func() error
			code apierror.Code
			msg  string // "" when only the code is fixed
		}{
			{"not found", func() error {
				_, err := c.Agent.Get(f.adminA, gid.New("AG"))
				return err
			}, apierror.NotFound, "not found"},
			{"not found by Only, across tenants", func() error {
				_, err := c.Agent.Query().Where(agent.ID(f.alex.ID)).Only(f.adminB)
				return err
			}, apierror.NotFound, "not found"},
			{"another tenant's row is not found", func() error {
				_, err := c.Agent.Get(f.adminB, f.alex.ID)
				return err
			}, apierror.NotFound, "not found"},
			{"another tenant's row is not found by an update", func() error {
				return c.Agent.UpdateOneID(f.alex.ID).SetName("Pwned").Exec(f.adminB)
			}, apierror.NotFound, "not found"},
			{"validation: a negative number", func() error {
				return c.Tenant.Create().SetName("neg").SetSeats(-1).Exec(f.op)
			}, apierror.BadUserInput, "invalid value for seats"},
			{"validation: an empty name", func() error {
				return c.AgentStatus.Create().SetName("").SetType(agentstatus.TypeCUSTOM).Exec(f.adminA)
			}, apierror.BadUserInput, "invalid value for name"},
			{"validation: out of range", func() error {
				return c.AgentStatus.Create().SetName("Lunch").SetType(agentstatus.TypeCUSTOM).SetDisplayOrder(99).Exec(f.adminA)
			}, apierror.BadUserInput, "invalid value for display_order"},
			{"a hook's own apierror", func() error {
				return c.Contact.Create().SetName("Jordan").SetPhoneNumber("12").SetOwnerID(f.alex.ID).Exec(f.agentA)
			}, apierror.BadUserInput, `"12" is not a phone number`},
			{"unique constraint", func() error {
				return c.Agent.Create().SetName("Again").SetEmail("AGENT@acme.example").Exec(f.adminA)
			}, apierror.Conflict, "conflicts with an existing record"},
			{"unique constraint, bulk", func() error {
				return c.AgentStatus.CreateBulk(
					c.AgentStatus.Create().SetName("Twice").SetType(agentstatus.TypeCUSTOM),
					c.AgentStatus.Create().SetName("Twice").SetType(agentstatus.TypeCUSTOM),
				).Exec(f.adminA)
			}, apierror.Conflict, "conflicts with an existing record"},
			{"privacy: an agent writes what admins write", func() error {
				return c.AgentStatus.Create().SetName("Mine").SetType(agentstatus.TypeCUSTOM).Exec(f.agentA)
			}, apierror.Forbidden, ""},
			{"privacy: no viewer", func() error {
				_, err := c.Agent.Query().All(context.Background())
				return err
			}, apierror.Forbidden, ""},
			{"privacy: an agent makes an organisation contact", func() error {
				return c.Contact.Create().SetName("Desk").SetScope(contact.ScopeORGANISATION).Exec(f.agentA)
			}, apierror.Forbidden, ""},
			{"privacy: an edge to another tenant's agent", func() error {
				return c.Interaction.Create().SetAgentID(f.alex.ID).SetContactID("c-1").
					SetChannel(interaction.ChannelVOICE).SetConnectionType(interaction.ConnectionTypeINBOUND).
					SetStartedAt(time.Now()).Exec(f.adminB)
			}, apierror.Forbidden, ""},
			{"privacy: the operator makes a tenant's row", func() error {
				return c.Agent.Create().SetName("Op").SetEmail("op@acme.example").Exec(f.op)
			}, apierror.Forbidden, ""},
			{"more than one where one was expected", func() error {
				_, err := c.Tenant.Query().Only(f.op)
				return err
			}, apierror.Internal, "internal error"},
			{"cancelled", func() error {
				ctx, cancel := context.WithCancel(f.adminA)
				cancel()
				_, err := c.Agent.Query().All(ctx)
				return err
			}, apierror.Internal, "request cancelled or timed out"},
			{"timed out", func() error {
				ctx, cancel := context.WithDeadline(f.adminA, time.Now().Add(-time.Second))
				defer cancel()
				_, err := c.Agent.Query().All(ctx)
				return err
			}, apierror.Internal, "request cancelled or timed out"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				err := tc.run()
				if err == nil {
					t.Fatal("no error")
				}
				code, msg := classify.Of(err)
				if code != tc.code || (tc.msg != "" && msg != tc.msg) {
					t.Fatalf("Of(%v) = %s %q, want %s %q", err, code, msg, tc.code, tc.msg)
				}
				if msg == "" || strings.Contains(msg, "ent/privacy") || strings.Contains(msg, "deny rule") ||
					strings.Contains(msg, "SELECT") || strings.Contains(msg, "UNIQUE") || strings.Contains(msg, "duplicate key") {
					t.Fatalf("the message %q leaks the store's own words (%v)", msg, err)
				}
				// Wrapped on its way up, it is classified alike.
				if c2, m2 := classify.Of(fmt.Errorf("resolver: %w", err)); c2 != code || m2 != msg {
					t.Fatalf("wrapped: %s %q, unwrapped: %s %q", c2, m2, code, msg)
				}
			})
		}

		// The same rows in the other tenant are no conflict.
		t.Run("the same email in another tenant", func(t *testing.T) {
			if err := c.Agent.Create().SetName("Again").SetEmail("AGENT@acme.example").Exec(f.adminB); err != nil {
				code, msg := classify.Of(err)
				t.Fatalf("%s %q: %v", code, msg, err)
			}
		})
		// A raw driver error (not one ent classifies) says nothing of itself.
		t.Run("a driver error", func(t *testing.T) {
			_, err := c.Agent.Query().Where(predicate.Agent(func(s *sql.Selector) {
				s.Where(sql.EQ(s.C("column_"+strings.ReplaceAll(secret, "-", "_")), secret))
			})).All(f.adminA)
			if err == nil {
				t.Fatal("no error")
			}
			if code, msg := classify.Of(err); code != apierror.Internal || msg != "internal error" {
				t.Fatalf("Of(%v) = %s %q", err, code, msg)
			}
		})
	})
}
