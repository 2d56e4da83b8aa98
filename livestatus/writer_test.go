package livestatus_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/google/go-cmp/cmp"

	"switchboard/apierror"
	"switchboard/connectaws"
	"switchboard/ent"
	"switchboard/ent/agentstatus"
	"switchboard/ent/agentstatuschange"
	"switchboard/gid"
	"switchboard/internal/fakeaws"
	"switchboard/internal/testenv"
	"switchboard/livestatus"
	"switchboard/store"
	"switchboard/viewer"
)

// outcome is what became of one status change, in terms that do not
// depend on the store or the writer: names, and times relative to t0.
type outcome struct {
	Err       string        // the error's code and message; "" when none
	Holds     string        // the status the agent holds afterwards
	Since     time.Duration // since when, after t0
	Returned  string        // the status SetStatus returned the agent in
	Recorded  []string      // the changes recorded: "previous→status at offset by source"
	Told      string        // the status Amazon Connect holds for the agent's user
	Published int           // events published
}

// writerCase is one status change: the agent holding holds (none if "")
// since t0, a user of Amazon Connect when mapped, set to set at t0+now by a
// server that reaches Amazon Connect when connect (and Connect refuses the
// change when failConnect). On PostgreSQL the change takes one statement
// unless viaTx: then the rules leave it to a transaction.
type writerCase struct {
	name        string
	connect     bool
	mapped      bool
	holds, set  string
	now         time.Duration
	failConnect bool
	viaTx       bool
	want        outcome
}

var t0 = time.Date(2025, 3, 4, 9, 0, 0, 123456000, time.UTC)

// The tenant's statuses: Available and Coaching map to Connect, Lunch does
// not, Break is disabled. "theirs" is another tenant's Available.
var writerCases = []writerCase{
	{name: "change", holds: "Available", set: "Lunch", now: time.Second,
		want: outcome{Holds: "Lunch", Since: time.Second, Returned: "Lunch", Published: 1,
			Recorded: []string{"Available→Lunch at 1s by sam@acme.example DESKTOP"}}},
	{name: "first status", set: "Lunch", now: time.Second,
		want: outcome{Holds: "Lunch", Since: time.Second, Returned: "Lunch", Published: 1,
			Recorded: []string{"→Lunch at 1s by sam@acme.example DESKTOP"}}},
	{name: "disabled status", holds: "Available", set: "Break", now: time.Second,
		want: outcome{Err: `BAD_USER_INPUT the status "Break" is disabled`, Holds: "Available"}},
	{name: "another tenant's status", holds: "Available", set: "theirs", now: time.Second,
		want: outcome{Err: "BAD_USER_INPUT no such status", Holds: "Available"}},
	{name: "same status", holds: "Lunch", set: "Lunch", now: time.Second,
		want: outcome{Holds: "Lunch", Returned: "Lunch"}},
	{name: "same status, disabled since", holds: "Break", set: "Break", now: time.Second,
		want: outcome{Err: `BAD_USER_INPUT the status "Break" is disabled`, Holds: "Break"}},
	{name: "change time before since", holds: "Available", set: "Lunch", now: -time.Second, viaTx: true,
		want: outcome{Holds: "Lunch", Since: time.Microsecond, Returned: "Lunch", Published: 1,
			Recorded: []string{"Available→Lunch at 1µs by sam@acme.example DESKTOP"}}},
	{name: "change time at since", holds: "Available", set: "Lunch", now: 0, viaTx: true,
		want: outcome{Holds: "Lunch", Since: time.Microsecond, Returned: "Lunch", Published: 1,
			Recorded: []string{"Available→Lunch at 1µs by sam@acme.example DESKTOP"}}},
	{name: "change time a microsecond after since", holds: "Available", set: "Lunch", now: time.Microsecond,
		want: outcome{Holds: "Lunch", Since: time.Microsecond, Returned: "Lunch", Published: 1,
			Recorded: []string{"Available→Lunch at 1µs by sam@acme.example DESKTOP"}}},
	{name: "Connect-mapped agent and status", connect: true, mapped: true, holds: "Lunch", set: "Coaching", now: time.Second, viaTx: true,
		want: outcome{Holds: "Coaching", Since: time.Second, Returned: "Coaching", Told: "cs-coaching", Published: 1,
			Recorded: []string{"Lunch→Coaching at 1s by sam@acme.example DESKTOP"}}},
	{name: "Connect-mapped, change time before since", connect: true, mapped: true, holds: "Lunch", set: "Coaching", now: -time.Second, viaTx: true,
		want: outcome{Holds: "Coaching", Since: time.Microsecond, Returned: "Coaching", Told: "cs-coaching", Published: 1,
			Recorded: []string{"Lunch→Coaching at 1µs by sam@acme.example DESKTOP"}}},
	{name: "Connect-mapped agent, unmapped status", connect: true, mapped: true, holds: "Available", set: "Lunch", now: time.Second,
		want: outcome{Holds: "Lunch", Since: time.Second, Returned: "Lunch", Published: 1,
			Recorded: []string{"Available→Lunch at 1s by sam@acme.example DESKTOP"}}},
	{name: "Connect-mapped status, unmapped agent", connect: true, holds: "Lunch", set: "Coaching", now: time.Second,
		want: outcome{Holds: "Coaching", Since: time.Second, Returned: "Coaching", Published: 1,
			Recorded: []string{"Lunch→Coaching at 1s by sam@acme.example DESKTOP"}}},
	{name: "Connect-mapped agent and status, same status", connect: true, mapped: true, holds: "Coaching", set: "Coaching", now: time.Second,
		want: outcome{Holds: "Coaching", Returned: "Coaching"}},
	{name: "Connect-mapped, disabled status", connect: true, mapped: true, holds: "Coaching", set: "Break", now: time.Second,
		want: outcome{Err: `BAD_USER_INPUT the status "Break" is disabled`, Holds: "Coaching"}},
	{name: "Connect refuses", connect: true, mapped: true, holds: "Lunch", set: "Coaching", now: time.Second, failConnect: true, viaTx: true,
		want: outcome{Err: "UPSTREAM Amazon Connect refused the status change", Holds: "Lunch"}},
	{name: "mapped, but the server does not reach Connect", mapped: true, holds: "Lunch", set: "Coaching", now: time.Second,
		want: outcome{Holds: "Coaching", Since: time.Second, Returned: "Coaching", Published: 1,
			Recorded: []string{"Lunch→Coaching at 1s by sam@acme.example DESKTOP"}}},
}

