// Package costs estimates what switchboard's optional Email and Reporting
// modules add to a tenant's own monthly AWS bill, line by line, from list
// prices in one reviewed table (prices.go) and assumptions it states.
package costs

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Input is what the tenant tells the estimator. Zero values switch a part
// off: no emails, no email lines; no seats, no reporting lines.
type Input struct {
	EmailsPerDay   int // emails sent and received per day, together
	AverageEmailKB int // average size of one email with its attachments, in KB (1,024 bytes)
	// RetentionMonths is how long emails are kept. 0 gives no storage line
	// (the Assumptions then say how fast storage grows without deletion).
	RetentionMonths int
	ReportingSeats  int    // agent seats the Reporting module reports on
	Region          string // AWS region code; "" means DefaultRegion
}

// The largest values Input accepts.
const (
	MaxEmailsPerDay    = 10_000_000
	MaxAverageEmailKB  = 40_960 // SES's 40 MB message size limit
	MaxRetentionMonths = 120
	MaxReportingSeats  = 100_000
)

// Line is one charge on the estimate: Quantity of Unit at UnitPriceUSD
// gives MonthlyUSD, rounded to the cent.
type Line struct {
	Service, Description string
	Quantity             float64
	Unit                 string
	UnitPriceUSD         float64
	MonthlyUSD           float64
	Source               string // where the unit price was read
}

// Estimate is the monthly cost of the modules: its lines, their total, and
// every assumption the figures rest on.
type Estimate struct {
	MonthlyTotalUSD float64
	Lines           []Line
	Assumptions     []string
}

// InputError says which Input field (named as in the GraphQL input:
// emailsPerDay, averageEmailKB, retentionMonths, reportingSeats, region)
// is out of range, and why.
type InputError struct {
	Field, Message string
}

func (e *InputError) Error() string { return "costs: " + e.Field + ": " + e.Message }

// Units. GB is 2^30 bytes: the FAQ's "105 GB" for 1,000 emails a day of
// 100 KB kept 36 months fits KiB and GiB (104.4 GiB), not decimal units.
const (
	kib = 1024.0
	mib = kib * 1024
	gib = mib * 1024
	tib = gib * 1024
)

// Calendar.
const (
	// daysPerMonth turns days into months for storage and for the
	// reporting feeds: 365-day years, as the FAQ's 105 GB implies.
	daysPerMonth = 365.0 / 12
	// hoursPerMonth is the AWS pricing calculator's month (730 h).
	hoursPerMonth = 24 * daysPerMonth
	// emailDaysPerMonth is the month SES is billed for: 31 days, the
	// longest month, which is what the FAQ's $3.10 (31,000 emails) uses.
	emailDaysPerMonth = 31
)

// Assumptions of the Email module.
const (
	// emailInboundShare is the share of emails that are received (customer
	// messages); the rest are sent (agents' replies): one reply each.
	emailInboundShare = 0.5
	// sesChunkKB is the size of one SES incoming chunk.
	sesChunkKB = 256
)

// Assumptions of the Reporting module. The FAQ's "approximately US$500 a
// month for 300 seats" is reproduced with these; it is dominated by the
// QuickSight users, so seatsPerAuthor is the figure to revisit first.
const (
	// seatsPerAuthor: one supervisor per 15 agent seats, each a QuickSight
	// Author so that supervisors can build and change their own views.
	// Agents get no QuickSight user: with a Reader for every seat, 300
	// seats would cost $900 in Readers alone, far above the FAQ's $500.
	seatsPerAuthor = 15
	// seatsPerReader: one manager or planner per 100 seats who only views
	// dashboards, a QuickSight Reader.
	seatsPerReader = 100
	// shiftHours: each seat is staffed for one 8-hour shift every day.
	shiftHours = 8
	// contactsPerSeatPerDay: 40 contacts a shift (about 10 minutes handled
	// per contact, including after-contact work, at 85 % occupancy).
	contactsPerSeatPerDay = 40
	// stateChangesPerContact: agent event stream STATE_CHANGE events per
	// contact (offered, connected, after-contact work, available, ...).
	stateChangesPerContact = 5
	// heartbeatsPerSeatPerDay: Amazon Connect sends a HEART_BEAT event
	// after 120 s without another event; 240 in an 8-hour shift is the
	// upper bound.
	heartbeatsPerSeatPerDay = shiftHours * 3600 / 120
	// agentEventKB: one agent event, JSON with the agent's current and
	// previous snapshots (configuration, routing profile, contacts).
	agentEventKB = 4
	// contactRecordKB: one contact record (CTR) with a few attributes.
	contactRecordKB = 5
	// peakFactor: the busiest second carries twice the shift's average
	// rate; it sizes the Kinesis shards.
	peakFactor = 2
	// Kinesis Data Streams write limits per shard, and the PUT payload
	// unit; Firehose rounds each record up to firehoseRoundKB.
	shardBytesPerSecond   = 1 * mib
	shardRecordsPerSecond = 1000
	putUnitKB             = 25
	firehoseRoundKB       = 5
	// The agent event stream and the contact record stream each get their
	// own Kinesis stream, read by a Firehose that writes to S3.
	// QuickSight dashboards read SPICE datasets refreshed through Athena:
	// spiceDatasetsPerFeed datasets per feed, each refreshed
	// spiceRefreshesPerDay times a day, each refresh scanning the day's
	// partition of its feed (an upper bound: early in the day the
	// partition is smaller), at least athenaMinScan.
	spiceDatasetsPerFeed = 2
	spiceRefreshesPerDay = 24
	athenaMinScan        = 10 * mib
	// dataLakeRetentionMonths: the raw feeds stay in S3 uncompressed for
	// 24 months, as long as Amazon Connect keeps contact records itself.
	dataLakeRetentionMonths = 24
	// Athena writes every result to S3: a quarter of the bytes scanned
	// (the selected columns, as CSV), kept 7 days by a lifecycle rule.
	athenaResultShare         = 0.25
	athenaResultRetentionDays = 7
)

// EstimateCosts returns the monthly estimate for in, or an *InputError if a
// field is negative, above its Max, or names a region the price table does
// not hold.
//
// Each line's MonthlyUSD is Quantity × UnitPriceUSD rounded to the nearest
// cent, halves away from zero, after first rounding to the nearest
// nano-dollar so that binary floating point (105 × 0.023 is held as
// 2.41499…) does not decide the cent. The total is the sum of the rounded
// lines. S3 storage quantities are whole GB rounded up, as the FAQ quotes
// them (104.4 GB → 105 GB → $2.42). Lines whose quantity is zero are left
// out.
func EstimateCosts(in Input) (Estimate, error) {
	if err := validate(in); err != nil {
		return Estimate{}, err
	}
	region := in.Region
	if region == "" {
		region = DefaultRegion
	}
	b := &builder{region: region, prices: prices[region]}
	if in.EmailsPerDay > 0 {
		b.email(in)
	}
	if in.ReportingSeats > 0 {
		b.reporting(in.ReportingSeats)
	}
	return b.estimate(), nil
}

func validate(in Input) error {
	bounds := []struct {
		field string
		v     int
		max   int
		unit  string
	}{
		{"emailsPerDay", in.EmailsPerDay, MaxEmailsPerDay, "emails a day"},
		{"averageEmailKB", in.AverageEmailKB, MaxAverageEmailKB, "KB (SES's 40 MB message limit)"},
		{"retentionMonths", in.RetentionMonths, MaxRetentionMonths, "months"},
		{"reportingSeats", in.ReportingSeats, MaxReportingSeats, "seats"},
	}
	for _, f := range bounds {
		switch {
		case f.v < 0:
			return &InputError{Field: f.field, Message: fmt.Sprintf("must not be negative (got %d)", f.v)}
		case f.v > f.max:
			return &InputError{Field: f.field, Message: fmt.Sprintf("must be at most %s %s (got %s)", num(float64(f.max)), f.unit, num(float64(f.v)))}
		}
	}
	if in.Region != "" && prices[in.Region] == nil {
		return &InputError{Field: "region", Message: fmt.Sprintf("no prices for %q; known regions: %s", in.Region, strings.Join(Regions(), ", "))}
	}
	return nil
}

