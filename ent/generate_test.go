package ent_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// skipDirs are never copied: VCS data, local stores, front-end packages,
// and hidden folders (CI and tooling state).
var skipDirs = map[string]bool{".git": true, "data": true, "node_modules": true}

// isGenerated says whether a path (slash-separated, relative to the module
// root) is written by `go generate ./ent/...` and so must be current.
func isGenerated(rel string) bool {
	switch {
	case rel == "graph/schema/ent.graphqls":
		return true
	case strings.HasPrefix(rel, "graph/schema/"):
		return false // the hand-written schema
	case strings.HasPrefix(rel, "graph/"):
		return true
	case strings.HasPrefix(rel, "resolvers/"):
		return strings.HasSuffix(rel, ".resolvers.go")
	case strings.HasPrefix(rel, "ent/"):
		name := strings.TrimPrefix(rel, "ent/")
		switch {
		case strings.HasPrefix(name, "schema/"), strings.HasPrefix(name, "template/"),
			name == "entc.go", name == "generate.go":
			return false
		case !strings.Contains(name, "/") && strings.HasSuffix(name, "_test.go"):
			return false
		}
		return true
	}
	return false
}

// TestGeneratedCodeIsCurrent regenerates ent, entgql and gqlgen output in a
// copy of the module and requires it to equal what is committed.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("regenerating the code takes a while; skipped in -short mode")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to run the generators: %v", err)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("the module root %s has no go.mod: %v", root, err)
	}
	work := t.TempDir()
	if err := copyTree(root, work); err != nil {
		t.Fatalf("copying the module: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "generate", "./ent/...")
	cmd.Dir = work
	// GOCACHE, GOMODCACHE and GOPATH come from the environment, so the
	// caches are warm; -mod=mod is what the generators run with anyway.
	cmd.Env = append(os.Environ(), "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=mod"), "GOWORK=off")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("go generate ./ent/... took over 5 minutes:\n%s", out.String())
		}
		t.Fatalf("go generate ./ent/... failed in a copy of the module: %v\n%s", err, out.String())
	}

	diffs, err := compareGenerated(root, work)
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) > 0 {
		const show = 10
		more := ""
		if len(diffs) > show {
			more = "\n  ... and " + strconv.Itoa(len(diffs)-show) + " more"
			diffs = diffs[:show]
		}
		t.Fatalf("the committed generated code is stale; run go generate ./... and commit the result.\n"+
			"Files that differ from a fresh generation:\n  %s%s", strings.Join(diffs, "\n  "), more)
	}
}

// compareGenerated lists the generated files that differ between the
// committed tree and the regenerated copy, or that only the copy has.
func compareGenerated(committed, regenerated string) ([]string, error) {
	a, err := generatedFiles(committed)
	if err != nil {
		return nil, err
	}
	b, err := generatedFiles(regenerated)
	if err != nil {
		return nil, err
	}
	var diffs []string
	// The copy starts with every committed file, so a file only in the
	// copy is new output; output the generators stopped writing stays in
	// the copy too and cannot be told apart.
	for rel := range b {
		want, ok := a[rel]
		if !ok {
			diffs = append(diffs, rel+" (generated, but not committed)")
			continue
		}
		x, err := os.ReadFile(want)
		if err != nil {
			return nil, err
		}
		y, err := os.ReadFile(b[rel])
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(x, y) {
			diffs = append(diffs, rel)
		}
	}
	sort.Strings(diffs)
	return diffs, nil
}

// generatedFiles maps each generated file's relative path to its full path.
func generatedFiles(root string) (map[string]string, error) {
	files := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && skip(d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && isGenerated(rel) {
			files[rel] = p
		}
		return nil
	})
	return files, err
}

// skipFile leaves out build output (see .gitignore).
func skipFile(rel string) bool {
	rel = filepath.ToSlash(rel)
	return rel == "switchboard" || strings.HasSuffix(rel, ".test") || strings.HasSuffix(rel, ".out")
}

func skip(dirName string) bool {
	return skipDirs[dirName] || strings.HasPrefix(dirName, ".")
}

// copyTree copies the module at src into dst, leaving out skipped folders
// and anything that is not a regular file or folder.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			if rel != "." && skip(d.Name()) {
				return filepath.SkipDir
			}
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() || skipFile(rel) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}
