package server_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard/auth"
	"switchboard/cmd/switchboard/wire"
	"switchboard/internal/fakeaws"
	"switchboard/internal/testenv"
)

// The Connect instances of the tests below: tenant A's and B's, each
// reached through its own role.
const (
	usersAccount  = "111111111111"
	usersRegion   = "ap-southeast-2"
	usersRole     = "arn:aws:iam::" + usersAccount + ":role/SwitchboardAccess"
	usersInstance = "arn:aws:connect:" + usersRegion + ":" + usersAccount + ":instance/"
	usersIDA      = "aaaaaaaa-1111-4111-8111-111111111111"
	usersIDB      = "bbbbbbbb-2222-4222-8222-222222222222"
)

// usersFixture is a server whose tenants A and B have instances behind the
// fake STS and Connect, and whose tenant C has none.
type usersFixture struct {
	s       *testenv.Server
	sts     *fakeaws.STS
	fc      *fakeaws.Connect
	A, B, C testenv.Tenant
}

func newUsersFixture(t *testing.T, b testenv.Backend, edit func(*wire.Config)) *usersFixture {
	t.Helper()
	fc := fakeaws.NewConnect(t)
	s, sts := serverWithAWS(t, b, func(c *wire.Config) {
		c.AWS.ConnectEndpoint = fc.URL
		if edit != nil {
			edit(c)
		}
	})
	fc.TrustSTS(sts)
	sts.AllowRole(usersRole, "ext-a")
	sts.AllowRole(usersRole+"B", "ext-b")
	f := &usersFixture{s: s, sts: sts, fc: fc, A: s.NewTenant(t, "Acme"), B: s.NewTenant(t, "Bolt"), C: s.NewTenant(t, "Cove")}
	for _, c := range []struct {
		tn               testenv.Tenant
		id, role, extern string
	}{{f.A, usersIDA, usersRole, "ext-a"}, {f.B, usersIDB, usersRole + "B", "ext-b"}} {
		s.MustDo(t, c.tn.AdminToken, `mutation($in: ConfigureInstanceInput!) { configureInstance(input: $in) { id } }`, map[string]any{"in": map[string]any{
			"instanceArn": usersInstance + c.id, "region": usersRegion, "roleArn": c.role, "externalId": c.extern,
		}}, nil)
	}
	return f
}

// signedByTenants fails t unless every Connect request so far was signed
// with the role of the tenant whose instance it names.
func (f *usersFixture) signedByTenants(t *testing.T) {
	t.Helper()
	for _, r := range f.fc.Requests() {
		creds, ok := f.sts.Lookup(r.AccessKeyID)
		want := usersRole
		if strings.Contains(r.Path, usersIDB) {
			want = usersRole + "B"
		} else if !strings.Contains(r.Path, usersIDA) {
			t.Errorf("%s %s names neither instance", r.Operation, r.Path)
		}
		if !ok || creds.RoleARN != want {
			t.Errorf("%s %s signed with %s", r.Operation, r.Path, r.AccessKeyID)
		}
	}
}

type importedAgent struct {
	ID, Email, Name, Role string
	ConnectUserID         string `json:"connectUserID"`
	ConnectUsername       string `json:"connectUsername"`
	ConnectRoutingProfile string `json:"connectRoutingProfile"` // null and "" alike: none
}

type userImport struct {
	Created, Updated, Linked []importedAgent
	Unchanged                int
	Skipped                  []struct {
		ConnectUserID    string `json:"connectUserID"`
		Username, Reason string
	}
	Next *string
}

const importUsers = `mutation($after: String) { importConnectUsers(after: $after) {
  created { ...A } updated { ...A } linked { ...A } unchanged
  skipped { connectUserID username reason } next } }
fragment A on Agent { id email name role connectUserID connectUsername connectRoutingProfile }`

