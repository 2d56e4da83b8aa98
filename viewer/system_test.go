package viewer_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchboard/apierror"
	"switchboard/gid"
	"switchboard/viewer"
)

func TestSystem(t *testing.T) {
	tenant := gid.ID("TN01SYSTEMTEST")
	v := viewer.System(tenant, "mail")
	want := &viewer.Viewer{Subject: "system:mail", Email: "mail", Name: "mail", Service: "mail",
		Role: viewer.RoleSupervisor, TenantID: tenant}
	if diff := cmp.Diff(want, v); diff != "" {
		t.Fatalf("System (-want +got):\n%s", diff)
	}
	// A supervisor of the tenant: its agents' work, not its admins'.
	if !v.InTenant(viewer.RoleSupervisor) || v.InTenant(viewer.RoleAdmin) || v.Operator() {
		t.Errorf("System's viewer: supervisor %v, admin %v, operator %v; want a supervisor only",
			v.InTenant(viewer.RoleSupervisor), v.InTenant(viewer.RoleAdmin), v.Operator())
	}
	// It has no agent of its own, and acts for any of the tenant's.
	var apiErr *apierror.Error
	if _, err := v.ActingFor(nil, "set statuses"); !errors.As(err, &apiErr) || apiErr.Code != apierror.BadUserInput {
		t.Errorf("acting for itself: %v; want BAD_USER_INPUT", err)
	}
	agent := gid.ID("AG01SOMEONE")
	if got, err := v.ActingFor(&agent, "set statuses"); err != nil || got != agent {
		t.Errorf("acting for an agent: %q, %v", got, err)
	}
	// Each call makes a viewer of its own.
	v.Role = viewer.RoleAdmin
	if again := viewer.System(tenant, "mail"); again.Role != viewer.RoleSupervisor {
		t.Errorf("System shares its viewers: %+v", again)
	}
	if other := viewer.System("TN01OTHER", "mail"); other.TenantID != "TN01OTHER" {
		t.Errorf("System for another tenant: %+v", other)
	}
}

func TestSystemOperator(t *testing.T) {
	v := viewer.SystemOperator("recorder")
	want := &viewer.Viewer{Subject: "system:recorder", Email: "recorder", Name: "recorder", Service: "recorder",
		Role: viewer.RoleOperator}
	if diff := cmp.Diff(want, v); diff != "" {
		t.Fatalf("SystemOperator (-want +got):\n%s", diff)
	}
	if !v.Operator() || v.InTenant(viewer.RoleAgent) {
		t.Errorf("SystemOperator's viewer: operator %v, in a tenant %v", v.Operator(), v.InTenant(viewer.RoleAgent))
	}
	if _, err := v.ActingFor(nil, "set statuses"); err == nil {
		t.Error("an operator acted for an agent")
	}
}

func TestSCIM(t *testing.T) {
	tenant := gid.ID("TN01SCIMTEST")
	v := viewer.SCIM(tenant)
	want := &viewer.Viewer{Subject: "system:scim", Email: "scim", Name: "scim", Service: viewer.ServiceSCIM,
		Role: viewer.RoleAdmin, TenantID: tenant}
	if diff := cmp.Diff(want, v); diff != "" {
		t.Fatalf("SCIM (-want +got):\n%s", diff)
	}
	if !v.InTenant(viewer.RoleAdmin) || v.Operator() {
		t.Errorf("SCIM's viewer: admin %v, operator %v", v.InTenant(viewer.RoleAdmin), v.Operator())
	}
}
