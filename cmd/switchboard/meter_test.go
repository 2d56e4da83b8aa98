package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"switchboard/ent/agent"
	"switchboard/ent/agentstatus"
	"switchboard/internal/fakeaws"
	"switchboard/internal/testenv"
	"switchboard/seed"
	metering "switchboard/usage"
	"switchboard/viewer"
)

// `switchboard meter` on both stores, with the platform's credentials from
// the environment and the real SDK against the local Marketplace Metering
// endpoint: a time that is no time and an hour that has not closed exit
// non-zero and send nothing; then every closed hour of the demo tenant (a
// Marketplace buyer) is closed and sent, and printed as sent; a second run
// has nothing to send.
func TestMeterCommand(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		platform := aws.Credentials{AccessKeyID: "AKIAPLATFORM", SecretAccessKey: "platform-secret"}
		t.Setenv("AWS_ACCESS_KEY_ID", platform.AccessKeyID)
		t.Setenv("AWS_SECRET_ACCESS_KEY", platform.SecretAccessKey)
		fake := fakeaws.NewMetering(t)
		fake.TrustCaller(platform)
		fake.AddCustomer("demo-token", fakeaws.MeteringCustomer{CustomerIdentifier: "cust-demo", ProductCode: "prod-demo"})

		url := b.URL(t)
		m := map[string]string{"SWITCHBOARD_DATABASE_URL": url, "SWITCHBOARD_DATA_DIR": t.TempDir(),
			"SWITCHBOARD_AWS_METERING_ENDPOINT": fake.URL, "SWITCHBOARD_METERING_DIMENSION": "seat_minutes"}
		if _, errOut, err := runCmd(t, env(m), "seed"); err != nil {
			t.Fatalf("seed: %v\n%s", err, errOut)
		}
		st := openStore(t, url)
		ctx := context.Background()
		id, err := seed.DemoTenant(ctx, st.Client)
		if err != nil {
			t.Fatal(err)
		}
		op := viewer.NewContext(ctx, viewer.SystemOperator("test"))
		st.Client.Tenant.UpdateOneID(id).SetMarketplaceCustomerIdentifier("cust-demo").SetMarketplaceProductCode("prod-demo").ExecX(op)
		// The tenant made a day ago (hours before a tenant's creation are
		// never closed), with activity in the hour before last, so that one
		// closed hour has minutes.
		q := "UPDATE tenants SET created_at = ? WHERE id = ?"
		if b.Name == "postgres" {
			q = "UPDATE tenants SET created_at = $1 WHERE id = $2"
		}
		if _, err := st.DB.ExecContext(ctx, q, time.Now().Add(-24*time.Hour), string(id)); err != nil {
			t.Fatal(err)
		}
		tctx := viewer.NewContext(ctx, viewer.System(id, "test"))
		a := st.Client.Agent.Query().Order(agent.ByID()).FirstX(tctx)
		avail := st.Client.AgentStatus.Query().Where(agentstatus.Name("Available")).OnlyX(tctx)
		closedHour := metering.HourOf(time.Now().Add(-2 * time.Hour))
		st.Client.AgentStatusChange.Create().SetAgentID(a.ID).SetStatusID(avail.ID).
			SetChangedAt(closedHour.Add(30 * time.Minute)).SetChangedBy("test").ExecX(tctx)

		for _, hour := range []string{"yesterday", metering.HourOf(time.Now()).Format(time.RFC3339)} {
			out, errOut, err := runCmd(t, env(m), "meter", "--hour", hour)
			if err == nil {
				t.Errorf("meter --hour %s succeeded: %s", hour, out)
			}
			t.Logf("meter --hour %s: %v %s", hour, err, errOut)
		}
		if got := fake.Sent(); len(got) != 0 {
			t.Fatalf("a refused run sent %+v", got)
		}

		out, errOut, err := runCmd(t, env(m), "meter")
		if err != nil {
			t.Fatalf("meter: %v\n%s", err, errOut)
		}
		sent := fake.Sent()
		if len(sent) == 0 {
			t.Fatalf("meter sent nothing; it printed %q", out)
		}
		var found bool
		for _, r := range sent {
			line := fmt.Sprintf("%s\t%s\t%d\tSUCCESS", id, r.Hour.Format(time.RFC3339), r.Quantity)
			if !strings.Contains(out, line) {
				t.Errorf("meter did not print %q:\n%s", line, out)
			}
			if r.Customer != "cust-demo" || r.ProductCode != "prod-demo" || r.Dimension != "seat_minutes" {
				t.Errorf("AWS took %+v", r)
			}
			found = found || (r.Hour.Equal(closedHour) && r.Quantity >= 30)
		}
		if !found {
			t.Errorf("the hour %s with 30 active minutes or more was not sent: %+v", closedHour.Format(time.RFC3339), sent)
		}
		if !strings.Contains(out, fmt.Sprintf("%d records sent", len(sent))) {
			t.Errorf("meter printed %q", out)
		}
		out, errOut, err = runCmd(t, env(m), "meter")
		if err != nil || !strings.Contains(out, "nothing to meter") || len(fake.Sent()) != len(sent) {
			t.Fatalf("meter again: %v, %q, %d records\n%s", err, out, len(fake.Sent()), errOut)
		}
	})
}