// importAll imports every batch with the token, summing them, and
// returns the sum and the number of calls it took.
func importAll(t *testing.T, s *testenv.Server, token string) (userImport, int) {
	t.Helper()
	var sum userImport
	vars := map[string]any{"after": nil}
	for calls := 1; calls <= 10; calls++ {
		var out struct {
			ImportConnectUsers userImport `json:"importConnectUsers"`
		}
		s.MustDo(t, token, importUsers, vars, &out)
		b := out.ImportConnectUsers
		sum.Created, sum.Updated, sum.Linked = append(sum.Created, b.Created...), append(sum.Updated, b.Updated...), append(sum.Linked, b.Linked...)
		sum.Unchanged += b.Unchanged
		sum.Skipped = append(sum.Skipped, b.Skipped...)
		if b.Next == nil {
			return sum, calls
		}
		vars["after"] = *b.Next
	}
	t.Fatal("the import never ended")
	return sum, 0
}

func names(agents []importedAgent) string {
	var s []string
	for _, a := range agents {
		s = append(s, a.ConnectUsername)
	}
	return strings.Join(s, ",")
}

// agentsOf lists the tenant's agents by email.
func agentsOf(t *testing.T, s *testenv.Server, token string) map[string]importedAgent {
	t.Helper()
	var out struct {
		Agents struct {
			Edges []struct{ Node importedAgent }
		}
	}
	s.MustDo(t, token, `{ agents(first: 100) { edges { node { id email name role connectUserID connectUsername connectRoutingProfile } } } }`, nil, &out)
	m := map[string]importedAgent{}
	for _, e := range out.Agents.Edges {
		m[e.Node.Email] = e.Node
	}
	return m
}

