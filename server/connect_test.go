package server_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"switchboard/auth"
	"switchboard/cmd/switchboard/wire"
	"switchboard/connectaws"
	"switchboard/internal/fakeaws"
	"switchboard/internal/testenv"
	"switchboard/server"
)

const (
	instanceID  = "11111111-2222-3333-4444-555555555555"
	instanceARN = "arn:aws:connect:ap-southeast-2:123456789012:instance/" + instanceID
	roleARN     = "arn:aws:iam::123456789012:role/SwitchboardAccess"
	externalID  = "tenant-a-external-id"
)

// connectFixture is a server whose tenant A has an Amazon Connect instance
// behind fake STS and Connect endpoints that the real SDK talks to.
type connectFixture struct {
	*liveFixture
	sts     *fakeaws.STS
	connect *fakeaws.Connect
}

func newConnectFixture(t *testing.T, b testenv.Backend) *connectFixture {
	sts := fakeaws.NewSTS(t)
	sts.AllowRole(roleARN, externalID)
	fc := fakeaws.NewConnect(t)
	fc.TrustSTS(sts)
	fc.AddInstance(instanceID)
	fc.SetAgentStatuses(instanceID,
		fakeaws.AgentStatus{ID: "cs-available", Name: "Available", Type: "ROUTABLE"},
		fakeaws.AgentStatus{ID: "cs-offline", Name: "Offline", Type: "OFFLINE"},
		fakeaws.AgentStatus{ID: "cs-lunch", Name: "Lunch", Type: "CUSTOM"},
		fakeaws.AgentStatus{ID: "cs-coaching", Name: "Coaching", Type: "CUSTOM"},
	)
	fc.AddUsers(instanceID, "user-alex", "user-bea")
	s := testenv.NewServer(t, b, throughFakes(sts, fc))
	f := &liveFixture{s: s, a: s.NewTenant(t, "Acme"), b: s.NewTenant(t, "Bolt")}
	f.alex, f.alexTok = s.NewAgent(t, f.a, "Alex", "alex@acme.example", auth.RoleAgent)
	f.bea, f.beaTok = s.NewAgent(t, f.a, "Bea", "bea@acme.example", auth.RoleAgent)
	_, f.supTok = s.NewAgent(t, f.a, "Sam", "sam@acme.example", auth.RoleSupervisor)
	f.cy, f.cyTok = s.NewAgent(t, f.b, "Cy", "cy@bolt.example", auth.RoleAgent)
	f.bAvailable = f.status(t, f.b, "Available", "ROUTABLE")
	cf := &connectFixture{liveFixture: f, sts: sts, connect: fc}

	s.MustDo(t, f.a.AdminToken, `mutation($in: ConfigureInstanceInput!) { configureInstance(input: $in) { id instanceArn region roleArn } }`,
		map[string]any{"in": map[string]any{"instanceArn": instanceARN, "region": "ap-southeast-2", "roleArn": roleARN, "externalId": externalID, "chatContactFlowId": "flow-chat"}}, nil)
	var imported struct {
		ImportAgentStatuses []struct {
			ID, Name, Type  string
			ConnectStatusID string `json:"connectStatusID"`
		} `json:"importAgentStatuses"`
	}
	s.MustDo(t, f.a.AdminToken, `mutation { importAgentStatuses { id name type connectStatusID } }`, nil, &imported)
	if len(imported.ImportAgentStatuses) != 4 {
		t.Fatalf("imported %+v", imported)
	}
	for _, st := range imported.ImportAgentStatuses {
		switch st.Name {
		case "Available":
			f.available = st.ID
		case "Lunch":
			f.lunch = st.ID
		}
		if st.ConnectStatusID != "cs-"+lower(st.Name) {
			t.Fatalf("status %s maps to %q", st.Name, st.ConnectStatusID)
		}
	}
	for id, user := range map[string]string{f.alex: "user-alex", f.bea: "user-bea"} {
		s.MustDo(t, f.a.AdminToken, `mutation($id: ID!, $u: String!) { updateAgent(id: $id, input: {connectUserID: $u}) { id } }`,
			map[string]any{"id": id, "u": user}, nil)
	}
	return cf
}

