package archtest

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// onceRule is a rule that lives in one place: the code that states it
// matches pattern, and only the files under home may hold such code.
type onceRule struct {
	what    string
	pattern *regexp.Regexp
	home    []string // slash-separated paths from the module root, files or folders
}

var onceRules = []onceRule{
	{
		what:    "the tenant's instance is looked up by package instances",
		pattern: regexp.MustCompile(`\.Instance\.Query\(\)`),
		home:    []string{"instances/"},
	},
	{
		what:    "system viewers come from viewer.System, viewer.SystemOperator and viewer.SCIM",
		pattern: regexp.MustCompile(`viewer\.Viewer\{`),
		// People: the token's viewer, and the demo's people in the seed.
		home: []string{"server/identity.go", "seed/seed.go"},
	},
	{
		what:    "ARNs are parsed by connectaws/arn",
		pattern: regexp.MustCompile(`(?i)\.split(n|after)?\([^,]*arn[^,]*, ":"`),
		home:    []string{"connectaws/arn/"},
	},
	{
		what:    "AWS service clients are made by connectaws",
		pattern: regexp.MustCompile(`\b(connect|s3|sesv2|sts)\.(New|NewFromConfig)\(`),
		home:    []string{"connectaws/"},
	},
}

// TestEachRuleLivesOnce: outside its home, no non-test, non-generated file
// of the module states one of onceRules again. The AWS fakes and test
// helpers are tests' and may do as they like.
func TestEachRuleLivesOnce(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no module root at %s: %v", root, err)
	}
	files := 0
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			switch {
			case rel == ".":
				return nil
			case strings.HasPrefix(d.Name(), "."), d.Name() == "node_modules", d.Name() == "testdata", d.Name() == "data",
				rel == "internal/fakeaws", rel == "internal/testenv", rel == "bench", rel == "clienttest":
				return filepath.SkipDir
			case rel == "graph":
				return filepath.SkipDir // generated
			}
			return nil
		}
		generated := strings.HasPrefix(rel, "ent/") && !strings.HasPrefix(rel, "ent/schema/")
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") || generated {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		for _, r := range onceRules {
			if home(rel, r.home) {
				continue
			}
			for i, line := range strings.Split(string(src), "\n") {
				if r.pattern.MatchString(line) {
					t.Errorf("%s:%d: %s, not here:\n\t%s", rel, i+1, r.what, strings.TrimSpace(line))
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("read only %d Go files; the module has more", files)
	}
}

// TestOnceRulesMatch: each rule's pattern sees the code it forbids, so a
// pattern that has gone blind fails here rather than passing everything.
func TestOnceRulesMatch(t *testing.T) {
	examples := map[string]string{
		"the tenant's instance is looked up by package instances":                       `inst, err := c.Instance.Query().Only(ctx)`,
		"system viewers come from viewer.System, viewer.SystemOperator and viewer.SCIM": `ctx = viewer.NewContext(ctx, &viewer.Viewer{Role: viewer.RoleSupervisor})`,
		"ARNs are parsed by connectaws/arn":                                             `parts := strings.Split(in.InstanceARN, ":")`,
		"AWS service clients are made by connectaws":                                    `return s3.New(s3.Options{Region: r})`,
	}
	for _, r := range onceRules {
		ex, ok := examples[r.what]
		if !ok {
			t.Errorf("no example for the rule %q", r.what)
			continue
		}
		if !r.pattern.MatchString(ex) {
			t.Errorf("the rule %q does not see %s", r.what, ex)
		}
	}
}

// home reports whether rel is one of the paths or below one of the folders.
func home(rel string, paths []string) bool {
	for _, h := range paths {
		if rel == h || (strings.HasSuffix(h, "/") && strings.HasPrefix(rel, h)) {
			return true
		}
	}
	return false
}
