package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"switchboard/server/telemetry"
)

// TestLogger: the configured format and level are used, each line of a
// request carries its request ID, and bad values are refused.
func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	c := config{logLevel: "warn", logFormat: "json"}
	log, err := c.logger(&buf)
	if err != nil {
		t.Fatal(err)
	}
	ctx := telemetry.WithRequestID(context.Background(), "req-1")
	log.InfoContext(ctx, "dropped at warn")
	log.WarnContext(ctx, "kept", "k", "v")
	var line map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(buf.Bytes()), &line); err != nil {
		t.Fatalf("not one JSON line: %q", buf.String())
	}
	if line["msg"] != "kept" || line["request_id"] != "req-1" || line["level"] != "WARN" {
		t.Fatalf("line %v", line)
	}
	buf.Reset()
	c = config{logLevel: "debug", logFormat: "text"}
	log, _ = c.logger(&buf)
	log.DebugContext(ctx, "hello")
	if !strings.Contains(buf.String(), "msg=hello") || !strings.Contains(buf.String(), "request_id=req-1") {
		t.Fatalf("text line %q", buf.String())
	}
	for _, bad := range []config{{logLevel: "loud", logFormat: "json"}, {logLevel: "info", logFormat: "xml"}} {
		if _, err := bad.logger(&buf); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
