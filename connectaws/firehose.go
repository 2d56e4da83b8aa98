package connectaws

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Headers of an Amazon Data Firehose HTTP endpoint delivery.
const (
	// FirehoseAccessKeyHeader carries the access key configured on the
	// Firehose stream; compare it in constant time.
	FirehoseAccessKeyHeader = "X-Amz-Firehose-Access-Key"
	// FirehoseRequestIDHeader carries the request ID, the same across
	// retries of one delivery.
	FirehoseRequestIDHeader = "X-Amz-Firehose-Request-Id"
)

// DefaultDeliveryLimit bounds a delivery's body when ParseFirehoseRequest is
// given no limit: Firehose buffers at most 64 MiB for an HTTP endpoint.
const DefaultDeliveryLimit = 64 << 20

// ErrTooLarge reports a delivery larger than the limit; answer it with
// HTTP 413.
var ErrTooLarge = errors.New("connectaws: agent event delivery too large")

// ParseFirehoseRequest reads a delivery of agent event stream records and
// returns each record's bytes, for ParseAgentEvent. It accepts:
//
//   - an Amazon Data Firehose HTTP endpoint delivery (protocol 1.0):
//     {"requestId": "...", "timestamp": 1578090901599, "records": [{"data": "<base64>"}, ...]};
//     each record's data is base64-decoded, and the request ID and timestamp
//     (milliseconds since the epoch) are returned for FirehoseResponse;
//   - a JSON array of agent event objects, e.g. from a Kinesis-to-Lambda
//     forwarder: [{...}, {...}];
//   - newline-delimited JSON: one agent event object per line (any
//     whitespace between objects will do).
//
// For the last two the request ID is empty and the timestamp 0. A
// gzip-compressed body (Firehose's Content-Encoding: gzip) is recognised by
// its magic bytes and decompressed. limit bounds the body both as received
// and decompressed (DefaultDeliveryLimit when limit <= 0): a larger one is
// ErrTooLarge. A body in none of these forms, or a record that is not valid
// base64, is ErrMalformed.
func ParseFirehoseRequest(body io.Reader, limit int64) (requestID string, timestamp int64, records [][]byte, err error) {
	if limit <= 0 {
		limit = DefaultDeliveryLimit
	}
	raw, err := readLimited(body, limit)
	if err != nil {
		return "", 0, nil, err
	}
	if len(raw) >= 2 && raw[0] == 0x1f && raw[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return "", 0, nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		raw, err = readLimited(zr, limit)
		if err != nil {
			return "", 0, nil, err
		}
	}

	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return "", 0, nil, fmt.Errorf("%w: empty body", ErrMalformed)
	}
	switch trimmed[0] {
	case '[':
		records, err = parseArray(trimmed)
		return "", 0, records, err
	case '{':
		if id, ts, recs, ok, err := parseEnvelope(trimmed); ok || err != nil {
			return id, ts, recs, err
		}
		records, err = parseStream(trimmed)
		return "", 0, records, err
	}
	return "", 0, nil, fmt.Errorf("%w: body is neither a JSON object nor an array", ErrMalformed)
}

// readLimited reads r whole, failing with ErrTooLarge past limit bytes.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if int64(len(b)) > limit {
		return nil, ErrTooLarge
	}
	return b, nil
}

// firehoseDelivery is the body of a Firehose HTTP endpoint delivery.
type firehoseDelivery struct {
	RequestID string            `json:"requestId"`
	Timestamp int64             `json:"timestamp"`
	Records   *[]firehoseRecord `json:"records"`
}

type firehoseRecord struct {
	Data *string `json:"data"`
}

// parseEnvelope reads a Firehose delivery. ok is false when b is a single
// JSON object without "records": not a delivery.
func parseEnvelope(b []byte) (requestID string, timestamp int64, records [][]byte, ok bool, err error) {
	var probe map[string]json.RawMessage
	if json.Unmarshal(b, &probe) != nil {
		return "", 0, nil, false, nil // several objects, or malformed: not a delivery
	}
	if _, isDelivery := probe["records"]; !isDelivery {
		return "", 0, nil, false, nil
	}
	var d firehoseDelivery
	if err := json.Unmarshal(b, &d); err != nil {
		return "", 0, nil, true, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if d.Records == nil {
		return "", 0, nil, true, fmt.Errorf("%w: records is null", ErrMalformed)
	}
	records = make([][]byte, 0, len(*d.Records))
	for i, r := range *d.Records {
		if r.Data == nil {
			return "", 0, nil, true, fmt.Errorf("%w: record %d has no data", ErrMalformed, i)
		}
		rec, err := base64.StdEncoding.DecodeString(*r.Data)
		if err != nil {
			return "", 0, nil, true, fmt.Errorf("%w: record %d: %v", ErrMalformed, i, err)
		}
		records = append(records, rec)
	}
	return d.RequestID, d.Timestamp, records, true, nil
}

// parseArray reads a JSON array of objects.
func parseArray(b []byte) ([][]byte, error) {
	var elems []json.RawMessage
	if err := json.Unmarshal(b, &elems); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	records := make([][]byte, 0, len(elems))
	for i, e := range elems {
		e = bytes.TrimSpace(e)
		if len(e) == 0 || e[0] != '{' {
			return nil, fmt.Errorf("%w: element %d is not an object", ErrMalformed, i)
		}
		records = append(records, e)
	}
	return records, nil
}

// parseStream reads whitespace-separated JSON objects (newline-delimited
// JSON among them).
func parseStream(b []byte) ([][]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	var records [][]byte
	for i := 0; ; i++ {
		var rec json.RawMessage
		err := dec.Decode(&rec)
		if err == io.EOF {
			return records, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: value %d: %v", ErrMalformed, i, err)
		}
		if len(rec) == 0 || rec[0] != '{' {
			return nil, fmt.Errorf("%w: value %d is not an object", ErrMalformed, i)
		}
		records = append(records, rec)
	}
}

// FirehoseResponse returns the body of the answer to a Firehose delivery:
// {"requestId", "timestamp" (milliseconds), "errorMessage"}. The request ID
// must be the delivery's; errMsg is omitted when empty, for a 200 answer.
// Send it with Content-Type: application/json.
func FirehoseResponse(requestID string, ts time.Time, errMsg string) []byte {
	// Marshalling two strings and an integer cannot fail.
	b, _ := json.Marshal(struct {
		RequestID    string `json:"requestId"`
		Timestamp    int64  `json:"timestamp"`
		ErrorMessage string `json:"errorMessage,omitempty"`
	}{requestID, ts.UnixMilli(), errMsg})
	return b
}
