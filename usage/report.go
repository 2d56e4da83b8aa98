package usage

import (
	"context"
	"time"

	"switchboard/apierror"
	"switchboard/ent"
	"switchboard/ent/schema"
	"switchboard/ent/usagehour"
	"switchboard/gid"
	"switchboard/viewer"
)

// MaxReport is the longest span a usage report covers.
const MaxReport = 31 * 24 * time.Hour

// Report returns the tenant's usage per UTC hour over [from, to): closed
// hours from their UsageHour rows, the others (the current hour, those
// within the grace period) counted live from the change log. from and to
// are taken to their hours; at most MaxReport.
//
// Who may read it is the UsageHour policy's to say: the tenant's admins
// and the platform's operators. The caller names the tenant: a viewer's
// own tenant when tenantID is empty (an operator must name one), and a
// tenant of their own for anyone but an operator.
func Report(ctx context.Context, c *ent.Client, tenantID gid.ID, from, to time.Time) ([]Hour, error) {
	v := viewer.FromContext(ctx)
	switch {
	case tenantID == "" && v.Operator():
		return nil, apierror.New(apierror.BadUserInput, "an operator names the tenant (tenantId)")
	case tenantID == "":
		tenantID = v.TenantID
	case !v.Operator() && tenantID != v.TenantID:
		return nil, apierror.New(apierror.Forbidden, "a tenant's usage is read by its own admins")
	}
	from, to = HourOf(from), HourOf(to.Add(time.Hour-time.Nanosecond))
	switch {
	case !to.After(from):
		return nil, apierror.New(apierror.BadUserInput, "to must be after from")
	case to.Sub(from) > MaxReport:
		return nil, apierror.New(apierror.BadUserInput, "a usage report covers at most 31 days")
	}
	// The caller's own read of the rows is where the policy decides.
	rows, err := c.UsageHour.Query().
		Where(usagehour.TenantID(tenantID), usagehour.HourGTE(from), usagehour.HourLT(to)).
		All(ctx)
	if err != nil {
		return nil, err
	}
	byHour := make(map[time.Time]*ent.UsageHour, len(rows))
	for _, r := range rows {
		byHour[r.Hour.UTC()] = r
	}
	n := int(to.Sub(from) / time.Hour)
	out := make([]Hour, n)
	var open time.Time // the first hour not closed
	for i := range out {
		h := from.Add(time.Duration(i) * time.Hour)
		out[i].Hour = h
		if r := byHour[h]; r != nil {
			out[i] = Hour{Hour: h, ActiveAgentMinutes: r.ActiveAgentMinutes + r.LateMinutes, ActiveAgents: r.ActiveAgents,
				LateMinutes: r.LateMinutes, Closed: true, Metered: r.MeteredAt != nil}
		} else if open.IsZero() {
			open = h
		}
	}
	if open.IsZero() || !open.Before(HourOf(time.Now()).Add(time.Hour)) {
		return out, nil
	}
	// Hours not closed yet are counted now, up to the current one.
	sys := viewer.NewContext(ctx, viewer.System(tenantID, schema.UsageService))
	live, err := Count(sys, c, tenantID, open, earlier(to, HourOf(time.Now()).Add(time.Hour)))
	if err != nil {
		return nil, err
	}
	for _, h := range live {
		i := int(h.Hour.Sub(from) / time.Hour)
		if !out[i].Closed {
			out[i] = h
		}
	}
	return out, nil
}