// Regions returns the regions the price table holds, sorted.
func Regions() []string {
	rs := make([]string, 0, len(prices))
	for r := range prices {
		rs = append(rs, r)
	}
	slices.Sort(rs)
	return rs
}

// builder collects the lines of one estimate and the assumptions they need.
type builder struct {
	region      string
	prices      map[PriceKey]Price
	lines       []Line
	assumptions []string
	used        []PriceKey
}

// add appends a line for qty units of the price key, unless qty is zero.
func (b *builder) add(service, desc string, qty float64, key PriceKey) {
	if qty == 0 {
		return
	}
	p := b.prices[key]
	b.lines = append(b.lines, Line{
		Service: service, Description: desc, Quantity: qty, Unit: p.Unit,
		UnitPriceUSD: p.USD, MonthlyUSD: roundCents(qty * p.USD), Source: p.Source,
	})
	if !slices.Contains(b.used, key) {
		b.used = append(b.used, key)
	}
}

func (b *builder) assume(format string, args ...any) {
	b.assumptions = append(b.assumptions, fmt.Sprintf(format, args...))
}

// email adds the Email module's lines: SES for every message, the inbound
// chunks, the outbound data, and S3 storage at steady state.
func (b *builder) email(in Input) {
	perDay := float64(in.EmailsPerDay)
	size := float64(in.AverageEmailKB) * kib
	perMonth := perDay * emailDaysPerMonth
	inbound := perMonth * emailInboundShare
	outbound := perMonth - inbound
	chunks := math.Max(1, math.Ceil(float64(in.AverageEmailKB)/sesChunkKB))

	b.assume("Email: SES is billed for a 31-day month (the longest), as the FAQ's $3.10 for 1,000 emails a day is; storage months are 365/12 days.")
	b.assume("Email: %s%% of emails are received (customer messages) and the rest sent (agents' replies); the FAQ leaves out the two charges this split drives, so they are separate lines: SES's inbound 256 KB chunk charge and its outbound data charge.", num(emailInboundShare*100))
	b.assume("Email: chunks per received email come from the average size (%s KB → %s chunk(s)); a mix of small and large messages has more chunks than its average suggests.", num(float64(in.AverageEmailKB)), num(chunks))
	b.assume("Email: SES's free tier, dedicated IPs, Virtual Deliverability Manager, S3 request charges and data transfer are not included (the price table has no figure for them).")

	b.add("Amazon SES", fmt.Sprintf("Emails sent and received: %s a day × %d days", num(perDay), emailDaysPerMonth),
		perMonth/1000, SESMessages)
	b.add("Amazon SES", fmt.Sprintf("Incoming 256 KB chunks: %s received emails × %s chunk(s)", num(inbound), num(chunks)),
		inbound*chunks/1000, SESInboundChunks)
	b.add("Amazon SES", fmt.Sprintf("Outbound data: %s sent emails × %s KB", num(outbound), num(float64(in.AverageEmailKB))),
		outbound*size/gib, SESOutboundData)

	growth := perDay * size * daysPerMonth / gib
	if in.RetentionMonths == 0 {
		if growth > 0 {
			b.assume("Email: no retention period was given, so storage is not estimated; with no deletion (the default) it grows by %s GB a month, %s a month more each month.", num(growth), usd(growth*b.prices[S3StandardStorage].USD))
		}
		return
	}
	days := float64(in.RetentionMonths) * daysPerMonth
	stored := perDay * size * days / gib
	b.add("Amazon S3", fmt.Sprintf("Email bodies and attachments kept %d months (steady state): %s a day × %s KB × %s days = %s GB",
		in.RetentionMonths, num(perDay), num(float64(in.AverageEmailKB)), num(days), num(stored)),
		math.Ceil(stored), S3StandardStorage)
	if stored > 0 {
		b.assume("Email: S3 storage is the steady state reached after %d months; while it fills, the average over those months is about half.", in.RetentionMonths)
		b.assumeS3Tiers()
	}
}

