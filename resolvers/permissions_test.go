package resolvers_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoPermissionsInResolvers keeps permissions and tenancy in the ent
// policies (ent/schema/policy.go): no resolver checks a role, reads the
// viewer's role or service, filters by tenant or steps around the policies.
func TestNoPermissionsInResolvers(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, p := range permissionChecks(fset, f) {
			t.Errorf("%s: say it in an ent policy (ent/schema/policy.go), not in a resolver", p)
		}
	}
	if checked == 0 {
		t.Fatal("no resolver files found")
	}
}

// TestPermissionChecksAreFound makes sure the check above would see a rule
// put back into a resolver.
func TestPermissionChecksAreFound(t *testing.T) {
	const src = `package resolvers

import "switchboard/viewer"

func (r *queryResolver) Instance(ctx context.Context) (*ent.Instance, error) {
	v := viewer.FromContext(ctx)
	if !v.InTenant(viewer.RoleAdmin) {
		return nil, apierror.New(apierror.Forbidden, "admins only")
	}
	if v.Operator() || v.Role == "AGENT" || v.Role.AtLeast(viewer.RoleSupervisor) || v.Service != "" {
		return nil, nil
	}
	if _, err := v.ActingFor(nil, "read"); err != nil {
		return nil, err
	}
	r.ent(ctx).Module.Query().Where(module.TenantID(v.TenantID)).AllX(ctx)
	r.ent(ctx).Module.Query().Where(module.TenantIDEQ(v.TenantID), module.HasTenantWith()).AllX(ctx)
	return r.ent(ctx).Instance.Query().Only(privacy.DecisionContext(ctx, privacy.Allow))
}
`
	const clean = `package resolvers

import "switchboard/livestatus"

type Resolver struct{ status *livestatus.Service }

func (r *queryResolver) Instance(ctx context.Context) (*ent.Instance, error) {
	inst, err := r.ent(ctx).Instance.Query().Only(ctx)
	if ent.IsNotFound(err) || errors.Is(err, privacy.Deny) {
		return nil, nil
	}
	return inst, err
}

func (r *viewerResolver) Tenant(ctx context.Context, obj *viewer.Viewer) (*ent.Tenant, error) {
	return r.ent(ctx).Tenant.Get(ctx, obj.TenantID)
}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "check.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	found := strings.Join(permissionChecks(fset, f), "\n")
	for _, want := range []string{
		"InTenant", "viewer.RoleAdmin", "Operator", ".Role", "AtLeast", "viewer.RoleSupervisor",
		".Service", "ActingFor", "module.TenantID", "module.TenantIDEQ", "module.HasTenantWith", "privacy.DecisionContext",
	} {
		if !strings.Contains(found, want) {
			t.Errorf("%s is not found in:\n%s", want, found)
		}
	}
	if f, err = parser.ParseFile(fset, "clean.go", clean, 0); err != nil {
		t.Fatal(err)
	}
	if found := permissionChecks(fset, f); len(found) > 0 {
		t.Errorf("clean code flagged: %v", found)
	}
}

// roleCalls are the viewer's methods that decide by role.
var roleCalls = map[string]bool{"InTenant": true, "Operator": true, "AtLeast": true, "ActingFor": true}

// permissionChecks lists the role checks, role reads, tenant filters and
// policy bypasses in f.
func permissionChecks(fset *token.FileSet, f *ast.File) []string {
	var found []string
	report := func(n ast.Node, format string, args ...any) {
		found = append(found, fmt.Sprintf("%s: %s", fset.Position(n.Pos()), fmt.Sprintf(format, args...)))
	}
	imported := map[string]bool{} // package names: viewer.Role is no field read, livestatus.Service no read at all
	for _, spec := range f.Imports {
		path := strings.Trim(spec.Path.Value, `"`)
		name := path[strings.LastIndex(path, "/")+1:]
		if spec.Name != nil {
			name = spec.Name.Name
		}
		imported[name] = true
	}
	ast.Inspect(f, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			// A tenant filter is a predicate call (module.TenantID(id),
			// HasTenantWith, WhereTenantID); reading obj.TenantID is not.
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
				if name := sel.Sel.Name; strings.HasPrefix(name, "TenantID") || strings.HasPrefix(name, "WhereTenantID") || strings.HasPrefix(name, "HasTenant") {
					report(sel, "a tenant filter (%s)", render(sel))
				}
			}
			return true
		}
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		name := sel.Sel.Name
		pkg := ""
		if id, ok := sel.X.(*ast.Ident); ok {
			pkg = id.Name
		}
		switch {
		case roleCalls[name]:
			report(sel, "a role check (%s)", name)
		case pkg == "viewer" && (strings.HasPrefix(name, "Role") || strings.HasPrefix(name, "Service")):
			report(sel, "a role or service named (%s)", render(sel))
		case (name == "Role" || name == "Service") && !imported[pkg]:
			report(sel, "the viewer's role or service read (.%s)", name)
		case pkg == "privacy" && (name == "DecisionContext" || name == "Allow" || name == "Allowf"):
			report(sel, "the policies stepped around (%s)", render(sel))
		}
		return true
	})
	return found
}

// render writes a selector as the source does, for the report.
func render(sel *ast.SelectorExpr) string {
	if id, ok := sel.X.(*ast.Ident); ok {
		return id.Name + "." + sel.Sel.Name
	}
	return "." + sel.Sel.Name
}
