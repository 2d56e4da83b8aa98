package arn_test

import (
	"strings"
	"testing"

	"switchboard/connectaws/arn"
)

const (
	instanceID = "aaaaaaaa-0000-4000-8000-000000000001"
	instance   = "arn:aws:connect:eu-west-2:111111111111:instance/" + instanceID
)

func TestParse(t *testing.T) {
	good := map[string]arn.ARN{
		instance: {Partition: "aws", Service: "connect", Region: "eu-west-2", Account: "111111111111", Resource: "instance/" + instanceID},
		"arn:aws:iam::111111111111:role/SwitchboardAccess": {Partition: "aws", Service: "iam", Account: "111111111111", Resource: "role/SwitchboardAccess"},
		"arn:aws-cn:sns:cn-north-1:222222222222:topic":     {Partition: "aws-cn", Service: "sns", Region: "cn-north-1", Account: "222222222222", Resource: "topic"},
		"arn:aws:s3:::bucket/key:with:colons":              {Partition: "aws", Service: "s3", Resource: "bucket/key:with:colons"},
		"arn:aws-us-gov:ses:us-gov-west-1:333333333333:identity/example.com": {
			Partition: "aws-us-gov", Service: "ses", Region: "us-gov-west-1", Account: "333333333333", Resource: "identity/example.com"},
	}
	for s, want := range good {
		got, err := arn.Parse(s)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", s, got, err, want)
		}
		if got.String() != s {
			t.Errorf("Parse(%q).String() = %q", s, got.String())
		}
	}
	for _, s := range []string{
		"", "arn", "aaaaaaaa", "arn:aws:connect:eu-west-2:111111111111", // too few parts
		"urn:aws:connect:eu-west-2:111111111111:instance/" + instanceID, // not arn:
		"arn:gcp:connect:eu-west-2:111111111111:instance/" + instanceID, // partition
		"arn:aws.evil:connect:eu-west-2:111111111111:instance/x",        // partition
		"arn:aws::eu-west-2:111111111111:instance/x",                    // no service
		"arn:aws:Connect:eu-west-2:111111111111:instance/x",             // service case
		"arn:aws:connect:evil.example:111111111111:instance/x",          // region
		"arn:aws:connect:local:111111111111:instance/x",                 // region
		"arn:aws:connect:eu-west-2:1:instance/x",                        // account
		"arn:aws:connect:eu-west-2:11111111111a:instance/x",             // account
		"arn:aws:connect:eu-west-2:111111111111:",                       // no resource
	} {
		if a, err := arn.Parse(s); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", s, a)
		}
	}
}

func TestParseInstance(t *testing.T) {
	got, err := arn.ParseInstance(instance)
	if err != nil || got.ID != instanceID || got.Region != "eu-west-2" || got.Account != "111111111111" || got.Partition != "aws" {
		t.Fatalf("ParseInstance = %+v, %v", got, err)
	}
	if got, err := arn.ParseInstance("arn:aws-us-gov:connect:us-gov-west-1:222222222222:instance/" + instanceID); err != nil || got.ID != instanceID {
		t.Errorf("GovCloud instance: %+v, %v", got, err)
	}
	for name, s := range map[string]string{
		"empty":           "",
		"not an ARN":      "aaaaaaaa",
		"not connect":     "arn:aws:s3:eu-west-2:111111111111:instance/" + instanceID,
		"agent ARN":       instance + "/agent/a1a1a1a1-0000-4000-8000-00000000000a",
		"bad region":      "arn:aws:connect:evil.example:111111111111:instance/" + instanceID,
		"no region":       "arn:aws:connect::111111111111:instance/" + instanceID,
		"no account":      "arn:aws:connect:eu-west-2::instance/" + instanceID,
		"short account":   "arn:aws:connect:eu-west-2:1111:instance/" + instanceID,
		"empty ID":        "arn:aws:connect:eu-west-2:111111111111:instance/",
		"ID not a UUID":   "arn:aws:connect:eu-west-2:111111111111:instance/abc",
		"upper-case ID":   "arn:aws:connect:eu-west-2:111111111111:instance/" + strings.ToUpper(instanceID),
		"not an instance": "arn:aws:connect:eu-west-2:111111111111:queue/" + instanceID,
		"trailing slash":  instance + "/",
	} {
		if a, err := arn.ParseInstance(s); err == nil {
			t.Errorf("%s: ParseInstance(%q) = %+v, want an error", name, s, a)
		}
	}
}