// TestWritersAgree: the rules of a status change (a status the tenant
// does not have or has disabled is refused, one the agent holds changes
// nothing, a change takes effect a microsecond after the current status
// began when the clock says otherwise, Amazon Connect is told first when
// the agent and the status both map to it) give the same outcome through
// every writer on every store: ent's on SQLite and PostgreSQL, and
// PostgreSQL's one-statement path on PostgreSQL.
func TestWritersAgree(t *testing.T) {
	got := map[string]map[string]outcome{} // case → store/writer → outcome
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			wrap, counter := testenv.CountStatements()
			st := testenv.OpenStore(t, b.URL(t), store.WithDriver(wrap))
			postgres := st.Dialect == dialect.Postgres
			for _, w := range livestatus.WriterNames(postgres) {
				t.Run(w, func(t *testing.T) {
					f := newWriterFixture(t, st.Client, postgres, w)
					for _, tc := range writerCases {
						out, n := f.run(t, tc, counter)
						if w == "postgres" && (n == 1) == tc.viaTx {
							t.Errorf("%s took %d statements on PostgreSQL", tc.name, n)
						}
						if diff := cmp.Diff(tc.want, out); diff != "" {
							t.Errorf("%s (-want +got):\n%s", tc.name, diff)
						}
						if got[tc.name] == nil {
							got[tc.name] = map[string]outcome{}
						}
						got[tc.name][b.Name+"/"+w] = out
					}
				})
			}
		})
	}
	for name, runs := range got {
		var first string
		for run, out := range runs {
			if first == "" {
				first = run
				continue
			}
			if diff := cmp.Diff(runs[first], out); diff != "" {
				t.Errorf("%s: %s and %s differ (-%s +%s):\n%s", name, first, run, first, run, diff)
			}
		}
	}
}

// writerFixture is a tenant of its own, with its statuses, and a service
// on the writer under test, with and without Amazon Connect.
type writerFixture struct {
	c                 *ent.Client
	tenant            gid.ID
	admin, sup        context.Context
	statuses          map[string]*ent.AgentStatus // by name, and "theirs"
	fc                *fakeaws.Connect
	withConnect, bare *livestatus.Service
	broker            *livestatus.Broker
	now               *time.Time
}

const (
	writerInstanceID = "11111111-2222-3333-4444-555555555555"
	writerRoleARN    = "arn:aws:iam::123456789012:role/SwitchboardAccess"
)