// throughFakes configures a server to reach AWS through the fake STS and
// Connect, with the real SDK, one attempt per call.
func throughFakes(sts *fakeaws.STS, fc *fakeaws.Connect) testenv.ServerOption {
	return func(c *wire.Config) {
		c.AWS = &wire.AWS{Options: connectaws.Options{
			BaseCredentials:  credentials.NewStaticCredentialsProvider("AKIAPLATFORM", "platform-secret", ""),
			STSEndpoint:      sts.URL,
			ConnectEndpoint:  fc.URL,
			RetryMaxAttempts: 1,
		}}
	}
}

func lower(s string) string { return string(bytes.ToLower([]byte(s))) }

func TestSetAgentStatusTellsConnect(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := newConnectFixture(t, b)
		wb := f.s.DialWS(t, f.supTok)
		wb.Subscribe("wb", statusChanged, nil)
		waitSubscriptions(t, f.s, 1)

		if r := f.set(t, f.alexTok, f.available, nil); len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
		if got, _ := f.connect.UserStatus(instanceID, "user-alex"); got != "cs-available" {
			t.Fatalf("Connect has alex in %q", got)
		}
		puts := f.connect.RequestsFor(fakeaws.OpPutUserStatus)
		if len(puts) != 1 || puts[0].AccessKeyID == "AKIAPLATFORM" || puts[0].SessionToken == "" || puts[0].Region != "ap-southeast-2" {
			t.Fatalf("PutUserStatus requests: %+v", puts)
		}
		if _, ok := f.sts.Lookup(puts[0].AccessKeyID); !ok {
			t.Fatalf("PutUserStatus was not signed with the assumed role's credentials")
		}
		if ev := nextEvent(t, wb, "wb").AgentStatusChanged; ev.Status.Name != "Available" {
			t.Fatalf("event %+v", ev)
		}
		// A second change reuses the cached role credentials.
		if r := f.set(t, f.supTok, f.lunch, f.alex); len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
		if n := f.sts.CallCount(roleARN); n != 1 {
			t.Fatalf("AssumeRole called %d times", n)
		}
		nextEvent(t, wb, "wb")

		// Connect refuses: UPSTREAM, and nothing is recorded or published.
		f.connect.Fail(fakeaws.OpPutUserStatus, fakeaws.Failure{Status: 404, Code: "ResourceNotFoundException", Message: "user not found", Times: 1})
		r := f.set(t, f.alexTok, f.available, nil)
		if r.Code() != "UPSTREAM" {
			t.Fatalf("code %q: %+v", r.Code(), r.Errors)
		}
		var h struct {
			AgentStatusHistory []struct{ Status struct{ Name string } } `json:"agentStatusHistory"`
		}
		f.s.MustDo(t, f.supTok, testenv.ContractOperation(t, "AgentStatusHistory"),
			map[string]any{"agentId": f.alex, "from": time.Now().Add(-time.Hour), "to": time.Now().Add(time.Hour)}, &h)
		if len(h.AgentStatusHistory) != 2 || h.AgentStatusHistory[1].Status.Name != "Lunch" {
			t.Fatalf("after the refusal: %+v", h)
		}
		if m, ok := wb.TryRead(300 * time.Millisecond); ok {
			t.Fatalf("a refused change was published: %s", m.Payload)
		}
		// Tenant B sees no instance, cannot import A's statuses or mint a key for it.
		var inst struct{ Instance json.RawMessage }
		f.s.MustDo(t, f.b.AdminToken, `{ instance { id } }`, nil, &inst)
		if string(inst.Instance) != "null" {
			t.Fatalf("tenant B sees an instance: %s", inst.Instance)
		}
		f.s.MustDo(t, f.a.AdminToken, `{ instance { id instanceArn } }`, nil, &inst)
		if string(inst.Instance) == "null" {
			t.Fatal("tenant A does not see its instance")
		}
		if r := f.s.Do(t, f.supTok, `{ instance { id } }`, nil); r.Code() != "FORBIDDEN" {
			t.Fatalf("a supervisor reads the instance: %q", r.Code())
		}
		for _, m := range []string{`mutation { importAgentStatuses { id } }`, `mutation { rotateAgentEventKey }`} {
			if r := f.s.Do(t, f.b.AdminToken, m, nil); r.Code() != "BAD_USER_INPUT" {
				t.Fatalf("tenant B %s: %q", m, r.Code())
			}
		}
		// Tenant B has no instance: its changes stay local.
		if r := f.set(t, f.cyTok, f.bAvailable, nil); len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
		if n := len(f.connect.RequestsFor(fakeaws.OpPutUserStatus)); n != 3 {
			t.Fatalf("%d PutUserStatus calls, want 3", n)
		}
	})
}

