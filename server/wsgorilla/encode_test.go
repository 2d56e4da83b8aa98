package wsgorilla

import (
	"encoding/json"
	"testing"
)

type testMessageType string

func (t testMessageType) MarshalText() ([]byte, error) { return []byte(t), nil }

type testMessage struct {
	Payload json.RawMessage `json:"payload,omitempty"`
	ID      string          `json:"id,omitempty"`
	Type    testMessageType `json:"type"`
	noOp    bool
}

// TestEncodeMessage: the fast encoding says exactly what encoding/json says.
func TestEncodeMessage(t *testing.T) {
	for _, m := range []*testMessage{
		{Type: "connection_ack"},
		{Type: "next", ID: "1", Payload: json.RawMessage(`{"data":{"x":1}}`)},
		{Type: "complete", ID: `we"ird\\id` + "\u2028\x01<>&"},
		{Type: "error", ID: "é", Payload: json.RawMessage(`[{"message":"no"}]`)},
	} {
		fast, ok := encodeMessage(m, m.ID)
		if !ok {
			t.Fatalf("%+v: no fast encoding", m)
		}
		var got, want any
		std, _ := json.Marshal(m)
		if err := json.Unmarshal(fast, &got); err != nil {
			t.Fatalf("%s: %v", fast, err)
		}
		_ = json.Unmarshal(std, &want)
		if gb, _ := json.Marshal(got); string(gb) != string(mustJSON(want)) {
			t.Errorf("fast %s, encoding/json %s", fast, std)
		}
	}
	if _, ok := encodeMessage(map[string]any{"type": "next"}, ""); ok {
		t.Error("a map took the fast path")
	}
	if _, ok := encodeMessage(&testMessage{Type: "Bad Type"}, ""); ok {
		t.Error("an odd type name took the fast path")
	}
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }
