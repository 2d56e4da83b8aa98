package usage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"switchboard/connectaws"
	"switchboard/ent"
	"switchboard/ent/billinglogentry"
	"switchboard/ent/schema"
	"switchboard/ent/tenant"
	"switchboard/ent/usagehour"
	"switchboard/gid"
	"switchboard/viewer"
)

// Defaults of a Meter.
const (
	DefaultDimension   = "agent_minutes"
	DefaultMaxAttempts = 5
	// MeterWindow is how old an hour AWS Marketplace still takes.
	MeterWindow = 6 * time.Hour
)

// MeterLockKey is the PostgreSQL advisory lock the replicas' meters (and
// `switchboard meter`) share.
const MeterLockKey int64 = 0x5377_6d65_7465_7201

// Meter sends each closed hour of every tenant with an AWS Marketplace
// buyer to BatchMeterUsage once, and writes what AWS answered, record by
// record, to the tenant's billing log. The quantity is the hour's minutes
// as counted when it closed, so an hour sent again (after a failure, or by
// a second meter) carries the same quantity, which AWS takes as the same
// record. An hour is done once AWS gave it a final answer (Success,
// CustomerNotSubscribed, DuplicateRecord); unprocessed records and
// throttled or failed calls are tried again, with backoff, up to
// MaxAttempts times in a step and again at the next. No transaction is
// open while AWS answers.
type Meter struct {
	Client    *ent.Client
	AWS       *connectaws.Metering
	Dimension string
	// Lock, when set, is tried first; ok false: another replica is metering.
	Lock        func(ctx context.Context) (release func(), ok bool, err error)
	MaxAttempts int
	// Backoff is the first wait between attempts, doubled each time
	// (default 1 s).
	Backoff time.Duration
	Logger  *slog.Logger
	Now     func() time.Time
}

// Sent is one record a Meter sent, and AWS's answer.
type Sent struct {
	TenantID gid.ID
	Hour     time.Time
	Quantity int
	Status   billinglogentry.Status
}

type pending struct {
	tenant  *ent.Tenant
	row     *ent.UsageHour
	attempt int
}