// agentEvent builds one record of the agent event stream.
func agentEvent(eventID, userID, statusName string, start time.Time) map[string]any {
	return map[string]any{
		"AWSAccountId":   "123456789012",
		"AgentARN":       instanceARN + "/agent/" + userID,
		"EventId":        eventID,
		"EventTimestamp": start.UTC().Format("2006-01-02T15:04:05.000Z"),
		"EventType":      "STATE_CHANGE",
		"InstanceARN":    instanceARN,
		"Version":        "2019-05-25",
		"CurrentAgentSnapshot": map[string]any{
			"AgentStatus": map[string]any{
				"ARN":            instanceARN + "/agent-state/cs-" + lower(statusName),
				"Name":           statusName,
				"StartTimestamp": start.UTC().Format("2006-01-02T15:04:05.000Z"),
			},
			"Configuration": map[string]any{"Username": userID},
			"Contacts":      []any{},
		},
	}
}

// deliver posts records as an Amazon Data Firehose HTTP endpoint delivery.
func deliver(t *testing.T, s *testenv.Server, key string, events ...map[string]any) int {
	var records []map[string]string
	for _, e := range events {
		b, _ := json.Marshal(e)
		records = append(records, map[string]string{"data": base64.StdEncoding.EncodeToString(b)})
	}
	body, _ := json.Marshal(map[string]any{"requestId": "req-1", "timestamp": time.Now().UnixMilli(), "records": records})
	req, _ := http.NewRequest(http.MethodPost, s.URL+server.AgentEventsPath, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amz-Firehose-Request-Id", "req-1")
	if key != "" {
		req.Header.Set("X-Amz-Firehose-Access-Key", key)
	}
	res, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var reply struct{ RequestID string }
	_ = json.NewDecoder(res.Body).Decode(&reply)
	if reply.RequestID != "req-1" {
		t.Fatalf("the reply does not echo the request ID: %+v", reply)
	}
	return res.StatusCode
}

func TestAgentEventStream(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := newConnectFixture(t, b)
		var key struct {
			RotateAgentEventKey string `json:"rotateAgentEventKey"`
		}
		f.s.MustDo(t, f.a.AdminToken, `mutation { rotateAgentEventKey }`, nil, &key)
		if r := f.s.Do(t, f.supTok, `mutation { rotateAgentEventKey }`, nil); r.Code() != "FORBIDDEN" {
			t.Fatalf("a supervisor rotated the key: %q", r.Code())
		}
		wb := f.s.DialWS(t, f.supTok)
		wb.Subscribe("wb", statusChanged, nil)
		other := f.s.DialWS(t, f.b.AdminToken)
		other.Subscribe("other", statusChanged, nil)
		waitSubscriptions(t, f.s, 2)

		t0 := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
		if code := deliver(t, f.s, key.RotateAgentEventKey,
			agentEvent("e1", "user-alex", "Available", t0),
			agentEvent("e2", "user-bea", "Lunch", t0.Add(time.Second)),
		); code != http.StatusOK {
			t.Fatalf("delivery: %d", code)
		}
		seen := map[string]string{}
		for i := 0; i < 2; i++ {
			ev := nextEvent(t, wb, "wb").AgentStatusChanged
			seen[ev.Agent.ID] = ev.Status.Name
			if !ev.ChangedAt.Equal(t0) && !ev.ChangedAt.Equal(t0.Add(time.Second)) {
				t.Fatalf("changedAt %v is not Connect's start time", ev.ChangedAt)
			}
		}
		if seen[f.alex] != "Available" || seen[f.bea] != "Lunch" {
			t.Fatalf("events: %v", seen)
		}
		// Redelivery (same event IDs) and an older, out-of-order event change nothing current.
		if code := deliver(t, f.s, key.RotateAgentEventKey,
			agentEvent("e1", "user-alex", "Available", t0),
			agentEvent("e0", "user-alex", "Lunch", t0.Add(-time.Minute)),
		); code != http.StatusOK {
			t.Fatalf("redelivery: %d", code)
		}
		// A newer one moves Alex on.
		if code := deliver(t, f.s, key.RotateAgentEventKey, agentEvent("e3", "user-alex", "Lunch", t0.Add(2*time.Second))); code != http.StatusOK {
			t.Fatalf("delivery: %d", code)
		}
		if ev := nextEvent(t, wb, "wb").AgentStatusChanged; ev.Agent.ID != f.alex || ev.Status.Name != "Lunch" || ev.PreviousStatus == nil || ev.PreviousStatus.Name != "Available" {
			t.Fatalf("after e3: %+v", ev)
		}
		var h struct {
			AgentStatusHistory []struct {
				Status    struct{ Name string }
				StartedAt time.Time
			} `json:"agentStatusHistory"`
		}
		f.s.MustDo(t, f.supTok, testenv.ContractOperation(t, "AgentStatusHistory"),
			map[string]any{"agentId": f.alex, "from": t0.Add(-time.Hour), "to": time.Now().Add(time.Hour)}, &h)
		names := ""
		for _, iv := range h.AgentStatusHistory {
			names += iv.Status.Name + ","
		}
		if names != "Lunch,Available,Lunch," {
			t.Fatalf("history (with the late e0 in its place, e1 once): %s", names)
		}
		// A tenant that unsubscribed has its stream refused, and nothing
		// changes; active again, it is taken.
		opToken := f.s.OperatorToken(t)
		f.s.MustDo(t, opToken, `mutation($id: ID!) { unsubscribeTenant(id: $id) { id } }`, map[string]any{"id": f.a.ID}, nil)
		if code := deliver(t, f.s, key.RotateAgentEventKey, agentEvent("e5", "user-alex", "Available", time.Now())); code != http.StatusForbidden {
			t.Fatalf("unsubscribed tenant: %d", code)
		}
		f.s.MustDo(t, opToken, `mutation($id: ID!) { resubscribeTenant(id: $id) { id } }`, map[string]any{"id": f.a.ID}, nil)
		// Unsubscribing closed the wallboard (4403); it comes back.
		wb = f.s.DialWS(t, f.supTok)
		wb.Subscribe("wb", statusChanged, nil)
		waitSubscriptions(t, f.s, 2) // the new wallboard and B's
		t6 := time.Now().Add(time.Second).Truncate(time.Millisecond)
		if code := deliver(t, f.s, key.RotateAgentEventKey, agentEvent("e6", "user-alex", "Available", t6)); code != http.StatusOK {
			t.Fatalf("active again: %d", code)
		}
		// The refused events were not applied: this is the next event, and
		// Alex moves from Lunch, where e3 left it.
		if ev := nextEvent(t, wb, "wb").AgentStatusChanged; ev.Agent.ID != f.alex || ev.Status.Name != "Available" ||
			!ev.ChangedAt.Equal(t6) || ev.PreviousStatus == nil || ev.PreviousStatus.Name != "Lunch" {
			t.Fatalf("after e6: %+v", ev)
		}
		// The echo of a status set here changes nothing and is not published again.
		if r := f.set(t, f.beaTok, f.available, nil); len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
		setAt := nextEvent(t, wb, "wb").AgentStatusChanged.ChangedAt
		deliver(t, f.s, key.RotateAgentEventKey, agentEvent("e4", "user-bea", "Available", time.Now()))
		// Connect dates its echo a little before the change was recorded
		// here: it is not a second change either.
		deliver(t, f.s, key.RotateAgentEventKey, agentEvent("e4early", "user-bea", "Available", setAt.Add(-50*time.Millisecond)))
		f.s.MustDo(t, f.supTok, testenv.ContractOperation(t, "AgentStatusHistory"),
			map[string]any{"agentId": f.bea, "from": t0.Add(-time.Hour), "to": time.Now().Add(time.Hour)}, &h)
		names = ""
		for _, iv := range h.AgentStatusHistory {
			names += iv.Status.Name + ","
		}
		if names != "Lunch,Available," {
			t.Fatalf("Bea's history after the echoes: %s", names)
		}
		if m, ok := wb.TryRead(300 * time.Millisecond); ok {
			t.Fatalf("the echo was published: %s", m.Payload)
		}
		if m, ok := other.TryRead(100 * time.Millisecond); ok {
			t.Fatalf("tenant B received A's events: %s", m.Payload)
		}
		// Refused: no key, a wrong key, an old key after rotation.
		for _, k := range []string{"", "sbe_wrong", key.RotateAgentEventKey} {
			if k == key.RotateAgentEventKey {
				f.s.MustDo(t, f.a.AdminToken, `mutation { rotateAgentEventKey }`, nil, nil)
			}
			if code := deliver(t, f.s, k, agentEvent(fmt.Sprint("x", k), "user-alex", "Available", time.Now())); code != http.StatusUnauthorized {
				t.Fatalf("key %q: %d", k, code)
			}
		}
	})
}