// reporting adds the Reporting module's lines for seats agent seats.
func (b *builder) reporting(seats int) {
	s := float64(seats)
	authors := math.Ceil(s / seatsPerAuthor)
	readers := math.Ceil(s / seatsPerReader)

	type feed struct {
		name    string
		perDay  float64 // records a day
		sizeKB  float64
		perMon  float64
		bytes   float64 // a month's bytes
		dayByte float64 // a day's bytes
	}
	feeds := []feed{
		{name: "agent events", perDay: s * (contactsPerSeatPerDay*stateChangesPerContact + heartbeatsPerSeatPerDay), sizeKB: agentEventKB},
		{name: "contact records", perDay: s * contactsPerSeatPerDay, sizeKB: contactRecordKB},
	}
	var shards, putUnits, firehoseBytes, monthBytes, scanned, records float64
	var shardParts []string
	for i := range feeds {
		f := &feeds[i]
		f.perMon = f.perDay * daysPerMonth
		f.dayByte = f.perDay * f.sizeKB * kib
		f.bytes = f.perMon * f.sizeKB * kib
		peakRecords := f.perDay / (shiftHours * 3600) * peakFactor
		n := math.Max(1, math.Max(math.Ceil(peakRecords*f.sizeKB*kib/shardBytesPerSecond), math.Ceil(peakRecords/shardRecordsPerSecond)))
		shards += n
		shardParts = append(shardParts, fmt.Sprintf("%s %s", num(n), f.name))
		putUnits += f.perMon * math.Ceil(f.sizeKB/putUnitKB)
		firehoseBytes += f.perMon * math.Ceil(f.sizeKB/firehoseRoundKB) * firehoseRoundKB * kib
		monthBytes += f.bytes
		records += f.perMon
		scanned += spiceDatasetsPerFeed * spiceRefreshesPerDay * daysPerMonth * math.Max(athenaMinScan, f.dayByte)
	}
	lake := monthBytes * dataLakeRetentionMonths / gib
	results := scanned / daysPerMonth * athenaResultShare * athenaResultRetentionDays / gib

	b.assume("Reporting: one supervisor per %d seats, each a QuickSight Author (%s); one manager per %d seats, a Reader (%s); agents get no QuickSight user (a Reader for every seat would cost $3 a seat more).", seatsPerAuthor, num(authors), seatsPerReader, num(readers))
	b.assume("Reporting: each seat is staffed one %d-hour shift every day (365/12 days a month, 730 hours) and handles %d contacts a shift.", shiftHours, contactsPerSeatPerDay)
	b.assume("Reporting: agent events per seat a day = %d contacts × %d state changes + %d heartbeats (one per 120 s, the upper bound) = %s events of %d KB; one contact record of %d KB per contact.", contactsPerSeatPerDay, stateChangesPerContact, heartbeatsPerSeatPerDay, num(feeds[0].perDay/s), agentEventKB, contactRecordKB)
	b.assume("Reporting: the agent event stream and the contact record stream each go to their own provisioned Kinesis stream (shards sized for %d× the shift's average rate against 1 MB/s and 1,000 records/s per shard) and from it by Firehose to S3.", peakFactor)
	b.assume("Reporting: dashboards read QuickSight SPICE datasets, %d per feed, refreshed %d times a day through Athena; each refresh scans the day's partition of its feed (at least 10 MB). Direct-query dashboards would scan far more.", spiceDatasetsPerFeed, spiceRefreshesPerDay)
	b.assume("Reporting: the raw feeds are kept in S3 uncompressed for %d months (steady state); Athena's results are a quarter of the bytes scanned, kept %d days.", dataLakeRetentionMonths, athenaResultRetentionDays)
	b.assume("Reporting: SPICE capacity beyond what the users include, S3 and Kinesis request charges other than PUT payload units, KMS, Glue Data Catalog and data transfer are not included.")

	b.add("Amazon QuickSight", fmt.Sprintf("Authors: 1 supervisor per %d seats × %s seats", seatsPerAuthor, num(s)), authors, QuickSightAuthor)
	b.add("Amazon QuickSight", fmt.Sprintf("Readers: 1 manager per %d seats × %s seats", seatsPerReader, num(s)), readers, QuickSightReader)
	b.add("Amazon Kinesis Data Streams", fmt.Sprintf("Shard-hours: %s shard(s) (%s) × 730 h", num(shards), strings.Join(shardParts, ", ")),
		shards*hoursPerMonth, KinesisShardHours)
	b.add("Amazon Kinesis Data Streams", fmt.Sprintf("PUT payload units: %s agent events + %s contact records a month, ≤ 25 KB each", num(feeds[0].perMon), num(feeds[1].perMon)),
		putUnits/1e6, KinesisPutUnits)
	b.add("Amazon Data Firehose", fmt.Sprintf("Ingested from the two streams: %s records a month, each rounded up to 5 KB", num(records)),
		firehoseBytes/gib, FirehoseIngestion)
	b.add("Amazon Athena", fmt.Sprintf("SPICE refreshes: %d datasets per feed × %d a day, each scanning a day of its feed (%s GB of agent events, %s GB of contact records)",
		spiceDatasetsPerFeed, spiceRefreshesPerDay, num(feeds[0].dayByte/gib), num(feeds[1].dayByte/gib)),
		scanned/tib, AthenaDataScanned)
	b.add("Amazon S3", fmt.Sprintf("Reporting data lake: %s GB a month of raw events and contact records kept %d months = %s GB",
		num(monthBytes/gib), dataLakeRetentionMonths, num(lake)), math.Ceil(lake), S3StandardStorage)
	b.add("Amazon S3", fmt.Sprintf("Athena query results: %s GB a day kept %d days", num(results/athenaResultRetentionDays), athenaResultRetentionDays),
		math.Ceil(results), S3StandardStorage)
	b.assumeS3Tiers()
}

