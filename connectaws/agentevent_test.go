package connectaws_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"switchboard/connectaws"
)

func readSample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ts(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const sampleInstanceARN = "arn:aws:connect:eu-west-2:111111111111:instance/aaaaaaaa-0000-4000-8000-000000000001"

func TestParseAgentEventStateChange(t *testing.T) {
	ev, err := connectaws.ParseAgentEvent(readSample(t, "state_change.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ev.EventType != connectaws.AgentEventStateChange || ev.EventID != "7c3a4f1e-2b9d-4e60-9a51-0d2f3c4b5a69" ||
		ev.AWSAccountID != "111111111111" || ev.InstanceARN != sampleInstanceARN || ev.Version != "2019-05-25" {
		t.Fatalf("event = %+v", ev)
	}
	if !ev.EventTimestamp.Equal(ts(t, "2024-03-04T09:15:02.331Z")) {
		t.Fatalf("EventTimestamp = %v", ev.EventTimestamp)
	}
	user, err := connectaws.UserIDFromAgentARN(ev.AgentARN)
	if err != nil || user != agentA {
		t.Fatalf("user = %q, %v", user, err)
	}
	if id, _ := connectaws.InstanceID(ev.InstanceARN); id != instanceA {
		t.Fatalf("instance = %q", id)
	}

	cur, prev := ev.Current, ev.Previous
	if cur == nil || prev == nil {
		t.Fatal("snapshots missing")
	}
	if cur.AgentStatus.Name != "Break" || !cur.AgentStatus.StartTimestamp.Equal(ts(t, "2024-03-04T09:15:02.331Z")) ||
		cur.AgentStatus.ARN != sampleInstanceARN+"/agent-state/5e1b2c3d-0000-4000-8000-0000000000b1" {
		t.Fatalf("current status = %+v", cur.AgentStatus)
	}
	if prev.AgentStatus.Name != "Available" || prev.NextAgentStatus == nil || prev.NextAgentStatus.Name != "Break" ||
		!prev.NextAgentStatus.EnqueuedTimestamp.Equal(ts(t, "2024-03-04T09:12:10.5Z")) || cur.NextAgentStatus != nil {
		t.Fatalf("previous status = %+v, next %+v", prev.AgentStatus, prev.NextAgentStatus)
	}
	cfg := cur.Configuration
	if cfg.Username != "priya.shah" || cfg.FirstName != "Priya" || cfg.LastName != "Shah" || cfg.LanguageCode != "en-GB" {
		t.Fatalf("configuration = %+v", cfg)
	}
	rp := cfg.RoutingProfile
	if rp == nil || rp.Name != "Support voice and chat" || len(rp.Concurrency) != 2 || rp.Concurrency[0].Channel != "CHAT" ||
		rp.Concurrency[0].MaximumSlots != 2 || rp.DefaultOutboundQueue == nil || rp.DefaultOutboundQueue.Name != "Outbound" ||
		len(rp.InboundQueues) != 1 || len(rp.InboundQueues[0].Channels) != 2 {
		t.Fatalf("routing profile = %+v", rp)
	}
	if g := cfg.AgentHierarchyGroups; g == nil || g.Level1 == nil || g.Level1.Name != "Support" || g.Level2 != nil {
		t.Fatalf("hierarchy = %+v", g)
	}
	if len(cfg.Proficiencies) != 1 || cfg.Proficiencies[0].Level != 2 {
		t.Fatalf("proficiencies = %+v", cfg.Proficiencies)
	}
	if len(cur.Contacts) != 0 || len(prev.Contacts) != 1 {
		t.Fatalf("contacts: current %d, previous %d", len(cur.Contacts), len(prev.Contacts))
	}
	c := prev.Contacts[0]
	if c.ContactID != "c0c0c0c0-0000-4000-8000-000000000123" || c.Channel != "VOICE" || c.State != "ENDED" ||
		c.InitiationMethod != "INBOUND" || c.InitialContactID != "" || c.Queue == nil || c.Queue.Name != "Support" ||
		!c.ConnectedToAgentTimestamp.Equal(ts(t, "2024-03-04T09:05:21.118Z")) ||
		!c.QueueTimestamp.Equal(ts(t, "2024-03-04T09:04:59.87Z")) ||
		!c.StateStartTimestamp.Equal(ts(t, "2024-03-04T09:15:01.994Z")) {
		t.Fatalf("contact = %+v", c)
	}
}

func TestParseAgentEventLoginLogoutHeartBeat(t *testing.T) {
	cases := []struct {
		file     string
		typ      connectaws.AgentEventType
		status   string
		previous bool
	}{
		{"login.json", connectaws.AgentEventLogin, "Offline", false},
		{"logout.json", connectaws.AgentEventLogout, "Offline", false},
		{"heart_beat.json", connectaws.AgentEventHeartBeat, "Available", true},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			ev, err := connectaws.ParseAgentEvent(readSample(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if ev.EventType != tc.typ || ev.Current == nil || ev.Current.AgentStatus.Name != tc.status || (ev.Previous != nil) != tc.previous {
				t.Fatalf("event = %+v", ev)
			}
			if ev.EventTimestamp.IsZero() || ev.Current.AgentStatus.StartTimestamp.IsZero() {
				t.Fatal("timestamps not parsed")
			}
			if user, err := connectaws.UserIDFromAgentARN(ev.AgentARN); err != nil || user != agentA {
				t.Fatalf("user = %q, %v", user, err)
			}
		})
	}

	ev, _ := connectaws.ParseAgentEvent(readSample(t, "heart_beat.json"))
	c := ev.Current.Contacts[0]
	if c.State != "CONNECTED_ONHOLD" || !c.QueueTimestamp.IsZero() || c.ConnectedToAgentTimestamp.IsZero() {
		t.Fatalf("heart beat contact = %+v", c)
	}
}

func TestParseAgentEventRejects(t *testing.T) {
	for name, data := range map[string]string{
		"empty":          ``,
		"null":           `null`,
		"array":          `[]`,
		"string":         `"STATE_CHANGE"`,
		"no type":        `{"AgentARN": "arn:aws:connect:eu-west-2:111111111111:instance/i/agent/a"}`,
		"no agent":       `{"EventType": "LOGIN"}`,
		"bad timestamp":  `{"EventType": "LOGIN", "AgentARN": "x", "EventTimestamp": "yesterday"}`,
		"epoch number":   `{"EventType": "LOGIN", "AgentARN": "x", "EventTimestamp": 1709543702}`,
		"trailing data":  `{"EventType": "LOGIN", "AgentARN": "x"} {}`,
		"wrong shape":    `{"EventType": "LOGIN", "AgentARN": "x", "CurrentAgentSnapshot": []}`,
		"truncated JSON": `{"EventType": "LOGIN", "AgentARN": "x"`,
	} {
		if _, err := connectaws.ParseAgentEvent([]byte(data)); !errors.Is(err, connectaws.ErrMalformed) {
			t.Errorf("%s: error %v", name, err)
		}
	}

	// Unknown fields and event types pass, for the stream's future versions.
	ev, err := connectaws.ParseAgentEvent([]byte(`{"EventType": "SOMETHING_NEW", "AgentARN": "x", "NewField": {"a": 1}}`))
	if err != nil || ev.EventType != "SOMETHING_NEW" {
		t.Fatalf("event %+v, error %v", ev, err)
	}
}
