package server_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"switchboard/auth"
	"switchboard/cmd/switchboard/wire"
	"switchboard/internal/fakeaws"
	"switchboard/internal/testenv"
)

// customerProfile is CustomerProfile as the contract's operations select it.
type customerProfile struct {
	ProfileID                                                     string  `json:"profileId"`
	FirstName, LastName, EmailAddress, PhoneNumber, AccountNumber *string `json:",omitempty"`
}

func (p customerProfile) String() string {
	b, _ := json.Marshal(p)
	return string(b)
}

func str(s string) *string { return &s }

// eq reports whether p is want, field by field.
func (p customerProfile) eq(want customerProfile) bool {
	same := func(a, b *string) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
	return p.ProfileID == want.ProfileID && same(p.FirstName, want.FirstName) && same(p.LastName, want.LastName) &&
		same(p.EmailAddress, want.EmailAddress) && same(p.PhoneNumber, want.PhoneNumber) && same(p.AccountNumber, want.AccountNumber)
}

// Customer Profiles for the screen pop, on both stores, through each
// tenant's role with the real SDK against the fake: a national number and
// its E.164 form find the same profile, as does its email address in any
// case; everyone in the tenant may search, create and update; a created
// profile is found; an update changes only the fields given (null: kept,
// empty: removed); bad input is BAD_USER_INPUT and reaches no AWS; another
// tenant's profile, in its own account's domain of the same name, is
// neither found nor changed (NOT_FOUND); without the profiles module it is
// FORBIDDEN, without an instance BAD_USER_INPUT; AWS failing is UPSTREAM.
func TestCustomerProfiles(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		cp := fakeaws.NewProfiles(t)
		s, sts := serverWithAWS(t, b, func(c *wire.Config) { c.AWS.ProfilesEndpoint = cp.URL })
		cp.TrustSTS(sts)
		const region, domain = "ap-southeast-2", "amazon-connect-desk"
		const accountA, accountB = "111111111111", "222222222222"
		roleA, roleB := "arn:aws:iam::"+accountA+":role/SwitchboardAccess", "arn:aws:iam::"+accountB+":role/SwitchboardAccess"
		sts.AllowRole(roleA, "ext-a")
		sts.AllowRole(roleB, "ext-b")
		A, B, C := s.NewTenant(t, "Acme"), s.NewTenant(t, "Bolt"), s.NewTenant(t, "Cove")
		// Both instances have the alias desk: two domains of one name, one in each account.
		configure := func(tn testenv.Tenant, account, role, ext string, modules ...string) {
			s.MustDo(t, tn.AdminToken, `mutation($in: ConfigureInstanceInput!) { configureInstance(input: $in) { id } }`, map[string]any{"in": map[string]any{
				"instanceArn": "arn:aws:connect:" + region + ":" + account + ":instance/11111111-2222-3333-4444-555555555555",
				"alias":       "desk", "region": region, "roleArn": role, "externalId": ext, "modules": modules,
			}}, nil)
		}
		configure(A, accountA, roleA, "ext-a", "profiles")
		configure(B, accountB, roleB, "ext-b") // the profiles module off, for now
		s.MustDo(t, A.AdminToken, `mutation($id: ID!) { updateTenant(id: $id, input: {defaultRegion: "AU"}) { id } }`, map[string]any{"id": A.ID}, nil)
		_, agentA := s.NewAgent(t, A, "Al", "al@acme.example", auth.RoleAgent)
		_, supA := s.NewAgent(t, A, "Sue", "sue@acme.example", auth.RoleSupervisor)
		_, agentB := s.NewAgent(t, B, "Bo", "bo@bolt.example", auth.RoleAgent)
		_, agentC := s.NewAgent(t, C, "Cy", "cy@cove.example", auth.RoleAgent)

		jo := cp.AddProfile(accountA, domain, fakeaws.Profile{FirstName: "Jo", LastName: "Bloggs", PhoneNumber: "+61298765432",
			EmailAddress: "jo@bloggs.example", AccountNumber: "J-1"})
		cp.AddProfile(accountA, domain, fakeaws.Profile{FirstName: "Someone", PhoneNumber: "+61200000000"})
		joWant := customerProfile{ProfileID: jo, FirstName: str("Jo"), LastName: str("Bloggs"), EmailAddress: str("jo@bloggs.example"),
			PhoneNumber: str("+61298765432"), AccountNumber: str("J-1")}

		searchOp := testenv.ContractOperation(t, "CustomerProfiles")
		createOp := testenv.ContractOperation(t, "CreateCustomerProfile")
		updateOp := testenv.ContractOperation(t, "UpdateCustomerProfile")
		search := func(token string, vars map[string]any) []customerProfile {
			t.Helper()
			var out struct {
				CustomerProfiles []customerProfile `json:"customerProfiles"`
			}
			s.MustDo(t, token, searchOp, vars, &out)
			return out.CustomerProfiles
		}
		create := func(token string, in map[string]any) customerProfile {
			t.Helper()
			var out struct {
				CreateCustomerProfile customerProfile `json:"createCustomerProfile"`
			}
			s.MustDo(t, token, createOp, map[string]any{"input": in}, &out)
			return out.CreateCustomerProfile
		}
		update := func(token, id string, in map[string]any) customerProfile {
			t.Helper()
			var out struct {
				UpdateCustomerProfile customerProfile `json:"updateCustomerProfile"`
			}
			s.MustDo(t, token, updateOp, map[string]any{"profileId": id, "input": in}, &out)
			return out.UpdateCustomerProfile
		}

		// Searching: a national number (the tenant's region AU), E.164, an email in any case.
		for _, vars := range []map[string]any{
			{"phoneNumber": "(02) 9876 5432"}, {"phoneNumber": "+61 2 9876 5432"}, {"email": " Jo@Bloggs.Example "},
			{"phoneNumber": "+61298765432", "email": nil}, {"phoneNumber": "", "email": "jo@bloggs.example"},
		} {
			if got := search(agentA, vars); len(got) != 1 || !got[0].eq(joWant) {
				t.Errorf("search %v: %v", vars, got)
			}
		}
		if got := search(supA, map[string]any{"phoneNumber": "+61 3 0000 0000"}); len(got) != 0 {
			t.Errorf("a number of no profile: %v", got)
		}
		var sent []struct {
			KeyName string
			Values  []string
		}
		for _, r := range cp.RequestsFor(fakeaws.OpSearchProfiles) {
			var body struct {
				KeyName string
				Values  []string
			}
			_ = json.Unmarshal(r.Body, &body)
			sent = append(sent, body)
			if r.Account != accountA || r.Domain != domain {
				t.Errorf("tenant A's search reached %s in account %s", r.Domain, r.Account)
			}
		}
		if len(sent) != 6 || sent[0].KeyName != "_phone" || !slices.Equal(sent[0].Values, []string{"+61298765432"}) ||
			sent[2].KeyName != "_email" || !slices.Equal(sent[2].Values, []string{"jo@bloggs.example"}) || !slices.Equal(sent[5].Values, []string{"+61300000000"}) {
			t.Errorf("searches sent %+v", sent)
		}

		// Creating, then finding; the admin may too.
		kim := create(agentA, map[string]any{"firstName": " Kim ", "lastName": "Lee", "phoneNumber": "03 9999 0000",
			"emailAddress": "Kim@Example.com", "accountNumber": "K-9"})
		kimWant := customerProfile{ProfileID: kim.ProfileID, FirstName: str("Kim"), LastName: str("Lee"), EmailAddress: str("kim@example.com"),
			PhoneNumber: str("+61399990000"), AccountNumber: str("K-9")}
		if len(kim.ProfileID) != 32 || !kim.eq(kimWant) {
			t.Fatalf("created %v", kim)
		}
		if got := search(agentA, map[string]any{"phoneNumber": "+61399990000"}); len(got) != 1 || !got[0].eq(kimWant) {
			t.Errorf("the created profile: %v", got)
		}
		if got, ok := cp.Profile(accountA, domain, kim.ProfileID); !ok || got != (fakeaws.Profile{ProfileID: kim.ProfileID, FirstName: "Kim", LastName: "Lee",
			EmailAddress: "kim@example.com", PhoneNumber: "+61399990000", AccountNumber: "K-9"}) {
			t.Errorf("in the domain: %+v", got)
		}
		if made := create(A.AdminToken, map[string]any{"lastName": "Only", "firstName": ""}); made.FirstName != nil || deref(made.LastName) != "Only" {
			t.Errorf("an admin's profile, its empty first name left out: %v", made)
		}

		// Updating: only the fields given; null kept, empty removed.
		got := update(supA, kim.ProfileID, map[string]any{"lastName": "Lee-Smith", "accountNumber": "", "firstName": nil})
		kimWant.LastName, kimWant.AccountNumber = str("Lee-Smith"), nil
		if !got.eq(kimWant) {
			t.Errorf("updated %v, want %v", got, kimWant)
		}
		if p, _ := cp.Profile(accountA, domain, kim.ProfileID); p.FirstName != "Kim" || p.LastName != "Lee-Smith" || p.AccountNumber != "" || p.PhoneNumber != "+61399990000" {
			t.Errorf("in the domain after the update: %+v", p)
		}
		got = update(agentA, kim.ProfileID, map[string]any{"phoneNumber": "(03) 9999 1111"})
		kimWant.PhoneNumber = str("+61399991111")
		if !got.eq(kimWant) {
			t.Errorf("a new national number: %v", got)
		}
		if r := s.Do(t, agentA, updateOp, map[string]any{"profileId": strings.Repeat("0", 32), "input": map[string]any{"firstName": "X"}}); r.Code() != "NOT_FOUND" {
			t.Errorf("a profile the domain lacks: %+v", r)
		}
		profilesOfA := cp.ProfilesIn(accountA, domain)
		if len(profilesOfA) != 4 {
			t.Fatalf("%d profiles in A's domain", len(profilesOfA))
		}

		// Bad input: BAD_USER_INPUT (NOT_FOUND for a malformed ID), and nothing reaches AWS.
		long := strings.Repeat("é", 256)
		bad := []struct {
			name, op string
			vars     map[string]any
			code     string
		}{
			{"both keys", searchOp, map[string]any{"phoneNumber": "+61298765432", "email": "jo@bloggs.example"}, "BAD_USER_INPUT"},
			{"neither key", searchOp, map[string]any{}, "BAD_USER_INPUT"},
			{"blank keys", searchOp, map[string]any{"phoneNumber": " ", "email": ""}, "BAD_USER_INPUT"},
			{"no number", searchOp, map[string]any{"phoneNumber": "call me"}, "BAD_USER_INPUT"},
			{"too few digits", searchOp, map[string]any{"phoneNumber": "12"}, "BAD_USER_INPUT"},
			{"no email", searchOp, map[string]any{"email": "jo at bloggs"}, "BAD_USER_INPUT"},
			{"a display name", searchOp, map[string]any{"email": "Jo <jo@bloggs.example>"}, "BAD_USER_INPUT"},
			{"empty create", createOp, map[string]any{"input": map[string]any{}}, "BAD_USER_INPUT"},
			{"blank create", createOp, map[string]any{"input": map[string]any{"firstName": "", "lastName": "  "}}, "BAD_USER_INPUT"},
			{"create, bad email", createOp, map[string]any{"input": map[string]any{"firstName": "X", "emailAddress": "x@"}}, "BAD_USER_INPUT"},
			{"create, bad phone", createOp, map[string]any{"input": map[string]any{"firstName": "X", "phoneNumber": "phone"}}, "BAD_USER_INPUT"},
			{"create, long name", createOp, map[string]any{"input": map[string]any{"firstName": long}}, "BAD_USER_INPUT"},
			{"create, long account", createOp, map[string]any{"input": map[string]any{"accountNumber": long}}, "BAD_USER_INPUT"},
			{"create, long email", createOp, map[string]any{"input": map[string]any{"emailAddress": strings.Repeat("x", 250) + "@example.com"}}, "BAD_USER_INPUT"},
			{"empty update", updateOp, map[string]any{"profileId": kim.ProfileID, "input": map[string]any{}}, "BAD_USER_INPUT"},
			{"update, nulls", updateOp, map[string]any{"profileId": kim.ProfileID, "input": map[string]any{"firstName": nil}}, "BAD_USER_INPUT"},
			{"update, bad phone", updateOp, map[string]any{"profileId": kim.ProfileID, "input": map[string]any{"phoneNumber": "+1"}}, "BAD_USER_INPUT"},
			{"update, long name", updateOp, map[string]any{"profileId": kim.ProfileID, "input": map[string]any{"lastName": long}}, "BAD_USER_INPUT"},
			{"update, malformed ID", updateOp, map[string]any{"profileId": "../" + kim.ProfileID, "input": map[string]any{"lastName": "X"}}, "NOT_FOUND"},
		}
		requests, assumed := len(cp.Requests()), len(sts.Calls())
		for _, c := range bad {
			if r := s.Do(t, agentA, c.op, c.vars); r.Code() != c.code {
				t.Errorf("%s: %q %+v, want %s", c.name, r.Code(), r.Errors, c.code)
			}
		}
		if n, m := len(cp.Requests()), len(sts.Calls()); n != requests || m != assumed {
			t.Errorf("bad input reached AWS: %d Customer Profiles requests, %d AssumeRole", n-requests, m-assumed)
		}
		if now := cp.ProfilesIn(accountA, domain); !slices.Equal(now, profilesOfA) {
			t.Errorf("bad input changed the profiles: %+v", now)
		}

		// Another tenant: without the profiles module, FORBIDDEN before AWS.
		for _, c := range []struct {
			op   string
			vars map[string]any
		}{
			{searchOp, map[string]any{"phoneNumber": "+61298765432"}},
			{createOp, map[string]any{"input": map[string]any{"firstName": "X"}}},
			{updateOp, map[string]any{"profileId": kim.ProfileID, "input": map[string]any{"firstName": "X"}}},
		} {
			if r := s.Do(t, agentB, c.op, c.vars); r.Code() != "FORBIDDEN" {
				t.Errorf("without the module: %+v", r)
			}
			if r := s.Do(t, agentC, c.op, c.vars); r.Code() != "BAD_USER_INPUT" {
				t.Errorf("without an instance: %+v", r)
			}
		}
		if n := len(cp.Requests()); n != requests {
			t.Errorf("refused requests reached Customer Profiles: %d", n-requests)
		}

		// With the module, B's domain not yet made: UPSTREAM naming the fix.
		configure(B, accountB, roleB, "ext-b", "PROFILES")
		if r := s.Do(t, agentB, searchOp, map[string]any{"phoneNumber": "+61298765432"}); r.Code() != "UPSTREAM" || !strings.Contains(r.Errors[0].Message, "verifyInstance") {
			t.Errorf("no domain: %+v", r)
		}
		bo := cp.AddProfile(accountB, domain, fakeaws.Profile{FirstName: "Bo", PhoneNumber: "+61298765432"})
		if got := search(agentB, map[string]any{"phoneNumber": "+61298765432"}); len(got) != 1 || got[0].ProfileID != bo {
			t.Errorf("B finds only its own: %v", got)
		}
		// B's default region is US: a national Australian number is read as another.
		if got := search(agentB, map[string]any{"phoneNumber": "02 9876 5432"}); len(got) != 0 {
			t.Errorf("B's national number: %v", got)
		}
		if got := search(agentB, map[string]any{"phoneNumber": "+61399991111"}); len(got) != 0 {
			t.Errorf("B found A's profile: %v", got)
		}
		if r := s.Do(t, agentB, updateOp, map[string]any{"profileId": kim.ProfileID, "input": map[string]any{"firstName": "Mallory"}}); r.Code() != "NOT_FOUND" {
			t.Errorf("B updating A's profile: %+v", r)
		}
		if p, _ := cp.Profile(accountA, domain, kim.ProfileID); p.FirstName != "Kim" {
			t.Errorf("B changed A's profile: %+v", p)
		}
		if made := create(agentB, map[string]any{"firstName": "Bea"}); made.ProfileID == "" {
			t.Error("B's create")
		} else if _, inA := cp.Profile(accountA, domain, made.ProfileID); inA {
			t.Error("B's profile went into A's domain")
		}
		if n := len(cp.ProfilesIn(accountA, domain)); n != 4 {
			t.Errorf("%d profiles in A's domain after B's work", n)
		}
		for _, r := range cp.Requests() {
			creds, ok := sts.Lookup(r.AccessKeyID)
			if want := map[string]string{accountA: roleA, accountB: roleB}[r.Account]; !ok || creds.RoleARN != want {
				t.Errorf("%s for account %s signed with %s (%s)", r.Operation, r.Account, r.AccessKeyID, creds.RoleARN)
			}
		}

		// AWS failing: UPSTREAM, nothing changed.
		for _, c := range []struct {
			op, fail string
			vars     map[string]any
		}{
			{searchOp, fakeaws.OpSearchProfiles, map[string]any{"phoneNumber": "+61298765432"}},
			{createOp, fakeaws.OpCreateProfile, map[string]any{"input": map[string]any{"firstName": "X"}}},
			{updateOp, fakeaws.OpUpdateProfile, map[string]any{"profileId": kim.ProfileID, "input": map[string]any{"firstName": "X"}}},
		} {
			cp.Fail(c.fail, fakeaws.Failure{Status: 500, Code: "InternalServerException", Message: "down", Times: 1})
			if r := s.Do(t, agentA, c.op, c.vars); r.Code() != "UPSTREAM" {
				t.Errorf("%s failing: %+v", c.fail, r)
			}
		}
		if now := cp.ProfilesIn(accountA, domain); !slices.Equal(now, profilesOfA) {
			t.Errorf("failures changed the profiles: %+v", now)
		}
	})
}