// assumeS3Tiers notes, once, that S3 is priced at its first tier.
func (b *builder) assumeS3Tiers() {
	const s = "S3 storage is priced at the S3 Standard first-50-TB price; above 50 TB a month AWS charges less per GB (us-east-1: $0.022, then $0.021 above 500 TB), so larger figures are an upper bound."
	if !slices.Contains(b.assumptions, s) {
		b.assumptions = append(b.assumptions, s)
	}
}

// estimate totals the lines and appends the caveats of the prices used.
func (b *builder) estimate() Estimate {
	e := Estimate{Lines: b.lines, Assumptions: b.assumptions}
	var cents int64
	for _, l := range b.lines {
		cents += int64(math.Round(l.MonthlyUSD * 100))
	}
	e.MonthlyTotalUSD = float64(cents) / 100
	if len(b.used) == 0 {
		return e
	}
	e.Assumptions = append(e.Assumptions, fmt.Sprintf("Prices are AWS list prices for %s as recorded on %s, before tax, free tier and discounts; check them against the AWS Price List API.", b.region, PricesAsOf))
	borrowed := map[string][]string{}
	var from []string
	for _, k := range b.used {
		p := b.prices[k]
		if p.Note != "" && !slices.Contains(e.Assumptions, p.Note) {
			e.Assumptions = append(e.Assumptions, p.Note)
		}
		// A price whose own note is about this region has said it already.
		if p.SeenFor != b.region && !strings.Contains(p.Note, b.region) {
			if borrowed[p.SeenFor] == nil {
				from = append(from, p.SeenFor)
			}
			borrowed[p.SeenFor] = append(borrowed[p.SeenFor], string(k))
		}
	}
	for _, r := range from {
		e.Assumptions = append(e.Assumptions, fmt.Sprintf("⚠ No %s figure was found for %s; the %s figure is used.", b.region, strings.Join(borrowed[r], ", "), r))
	}
	return e
}

// roundCents rounds usd to the nearest cent, halves away from zero, after
// rounding to the nearest nano-dollar to drop binary representation error.
func roundCents(usd float64) float64 {
	return math.Round(math.Round(usd*1e9)/1e7) / 100
}

// num formats x with thousands separators and at most two decimals.
func num(x float64) string {
	s := strconv.FormatFloat(x, 'f', 2, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	intPart, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	intPart = strings.TrimPrefix(intPart, "-")
	var g strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			g.WriteByte(',')
		}
		g.WriteRune(c)
	}
	out := g.String()
	if frac != "" {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return out
}

// usd formats a dollar amount to the cent.
func usd(x float64) string { return "$" + strconv.FormatFloat(roundCents(x), 'f', 2, 64) }
