package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"switchboard/auth"
	"switchboard/flows"
	"switchboard/gid"
	"switchboard/internal/testenv"
	"switchboard/viewer"
)

// Modules by role on both stores: DesktopBootstrap's modules are those for
// everyone and those listing the viewer's role; admins see and manage them
// all; updateModule replaces or clears the roles, refuses roles that are
// not a tenant's people's and URLs that are not https, and cannot reach
// another tenant's module.
func TestModulesByRole(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := testenv.NewServer(t, b)
		A, B := s.NewTenant(t, "Acme"), s.NewTenant(t, "Bolt")
		_, agent := s.NewAgent(t, A, "Ann", "ann@acme.example", auth.RoleAgent)
		_, sup := s.NewAgent(t, A, "Sam", "sam@acme.example", auth.RoleSupervisor)
		create := `mutation($in: CreateModuleInput!) { createModule(input: $in) { id name roles } }`
		ids := map[string]string{}
		for name, roles := range map[string][]string{"all": nil, "agents": {"AGENT"}, "supervisors": {"SUPERVISOR", "ADMIN"}} {
			in := map[string]any{"name": name, "url": "https://" + name + ".acme.example"}
			if roles != nil {
				in["roles"] = roles
			}
			var out struct {
				CreateModule struct{ ID string } `json:"createModule"`
			}
			s.MustDo(t, A.AdminToken, create, map[string]any{"in": in}, &out)
			ids[name] = out.CreateModule.ID
		}
		seen := func(tok string) string {
			t.Helper()
			var out struct {
				Viewer struct {
					Tenant struct{ Modules []struct{ Name string } }
				}
			}
			s.MustDo(t, tok, testenv.ContractOperation(t, "DesktopBootstrap"), nil, &out)
			var names []string
			for _, m := range out.Viewer.Tenant.Modules {
				names = append(names, m.Name)
			}
			sort.Strings(names)
			return strings.Join(names, ",")
		}
		for who, c := range map[string]struct{ tok, want string }{
			"agent": {agent, "agents,all"}, "supervisor": {sup, "all,supervisors"}, "admin": {A.AdminToken, "agents,all,supervisors"}, "B's admin": {B.AdminToken, ""},
		} {
			if got := seen(c.tok); got != c.want {
				t.Errorf("%s sees %q, want %q", who, got, c.want)
			}
		}
		update := testenv.ContractOperation(t, "UpdateModule")
		for _, bad := range []map[string]any{
			{"roles": []string{"OPERATOR"}}, {"roles": []string{"AGENT", "AGENT"}}, {"url": "http://agents.acme.example"},
			{"url": "https://user@agents.acme.example"}, {"name": ""},
		} {
			if r := s.Do(t, A.AdminToken, update, map[string]any{"id": ids["agents"], "input": bad}); r.Code() != "BAD_USER_INPUT" {
				t.Errorf("update %v: %+v", bad, r)
			}
		}
		if r := s.Do(t, B.AdminToken, update, map[string]any{"id": ids["agents"], "input": map[string]any{"name": "mine"}}); r.Code() != "NOT_FOUND" {
			t.Errorf("B's admin updates A's module: %+v", r)
		}
		if r := s.Do(t, sup, update, map[string]any{"id": ids["agents"], "input": map[string]any{"name": "mine"}}); r.Code() != "FORBIDDEN" && r.Code() != "NOT_FOUND" {
			t.Errorf("a supervisor updates a module: %+v", r)
		}
		if got := seen(agent); got != "agents,all" {
			t.Fatalf("refused updates changed what the agent sees: %q", got)
		}
		s.MustDo(t, A.AdminToken, update, map[string]any{"id": ids["supervisors"], "input": map[string]any{"roles": []string{"AGENT", "SUPERVISOR"}, "position": 1}}, nil)
		s.MustDo(t, A.AdminToken, update, map[string]any{"id": ids["agents"], "input": map[string]any{"clearRoles": true, "name": "everyone"}}, nil)
		if got := seen(agent); got != "all,everyone,supervisors" {
			t.Errorf("after updates the agent sees %q", got)
		}
	})
}