func TestParseAgent(t *testing.T) {
	for s, user := range map[string]string{
		instance + "/agent/a1a1a1a1-0000-4000-8000-00000000000a": "a1a1a1a1-0000-4000-8000-00000000000a",
		instance + "/agent/user-alex":                            "user-alex",
	} {
		got, err := arn.ParseAgent(s)
		if err != nil || got.UserID != user || got.InstanceID != instanceID || got.Region != "eu-west-2" {
			t.Errorf("ParseAgent(%q) = %+v, %v", s, got, err)
		}
	}
	for _, s := range []string{
		"", "x", instance,
		instance + "/queue/user-alex",
		instance + "/agent/",
		instance + "/agent/-alex",
		instance + "/agent/user-alex/extra",
		"arn:aws:connect:eu-west-2:111111111111:instance/i/agent/a",
		"arn:aws:sns:eu-west-2:111111111111:instance/" + instanceID + "/agent/a",
		"arn:aws:connect:evil.example:111111111111:instance/" + instanceID + "/agent/a",
	} {
		if a, err := arn.ParseAgent(s); err == nil {
			t.Errorf("ParseAgent(%q) = %+v, want an error", s, a)
		}
	}
}

func TestParseRole(t *testing.T) {
	for _, s := range []string{
		"arn:aws:iam::111111111111:role/SwitchboardAccess",
		"arn:aws:iam::222222222222:role/service-role/SwitchboardAccess",
		"arn:aws-cn:iam::222222222222:role/a+b=c,d.e@f_g-h",
	} {
		if a, err := arn.ParseRole(s); err != nil || a.Service != "iam" {
			t.Errorf("ParseRole(%q) = %+v, %v", s, a, err)
		}
	}
	for name, s := range map[string]string{
		"empty":       "",
		"user":        "arn:aws:iam::111111111111:user/bob",
		"with region": "arn:aws:iam:eu-west-2:111111111111:role/SwitchboardAccess",
		"no account":  "arn:aws:iam:::role/SwitchboardAccess",
		"not iam":     "arn:aws:sts::111111111111:role/SwitchboardAccess",
		"empty name":  "arn:aws:iam::111111111111:role/",
		"colon":       "arn:aws:iam::111111111111:role/a:b",
		"space":       "arn:aws:iam::111111111111:role/a b",
		"too long":    "arn:aws:iam::111111111111:role/" + strings.Repeat("a", 513),
	} {
		if a, err := arn.ParseRole(s); err == nil {
			t.Errorf("%s: ParseRole(%q) = %+v, want an error", name, s, a)
		}
	}
}

func TestParseSESIdentity(t *testing.T) {
	for _, s := range []string{
		"arn:aws:ses:ap-southeast-2:111111111111:identity/acme.example",
		"arn:aws:ses:us-east-1:111111111111:identity/support@acme.example",
		"arn:aws-us-gov:ses:us-gov-west-1:333333333333:identity/mail.acme.example",
	} {
		if _, err := arn.ParseSESIdentity(s); err != nil {
			t.Errorf("ParseSESIdentity(%q): %v", s, err)
		}
	}
	for _, s := range []string{
		"not-arn",
		"arn:aws:sns:ap-southeast-2:111111111111:identity/acme.example",       // service
		"arn:aws:ses::111111111111:identity/acme.example",                     // no region
		"arn:aws:ses:ap-southeast-2::identity/acme.example",                   // no account
		"arn:aws:ses:ap-southeast-2:111111111111:configuration-set/x",         // not an identity
		"arn:aws:ses:ap-southeast-2:111111111111:identity/",                   // nothing named
		"arn:aws:ses:ap-southeast-2:111111111111:identity/localhost",          // one label
		"arn:aws:ses:ap-southeast-2:111111111111:identity/acme.example:x",     // colon
		"arn:aws:ses:ap-southeast-2:111111111111:identity/a@b@acme.example",   // two @
		"arn:aws:ses:ap-southeast-2:111111111111:identity/acme .example",      // space
		"arn:aws:ses:ap-southeast-2:111111111111:identity/acme.example/extra", // a path
	} {
		if _, err := arn.ParseSESIdentity(s); err == nil {
			t.Errorf("ParseSESIdentity(%q) accepted", s)
		}
	}
}