// Step meters every closed hour not yet metered and younger than
// MeterWindow (only, when hour is non-zero, that one) and returns what it
// sent.
func (m *Meter) Step(ctx context.Context, hour time.Time) ([]Sent, error) {
	if m.AWS == nil {
		return nil, errors.New("usage: no Marketplace Metering client")
	}
	if m.Lock != nil {
		release, ok, err := m.Lock(ctx)
		if err != nil {
			return nil, fmt.Errorf("usage: taking the meter's lock: %w", err)
		}
		if !ok {
			return nil, nil
		}
		defer release()
	}
	now := time.Now()
	if m.Now != nil {
		now = m.Now()
	}
	op := viewer.NewContext(ctx, viewer.SystemOperator(schema.MeteringService))
	buyers, err := m.Client.Tenant.Query().
		Where(tenant.Or(tenant.MarketplaceCustomerIdentifierNEQ(""), tenant.MarketplaceAWSAccountIDNEQ(""))).
		All(op)
	if err != nil {
		return nil, fmt.Errorf("usage: tenants with a Marketplace buyer: %w", err)
	}
	byProduct := map[string][]*pending{}
	for _, t := range buyers {
		tctx := m.as(ctx, t.ID)
		q := m.Client.UsageHour.Query().Where(usagehour.MeteredAtIsNil(), usagehour.HourGT(now.Add(-MeterWindow)))
		if !hour.IsZero() {
			q.Where(usagehour.Hour(HourOf(hour)))
		}
		rows, err := q.Order(usagehour.ByHour()).All(tctx)
		if err != nil {
			return nil, fmt.Errorf("usage: hours of %s: %w", t.ID, err)
		}
		if len(rows) == 0 {
			continue
		}
		// The attempts so far of each hour, so that the log numbers on.
		hours := make([]time.Time, len(rows))
		for i, r := range rows {
			hours[i] = r.Hour
		}
		logged, err := m.Client.BillingLogEntry.Query().Where(billinglogentry.HourIn(hours...)).
			Select(billinglogentry.FieldHour).All(tctx)
		if err != nil {
			return nil, fmt.Errorf("usage: billing log of %s: %w", t.ID, err)
		}
		attempts := map[time.Time]int{}
		for _, e := range logged {
			attempts[e.Hour.UTC()]++
		}
		for _, r := range rows {
			byProduct[t.MarketplaceProductCode] = append(byProduct[t.MarketplaceProductCode], &pending{tenant: t, row: r, attempt: attempts[r.Hour.UTC()]})
		}
	}
	var out []Sent
	var errs []error
	for product, all := range byProduct {
		for len(all) > 0 {
			batch := all[:min(connectaws.MaxUsageRecords, len(all))]
			all = all[len(batch):]
			sent, err := m.send(ctx, product, batch)
			out = append(out, sent...)
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	return out, errors.Join(errs...)
}

func (m *Meter) as(ctx context.Context, id gid.ID) context.Context {
	return viewer.NewContext(ctx, viewer.System(id, schema.MeteringService))
}

func (m *Meter) dimension() string {
	if m.Dimension != "" {
		return m.Dimension
	}
	return DefaultDimension
}

// send meters one batch until every record has a final answer or the
// attempts run out, logging each attempt of each record.
func (m *Meter) send(ctx context.Context, product string, batch []*pending) ([]Sent, error) {
	attempts, backoff := m.MaxAttempts, m.Backoff
	if attempts <= 0 {
		attempts = DefaultMaxAttempts
	}
	if backoff <= 0 {
		backoff = time.Second
	}
	var out []Sent
	for try := 0; len(batch) > 0; try++ {
		if try > 0 {
			if try >= attempts {
				return out, fmt.Errorf("usage: %d records of %s still unmetered after %d attempts", len(batch), product, attempts)
			}
			select {
			case <-ctx.Done():
				return out, ctx.Err()
			case <-time.After(backoff << (try - 1)):
			}
		}
		records := make([]connectaws.UsageRecord, len(batch))
		for i, p := range batch {
			p.attempt++
			records[i] = connectaws.UsageRecord{
				Hour:                 p.row.Hour,
				CustomerIdentifier:   p.tenant.MarketplaceCustomerIdentifier,
				CustomerAWSAccountID: p.tenant.MarketplaceAWSAccountID,
				LicenseARN:           p.tenant.MarketplaceLicenseArn,
				Dimension:            m.dimension(),
				Quantity:             p.row.ActiveAgentMinutes,
			}
		}
		resp, err := m.AWS.BatchMeterUsage(ctx, product, records)
		sentAt := time.Now()
		var retry []*pending
		for i, p := range batch {
			status, recordID, msg := billinglogentry.StatusFAILED, "", ""
			if err != nil {
				msg = truncate(err.Error(), 1000)
			} else {
				r := resp.Results[i]
				recordID = r.MeteringRecordID
				switch r.Status {
				case connectaws.MeterSuccess:
					status = billinglogentry.StatusSUCCESS
				case connectaws.MeterCustomerNotSubscribed:
					status = billinglogentry.StatusCUSTOMER_NOT_SUBSCRIBED
				case connectaws.MeterDuplicateRecord:
					status = billinglogentry.StatusDUPLICATE_RECORD
				default:
					status = billinglogentry.StatusUNPROCESSED
				}
			}
			tctx := m.as(ctx, p.tenant.ID)
			werr := m.Client.BillingLogEntry.Create().
				SetSentAt(sentAt).SetHour(p.row.Hour).SetDimension(m.dimension()).
				SetQuantity(p.row.ActiveAgentMinutes).SetStatus(status).
				SetMeteringRecordID(recordID).SetRequestID(resp.RequestID).SetError(msg).
				SetAttempt(p.attempt).
				Exec(tctx)
			if werr != nil {
				return out, fmt.Errorf("usage: billing log of %s: %w", p.tenant.ID, werr)
			}
			out = append(out, Sent{TenantID: p.tenant.ID, Hour: p.row.Hour, Quantity: p.row.ActiveAgentMinutes, Status: status})
			if status == billinglogentry.StatusFAILED || status == billinglogentry.StatusUNPROCESSED {
				retry = append(retry, p)
				continue
			}
			if werr := p.row.Update().SetMeteredAt(sentAt).Exec(tctx); werr != nil {
				return out, fmt.Errorf("usage: marking %s metered: %w", p.row.Hour.Format(time.RFC3339), werr)
			}
		}
		batch = retry
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Run meters what is due now and then every five minutes, until ctx ends.
// A failed step is logged and its hours tried again at the next.
func (m *Meter) Run(ctx context.Context) {
	log := m.Logger
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		switch sent, err := m.Step(ctx, time.Time{}); {
		case err != nil && ctx.Err() == nil:
			log.Error("usage: metering", "err", err)
		case len(sent) > 0:
			log.Info("usage: metered", "records", len(sent))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ErrHourOpen is OnDemand's answer for an hour that has not closed yet,
// or that is too old for AWS Marketplace to take.
var ErrHourOpen = errors.New("usage: the hour cannot be metered")

// OnDemand is `switchboard meter`: it closes the hours that are due
// (closer), then meters every closed hour not yet metered, or only hour
// when it is non-zero. An hour that has not closed yet (its grace is not
// over), or is older than MeterWindow, is ErrHourOpen, and nothing is
// sent. Beside running replicas it is as safe as a second replica: the
// closer's and the meter's locks decide who works.
func (m *Meter) OnDemand(ctx context.Context, closer *Closer, hour time.Time) ([]Sent, error) {
	now := time.Now()
	if m.Now != nil {
		now = m.Now()
	}
	if !hour.IsZero() {
		grace, _, _, _ := closer.defaults()
		switch {
		case !hour.Equal(HourOf(hour)):
			return nil, fmt.Errorf("%w: %s is not the start of an hour (UTC)", ErrHourOpen, hour.Format(time.RFC3339))
		case now.Before(hour.Add(time.Hour + grace)):
			return nil, fmt.Errorf("%w: %s closes at %s, when its grace for late events is over", ErrHourOpen,
				hour.UTC().Format(time.RFC3339), hour.Add(time.Hour+grace).UTC().Format(time.RFC3339))
		case !hour.After(now.Add(-MeterWindow)):
			return nil, fmt.Errorf("%w: %s is more than %v old, which AWS Marketplace no longer takes", ErrHourOpen,
				hour.UTC().Format(time.RFC3339), MeterWindow)
		}
	}
	if _, err := closer.Step(ctx); err != nil {
		return nil, err
	}
	// Asked to meter now, a lock still held is an answer, not nothing to do.
	od := *m
	if lock := m.Lock; lock != nil {
		od.Lock = func(ctx context.Context) (func(), bool, error) {
			release, ok, err := lock(ctx)
			if err == nil && !ok {
				return nil, false, ErrBusy
			}
			return release, ok, err
		}
	}
	return od.Step(ctx, hour)
}

// ErrBusy is OnDemand's answer when another replica's meter held its lock
// for longer than the lock waits.
var ErrBusy = errors.New("usage: another replica is metering; try again when it is done")

// BillingLog returns the query of one tenant's billing log, which an
// operator names (the BillingLogEntry policy lets operators alone read it).
func BillingLog(c *ent.Client, tenantID gid.ID) *ent.BillingLogEntryQuery {
	return c.BillingLogEntry.Query().Where(billinglogentry.TenantID(tenantID))
}