// importConnectUsers on both stores, through each tenant's role with the
// real SDK: the first import makes agents of Connect's users (a hand-made
// agent of the same email is linked, keeping its role and email; a user
// without an email is skipped), in batches that fit the request's time,
// through short pages; a second changes nothing; a rename in Connect
// updates the agent but never its email; tenant B's import, of users with
// A's user IDs and emails, makes B's agents and leaves A's alone; a
// supervisor or an agent is FORBIDDEN before Connect is asked; Connect
// failing is UPSTREAM with nothing written; a tenant without an instance is
// told to configure one.
func TestImportConnectUsers(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		// 4 s a request: batches of 3 users (half the time at 2 a second).
		f := newUsersFixture(t, b, func(c *wire.Config) { c.Limits.RequestTimeout = 4 * time.Second })
		s, fc, A, B := f.s, f.fc, f.A, f.B
		fc.SetMaxPageSize(2)
		fc.SetRoutingProfiles(usersIDA, fakeaws.RoutingProfile{ID: "rp-sales", Name: "Sales"}, fakeaws.RoutingProfile{ID: "rp-support", Name: "Support"})
		jane := fakeaws.User{ID: "u-jane", Username: "jane", FirstName: "Jane", LastName: "Doe", Email: "Jane.Doe@Acme.Example", RoutingProfileID: "rp-sales"}
		raj := fakeaws.User{ID: "u-raj", Username: "raj", FirstName: "Raj", Email: "raj@acme.example", RoutingProfileID: "rp-support"}
		nomail := fakeaws.User{ID: "u-nomail", Username: "nomail", FirstName: "No", LastName: "Mail"}
		kim := fakeaws.User{ID: "u-kim", Username: "kim", Email: "kim@acme.example"}
		lee := fakeaws.User{ID: "u-lee", Username: "lee", FirstName: "Lee", LastName: "Wong", Email: "lee@acme.example", RoutingProfileID: "rp-sales"}
		fc.SetUsers(usersIDA, jane, raj, nomail, kim, lee)
		rajID, _ := s.NewAgent(t, A, "Raj Kumar", "raj@acme.example", auth.RoleSupervisor) // by hand
		_, supTok := s.NewAgent(t, A, "Sam", "sam@acme.example", auth.RoleSupervisor)
		_, agentTok := s.NewAgent(t, A, "Al", "al@acme.example", auth.RoleAgent)

		// Only admins import: refused before any AWS request.
		stsBefore, connectBefore := len(f.sts.Calls()), len(fc.Requests())
		for who, tok := range map[string]string{"supervisor": supTok, "agent": agentTok} {
			if r := s.Do(t, tok, importUsers, nil); r.Code() != "FORBIDDEN" {
				t.Errorf("%s imports: %+v", who, r)
			}
		}
		if n, m := len(f.sts.Calls()), len(fc.Requests()); n != stsBefore || m != connectBefore {
			t.Fatalf("refused imports reached AWS: %d AssumeRole, %d Connect requests", n-stsBefore, m-connectBefore)
		}
		if got := agentsOf(t, s, A.AdminToken); len(got) != 3 || got["raj@acme.example"].ConnectUserID != "" {
			t.Fatalf("refused imports changed agents: %+v", got)
		}

		first, calls := importAll(t, s, A.AdminToken)
		if calls != 2 || names(first.Created) != "jane,kim,lee" || names(first.Linked) != "raj" || len(first.Updated) != 0 || first.Unchanged != 0 {
			t.Fatalf("first import in %d calls: %+v", calls, first)
		}
		if len(first.Skipped) != 1 || first.Skipped[0].ConnectUserID != "u-nomail" || first.Skipped[0].Username != "nomail" ||
			!strings.Contains(first.Skipped[0].Reason, "no email") {
			t.Errorf("skipped %+v", first.Skipped)
		}
		var asked []string
		for _, r := range fc.RequestsFor(fakeaws.OpListUsers) {
			asked = append(asked, r.Query.Get("maxResults"))
		}
		if strings.Join(asked, ",") != "3,1,3" { // pages of 2, so 2+1, then 2
			t.Errorf("ListUsers asked for %v", asked)
		}
		got := agentsOf(t, s, A.AdminToken)
		if a := got["jane.doe@acme.example"]; a.Name != "Jane Doe" || a.Role != "AGENT" || a.ConnectUserID != "u-jane" || a.ConnectUsername != "jane" ||
			a.ConnectRoutingProfile != "Sales" {
			t.Errorf("Jane's agent %+v", a)
		}
		if a := got["kim@acme.example"]; a.Name != "kim" || a.ConnectRoutingProfile != "" || a.Role != "AGENT" {
			t.Errorf("Kim's agent, named by the username: %+v", a)
		}
		if a := got["raj@acme.example"]; a.ID != rajID || a.Role != "SUPERVISOR" || a.Name != "Raj" || a.ConnectUserID != "u-raj" ||
			a.ConnectRoutingProfile != "Support" {
			t.Errorf("Raj's hand-made agent, linked: %+v", a)
		}
		if len(got) != 6 {
			t.Errorf("%d agents after the import, want 6: %+v", len(got), got)
		}

		again, _ := importAll(t, s, A.AdminToken)
		if len(again.Created)+len(again.Updated)+len(again.Linked) != 0 || again.Unchanged != 4 || len(again.Skipped) != 1 {
			t.Errorf("a second import %+v", again)
		}

		// Renamed in Connect, with another profile and email: the name and
		// profile follow, the email (the agent's sign-in) does not.
		jane.FirstName, jane.Username, jane.RoutingProfileID, jane.Email = "Janet", "janet", "rp-support", "janet@elsewhere.example"
		kim.RoutingProfileID = "rp-gone" // a profile Connect no longer lists
		lee.FirstName, lee.LastName = "", ""
		fc.SetUsers(usersIDA, jane, raj, nomail, kim, lee)
		renamed, _ := importAll(t, s, A.AdminToken)
		if names(renamed.Updated) != "janet" || renamed.Unchanged != 3 || len(renamed.Created) != 0 {
			t.Fatalf("after renaming %+v", renamed)
		}
		if a := renamed.Updated[0]; a.Name != "Janet Doe" || a.Email != "jane.doe@acme.example" || a.ConnectRoutingProfile != "Support" {
			t.Errorf("Janet's agent %+v", a)
		}
		if a := agentsOf(t, s, A.AdminToken)["lee@acme.example"]; a.Name != "Lee Wong" {
			t.Errorf("Lee's name, which Connect no longer has, became %q", a.Name)
		}

		// Tenant B's users share A's user IDs and emails: B gets agents of
		// its own; A's are as they were.
		beforeA := agentsOf(t, s, A.AdminToken)
		fc.SetUsers(usersIDB, fakeaws.User{ID: "u-jane", Username: "bo", FirstName: "Bo", Email: "bo@bolt.example"},
			fakeaws.User{ID: "u-b2", Username: "jd", Email: "jane.doe@acme.example"})
		bImport, _ := importAll(t, s, B.AdminToken)
		if names(bImport.Created) != "bo,jd" || len(bImport.Linked)+len(bImport.Updated) != 0 {
			t.Fatalf("B's import %+v", bImport)
		}
		if got := agentsOf(t, s, B.AdminToken); len(got) != 2 || got["bo@bolt.example"].ConnectUserID != "u-jane" {
			t.Errorf("B's agents %+v", got)
		}
		if afterA := agentsOf(t, s, A.AdminToken); len(afterA) != len(beforeA) || afterA["jane.doe@acme.example"] != beforeA["jane.doe@acme.example"] {
			t.Errorf("B's import changed A's agents:\n%+v\n%+v", beforeA, afterA)
		}
		f.signedByTenants(t)

		// Connect failing: nothing of the batch is written.
		fc.SetUsers(usersIDA, jane, fakeaws.User{ID: "u-new", Username: "new", Email: "new@acme.example"})
		fc.Fail(fakeaws.OpDescribeUser, fakeaws.Failure{Status: 500, Code: "InternalServiceException", Message: "down", Times: 1})
		if r := s.Do(t, A.AdminToken, importUsers, nil); r.Code() != "UPSTREAM" {
			t.Errorf("Connect failing: %+v", r)
		}
		if after := agentsOf(t, s, A.AdminToken); len(after) != len(beforeA) {
			t.Errorf("a failed import wrote agents: %d, were %d", len(after), len(beforeA))
		}
		fc.ClearFailures()
		if r := s.Do(t, A.AdminToken, importUsers, map[string]any{"after": "not-a-token"}); r.Code() != "BAD_USER_INPUT" {
			t.Errorf("a token Connect does not know: %+v", r)
		}
		if r := s.Do(t, f.C.AdminToken, importUsers, nil); r.Code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "configure") {
			t.Errorf("no instance: %+v", r)
		}
	})
}