// An agent event dated in the future (beyond the clock skew allowed) is
// refused: applied, it would date every later change of the agent after it.
func TestAgentEventFromTheFuture(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := newConnectFixture(t, b)
		var key struct {
			RotateAgentEventKey string `json:"rotateAgentEventKey"`
		}
		f.s.MustDo(t, f.a.AdminToken, `mutation { rotateAgentEventKey }`, nil, &key)
		wb := f.s.DialWS(t, f.supTok)
		wb.Subscribe("wb", statusChanged, nil)
		waitSubscriptions(t, f.s, 1)

		// Within the skew: applied as dated.
		soon := time.Now().Add(time.Minute).Truncate(time.Millisecond)
		if code := deliver(t, f.s, key.RotateAgentEventKey, agentEvent("soon", "user-alex", "Lunch", soon)); code != http.StatusOK {
			t.Fatalf("delivery: %d", code)
		}
		if ev := nextEvent(t, wb, "wb").AgentStatusChanged; ev.Agent.ID != f.alex || ev.Status.Name != "Lunch" || !ev.ChangedAt.Equal(soon) {
			t.Fatalf("an event a minute ahead: %+v", ev)
		}
		// Far ahead: taken (a retry would not help) but not applied.
		far := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
		if code := deliver(t, f.s, key.RotateAgentEventKey, agentEvent("far", "user-alex", "Available", far)); code != http.StatusOK {
			t.Fatalf("delivery: %d", code)
		}
		// The next real change is dated as it happened, from Lunch: had the
		// 2099 event been applied, it would be the next message, and this
		// change history only.
		next := soon.Add(time.Second)
		if code := deliver(t, f.s, key.RotateAgentEventKey, agentEvent("next", "user-alex", "Available", next)); code != http.StatusOK {
			t.Fatalf("delivery: %d", code)
		}
		if ev := nextEvent(t, wb, "wb").AgentStatusChanged; ev.Agent.ID != f.alex || ev.Status.Name != "Available" ||
			!ev.ChangedAt.Equal(next) || ev.PreviousStatus == nil || ev.PreviousStatus.Name != "Lunch" {
			t.Fatalf("after the refused event: %+v", ev)
		}
	})
}

// importAgentStatuses is refused to agents and supervisors before any AWS
// call: no role is assumed, no status listed.
func TestImportAgentStatusesRoleBeforeAWS(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := newConnectFixture(t, b)
		stsBefore, listBefore := len(f.sts.Calls()), len(f.connect.RequestsFor(fakeaws.OpListAgentStatuses))
		for name, tok := range map[string]string{"agent": f.alexTok, "supervisor": f.supTok} {
			if r := f.s.Do(t, tok, `mutation { importAgentStatuses { id } }`, nil); r.Code() != "FORBIDDEN" {
				t.Errorf("%s: errors %+v; want FORBIDDEN", name, r.Errors)
			}
		}
		if n := len(f.sts.Calls()) - stsBefore; n != 0 {
			t.Errorf("%d AssumeRole calls for refused imports", n)
		}
		if n := len(f.connect.RequestsFor(fakeaws.OpListAgentStatuses)) - listBefore; n != 0 {
			t.Errorf("%d ListAgentStatuses calls for refused imports", n)
		}
	})
}
