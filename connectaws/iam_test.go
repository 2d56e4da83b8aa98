package connectaws_test

import (
	"bufio"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"switchboard/connectaws"
	"switchboard/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// sdkPackages are the AWS SDK clients switchboard calls through a tenant's
// role, by import path, with the service name Permissions uses.
var sdkPackages = map[string]string{
	"github.com/aws/aws-sdk-go-v2/service/connect":          "connect",
	"github.com/aws/aws-sdk-go-v2/service/s3":               "s3",
	"github.com/aws/aws-sdk-go-v2/service/sesv2":            "sesv2",
	"github.com/aws/aws-sdk-go-v2/service/ses":              "ses",
	"github.com/aws/aws-sdk-go-v2/service/quicksight":       "quicksight",
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles": "customerprofiles",
	"github.com/aws/aws-sdk-go-v2/service/sns":              "sns",
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime":   "bedrockruntime",
}

// calledOperations finds, in the module's non-test Go files (the fakes
// left out), every SDK operation the code can call: each use of an
// operation's Input type or paginator, as "service Operation".
func calledOperations(t *testing.T) map[string][]string {
	t.Helper()
	root := testenv.RepoRoot(t)
	found := map[string][]string{} // operation → where
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel == "internal/fakeaws" || rel == "ent" || rel == "graph" || strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		local := map[string]string{} // import name → service
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			svc, ok := sdkPackages[p]
			if !ok {
				continue
			}
			name := filepath.Base(p)
			if im.Name != nil {
				name = im.Name.Name
			}
			local[name] = svc
		}
		if len(local) == 0 {
			return nil
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			x, ok := sel.X.(*ast.Ident)
			if !ok || local[x.Name] == "" {
				return true
			}
			name := sel.Sel.Name
			var op string
			switch {
			case strings.HasSuffix(name, "Input") && name != "Input":
				op = strings.TrimSuffix(name, "Input")
			case strings.HasPrefix(name, "New") && strings.HasSuffix(name, "Paginator"):
				op = strings.TrimSuffix(strings.TrimPrefix(name, "New"), "Paginator")
			default:
				return true
			}
			key := local[x.Name] + " " + op
			found[key] = append(found[key], fmt.Sprintf("%s:%d", rel, fset.Position(sel.Pos()).Line))
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) < 10 {
		t.Fatalf("found only %d SDK operations in the code: %v", len(found), found)
	}
	return found
}

// uncovered are the operations of called that allowed does not list.
func uncovered(called map[string][]string, allowed func(service, operation string) bool) []string {
	var out []string
	for key, where := range called {
		svc, op, _ := strings.Cut(key, " ")
		if !allowed(svc, op) {
			out = append(out, key+" (at "+strings.Join(where, ", ")+")")
		}
	}
	sort.Strings(out)
	return out
}

// Every AWS operation the code calls through a tenant's role is in
// Permissions, so the generated policy allows it; and without any one of
// Permissions' entries the check fails (shown for each, on a copy).
func TestPermissionsCoverTheCode(t *testing.T) {
	called := calledOperations(t)
	if missing := uncovered(called, connectaws.Allows); len(missing) > 0 {
		t.Fatalf("operations the policy does not allow; add them to connectaws.Permissions:\n%s", strings.Join(missing, "\n"))
	}
	for _, drop := range connectaws.Permissions {
		if called[drop.Service+" "+drop.Operation] == nil {
			t.Errorf("Permissions lists %s %s, which the code never calls", drop.Service, drop.Operation)
			continue
		}
		without := func(service, operation string) bool {
			return !(service == drop.Service && operation == drop.Operation) && connectaws.Allows(service, operation)
		}
		if len(uncovered(called, without)) == 0 {
			t.Errorf("removing %s %s from the policy went unnoticed", drop.Service, drop.Operation)
		}
	}
}

var sidRE = regexp.MustCompile(`^[A-Za-z0-9]+$`)
var actionRE = regexp.MustCompile(`^[a-z0-9-]+:[A-Za-z0-9]+$`)