func newWriterFixture(t *testing.T, c *ent.Client, postgres bool, writer string) *writerFixture {
	op := viewer.NewContext(context.Background(), viewer.SystemOperator("test"))
	tn := c.Tenant.Create().SetName("Acme " + writer).SaveX(op)
	other := c.Tenant.Create().SetName("Bolt " + writer).SaveX(op)
	f := &writerFixture{
		c: c, tenant: tn.ID,
		admin:    viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleAdmin, TenantID: tn.ID, Email: "admin@acme.example"}),
		sup:      viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleSupervisor, TenantID: tn.ID, Email: "sam@acme.example"}),
		statuses: map[string]*ent.AgentStatus{},
		now:      new(time.Time),
	}
	for _, s := range []struct {
		name, connectID string
		enabled         bool
	}{{"Available", "cs-available", true}, {"Coaching", "cs-coaching", true}, {"Lunch", "", true}, {"Break", "cs-break", false}} {
		f.statuses[s.name] = c.AgentStatus.Create().SetName(s.name).SetType(agentstatus.TypeCUSTOM).
			SetEnabled(s.enabled).SetConnectStatusID(s.connectID).SaveX(f.admin)
	}
	otherAdmin := viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleAdmin, TenantID: other.ID, Email: "admin@bolt.example"})
	f.statuses["theirs"] = c.AgentStatus.Create().SetName("Available").SetType(agentstatus.TypeROUTABLE).SaveX(otherAdmin)

	sts := fakeaws.NewSTS(t)
	sts.AllowRole(writerRoleARN, "external")
	f.fc = fakeaws.NewConnect(t)
	f.fc.TrustSTS(sts)
	f.fc.SetAgentStatuses(writerInstanceID,
		fakeaws.AgentStatus{ID: "cs-available", Name: "Available", Type: "ROUTABLE"},
		fakeaws.AgentStatus{ID: "cs-coaching", Name: "Coaching", Type: "CUSTOM"},
		fakeaws.AgentStatus{ID: "cs-break", Name: "Break", Type: "CUSTOM"},
	)
	clients, err := connectaws.New(context.Background(), connectaws.Options{
		BaseCredentials:  credentials.NewStaticCredentialsProvider("AKIAPLATFORM", "platform-secret", ""),
		STSEndpoint:      sts.URL,
		ConnectEndpoint:  f.fc.URL,
		RetryMaxAttempts: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	c.Instance.Create().SetInstanceArn("arn:aws:connect:ap-southeast-2:123456789012:instance/" + writerInstanceID).
		SetRegion("ap-southeast-2").SetRoleArn(writerRoleARN).SetExternalID("external").SaveX(f.admin)

	f.broker = livestatus.NewBroker()
	pub := &livestatus.Publisher{Broker: f.broker}
	clock := func() time.Time { return *f.now }
	f.withConnect = livestatus.NewServiceWriting(c, pub,
		livestatus.Options{Connect: livestatus.ConnectAWS{Clients: clients}, Postgres: postgres, Now: clock}, writer)
	f.bare = livestatus.NewServiceWriting(c, pub, livestatus.Options{Postgres: postgres, Now: clock}, writer)
	return f
}

// run makes the change of tc for an agent of its own, and says what became
// of it and how many statements the change took.
func (f *writerFixture) run(t *testing.T, tc writerCase, counter *testenv.StatementCounter) (outcome, int64) {
	t.Helper()
	user := fmt.Sprintf("user-%d", time.Now().UnixNano())
	create := f.c.Agent.Create().SetName(tc.name).SetEmail(user + "@acme.example")
	if tc.mapped {
		create.SetConnectUserID(user)
		f.fc.AddUsers(writerInstanceID, user)
	}
	if tc.holds != "" {
		create.SetCurrentStatusID(f.statuses[tc.holds].ID).SetStatusSince(t0)
	}
	a := create.SaveX(f.admin)
	if tc.failConnect {
		f.fc.Fail("PutUserStatus", fakeaws.Failure{Status: 400, Code: "InvalidRequestException", Message: "no", Times: 1})
		defer f.fc.ClearFailures()
	}
	sub := f.broker.Subscribe(f.tenant, []gid.ID{a.ID}, 10)
	defer sub.Close()

	s := f.bare
	if tc.connect {
		s = f.withConnect
	}
	*f.now = t0.Add(tc.now)
	var out outcome
	before := counter.Count()
	returned, err := s.SetStatus(f.sup, &a.ID, f.statuses[tc.set].ID)
	statements := counter.Count() - before
	var apiErr *apierror.Error
	switch {
	case errors.As(err, &apiErr):
		out.Err = string(apiErr.Code) + " " + apiErr.Message
	case err != nil:
		t.Fatalf("%s: %v", tc.name, err)
	default:
		cur, err := returned.Edges.CurrentStatusOrErr()
		if err != nil {
			cur = returned.QueryCurrentStatus().OnlyX(f.sup)
		}
		out.Returned = cur.Name
	}

	stored := f.c.Agent.GetX(f.sup, a.ID)
	if stored.CurrentStatusID != nil {
		out.Holds = f.c.AgentStatus.GetX(f.sup, *stored.CurrentStatusID).Name
	}
	if stored.StatusSince != nil {
		out.Since = stored.StatusSince.Sub(t0)
	}
	if returned != nil && (returned.StatusSince == nil) != (stored.StatusSince == nil) ||
		returned != nil && stored.StatusSince != nil && !returned.StatusSince.Equal(*stored.StatusSince) {
		t.Errorf("%s: returned since %v, stored %v", tc.name, returned.StatusSince, stored.StatusSince)
	}
	for _, ch := range f.c.AgentStatusChange.Query().Where(agentstatuschange.AgentID(a.ID)).
		Order(agentstatuschange.ByChangedAt()).WithStatus().WithPreviousStatus().AllX(f.sup) {
		prev := ""
		if ch.Edges.PreviousStatus != nil {
			prev = ch.Edges.PreviousStatus.Name
		}
		out.Recorded = append(out.Recorded, fmt.Sprintf("%s→%s at %v by %s %s", prev, ch.Edges.Status.Name, ch.ChangedAt.Sub(t0), ch.ChangedBy, ch.Source))
	}
	if tc.mapped {
		out.Told, _ = f.fc.UserStatus(writerInstanceID, user)
	}
	for {
		select {
		case <-sub.C():
			out.Published++
			continue
		default:
		}
		break
	}
	return out, statements
}
