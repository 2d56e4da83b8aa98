package connectaws_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard/connectaws"
	"switchboard/internal/fakeaws"
)

func TestUsersAreDescribedWithinConnectsRate(t *testing.T) {
	e := newEnv(t, nil)
	e.connect.SetMaxPageSize(3)
	// The fake holds DescribeUser to Connect's quota: a call past it would
	// be throttled.
	e.connect.SetRateLimit(fakeaws.OpDescribeUser, 2, 5)
	e.connect.SetRoutingProfiles(instanceA, fakeaws.RoutingProfile{ID: "rp1", Name: "Sales"}, fakeaws.RoutingProfile{ID: "rp2", Name: "Support"})
	var users []fakeaws.User
	for i := range 7 {
		users = append(users, fakeaws.User{
			ID: fmt.Sprintf("u%d", i), Username: fmt.Sprintf("agent%d", i),
			FirstName: fmt.Sprintf("First%d", i), LastName: "Last", Email: fmt.Sprintf("a%d@example.com", i),
			RoutingProfileID: []string{"rp1", "rp2", "gone"}[i%3],
		})
	}
	e.connect.SetUsers(instanceA, users...)
	e.connect.SetUsers(instanceB, fakeaws.User{ID: "ub", Username: "bolt"})
	ctx := context.Background()

	start := time.Now()
	got, err := e.clients.Users(ctx, tenantA)
	if err != nil {
		t.Fatal(err)
	}
	// 4 at once, then 2 a second: the 7th no sooner than 1.5 s in.
	if d := time.Since(start); d < 1400*time.Millisecond {
		t.Fatalf("7 users described in %v: faster than Connect allows", d)
	}
	if len(got) != 7 {
		t.Fatalf("%d users", len(got))
	}
	for i, u := range got {
		wantProfile := []string{"Sales", "Support", ""}[i%3]
		want := connectaws.User{
			ID: fmt.Sprintf("u%d", i), ARN: "arn:aws:connect:us-east-1:000000000000:instance/" + instanceA + "/agent/" + fmt.Sprintf("u%d", i),
			Username: fmt.Sprintf("agent%d", i), FirstName: fmt.Sprintf("First%d", i), LastName: "Last", Email: fmt.Sprintf("a%d@example.com", i),
			RoutingProfileID: []string{"rp1", "rp2", "gone"}[i%3], RoutingProfileName: wantProfile,
		}
		if u != want {
			t.Errorf("user %d\n got %+v\nwant %+v", i, u, want)
		}
	}
	for _, r := range e.connect.RequestsFor(fakeaws.OpDescribeUser) {
		if r.Status != 200 {
			t.Fatalf("DescribeUser answered %d %s", r.Status, r.ErrorCode)
		}
	}
	if n := len(e.connect.RequestsFor(fakeaws.OpListUsers)); n != 3 {
		t.Fatalf("%d ListUsers pages, want 3", n)
	}

	b, err := e.clients.Users(ctx, tenantB)
	if err != nil || len(b) != 1 || b[0].ID != "ub" || b[0].Username != "bolt" {
		t.Fatalf("tenant B's users %+v (%v)", b, err)
	}
	signedByTheirTenant(t, e)
}