// Operational parameters on both stores: admins set (create, then update)
// and delete them; supervisors read them, agents may not; names and values
// are checked and a refused one stores nothing; another tenant sees and
// deletes none of them.
func TestOperationalParameters(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := testenv.NewServer(t, b)
		A, B := s.NewTenant(t, "Acme"), s.NewTenant(t, "Bolt")
		_, agent := s.NewAgent(t, A, "Ann", "ann@acme.example", auth.RoleAgent)
		_, sup := s.NewAgent(t, A, "Sam", "sam@acme.example", auth.RoleSupervisor)
		set := testenv.ContractOperation(t, "SetOperationalParameter")
		list := testenv.ContractOperation(t, "OperationalParameters")
		type param struct{ ID, Group, Key, Value string }
		read := func(tok string, group any) []param {
			t.Helper()
			var out struct {
				OperationalParameters []param `json:"operationalParameters"`
			}
			s.MustDo(t, tok, list, map[string]any{"group": group}, &out)
			return out.OperationalParameters
		}
		var first struct {
			SetOperationalParameter param `json:"setOperationalParameter"`
		}
		s.MustDo(t, A.AdminToken, set, map[string]any{"group": "ivr", "key": "welcome", "value": "Hello"}, &first)
		s.MustDo(t, A.AdminToken, set, map[string]any{"group": "ivr", "key": "welcome", "value": "Welcome to Acme"}, nil)
		s.MustDo(t, A.AdminToken, set, map[string]any{"group": "ivr", "key": "closed.message", "value": ""}, nil)
		s.MustDo(t, A.AdminToken, set, map[string]any{"group": "routing", "key": "overflow_queue", "value": "Q2"}, nil)
		s.MustDo(t, B.AdminToken, set, map[string]any{"group": "ivr", "key": "welcome", "value": "Bolt here"}, nil)

		got := read(sup, "ivr")
		if len(got) != 2 || got[0].Key != "closed.message" || got[1].Key != "welcome" || got[1].Value != "Welcome to Acme" || got[1].ID != first.SetOperationalParameter.ID {
			t.Fatalf("A's ivr group: %+v", got)
		}
		if n := len(read(A.AdminToken, nil)); n != 3 {
			t.Errorf("A has %d parameters, want 3", n)
		}
		if r := s.Do(t, agent, list, nil); r.Code() != "FORBIDDEN" {
			t.Errorf("an agent reads parameters: %+v", r)
		}
		if r := s.Do(t, sup, set, map[string]any{"group": "ivr", "key": "welcome", "value": "x"}); r.Code() != "FORBIDDEN" {
			t.Errorf("a supervisor sets a parameter: %+v", r)
		}
		for _, bad := range []map[string]any{
			{"group": "", "key": "k", "value": "v"}, {"group": "ivr", "key": "", "value": "v"},
			{"group": "ivr", "key": "has space", "value": "v"}, {"group": "ivr", "key": "-dash", "value": "v"},
			{"group": strings.Repeat("g", 65), "key": "k", "value": "v"}, {"group": "ivr", "key": strings.Repeat("k", 65), "value": "v"},
			{"group": "ivr", "key": "big", "value": strings.Repeat("v", 1025)},
		} {
			if r := s.Do(t, A.AdminToken, set, bad); r.Code() != "BAD_USER_INPUT" {
				t.Errorf("set %.80v: %+v", bad, r)
			}
		}
		if n := len(read(A.AdminToken, nil)); n != 3 {
			t.Errorf("after refused sets A has %d parameters", n)
		}
		del := testenv.ContractOperation(t, "DeleteOperationalParameter")
		if r := s.Do(t, B.AdminToken, del, map[string]any{"id": first.SetOperationalParameter.ID}); r.Code() != "NOT_FOUND" {
			t.Errorf("B deletes A's parameter: %+v", r)
		}
		if got := read(B.AdminToken, nil); len(got) != 1 || got[0].Value != "Bolt here" {
			t.Errorf("B's parameters: %+v", got)
		}
		s.MustDo(t, A.AdminToken, del, map[string]any{"id": first.SetOperationalParameter.ID}, nil)
		if n := len(read(A.AdminToken, "ivr")); n != 1 {
			t.Errorf("after delete A's ivr has %d", n)
		}
	})
}

