package mail_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"switchboard/connectaws"
	"switchboard/ent"
	"switchboard/gid"
	"switchboard/internal/fakeaws"
	"switchboard/internal/testenv"
	"switchboard/mail"
)

// bucketNameRE is S3's rule for a general purpose bucket's name (without
// dots, which switchboard never uses).
var bucketNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)

func TestBucketNames(t *testing.T) {
	svc := newNameService(t, "")
	tid := gid.ID("TN01JDZQ4V3D5XKX0Q9V8W7Y6Z5A")

	content, attachments := svc.BucketNames(tid, "Main")
	if want := "neon-emails-tn01jdzq4v3d5xkx0q9v8w7y6z5a-main"; content != want {
		t.Errorf("content bucket %q, want %q", content, want)
	}
	if !strings.HasPrefix(attachments, "neon-emails-attachments-tn01jdzq4v3d5xkx0q9v8w7y6z5a-") {
		t.Errorf("attachments bucket %q", attachments)
	}

	seen := map[string]string{}
	for _, alias := range []string{
		"", "Main", "acme-support", "ACME_Support.Team", "a-very-long-instance-alias-of-forty-five-ch", "a-very-long-instance-alias-of-forty-five-cx",
		"s3alias", "x--ol-s3", "ünïcödé",
	} {
		c, a := svc.BucketNames(tid, alias)
		for _, name := range []string{c, a} {
			if !bucketNameRE.MatchString(name) || strings.HasSuffix(name, "-s3alias") || strings.HasSuffix(name, "--ol-s3") {
				t.Errorf("alias %q: %q is not a valid bucket name", alias, name)
			}
			if !strings.Contains(name, "-tn01jdzq4v3d5xkx0q9v8w7y6z5a") {
				t.Errorf("alias %q: %q lost the tenant ID", alias, name)
			}
			if other, ok := seen[name]; ok && other != alias {
				t.Errorf("aliases %q and %q share %q", other, alias, name)
			}
			seen[name] = alias
		}
		c2, a2 := svc.BucketNames(tid, alias)
		if c2 != c || a2 != a {
			t.Errorf("alias %q: names not deterministic", alias)
		}
	}

	// A long alias is cut and hashed: the two long aliases above differ
	// only at their end, and so do their names.
	_, a1 := svc.BucketNames(tid, "a-very-long-instance-alias-of-forty-five-ch")
	if len(a1) != 63 {
		t.Errorf("shortened name %q is %d long", a1, len(a1))
	}

	// The prefix is configurable, within what keeps the tenant ID whole.
	short := newNameService(t, "acme-mail")
	if c, _ := short.BucketNames(tid, "main"); c != "acme-mail-tn01jdzq4v3d5xkx0q9v8w7y6z5a-main" {
		t.Errorf("prefixed content bucket %q", c)
	}
	for _, bad := range []string{"Neon", "neon-emails-archive", "-x", "x-", "xn--a", "a_b"} {
		if _, err := mail.New(mail.Options{Client: testenvClient(t), AWS: testAWS(t), BucketPrefix: bad}); err == nil {
			t.Errorf("prefix %q accepted", bad)
		}
	}
}

func TestEnsureBuckets(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		for _, x := range []*tenant{e.a, e.b} {
			for _, bucket := range []string{x.content, x.attachments} {
				if !e.s3.BucketExists(bucket) {
					t.Errorf("bucket %s not created", bucket)
				}
				if alg, ok := e.s3.Encryption(bucket); !ok || alg != "AES256" {
					t.Errorf("bucket %s default encryption %q, %v; want AES256", bucket, alg, ok)
				}
				want := fakeaws.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true}
				if p, ok := e.s3.PublicAccess(bucket); !ok || p != want {
					t.Errorf("bucket %s public access block %+v, %v", bucket, p, ok)
				}
			}
		}
		// Again: the buckets exist, the settings are put again.
		if err := e.svc.EnsureBuckets(e.a.admin, e.a.inst); err != nil {
			t.Fatal(err)
		}
		// Each tenant's buckets were reached with its own role only (the
		// fake refuses any other), and a bucket of another tenant cannot be
		// ensured with this tenant's role.
		e.s3.SetOwner(e.b.content, e.b.role)
		stolen := *e.a.inst
		stolen.TenantID = e.b.id
		stolen.Alias = "globex"
		if err := e.svc.EnsureBuckets(context.Background(), &stolen); code(err) != "UPSTREAM" {
			t.Errorf("ensuring another tenant's bucket with this tenant's role: %v", err)
		}
	})
}

// newNameService returns a service for naming buckets only.
func newNameService(t *testing.T, prefix string) *mail.Service {
	t.Helper()
	svc, err := mail.New(mail.Options{Client: testenvClient(t), AWS: testAWS(t), BucketPrefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func testenvClient(t *testing.T) *ent.Client {
	t.Helper()
	return testenv.OpenStore(t, testenv.SQLiteURL(t)).Client
}

// testAWS returns Clients that reach nothing (no test here calls AWS).
func testAWS(t *testing.T) *connectaws.Clients {
	t.Helper()
	c, err := connectaws.New(context.Background(), connectaws.Options{
		BaseCredentials: credentials.StaticCredentialsProvider{Value: platform},
		STSEndpoint:     "http://127.0.0.1:1",
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
