package connectaws_test

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"switchboard/connectaws"
)

// delivery builds a Firehose HTTP endpoint delivery of records.
func delivery(requestID string, records ...[]byte) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"requestId": %q, "timestamp": 1709543702331, "records": [`, requestID)
	for i, r := range records {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"data": %q}`, base64.StdEncoding.EncodeToString(r))
	}
	b.WriteString("]}")
	return []byte(b.String())
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParseFirehoseDelivery(t *testing.T) {
	login, change := readSample(t, "login.json"), readSample(t, "state_change.json")
	body := delivery("ed4d7a0e-8a3b-4f5b-b3f5-1d1a2b3c4d5e", login, change)

	for name, b := range map[string][]byte{"plain": body, "gzip": gzipped(t, body)} {
		t.Run(name, func(t *testing.T) {
			id, ts, records, err := connectaws.ParseFirehoseRequest(bytes.NewReader(b), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if id != "ed4d7a0e-8a3b-4f5b-b3f5-1d1a2b3c4d5e" || ts != 1709543702331 || len(records) != 2 {
				t.Fatalf("id %q, timestamp %d, %d records", id, ts, len(records))
			}
			if !bytes.Equal(records[0], login) || !bytes.Equal(records[1], change) {
				t.Fatal("records differ from what was sent")
			}
			for _, r := range records {
				if _, err := connectaws.ParseAgentEvent(r); err != nil {
					t.Fatal(err)
				}
			}
		})
	}

	id, _, records, err := connectaws.ParseFirehoseRequest(strings.NewReader(`{"requestId": "r", "timestamp": 1, "records": []}`), 0)
	if err != nil || id != "r" || len(records) != 0 {
		t.Fatalf("empty delivery: %q %d %v", id, len(records), err)
	}
}

func TestParseForwardedEvents(t *testing.T) {
	login, logout := readSample(t, "login.json"), readSample(t, "logout.json")
	bodies := map[string]string{
		"array":  "[" + string(login) + ",\n" + string(logout) + "]",
		"ndjson": compact(t, login) + "\n" + compact(t, logout) + "\n\n",
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			id, ts, records, err := connectaws.ParseFirehoseRequest(strings.NewReader(body), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if id != "" || ts != 0 || len(records) != 2 {
				t.Fatalf("id %q, timestamp %d, %d records", id, ts, len(records))
			}
			for i, want := range []connectaws.AgentEventType{connectaws.AgentEventLogin, connectaws.AgentEventLogout} {
				ev, err := connectaws.ParseAgentEvent(records[i])
				if err != nil || ev.EventType != want {
					t.Fatalf("record %d: %v %v", i, ev.EventType, err)
				}
			}
		})
	}

	// A single event is one-line NDJSON.
	_, _, records, err := connectaws.ParseFirehoseRequest(bytes.NewReader(login), 0)
	if err != nil || len(records) != 1 {
		t.Fatalf("single event: %d records, %v", len(records), err)
	}
}

func compact(t *testing.T, b []byte) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestParseFirehoseRejects(t *testing.T) {
	malformed := map[string]string{
		"empty":           "",
		"blank":           " \n ",
		"not JSON":        "hello",
		"number":          "42",
		"bad base64":      `{"requestId": "r", "timestamp": 1, "records": [{"data": "not base64!"}]}`,
		"no data":         `{"requestId": "r", "timestamp": 1, "records": [{}]}`,
		"null records":    `{"requestId": "r", "timestamp": 1, "records": null}`,
		"records object":  `{"requestId": "r", "timestamp": 1, "records": {"data": "e30="}}`,
		"array of arrays": `[[1]]`,
		"ndjson garbage":  "{\"EventType\": \"LOGIN\"}\nnot json\n",
		"ndjson scalar":   "{\"EventType\": \"LOGIN\"}\n7\n",
		"bad gzip":        "\x1f\x8b\x08garbage",
	}
	for name, body := range malformed {
		if _, _, _, err := connectaws.ParseFirehoseRequest(strings.NewReader(body), 1<<20); !errors.Is(err, connectaws.ErrMalformed) {
			t.Errorf("%s: error %v", name, err)
		}
	}

	big := delivery("r", bytes.Repeat([]byte("x"), 4096))
	if _, _, _, err := connectaws.ParseFirehoseRequest(bytes.NewReader(big), 1024); !errors.Is(err, connectaws.ErrTooLarge) {
		t.Errorf("oversized: error %v", err)
	}
	if _, _, _, err := connectaws.ParseFirehoseRequest(bytes.NewReader(big), int64(len(big))); err != nil {
		t.Errorf("exactly at the limit: error %v", err)
	}
	// A small gzip body that inflates past the limit.
	bomb := gzipped(t, delivery("r", bytes.Repeat([]byte{0}, 1<<20)))
	if len(bomb) > 1<<16 {
		t.Fatalf("bomb is %d bytes", len(bomb))
	}
	if _, _, _, err := connectaws.ParseFirehoseRequest(bytes.NewReader(bomb), 1<<16); !errors.Is(err, connectaws.ErrTooLarge) {
		t.Errorf("inflated past the limit: error %v", err)
	}
}

func TestFirehoseResponse(t *testing.T) {
	at := time.UnixMilli(1709543702999)
	var ok map[string]any
	if err := json.Unmarshal(connectaws.FirehoseResponse("req-1", at, ""), &ok); err != nil {
		t.Fatal(err)
	}
	if len(ok) != 2 || ok["requestId"] != "req-1" || ok["timestamp"] != float64(1709543702999) {
		t.Fatalf("success response = %v", ok)
	}
	var failed map[string]any
	if err := json.Unmarshal(connectaws.FirehoseResponse("req-2", at, `bad "record"`), &failed); err != nil {
		t.Fatal(err)
	}
	if failed["requestId"] != "req-2" || failed["errorMessage"] != `bad "record"` {
		t.Fatalf("error response = %v", failed)
	}
}