// A tenant keeps at most schema.MaxParameters parameters; setting one that
// exists is still allowed at the limit.
func TestOperationalParameterLimit(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := testenv.NewServer(t, b)
		A := s.NewTenant(t, "Acme")
		ctx := viewer.NewContext(context.Background(), &viewer.Viewer{Email: "admin@acme.example", Role: viewer.RoleAdmin, TenantID: gid.ID(A.ID)})
		for i := range 1000 {
			if _, err := flows.SetParameter(ctx, s.Store.Client, "g", fmt.Sprintf("k%d", i), "v"); err != nil {
				t.Fatalf("parameter %d: %v", i, err)
			}
		}
		set := testenv.ContractOperation(t, "SetOperationalParameter")
		if r := s.Do(t, A.AdminToken, set, map[string]any{"group": "g", "key": "one-more", "value": "v"}); r.Code() != "BAD_USER_INPUT" {
			t.Errorf("the 1001st: %+v", r)
		}
		s.MustDo(t, A.AdminToken, set, map[string]any{"group": "g", "key": "k7", "value": "changed"}, nil)
	})
}

// The flows key: admins alone rotate it; it is shown once and found by
// TenantOfKey; rotating again ends the old one; a tenant's key names that
// tenant and no other.
func TestRotateFlowsKey(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := testenv.NewServer(t, b)
		A, B := s.NewTenant(t, "Acme"), s.NewTenant(t, "Bolt")
		_, sup := s.NewAgent(t, A, "Sam", "sam@acme.example", auth.RoleSupervisor)
		rotate := testenv.ContractOperation(t, "RotateFlowsKey")
		if r := s.Do(t, sup, rotate, nil); r.Code() != "FORBIDDEN" {
			t.Errorf("a supervisor rotates the key: %+v", r)
		}
		key := func(tn testenv.Tenant) string {
			var out struct {
				RotateFlowsKey struct{ Key, CreatedAt string } `json:"rotateFlowsKey"`
			}
			s.MustDo(t, tn.AdminToken, rotate, nil, &out)
			if !strings.HasPrefix(out.RotateFlowsKey.Key, flows.KeyPrefix) || out.RotateFlowsKey.CreatedAt == "" {
				t.Fatalf("rotated: %+v", out)
			}
			return out.RotateFlowsKey.Key
		}
		a1, bKey := key(A), key(B)
		ctx := context.Background()
		if id, err := flows.TenantOfKey(ctx, s.Store.Client, a1); err != nil || string(id) != A.ID {
			t.Fatalf("A's key names %s, %v", id, err)
		}
		a2 := key(A)
		if _, err := flows.TenantOfKey(ctx, s.Store.Client, a1); err != flows.ErrUnknownKey {
			t.Errorf("A's old key after rotation: %v", err)
		}
		for k, want := range map[string]string{a2: A.ID, bKey: B.ID} {
			if id, err := flows.TenantOfKey(ctx, s.Store.Client, k); err != nil || string(id) != want {
				t.Errorf("key names %s, %v; want %s", id, err, want)
			}
		}
		if _, err := flows.TenantOfKey(ctx, s.Store.Client, a2[:len(a2)-1]+"x"); err != flows.ErrUnknownKey {
			t.Errorf("a forged key: %v", err)
		}
	})
}

