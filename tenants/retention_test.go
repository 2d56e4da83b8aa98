package tenants_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect/sql"

	"switchboard/ent"
	"switchboard/ent/agentstatus"
	"switchboard/gid"
	"switchboard/internal/testenv"
	"switchboard/store"
	"switchboard/tenants"
	"switchboard/viewer"
)

var operator = viewer.NewContext(context.Background(), &viewer.Viewer{Email: "op@switchboard", Role: viewer.RoleOperator})

// rows counts the tenant's rows in every table that carries a tenant, and
// its own.
func rows(t *testing.T, st *store.Store, id gid.ID) int {
	t.Helper()
	total := 0
	for _, table := range append(tenants.DeletionOrder(), nil) {
		name, col := "tenants", "id"
		if table != nil {
			name, col = table.Name, tenants.TenantColumn
		}
		q, args := sql.Dialect(st.Dialect).Select(sql.Count("*")).From(sql.Table(name)).Where(sql.EQ(col, string(id))).Query()
		var n int
		if err := st.DB.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		total += n
	}
	return total
}

// newTenant makes a tenant with an agent, a status and a contact,
// unsubscribed at ended when that is not zero.
func newTenant(t *testing.T, c *ent.Client, name string, ended time.Time) gid.ID {
	t.Helper()
	tn := c.Tenant.Create().SetName(name).SaveX(operator)
	admin := viewer.NewContext(context.Background(), &viewer.Viewer{Email: "admin@" + name, Role: viewer.RoleAdmin, TenantID: tn.ID})
	c.AgentStatus.Create().SetName("Available").SetType(agentstatus.TypeROUTABLE).ExecX(admin)
	c.Agent.Create().SetName("Agent of " + name).SetEmail("agent@" + name + ".example").ExecX(admin)
	c.Contact.Create().SetName("Contact of " + name).SetScope("ORGANISATION").ExecX(admin)
	if !ended.IsZero() {
		c.Tenant.UpdateOneID(tn.ID).SetLifecycle("UNSUBSCRIBED").SetUnsubscribedAt(ended).ExecX(operator)
	}
	return tn.ID
}

// Retention on both stores: off by default; on, it decommissions every
// tenant unsubscribed for longer than its period, each entirely, and
// leaves those unsubscribed more recently, the active ones and every other
// tenant's rows; two replicas' jobs started together decommission each
// tenant once, without an error.
func TestRetention(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		st := testenv.OpenStore(t, b.URL(t))
		now := time.Now()
		old := newTenant(t, st.Client, "old", now.Add(-100*24*time.Hour))
		older := newTenant(t, st.Client, "older", now.Add(-200*24*time.Hour))
		recent := newTenant(t, st.Client, "recent", now.Add(-24*time.Hour))
		active := newTenant(t, st.Client, "active", time.Time{})
		before := map[gid.ID]int{}
		for _, id := range []gid.ID{old, older, recent, active} {
			if before[id] = rows(t, st, id); before[id] < 4 {
				t.Fatalf("tenant %s has %d rows", id, before[id])
			}
		}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		svc := tenants.NewService(tenants.NewGate(st.Client, time.Second, log), st.Dialect)
		job := func(after time.Duration) *tenants.Retention {
			return &tenants.Retention{Client: st.Client, Service: svc, After: after, Logger: log,
				Lock: func(ctx context.Context) (func(), bool, error) { return st.TryLock(ctx, tenants.RetentionLockKey) }}
		}
		if done, err := job(0).Step(context.Background()); err != nil || len(done) != 0 {
			t.Fatalf("off: %+v, %v", done, err)
		}
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			gone = map[gid.ID]int{}
		)
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				done, err := job(90 * 24 * time.Hour).Step(context.Background())
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				defer mu.Unlock()
				for _, d := range done {
					gone[d.ID]++
				}
			}()
		}
		wg.Wait()
		if len(gone) != 2 || gone[old] != 1 || gone[older] != 1 {
			t.Fatalf("decommissioned %v, want %s and %s once each", gone, old, older)
		}
		for id, want := range map[gid.ID]int{old: 0, older: 0, recent: before[recent], active: before[active]} {
			if n := rows(t, st, id); n != want {
				t.Errorf("tenant %s has %d rows, want %d", id, n, want)
			}
		}
	})
}
