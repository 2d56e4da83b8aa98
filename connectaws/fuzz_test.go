package connectaws_test

import (
	"bytes"
	"errors"
	"testing"

	"switchboard/connectaws"
)

// FuzzParseAgentEvent checks that no input panics ParseAgentEvent, and that
// whatever it accepts has a type and an agent. Run with
// go test -fuzz FuzzParseAgentEvent ./connectaws
func FuzzParseAgentEvent(f *testing.F) {
	for _, name := range []string{"state_change.json", "login.json", "logout.json", "heart_beat.json"} {
		f.Add(readSample(f, name))
	}
	f.Add([]byte(`{"EventType": "LOGIN", "AgentARN": "x", "EventTimestamp": "2019-05-25T18:43:59.049Z"}`))
	f.Add([]byte(`{"EventType": "LOGIN", "AgentARN": "x", "CurrentAgentSnapshot": {"Contacts": [null, {}]}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := connectaws.ParseAgentEvent(data)
		if err != nil {
			if !errors.Is(err, connectaws.ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		if ev.EventType == "" || ev.AgentARN == "" {
			t.Fatalf("accepted an event without type or agent: %+v", ev)
		}
		_, _ = connectaws.UserIDFromAgentARN(ev.AgentARN)
	})
}

// FuzzParseFirehoseRequest checks that no body panics ParseFirehoseRequest
// or gets past its limit.
func FuzzParseFirehoseRequest(f *testing.F) {
	f.Add(delivery("r", readSample(f, "login.json")))
	f.Add([]byte(`[{"EventType": "LOGIN"}]`))
	f.Add([]byte("{}\n{}\n"))
	f.Add([]byte(`{"records": [{"data": "e30="}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		const limit = 4096
		_, _, records, err := connectaws.ParseFirehoseRequest(bytes.NewReader(body), limit)
		if err != nil {
			if !errors.Is(err, connectaws.ErrMalformed) && !errors.Is(err, connectaws.ErrTooLarge) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		for _, r := range records {
			if len(r) > limit {
				t.Fatalf("record of %d bytes from a %d-byte limit", len(r), limit)
			}
			_, _ = connectaws.ParseAgentEvent(r)
		}
	})
}