// An agent linked by hand to a Connect user whose email belongs to another
// agent, two agents with one user ID, and a user whose email another
// Connect user's agent has: each is skipped with its reason, and nothing
// else changes.
func TestImportConnectUsersSkipsWhatItCannotDecide(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := newUsersFixture(t, b, nil)
		s, A := f.s, f.A
		one, _ := s.NewAgent(t, A, "One", "one@acme.example", auth.RoleAgent)
		two, _ := s.NewAgent(t, A, "Two", "two@acme.example", auth.RoleAgent)
		for _, id := range []string{one, two} {
			s.MustDo(t, A.AdminToken, `mutation($id: ID!) { updateAgent(id: $id, input: {connectUserID: "u-twice"}) { id } }`, map[string]any{"id": id}, nil)
		}
		f.fc.SetUsers(usersIDA,
			fakeaws.User{ID: "u-twice", Username: "twice", FirstName: "Twice", Email: "twice@acme.example"},
			fakeaws.User{ID: "u-other", Username: "other", Email: "One@acme.example"},
			fakeaws.User{ID: "u-odd", Username: "odd", Email: "not an address"},
		)
		got, _ := importAll(t, s, A.AdminToken)
		if len(got.Created)+len(got.Updated)+len(got.Linked) != 0 || len(got.Skipped) != 3 {
			t.Fatalf("import %+v", got)
		}
		want := map[string]string{"twice": "2 agents have this Connect user ID", "other": "linked to another Connect user (u-twice)", "odd": "is not an address"}
		for _, sk := range got.Skipped {
			if !strings.Contains(sk.Reason, want[sk.Username]) {
				t.Errorf("%s skipped because %q", sk.Username, sk.Reason)
			}
		}
		agents := agentsOf(t, s, A.AdminToken)
		if len(agents) != 2 || agents["one@acme.example"].Name != "One" || agents["two@acme.example"].ConnectUsername != "" {
			t.Errorf("agents %+v", agents)
		}
	})
}