func allModulesPolicy(t *testing.T) connectaws.PolicyDocument {
	t.Helper()
	doc, err := connectaws.Policy(connectaws.Scope{
		Account: "123456789012", Region: "ap-southeast-2",
		InstanceARN:         "arn:aws:connect:ap-southeast-2:123456789012:instance/11111111-2222-3333-4444-555555555555",
		Buckets:             []string{"switchboard-tn01-acme", "switchboard-tn01-acme-attachments"},
		QuickSightDashboard: "contact-centre",
	}, []string{connectaws.ModuleEmail, connectaws.ModuleReporting, connectaws.ModuleProfiles, connectaws.ModuleAI})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// unscopable are the actions for which IAM has no resource type (SES's
// receipt rules are the account's, per region): "*" is their only
// resource.
var unscopable = map[string]bool{
	"ses:DescribeActiveReceiptRuleSet": true, "ses:DescribeReceiptRuleSet": true,
	"ses:CreateReceiptRuleSet": true, "ses:SetActiveReceiptRuleSet": true,
	"ses:CreateReceiptRule": true, "ses:UpdateReceiptRule": true,
}

// The all-modules policy is valid IAM: its version, unique alphanumeric
// Sids, and actions and resources in every statement, scoped to the
// tenant's account (no "*" alone but for the actions IAM cannot scope).
func TestPolicyGrammar(t *testing.T) {
	doc := allModulesPolicy(t)
	if doc.Version != "2012-10-17" || len(doc.Statement) == 0 {
		t.Fatalf("%+v", doc)
	}
	sids := map[string]bool{}
	for _, st := range doc.Statement {
		if !sidRE.MatchString(st.Sid) || sids[st.Sid] {
			t.Errorf("Sid %q: not alphanumeric, or twice", st.Sid)
		}
		sids[st.Sid] = true
		if st.Effect != "Allow" || len(st.Action) == 0 || len(st.Resource) == 0 {
			t.Errorf("statement %+v", st)
		}
		for _, a := range st.Action {
			if !actionRE.MatchString(a) {
				t.Errorf("action %q", a)
			}
		}
		for _, r := range st.Resource {
			if r == "*" && !slices.ContainsFunc(st.Action, func(a string) bool { return !unscopable[a] }) {
				continue // IAM names no resource for these
			}
			if r == "*" || !strings.HasPrefix(r, "arn:aws:") {
				t.Errorf("resource %q is not scoped", r)
			}
			if strings.Contains(r, ":connect:") && !strings.Contains(r, "123456789012") {
				t.Errorf("resource %q is outside the account", r)
			}
		}
	}
	base, err := connectaws.Policy(connectaws.Scope{Account: "123456789012", Region: "ap-southeast-2",
		InstanceARN: "arn:aws:connect:ap-southeast-2:123456789012:instance/x"}, nil)
	if err != nil || len(base.Statement) != 3 || base.Statement[0].Sid != "ConnectInstance" || base.Statement[2].Sid != "ProfilesDomain" {
		t.Errorf("the base build's policy: %+v, %v", base, err)
	}
}

// The all-modules policy beside the FAQ's, action by action (a golden
// file: go test ./connectaws -run TestPolicyBesideTheFAQ -update).
func TestPolicyBesideTheFAQ(t *testing.T) {
	var faq []string
	f, err := os.Open(filepath.Join("testdata", "faq-policy-actions.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			faq = append(faq, l)
		}
	}
	var ours []string
	for _, st := range allModulesPolicy(t).Statement {
		ours = append(ours, st.Action...)
	}
	all := slices.Clone(faq)
	for _, a := range ours {
		if !slices.Contains(all, a) {
			all = append(all, a)
		}
	}
	sort.Strings(all)
	var b strings.Builder
	b.WriteString("# The all-modules policy (switchboard) beside the FAQ's, action by action.\n")
	b.WriteString("# both: in each; faq: the FAQ grants it and switchboard does not call it; switchboard: the FAQ lacks it.\n")
	for _, a := range all {
		inFAQ, inOurs := slices.Contains(faq, a), slices.Contains(ours, a)
		switch {
		case inFAQ && inOurs:
			fmt.Fprintf(&b, "both        %s\n", a)
		case inFAQ:
			fmt.Fprintf(&b, "faq         %s\n", a)
		default:
			fmt.Fprintf(&b, "switchboard %s\n", a)
		}
	}
	golden := filepath.Join("testdata", "iam-beside-faq.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if string(want) != b.String() {
		t.Fatalf("the policy beside the FAQ's changed; if that is meant, run with -update:\n%s", b.String())
	}
}
