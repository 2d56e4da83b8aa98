package main

import (
	"context"
	"io"
	"testing"

	"switchboard/auth"
	"switchboard/internal/testenv"
)

// The Lambda against the real switchboard, on the embedded store: the
// tenant's key, a schedule, a group of parameters, an unknown schedule
// (found false), and a key that was rotated away (an error, so the flow
// takes its error branch).
func TestAgainstSwitchboard(t *testing.T) {
	s := testenv.NewServer(t, testenv.Backends()[0])
	A := s.NewTenant(t, "Acme")
	_, _ = s.NewAgent(t, A, "Sam", "sam@acme.example", auth.RoleSupervisor)
	s.MustDo(t, A.AdminToken, `mutation($in: CreateScheduleInput!) { createSchedule(input: $in) { id } }`, map[string]any{"in": map[string]any{
		"name": "Main line", "timeZone": "Australia/Sydney",
		"weeklyHours": []map[string]any{{"day": "MONDAY", "opens": "00:00", "closes": "24:00"}},
	}}, nil)
	s.MustDo(t, A.AdminToken, `mutation { setOperationalParameter(group: "ivr", key: "welcome", value: "Welcome to Acme") { id } }`, nil, nil)
	rotate := func() string {
		var out struct {
			RotateFlowsKey struct{ Key string } `json:"rotateFlowsKey"`
		}
		s.MustDo(t, A.AdminToken, `mutation { rotateFlowsKey { key } }`, nil, &out)
		return out.RotateFlowsKey.Key
	}
	old := rotate()
	key := rotate()
	lambda := func(k string) *forwarder {
		return newForwarder(env(map[string]string{"SWITCHBOARD_URL": s.URL + "/", "SWITCHBOARD_FLOWS_KEY": k}), io.Discard)
	}
	ctx := context.Background()

	got, err := lambda(key).handle(ctx, connectEvent(t, map[string]string{"action": "schedule", "schedule": "Main line"}))
	if err != nil || got["schedule"] != "Main line" || (got["open"] != "true" && got["open"] != "false") || got["reason"] == "" {
		t.Fatalf("schedule: %v, %v", got, err)
	}
	got, err = lambda(key).handle(ctx, connectEvent(t, map[string]string{"action": "parameters", "group": "ivr"}))
	if err != nil || len(got) != 1 || got["welcome"] != "Welcome to Acme" {
		t.Fatalf("parameters: %v, %v", got, err)
	}
	got, err = lambda(key).handle(ctx, connectEvent(t, map[string]string{"action": "schedule", "schedule": "Night line"}))
	if err != nil || got["found"] != "false" {
		t.Fatalf("an unknown schedule: %v, %v", got, err)
	}
	if got, err := lambda(old).handle(ctx, connectEvent(t, map[string]string{"action": "parameters", "group": "ivr"})); err == nil {
		t.Fatalf("the rotated key was taken: %v", got)
	}
}