// Schedules through GraphQL on both stores: admins create, replace and
// delete them; supervisors read them and ask scheduleStatus, agents may
// not; bad hours are BAD_USER_INPUT and store nothing; a name is once in a
// tenant; another tenant reaches none of them; the answer is in the
// schedule's zone, across Sydney's end of daylight saving.
func TestSchedules(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := testenv.NewServer(t, b)
		A, B := s.NewTenant(t, "Acme"), s.NewTenant(t, "Bolt")
		_, agent := s.NewAgent(t, A, "Ann", "ann@acme.example", auth.RoleAgent)
		_, sup := s.NewAgent(t, A, "Sam", "sam@acme.example", auth.RoleSupervisor)
		weekdays := []map[string]any{}
		for _, d := range []string{"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"} {
			weekdays = append(weekdays, map[string]any{"day": d, "opens": "08:00", "closes": "18:00"})
		}
		input := map[string]any{
			"name": "Main line", "timeZone": "Australia/Sydney", "weeklyHours": weekdays,
			"exceptions": []map[string]any{
				{"date": "2026-04-03", "name": "Good Friday", "closed": true},
				{"date": "2026-04-06", "name": "Easter Monday", "closed": true},
				{"date": "2026-12-24", "name": "Christmas Eve", "closed": false, "opens": "08:00", "closes": "12:00"},
			},
		}
		create := testenv.ContractOperation(t, "CreateSchedule")
		var created struct {
			CreateSchedule struct{ ID, Name, TimeZone string } `json:"createSchedule"`
		}
		if r := s.Do(t, sup, create, map[string]any{"input": input}); r.Code() != "FORBIDDEN" {
			t.Fatalf("a supervisor creates a schedule: %+v", r)
		}
		s.MustDo(t, A.AdminToken, create, map[string]any{"input": input}, &created)
		id := created.CreateSchedule.ID
		if r := s.Do(t, A.AdminToken, create, map[string]any{"input": input}); r.Code() != "CONFLICT" {
			t.Errorf("a second schedule of the name: %+v", r)
		}
		s.MustDo(t, B.AdminToken, create, map[string]any{"input": input}, nil) // B's own of the same name

		status := testenv.ContractOperation(t, "ScheduleStatus")
		type answer struct {
			Open         bool
			Reason       string
			NextChangeAt *string
		}
		ask := func(tok, at string) answer {
			t.Helper()
			var out struct {
				ScheduleStatus answer `json:"scheduleStatus"`
			}
			s.MustDo(t, tok, status, map[string]any{"id": id, "at": at}, &out)
			return out.ScheduleStatus
		}
		str := func(s string) *string { return &s }
		for _, c := range []struct {
			at   string
			want answer
		}{
			// Thursday before Easter, 17:00 AEDT: open until 18:00.
			{"2026-04-02T06:00:00Z", answer{true, "opening hours", str("2026-04-02T18:00:00+11:00")}},
			// Good Friday: closed, and through the weekend (daylight saving
			// ends on the Sunday) and Easter Monday, to Tuesday 08:00 AEST.
			{"2026-04-03T01:00:00Z", answer{false, "Good Friday", str("2026-04-07T08:00:00+10:00")}},
			{"2026-04-05T01:00:00Z", answer{false, "outside opening hours", str("2026-04-07T08:00:00+10:00")}},
			// Christmas Eve: special hours, closing at noon.
			{"2026-12-23T23:00:00Z", answer{true, "Christmas Eve", str("2026-12-24T12:00:00+11:00")}},
		} {
			if got := ask(sup, c.at); got.Open != c.want.Open || got.Reason != c.want.Reason || deref(got.NextChangeAt) != deref(c.want.NextChangeAt) {
				t.Errorf("at %s: %+v %v, want %+v %v", c.at, got, deref(got.NextChangeAt), c.want, deref(c.want.NextChangeAt))
			}
		}
		if r := s.Do(t, agent, status, map[string]any{"id": id}); r.Code() != "FORBIDDEN" {
			t.Errorf("an agent asks scheduleStatus: %+v", r)
		}
		for _, op := range []struct {
			doc  string
			vars map[string]any
		}{
			{status, map[string]any{"id": id}},
			{testenv.ContractOperation(t, "UpdateSchedule"), map[string]any{"id": id, "input": input}},
			{testenv.ContractOperation(t, "DeleteSchedule"), map[string]any{"id": id}},
		} {
			if r := s.Do(t, B.AdminToken, op.doc, op.vars); r.Code() != "NOT_FOUND" {
				t.Errorf("B's admin reaches A's schedule: %+v", r)
			}
		}

		// Bad hours: refused, nothing stored or changed.
		update := testenv.ContractOperation(t, "UpdateSchedule")
		for name, bad := range map[string]map[string]any{
			"unknown zone":   {"timeZone": "Mars/Olympus"},
			"25:00":          {"weeklyHours": []map[string]any{{"day": "MONDAY", "opens": "08:00", "closes": "25:00"}}},
			"opens = closes": {"weeklyHours": []map[string]any{{"day": "MONDAY", "opens": "08:00", "closes": "08:00"}}},
			"overlap": {"weeklyHours": []map[string]any{
				{"day": "MONDAY", "opens": "08:00", "closes": "12:00"}, {"day": "MONDAY", "opens": "11:00", "closes": "14:00"}}},
			"past midnight overlap": {"weeklyHours": []map[string]any{
				{"day": "MONDAY", "opens": "22:00", "closes": "02:00"}, {"day": "TUESDAY", "opens": "01:00", "closes": "05:00"}}},
			"duplicate dates": {"exceptions": []map[string]any{
				{"date": "2026-12-25", "name": "Christmas", "closed": true}, {"date": "2026-12-25", "name": "Again", "closed": true}}},
			"special hours missing": {"exceptions": []map[string]any{{"date": "2026-12-31", "name": "NYE", "closed": false}}},
			"not a date":            {"exceptions": []map[string]any{{"date": "2026-02-30", "name": "No such day", "closed": true}}},
		} {
			in := map[string]any{}
			for k, v := range input {
				in[k] = v
			}
			for k, v := range bad {
				in[k] = v
			}
			in["name"] = "Refused " + name
			if r := s.Do(t, A.AdminToken, create, map[string]any{"input": in}); r.Code() != "BAD_USER_INPUT" {
				t.Errorf("create with %s: %+v", name, r)
			}
			if r := s.Do(t, A.AdminToken, update, map[string]any{"id": id, "input": in}); r.Code() != "BAD_USER_INPUT" {
				t.Errorf("update with %s: %+v", name, r)
			}
		}
		var list struct {
			Schedules []struct {
				Name        string
				WeeklyHours []struct{ Day, Opens, Closes string }
				Exceptions  []struct {
					Date, Name    string
					Closed        bool
					Opens, Closes *string
				}
			}
		}
		s.MustDo(t, sup, testenv.ContractOperation(t, "Schedules"), nil, &list)
		if len(list.Schedules) != 1 || list.Schedules[0].Name != "Main line" || len(list.Schedules[0].WeeklyHours) != 5 || len(list.Schedules[0].Exceptions) != 3 {
			t.Fatalf("A's schedules after refused writes: %+v", list)
		}
		if e := list.Schedules[0].Exceptions; e[0].Opens != nil || deref(e[2].Opens) != "08:00" || deref(e[2].Closes) != "12:00" {
			t.Errorf("exceptions: %+v", e)
		}

		// Replaced: open all week round the clock but Christmas.
		s.MustDo(t, A.AdminToken, update, map[string]any{"id": id, "input": map[string]any{
			"name": "Main line", "timeZone": "America/New_York",
			"weeklyHours": func() (out []map[string]any) {
				for _, d := range []string{"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"} {
					out = append(out, map[string]any{"day": d, "opens": "00:00", "closes": "24:00"})
				}
				return out
			}(),
			"exceptions": []map[string]any{{"date": "2026-12-25", "name": "Christmas Day", "closed": true}},
		}}, nil)
		if got := ask(sup, "2026-12-20T12:00:00Z"); !got.Open || deref(got.NextChangeAt) != "2026-12-25T00:00:00-05:00" {
			t.Errorf("replaced: %+v %v", got, deref(got.NextChangeAt))
		}
		s.MustDo(t, A.AdminToken, testenv.ContractOperation(t, "DeleteSchedule"), map[string]any{"id": id}, nil)
		if r := s.Do(t, sup, status, map[string]any{"id": id}); r.Code() != "NOT_FOUND" {
			t.Errorf("a deleted schedule: %+v", r)
		}
	})
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// flowsEvent is Amazon Connect's Lambda event for a contact flow, as the
// forwarding Lambda posts it, with the flow block's parameters.
func flowsEvent(params map[string]string) string {
	b, _ := json.Marshal(map[string]any{
		"Details": map[string]any{
			"ContactData": map[string]any{
				"Attributes": map[string]string{"language": "en-AU"}, "Channel": "VOICE",
				"ContactId": "4a573372-1f28-4e26-b97b-6f2e0b2a4e11", "InitialContactId": "4a573372-1f28-4e26-b97b-6f2e0b2a4e11",
				"CustomerEndpoint": map[string]string{"Address": "+61255501234", "Type": "TELEPHONE_NUMBER"},
				"InstanceARN":      "arn:aws:connect:ap-southeast-2:123456789012:instance/c8c0e68d-2200-4265-82c0-5b1f3d9a7e20",
				"InitiationMethod": "INBOUND", "PreviousContactId": "4a573372-1f28-4e26-b97b-6f2e0b2a4e11",
			},
			"Parameters": params,
		},
		"Name": "ContactFlowEvent",
	})
	return string(b)
}