// contactFlows on both stores: an admin's instance's flows by name, of the
// types asked for, every page; tenant B sees its own; supervisors and
// agents are FORBIDDEN and an unknown type BAD_USER_INPUT before Connect
// is asked; Connect failing is UPSTREAM; no instance is BAD_USER_INPUT.
func TestContactFlows(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := newUsersFixture(t, b, nil)
		s, fc, A, B := f.s, f.fc, f.A, f.B
		fc.SetMaxPageSize(2)
		fc.SetContactFlows(usersIDA,
			fakeaws.ContactFlow{ID: "f-sales", Name: "Sales inbound"},
			fakeaws.ContactFlow{ID: "f-hold", Name: "Default hold", Type: "CUSTOMER_HOLD"},
			fakeaws.ContactFlow{ID: "f-chat", Name: "Chat"},
			fakeaws.ContactFlow{ID: "f-old", Name: "Archived IVR", State: "ARCHIVED", Status: "SAVED"},
		)
		fc.SetContactFlows(usersIDB, fakeaws.ContactFlow{ID: "f-bolt", Name: "Bolt main"})
		_, supTok := s.NewAgent(t, A, "Sam", "sam@acme.example", auth.RoleSupervisor)
		_, agentTok := s.NewAgent(t, A, "Al", "al@acme.example", auth.RoleAgent)

		const q = `query($types: [String!]) { contactFlows(types: $types) { id arn name type state status } }`
		type flow struct{ ID, ARN, Name, Type, State, Status string }
		list := func(token string, types ...string) []flow {
			t.Helper()
			var out struct{ ContactFlows []flow }
			vars := map[string]any{"types": nil}
			if types != nil {
				vars["types"] = types
			}
			s.MustDo(t, token, q, vars, &out)
			return out.ContactFlows
		}
		ids := func(fs []flow) string {
			var s []string
			for _, f := range fs {
				s = append(s, f.ID)
			}
			return strings.Join(s, ",")
		}

		for who, tok := range map[string]string{"supervisor": supTok, "agent": agentTok} {
			if r := s.Do(t, tok, q, nil); r.Code() != "FORBIDDEN" {
				t.Errorf("%s lists flows: %+v", who, r)
			}
		}
		if r := s.Do(t, A.AdminToken, q, map[string]any{"types": []string{"CONTACT_FLOW", "NO_SUCH_TYPE"}}); r.Code() != "BAD_USER_INPUT" {
			t.Errorf("an unknown type: %+v", r)
		}
		if n := len(fc.Requests()); n != 0 {
			t.Fatalf("refused reads reached Connect: %d requests", n)
		}

		all := list(A.AdminToken)
		if ids(all) != "f-old,f-chat,f-hold,f-sales" {
			t.Fatalf("A's flows %+v", all)
		}
		if all[0] != (flow{"f-old", "arn:aws:connect:us-east-1:000000000000:instance/" + usersIDA + "/contact-flow/f-old", "Archived IVR", "CONTACT_FLOW", "ARCHIVED", "SAVED"}) {
			t.Errorf("a flow %+v", all[0])
		}
		if n := len(fc.RequestsFor(fakeaws.OpListContactFlows)); n != 2 {
			t.Errorf("%d ListContactFlows pages, want 2", n)
		}
		if got := list(A.AdminToken, "CONTACT_FLOW"); ids(got) != "f-old,f-chat,f-sales" {
			t.Errorf("A's CONTACT_FLOW flows %+v", got)
		}
		if got := list(A.AdminToken, "CUSTOMER_HOLD", "CUSTOMER_QUEUE", "CUSTOMER_HOLD"); ids(got) != "f-hold" {
			t.Errorf("A's hold and queue flows %+v", got)
		}
		last := fc.RequestsFor(fakeaws.OpListContactFlows)
		if asked := last[len(last)-1].Query["contactFlowTypes"]; !slices.Equal(asked, []string{"CUSTOMER_HOLD", "CUSTOMER_QUEUE"}) {
			t.Errorf("asked Connect for %v", asked)
		}
		if got := list(B.AdminToken); ids(got) != "f-bolt" {
			t.Errorf("B's flows %+v", got)
		}
		f.signedByTenants(t)

		fc.Fail(fakeaws.OpListContactFlows, fakeaws.Failure{Status: 500, Code: "InternalServiceException", Message: "down", Times: 1})
		if r := s.Do(t, A.AdminToken, q, nil); r.Code() != "UPSTREAM" {
			t.Errorf("Connect failing: %+v", r)
		}
		if r := s.Do(t, f.C.AdminToken, q, nil); r.Code() != "BAD_USER_INPUT" {
			t.Errorf("no instance: %+v", r)
		}
	})
}