func TestUsersLeavesOutTheDeletedAndFailsOnErrors(t *testing.T) {
	e := newEnv(t, nil)
	e.connect.SetUsers(instanceA, fakeaws.User{ID: "u1", Username: "one"}, fakeaws.User{ID: "u2", Username: "two"})
	ctx := context.Background()

	// One user goes between ListUsers and its DescribeUser.
	e.connect.Fail(fakeaws.OpDescribeUser, fakeaws.Failure{Status: 404, Code: "ResourceNotFoundException", Message: "User not found", Times: 1})
	got, err := e.clients.Users(ctx, tenantA)
	if err != nil || len(got) != 1 {
		t.Fatalf("users %+v (%v)", got, err)
	}

	e.connect.Fail(fakeaws.OpDescribeUser, fakeaws.Failure{Status: 403, Code: "AccessDeniedException", Message: "not allowed"})
	_, err = e.clients.Users(ctx, tenantA)
	if ue := upstreamError(t, err); ue.Code != "AccessDeniedException" || ue.Operation != "DescribeUser" {
		t.Fatalf("error %+v", ue)
	}
	e.connect.ClearFailures()

	e.connect.Fail(fakeaws.OpListRoutingProfiles, fakeaws.Failure{Status: 403, Code: "AccessDeniedException", Message: "not allowed"})
	if _, err := e.clients.Users(ctx, tenantA); upstreamError(t, err).Operation != "ListRoutingProfiles" {
		t.Fatalf("error %v", err)
	}
	e.connect.ClearFailures()

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := e.clients.Users(cancelled, tenantA); !errors.Is(err, context.Canceled) || errors.Is(err, connectaws.ErrUpstream) {
		t.Fatalf("cancelled: %v", err)
	}

	// A deadline shorter than Connect's pace allows is said at once: the
	// 5th user would be described 0.5 s in.
	many := make([]fakeaws.User, 12)
	for i := range many {
		many[i] = fakeaws.User{ID: fmt.Sprintf("m%d", i)}
	}
	e.connect.SetUsers(instanceA, many...)
	short, cancel := context.WithTimeout(ctx, 400*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = e.clients.Users(short, tenantA)
	if !errors.Is(err, context.DeadlineExceeded) || connectaws.IsThrottled(err) || time.Since(start) > 300*time.Millisecond {
		t.Fatalf("12 users in 0.4 s: %v after %v", err, time.Since(start))
	}
}

// UserBatchFrom takes as many users as Connect's pace describes in half
// the time left, goes on from where the last batch ended through short
// pages, and ends with no Next; without a deadline it takes up to
// MaxUserBatch; a token Connect does not know is its error.
func TestUserBatchesGoThroughTheInstance(t *testing.T) {
	e := newEnv(t, nil)
	e.connect.SetMaxPageSize(2)
	e.connect.SetRoutingProfiles(instanceA, fakeaws.RoutingProfile{ID: "rp1", Name: "Sales"})
	var users []fakeaws.User
	for i := range 5 {
		users = append(users, fakeaws.User{ID: fmt.Sprintf("u%d", i), Username: fmt.Sprintf("agent%d", i), Email: fmt.Sprintf("a%d@example.com", i), RoutingProfileID: "rp1"})
	}
	e.connect.SetUsers(instanceA, users...)
	e.connect.SetUsers(instanceB, fakeaws.User{ID: "ub", Username: "bolt"})
	ctx := context.Background()

	ids := func(b connectaws.UserBatch) string {
		var s []string
		for _, u := range b.Users {
			s = append(s, u.ID)
		}
		return strings.Join(s, ",")
	}
	// 3.5 s left: 1.75 s at 2 a second is 3 users, from pages of 2 and 1.
	short, cancel := context.WithTimeout(ctx, 3500*time.Millisecond)
	defer cancel()
	first, err := e.clients.UserBatchFrom(short, tenantA, "")
	if err != nil || ids(first) != "u0,u1,u2" || first.Next == "" || first.Users[2].Email != "a2@example.com" || first.Users[2].RoutingProfileName != "Sales" {
		t.Fatalf("first batch %+v (%v)", first, err)
	}
	var asked []string
	for _, r := range e.connect.RequestsFor(fakeaws.OpListUsers) {
		asked = append(asked, r.Query.Get("maxResults"))
	}
	if strings.Join(asked, ",") != "3,1" {
		t.Errorf("ListUsers asked for %v users a page", asked)
	}
	rest, err := e.clients.UserBatchFrom(short, tenantA, first.Next)
	if err != nil || ids(rest) != "u3,u4" || rest.Next != "" {
		t.Fatalf("second batch %+v (%v)", rest, err)
	}

	all, err := e.clients.UserBatchFrom(ctx, tenantA, "")
	if err != nil || ids(all) != "u0,u1,u2,u3,u4" || all.Next != "" {
		t.Fatalf("without a deadline %+v (%v)", all, err)
	}
	if n := e.connect.RequestsFor(fakeaws.OpListUsers); n[len(n)-3].Query.Get("maxResults") != fmt.Sprint(connectaws.MaxUserBatch) {
		t.Errorf("without a deadline ListUsers asked for %s", n[len(n)-3].Query.Get("maxResults"))
	}
	b, err := e.clients.UserBatchFrom(ctx, tenantB, "")
	if err != nil || ids(b) != "ub" || b.Next != "" {
		t.Fatalf("tenant B's batch %+v (%v)", b, err)
	}
	signedByTheirTenant(t, e)

	_, err = e.clients.UserBatchFrom(ctx, tenantA, "not-a-token")
	if ue := upstreamError(t, err); ue.Operation != "ListUsers" || ue.Code != "InvalidParameterException" {
		t.Fatalf("a strange token: %+v", ue)
	}
}

func TestContactFlowTypes(t *testing.T) {
	got := connectaws.ContactFlowTypes()
	for _, want := range []string{"CONTACT_FLOW", "CUSTOMER_QUEUE", "AGENT_TRANSFER", "QUEUE_TRANSFER"} {
		if !slices.Contains(got, want) {
			t.Errorf("%s is not among %v", want, got)
		}
	}
}

func TestContactFlows(t *testing.T) {
	e := newEnv(t, nil)
	e.connect.SetMaxPageSize(2)
	e.connect.SetContactFlows(instanceA,
		fakeaws.ContactFlow{ID: "f1", Name: "Inbound"},
		fakeaws.ContactFlow{ID: "f2", Name: "Hold", Type: "CUSTOMER_HOLD"},
		fakeaws.ContactFlow{ID: "f3", Name: "Old", State: "ARCHIVED", Status: "SAVED"},
	)
	e.connect.SetContactFlows(instanceB, fakeaws.ContactFlow{ID: "fb", Name: "Bolt inbound"})
	ctx := context.Background()

	all, err := e.clients.ContactFlows(ctx, tenantA)
	if err != nil || len(all) != 3 {
		t.Fatalf("flows %v (%v)", all, err)
	}
	if all[2] != (connectaws.ContactFlow{ID: "f3", ARN: "arn:aws:connect:us-east-1:000000000000:instance/" + instanceA + "/contact-flow/f3",
		Name: "Old", Type: "CONTACT_FLOW", State: "ARCHIVED", Status: "SAVED"}) {
		t.Fatalf("flow %+v", all[2])
	}
	hold, err := e.clients.ContactFlows(ctx, tenantA, "CUSTOMER_HOLD")
	if err != nil || len(hold) != 1 || hold[0].ID != "f2" {
		t.Fatalf("hold flows %v (%v)", hold, err)
	}
	b, err := e.clients.ContactFlows(ctx, tenantB, "CONTACT_FLOW")
	if err != nil || len(b) != 1 || b[0].ID != "fb" {
		t.Fatalf("tenant B's flows %v (%v)", b, err)
	}
	signedByTheirTenant(t, e)
}
