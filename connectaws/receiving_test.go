package connectaws_test

import (
	"encoding/json"
	"testing"

	"switchboard/connectaws"
)

// MergeStatement adds switchboard's statement to a policy, keeping the
// others; replaces a changed one with the same Sid; leaves one already in
// force alone (changed false, the document as it was); reads a lone
// statement written without a list; refuses a document that is not JSON.
func TestMergeStatement(t *testing.T) {
	stmt := map[string]any{"Sid": "Ours", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/inbound/*"}
	statements := func(doc string) []map[string]any {
		t.Helper()
		var p struct{ Statement []map[string]any }
		if err := json.Unmarshal([]byte(doc), &p); err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		return p.Statement
	}
	for _, tc := range []struct {
		name, doc string
		changed   bool
		n         int // statements after
	}{
		{"none", "", true, 1},
		{"another's", `{"Version":"2012-10-17","Statement":[{"Sid":"Theirs","Effect":"Deny","Action":"s3:*","Resource":"*"}]}`, true, 2},
		{"a lone statement", `{"Version":"2012-10-17","Statement":{"Sid":"Theirs","Effect":"Deny","Action":"s3:*","Resource":"*"}}`, true, 2},
		{"ours, changed", `{"Version":"2012-10-17","Statement":[{"Sid":"Ours","Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*"}]}`, true, 1},
		{"ours, in force", `{"Version":"2012-10-17","Statement":[{"Sid":"Theirs","Effect":"Deny","Action":"s3:*","Resource":"*"},{"Sid":"Ours","Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/inbound/*"}]}`, false, 2},
	} {
		got, changed, err := connectaws.MergeStatement(tc.doc, stmt)
		if err != nil || changed != tc.changed {
			t.Errorf("%s: changed %v, %v", tc.name, changed, err)
			continue
		}
		if !changed && got != tc.doc {
			t.Errorf("%s: unchanged, yet rewritten: %s", tc.name, got)
		}
		st := statements(got)
		if len(st) != tc.n || st[len(st)-1]["Sid"] != "Ours" || st[len(st)-1]["Resource"] != "arn:aws:s3:::b/inbound/*" {
			t.Errorf("%s: %s", tc.name, got)
		}
		if tc.n == 2 && st[0]["Sid"] != "Theirs" {
			t.Errorf("%s: their statement lost: %s", tc.name, got)
		}
	}
	if _, _, err := connectaws.MergeStatement("{not json", stmt); err == nil {
		t.Error("a document that is not JSON was merged")
	}
}