// POST /flows on both stores: each tenant's key answers with that tenant's
// schedules and parameters only, as a flat map of strings; a missing,
// wrong or rotated key is 401; an unknown schedule or group 404; an
// unknown action or a body that is no event 400; an unsubscribed tenant's
// key 403 until it is resubscribed.
func TestFlowsEndpoint(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := testenv.NewServer(t, b)
		A, B := s.NewTenant(t, "Acme"), s.NewTenant(t, "Bolt")
		allWeek := func(opens, closes string) []map[string]any {
			var out []map[string]any
			for _, d := range []string{"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"} {
				out = append(out, map[string]any{"day": d, "opens": opens, "closes": closes})
			}
			return out
		}
		create := testenv.ContractOperation(t, "CreateSchedule")
		s.MustDo(t, A.AdminToken, create, map[string]any{"input": map[string]any{"name": "Main line", "timeZone": "Australia/Sydney", "weeklyHours": allWeek("00:00", "24:00")}}, nil)
		s.MustDo(t, B.AdminToken, create, map[string]any{"input": map[string]any{"name": "Main line", "timeZone": "America/New_York"}}, nil) // never open
		s.MustDo(t, A.AdminToken, testenv.ContractOperation(t, "SetOperationalParameter"), map[string]any{"group": "ivr", "key": "welcome", "value": "Welcome to Acme"}, nil)
		s.MustDo(t, A.AdminToken, testenv.ContractOperation(t, "SetOperationalParameter"), map[string]any{"group": "ivr", "key": "queue", "value": "Q1"}, nil)
		key := func(tn testenv.Tenant) string {
			var out struct {
				RotateFlowsKey struct{ Key string } `json:"rotateFlowsKey"`
			}
			s.MustDo(t, tn.AdminToken, testenv.ContractOperation(t, "RotateFlowsKey"), nil, &out)
			return out.RotateFlowsKey.Key
		}
		rotated := key(A)
		aKey, bKey := key(A), key(B)

		post := func(key, body string) (int, map[string]string) {
			t.Helper()
			req, _ := http.NewRequest(http.MethodPost, s.URL+flows.Path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if key != "" {
				req.Header.Set(flows.KeyHeader, key)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out map[string]string
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
				t.Fatalf("%d: the reply is no flat map of strings: %v", resp.StatusCode, err)
			}
			return resp.StatusCode, out
		}
		schedule := flowsEvent(map[string]string{"action": "schedule", "schedule": "Main line"})
		ivr := flowsEvent(map[string]string{"action": "parameters", "group": "ivr"})

		if code, got := post(aKey, schedule); code != 200 || got["open"] != "true" || got["reason"] != "opening hours" || got["schedule"] != "Main line" || got["nextChangeAt"] != "" {
			t.Errorf("A's schedule: %d %v", code, got)
		}
		if code, got := post(bKey, schedule); code != 200 || got["open"] != "false" || got["reason"] != "outside opening hours" {
			t.Errorf("B's schedule of the same name: %d %v", code, got)
		}
		if code, got := post(aKey, ivr); code != 200 || len(got) != 2 || got["welcome"] != "Welcome to Acme" || got["queue"] != "Q1" {
			t.Errorf("A's parameters: %d %v", code, got)
		}
		for name, c := range map[string]struct {
			key, body string
			want      int
		}{
			"no key":           {"", ivr, 401},
			"a wrong key":      {aKey[:len(aKey)-2] + "xx", ivr, 401},
			"a rotated key":    {rotated, ivr, 401},
			"a bearer token":   {A.AdminToken, ivr, 401},
			"B asks A's group": {bKey, ivr, 404},
			"unknown schedule": {aKey, flowsEvent(map[string]string{"action": "schedule", "schedule": "Night line"}), 404},
			"unknown action":   {aKey, flowsEvent(map[string]string{"action": "transfer"}), 400},
			"no event":         {aKey, `[1, 2]`, 400},
		} {
			if code, got := post(c.key, c.body); code != c.want || got["error"] == "" {
				t.Errorf("%s: %d %v, want %d with an error", name, code, got, c.want)
			}
		}

		// A schedule changed is answered as changed (compiled schedules are
		// kept by when they were written).
		var list struct {
			Schedules []struct{ ID string }
		}
		s.MustDo(t, A.AdminToken, testenv.ContractOperation(t, "Schedules"), nil, &list)
		s.MustDo(t, A.AdminToken, testenv.ContractOperation(t, "UpdateSchedule"), map[string]any{"id": list.Schedules[0].ID,
			"input": map[string]any{"name": "Main line", "timeZone": "Australia/Sydney"}}, nil)
		// What /flows read is trusted for a second (flows.DefaultRecheck).
		within := func(what string, ok func() bool) {
			t.Helper()
			deadline := time.Now().Add(flows.DefaultRecheck + 2*time.Second)
			for !ok() {
				if time.Now().After(deadline) {
					t.Fatalf("%s: not within %v", what, flows.DefaultRecheck)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		within("A's schedule once emptied", func() bool { _, got := post(aKey, schedule); return got["open"] == "false" })
		// A key rotated stops working within the second too.
		old := aKey
		aKey = key(A)
		within("A's rotated key refused", func() bool { code, _ := post(old, ivr); return code == 401 })
		if code, got := post(aKey, ivr); code != 200 || got["welcome"] != "Welcome to Acme" {
			t.Errorf("A's new key: %d %v", code, got)
		}

		op := s.OperatorToken(t)
		s.MustDo(t, op, testenv.ContractOperation(t, "UnsubscribeTenant"), map[string]any{"id": A.ID}, nil)
		if code, got := post(aKey, ivr); code != 403 || !strings.Contains(got["error"], "TENANT_UNSUBSCRIBED") {
			t.Errorf("an unsubscribed tenant's key: %d %v", code, got)
		}
		if code, _ := post(bKey, schedule); code != 200 {
			t.Errorf("B while A is unsubscribed: %d", code)
		}
		s.MustDo(t, op, testenv.ContractOperation(t, "ResubscribeTenant"), map[string]any{"id": A.ID}, nil)
		if code, got := post(aKey, ivr); code != 200 || got["welcome"] != "Welcome to Acme" {
			t.Errorf("after resubscribing: %d %v", code, got)
		}
	})
}
