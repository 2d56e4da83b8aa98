package telemetry_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/gorilla/websocket"

	"switchboard/auth"
	"switchboard/cmd/switchboard/wire"
	"switchboard/connectaws"
	"switchboard/internal/fakeaws"
	"switchboard/internal/testenv"
	"switchboard/server"
	"switchboard/server/telemetry"
)

const (
	instanceID  = "11111111-2222-3333-4444-555555555555"
	instanceARN = "arn:aws:connect:ap-southeast-2:123456789012:instance/" + instanceID
	roleARN     = "arn:aws:iam::123456789012:role/SwitchboardAccess"
	externalID  = "tenant-a-external-id"
	// The platform's own AWS secret key: it must never be logged.
	platformSecret = "platform-secret-key-0123456789"
)

// logBuffer is the server's log output, safe for concurrent writes.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// lines are the log's JSON lines.
func (l *logBuffer) lines(t *testing.T) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(l.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("a log line is not JSON: %s", sc.Text())
		}
		out = append(out, m)
	}
	return out
}

type fixture struct {
	s       *testenv.Server
	logs    *logBuffer
	tenant  testenv.Tenant
	agent   string // an agent's token
	sts     *fakeaws.STS
	connect *fakeaws.Connect
}

// newFixture is a real server, logging JSON at debug level into a buffer
// as the command does, with tenant A's Connect instance behind fake AWS.
func newFixture(t *testing.T, b testenv.Backend) *fixture {
	logs := &logBuffer{}
	sts := fakeaws.NewSTS(t)
	sts.AllowRole(roleARN, externalID)
	fc := fakeaws.NewConnect(t)
	fc.TrustSTS(sts)
	fc.AddInstance(instanceID)
	fc.SetAgentStatuses(instanceID, fakeaws.AgentStatus{ID: "cs-available", Name: "Available", Type: "ROUTABLE"})
	s := testenv.NewServer(t, b, func(c *wire.Config) {
		c.Logger = slog.New(telemetry.NewHandler(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
		c.AWS = &wire.AWS{Options: connectaws.Options{
			BaseCredentials:  credentials.NewStaticCredentialsProvider("AKIAPLATFORM", platformSecret, ""),
			STSEndpoint:      sts.URL,
			ConnectEndpoint:  fc.URL,
			RetryMaxAttempts: 1,
		}}
	})
	f := &fixture{s: s, logs: logs, sts: sts, connect: fc, tenant: s.NewTenant(t, "Acme")}
	_, f.agent = s.NewAgent(t, f.tenant, "Alex", "alex@acme.example", auth.RoleAgent)
	return f
}

// post sends a GraphQL request with headers and returns the response.
func (f *fixture) post(t *testing.T, body string, header map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.s.URL+"/query", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := f.s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

// metric returns the value of the series (name with its labels, as
// /metrics prints it), 0 when absent.
func (f *fixture) metric(t *testing.T, series string) float64 {
	t.Helper()
	res, err := f.s.Client().Get(f.s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return n
		}
	}
	return 0
}

// TestRequestIDAndAccessLog: a sane incoming X-Request-ID is kept and
// echoed, a bad one replaced; the request's log lines, its access log line
// included, carry it with the route, status, operation and tenant.
func TestRequestIDAndAccessLog(t *testing.T) {
	f := newFixture(t, testenv.Backends()[0])
	q := `{"query":"query Viewer { viewer { role } }","operationName":"Viewer"}`
	res := f.post(t, q, map[string]string{"Authorization": "Bearer " + f.agent, "X-Request-ID": "req-abc.123"})
	if got := res.Header.Get(telemetry.RequestIDHeader); got != "req-abc.123" {
		t.Fatalf("X-Request-ID echoed %q", got)
	}
	for _, bad := range []string{"<script>", strings.Repeat("a", 65), "a b", "x\u00e9"} {
		res := f.post(t, q, map[string]string{"Authorization": "Bearer " + f.agent, "X-Request-ID": bad})
		got := res.Header.Get(telemetry.RequestIDHeader)
		if got == bad || !telemetry.SaneRequestID(got) {
			t.Fatalf("incoming %q: echoed %q", bad, got)
		}
	}
	res = f.post(t, q, nil)
	if !telemetry.SaneRequestID(res.Header.Get(telemetry.RequestIDHeader)) {
		t.Fatalf("no request ID made: %q", res.Header.Get(telemetry.RequestIDHeader))
	}
	var access map[string]any
	for _, l := range f.logs.lines(t) {
		if l["msg"] == "http request" && l["request_id"] == "req-abc.123" {
			access = l
		}
	}
	if access == nil {
		t.Fatalf("no access log line for req-abc.123 in:\n%s", f.logs.String())
	}
	want := map[string]any{"method": "POST", "route": "/query", "status": float64(200), "operation": "Viewer", "tenant": f.tenant.ID}
	for k, v := range want {
		if access[k] != v {
			t.Errorf("access log %s = %v, want %v (%v)", k, access[k], v, access)
		}
	}
	if n, _ := access["bytes"].(float64); n <= 0 {
		t.Errorf("access log bytes = %v", access["bytes"])
	}
}

// TestMetricsMove: the error count by code, the operation histogram (by
// known name, else "other"), the route histogram, the AWS call histogram
// and the pool figures move when the server works.
func TestMetricsMove(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := newFixture(t, b)
		forbidden := `switchboard_graphql_errors_total{code="FORBIDDEN"}`
		before := f.metric(t, forbidden)
		r := f.s.Do(t, f.agent, `mutation CreateAgent { createAgent(input: {name: "X", email: "x@acme.example"}) { id } }`, nil)
		if r.Code() != "FORBIDDEN" {
			t.Fatalf("an agent created an agent: %+v", r)
		}
		if after := f.metric(t, forbidden); after != before+1 {
			t.Fatalf("FORBIDDEN count %v → %v", before, after)
		}
		// A document that fails validation never becomes an operation; its error is counted too.
		r = f.s.Do(t, f.agent, `{ noSuchField }`, nil)
		code := r.Code()
		if code == "" {
			t.Fatalf("no code on a validation failure: %+v", r)
		}
		if n := f.metric(t, `switchboard_graphql_errors_total{code="`+code+`"}`); n < 1 {
			t.Fatalf("%s not counted: %v", code, n)
		}
		if n := f.metric(t, `switchboard_graphql_operation_duration_seconds_count{operation="CreateAgent"}`); n < 1 {
			t.Fatalf("CreateAgent not timed: %v", n)
		}
		other := `switchboard_graphql_operation_duration_seconds_count{operation="other"}`
		before = f.metric(t, other)
		f.s.MustDo(t, f.agent, `query MyOwnName123 { viewer { role } }`, nil, nil)
		if after := f.metric(t, other); after != before+1 {
			t.Fatalf(`an unknown operation name is not counted as "other": %v → %v`, before, after)
		}
		if n := f.metric(t, `switchboard_graphql_operation_duration_seconds_count{operation="MyOwnName123"}`); n != 0 {
			t.Fatal("a client-chosen operation name became a label")
		}
		if n := f.metric(t, `switchboard_http_request_duration_seconds_count{route="/query"}`); n < 3 {
			t.Fatalf("/query durations: %v", n)
		}

		aws := `switchboard_aws_call_duration_seconds_count{operation="AssumeRole",service="STS"}`
		if n := f.metric(t, aws); n != 0 {
			t.Fatalf("AssumeRole counted before any call: %v", n)
		}
		f.s.MustDo(t, f.tenant.AdminToken, `mutation($in: ConfigureInstanceInput!) { configureInstance(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"instanceArn": instanceARN, "region": "ap-southeast-2", "roleArn": roleARN, "externalId": externalID, "chatContactFlowId": "flow-chat"}}, nil)
		f.s.MustDo(t, f.tenant.AdminToken, `mutation { importAgentStatuses { id } }`, nil, nil)
		if n := f.metric(t, aws); n < 1 {
			t.Fatalf("no AssumeRole observed: %v", n)
		}
		if n := f.metric(t, `switchboard_aws_call_duration_seconds_count{operation="ListAgentStatuses",service="Connect"}`); n < 1 {
			t.Fatalf("no ListAgentStatuses observed: %v", n)
		}
		f.connect.Fail(fakeaws.OpListAgentStatuses, fakeaws.Failure{Status: 500, Code: "InternalServiceException", Message: "down", Times: 1})
		failed := `switchboard_aws_call_errors_total{operation="ListAgentStatuses",service="Connect"}`
		before = f.metric(t, failed)
		if r := f.s.Do(t, f.tenant.AdminToken, `mutation { importAgentStatuses { id } }`, nil); len(r.Errors) == 0 {
			t.Fatal("import succeeded against a failing Connect")
		}
		if after := f.metric(t, failed); after != before+1 {
			t.Fatalf("Connect errors %v → %v", before, after)
		}
		if n := f.metric(t, `go_sql_max_open_connections{db_name="switchboard"}`); n == 0 {
			if f.metric(t, `go_sql_open_connections{db_name="switchboard"}`) == 0 {
				t.Fatal("no pool figures")
			}
		}
	})
}

// TestKnownOperationsAreTheContracts: the operation names labelled in
// metrics are exactly the contract's.
func TestKnownOperationsAreTheContracts(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testenv.RepoRoot(t), "server", "trusted", "contract", "*.graphql"))
	if len(files) == 0 {
		t.Fatal("no contract files")
	}
	re := regexp.MustCompile(`(?m)^(?:query|mutation|subscription) ([A-Za-z0-9_]+)`)
	seen := map[string]bool{}
	var want []string
	for _, p := range files {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(raw), -1) {
			if !seen[m[1]] {
				seen[m[1]] = true
				want = append(want, m[1])
			}
		}
	}
	sort.Strings(want)
	got := append([]string(nil), telemetry.KnownOperations...)
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("KnownOperations\n%v\nthe contract's\n%v", got, want)
	}
}

var _ = server.AgentEventsPath

// TestNoSecretsInLogs drives a server at debug level through requests
// carrying bearer tokens, a SCIM token, an agent-event key, and failing
// ones (bad tokens, wrong keys, a malformed body, an AWS failure), then
// greps everything logged for each secret.
func TestNoSecretsInLogs(t *testing.T) {
	f := newFixture(t, testenv.Backends()[0])
	secrets := map[string]string{
		"JWT secret":          string(f.s.Secret),
		"platform AWS secret": platformSecret,
		"admin token":         f.tenant.AdminToken,
		"agent token":         f.agent,
	}
	// Bearer tokens, good and bad.
	f.s.MustDo(t, f.agent, `query { viewer { role } }`, nil, nil)
	bogus := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2d1cyJ9.bogus-signature-0123456789"
	secrets["a forged token"] = bogus
	if r := f.s.Do(t, bogus, `query { viewer { role } }`, nil); r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("forged token: %+v", r)
	}
	f.post(t, `{`, map[string]string{"Authorization": "Bearer " + f.agent})
	f.post(t, `{"query": 7}`, map[string]string{"Authorization": "Bearer " + bogus})
	// A WebSocket carrying a token, counted while open.
	ws := f.s.DialWS(t, f.agent)
	if n := f.metric(t, "switchboard_ws_connections"); n != 1 {
		t.Fatalf("switchboard_ws_connections = %v with one open", n)
	}
	ws.Subscribe("1", `subscription { agentStatusChanged { agent { id } } }`, nil)

	// A SCIM token, used and wrong.
	var created struct {
		CreateScimToken struct{ Token string } `json:"createScimToken"`
	}
	f.s.MustDo(t, f.tenant.AdminToken, `mutation { createScimToken(name: "Entra ID") { token } }`, nil, &created)
	secrets["SCIM token"] = created.CreateScimToken.Token
	for _, tok := range []string{created.CreateScimToken.Token, created.CreateScimToken.Token + "x"} {
		req, _ := http.NewRequest(http.MethodPost, f.s.URL+"/scim/v2/Users", strings.NewReader(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"pat@acme.example","emails":[{"value":"pat@acme.example"}]}`))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/scim+json")
		res, err := f.s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}

	// The agent-event key, right and wrong.
	f.s.MustDo(t, f.tenant.AdminToken, `mutation($in: ConfigureInstanceInput!) { configureInstance(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"instanceArn": instanceARN, "region": "ap-southeast-2", "roleArn": roleARN, "externalId": externalID, "chatContactFlowId": "flow-chat"}}, nil)
	var key struct {
		RotateAgentEventKey string `json:"rotateAgentEventKey"`
	}
	f.s.MustDo(t, f.tenant.AdminToken, `mutation { rotateAgentEventKey }`, nil, &key)
	secrets["agent-event key"] = key.RotateAgentEventKey
	for _, k := range []string{key.RotateAgentEventKey, key.RotateAgentEventKey + "x"} {
		req, _ := http.NewRequest(http.MethodPost, f.s.URL+server.AgentEventsPath, strings.NewReader(`{"requestId":"r1","timestamp":1,"records":[{"data":"bm90IGpzb24="}]}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Amz-Firehose-Request-Id", "r1")
		req.Header.Set("X-Amz-Firehose-Access-Key", k)
		res, err := f.s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	// A failing AWS call.
	f.connect.Fail(fakeaws.OpListAgentStatuses, fakeaws.Failure{Status: 500, Code: "InternalServiceException", Message: "down", Times: 1})
	f.s.Do(t, f.tenant.AdminToken, `mutation { importAgentStatuses { id } }`, nil)

	logs := f.logs.String()
	if !strings.Contains(logs, `"msg":"http request"`) {
		t.Fatalf("nothing logged: %s", logs)
	}
	for what, s := range secrets {
		if s == "" {
			t.Fatalf("%s is empty", what)
		}
		if strings.Contains(logs, s) {
			t.Errorf("the %s is in the logs", what)
		}
	}
	if t.Failed() {
		t.Log(logs)
	}
}

// TestRelayLag: a status change made on one replica and received by
// another is a sample of the receiver's relay lag histogram.
func TestRelayLag(t *testing.T) {
	url := testenv.PostgresURL(t)
	one := testenv.NewServerOn(t, url)
	two := testenv.NewServerOn(t, url)
	two.Secret = one.Secret
	f := &fixture{s: two}
	tn := one.NewTenant(t, "Acme")
	_, alex := one.NewAgent(t, tn, "Alex", "alex@acme.example", auth.RoleAgent)
	var st struct {
		CreateAgentStatus struct{ ID string } `json:"createAgentStatus"`
	}
	one.MustDo(t, tn.AdminToken, `mutation { createAgentStatus(input: {name: "Available", type: ROUTABLE}) { id } }`, nil, &st)
	series := "switchboard_status_relay_lag_seconds_count"
	if n := f.metric(t, series); n != 0 {
		t.Fatalf("lag observed before any change: %v", n)
	}
	ws := two.DialWS(t, tn.AdminToken)
	ws.Subscribe("wb", `subscription { agentStatusChanged { agent { id } } }`, nil)
	for i := 0; f.metric(t, "switchboard_status_subscriptions") < 1; i++ {
		if i > 500 {
			t.Fatal("the subscription never started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	one.MustDo(t, alex, testenv.ContractOperation(t, "SetAgentStatus"), map[string]any{"statusId": st.CreateAgentStatus.ID}, nil)
	if m := ws.Read(10 * time.Second); m.Type != "next" {
		t.Fatalf("no relayed event: %+v", m)
	}
	if n := f.metric(t, series); n < 1 {
		t.Fatalf("relay lag count %v after a relayed change", n)
	}
}

// TestWebSocketRequestID: a WebSocket connection keeps its upgrade's
// request ID; when it ends, its access log line carries it with the
// operation and tenant its subscriptions ran for, and the connection gauge
// falls back.
func TestWebSocketRequestID(t *testing.T) {
	f := newFixture(t, testenv.Backends()[0])
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 10 * time.Second}
	c, _, err := d.Dial("ws"+strings.TrimPrefix(f.s.URL, "http")+"/query", http.Header{"X-Request-Id": {"ws-req-1"}})
	if err != nil {
		t.Fatal(err)
	}
	send := func(v any) {
		if err := c.WriteJSON(v); err != nil {
			t.Fatal(err)
		}
	}
	send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + f.agent}})
	var ack map[string]any
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if err := c.ReadJSON(&ack); err != nil || ack["type"] != "connection_ack" {
		t.Fatalf("init: %v %v", ack, err)
	}
	send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query": `subscription AgentStatusChanged { agentStatusChanged { agent { id } } }`}})
	for i := 0; f.metric(t, "switchboard_status_subscriptions") < 1; i++ {
		if i > 500 {
			t.Fatal("the subscription never started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.Close()
	var line map[string]any
	for i := 0; line == nil; i++ {
		if i > 500 {
			t.Fatalf("no access log line of the WebSocket in:\n%s", f.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
		for _, l := range f.logs.lines(t) {
			if l["msg"] == "http request" && l["request_id"] == "ws-req-1" {
				line = l
			}
		}
	}
	if line["status"] != float64(http.StatusSwitchingProtocols) || line["operation"] != "AgentStatusChanged" || line["tenant"] != f.tenant.ID {
		t.Fatalf("access log %v", line)
	}
	for i := 0; f.metric(t, "switchboard_ws_connections") != 0; i++ {
		if i > 500 {
			t.Fatal("switchboard_ws_connections stays up after the close")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
