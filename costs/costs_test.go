package costs

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// faq is the FAQ's worked example: 1,000 emails a day of 100 KB kept 36
// months.
var faq = Input{EmailsPerDay: 1000, AverageEmailKB: 100, RetentionMonths: 36}

// line returns the first line of e whose service and description start as
// given, failing the test if there is none.
func line(t *testing.T, e Estimate, service, descPrefix string) Line {
	t.Helper()
	for _, l := range e.Lines {
		if l.Service == service && strings.HasPrefix(l.Description, descPrefix) {
			return l
		}
	}
	t.Fatalf("no %s line %q… in %+v", service, descPrefix, e.Lines)
	return Line{}
}

func logLines(t *testing.T, e Estimate) {
	t.Helper()
	for _, l := range e.Lines {
		t.Logf("%-28s %10.2f  %-12s × $%-7g = $%8.2f  %s", l.Service, l.Quantity, l.Unit, l.UnitPriceUSD, l.MonthlyUSD, l.Description)
	}
	t.Logf("total $%.2f", e.MonthlyTotalUSD)
	for _, a := range e.Assumptions {
		t.Logf("  - %s", a)
	}
}

func checkTotal(t *testing.T, e Estimate) {
	t.Helper()
	var cents int64
	for _, l := range e.Lines {
		if l.MonthlyUSD != roundCents(l.Quantity*l.UnitPriceUSD) {
			t.Errorf("%s %q: MonthlyUSD %v, want Quantity × UnitPrice rounded = %v", l.Service, l.Description, l.MonthlyUSD, roundCents(l.Quantity*l.UnitPriceUSD))
		}
		if l.Source == "" || l.Unit == "" {
			t.Errorf("%s %q: no unit or source", l.Service, l.Description)
		}
		cents += int64(math.Round(l.MonthlyUSD * 100))
	}
	if got, want := e.MonthlyTotalUSD, float64(cents)/100; got != want {
		t.Errorf("total %v, want the sum of the lines %v", got, want)
	}
}

func TestFAQEmailExample(t *testing.T) {
	e, err := EstimateCosts(faq)
	if err != nil {
		t.Fatal(err)
	}
	logLines(t, e)
	checkTotal(t, e)

	s3 := line(t, e, "Amazon S3", "Email bodies")
	if s3.Quantity != 105 || s3.UnitPriceUSD != 0.023 || s3.MonthlyUSD != 2.42 {
		t.Errorf("S3 = %v GB × $%v = $%v, want the FAQ's 105 GB × $0.023 = $2.42", s3.Quantity, s3.UnitPriceUSD, s3.MonthlyUSD)
	}
	if !strings.Contains(s3.Description, "= 104.43 GB") || !strings.Contains(s3.Description, "1,095 days") {
		t.Errorf("S3 description %q should show 1,095 days and 104.43 GB before rounding up", s3.Description)
	}
	ses := line(t, e, "Amazon SES", "Emails sent and received")
	if ses.Quantity != 31 || ses.MonthlyUSD != 3.10 {
		t.Errorf("SES = %v × $%v = $%v, want the FAQ's 31 thousand emails = $3.10", ses.Quantity, ses.UnitPriceUSD, ses.MonthlyUSD)
	}
	// What the FAQ leaves out: half the 31,000 emails received, one chunk
	// each; the other half sent, 100 KiB each.
	if l := line(t, e, "Amazon SES", "Incoming 256 KB chunks"); l.Quantity != 15.5 || l.MonthlyUSD != 1.40 {
		t.Errorf("chunks = %v thousand = $%v, want 15.5 = $1.40", l.Quantity, l.MonthlyUSD)
	}
	if l := line(t, e, "Amazon SES", "Outbound data"); math.Abs(l.Quantity-1.478) > 0.001 || l.MonthlyUSD != 0.18 {
		t.Errorf("outbound data = %v GB = $%v, want 1.478 GB = $0.18", l.Quantity, l.MonthlyUSD)
	}
	if len(e.Lines) != 4 || e.MonthlyTotalUSD != 7.10 {
		t.Errorf("%d lines, total $%v; want 4 lines, $7.10", len(e.Lines), e.MonthlyTotalUSD)
	}
}

func TestSydneyS3Price(t *testing.T) {
	in := faq
	in.Region = "ap-southeast-2"
	e, err := EstimateCosts(in)
	if err != nil {
		t.Fatal(err)
	}
	logLines(t, e)
	s3 := line(t, e, "Amazon S3", "Email bodies")
	if s3.Quantity != 105 || s3.UnitPriceUSD != 0.025 || s3.MonthlyUSD != 2.63 {
		t.Errorf("Sydney S3 = %v GB × $%v = $%v, want 105 × $0.025 = $2.63", s3.Quantity, s3.UnitPriceUSD, s3.MonthlyUSD)
	}
	all := strings.Join(e.Assumptions, "\n")
	for _, want := range []string{"⚠ S3 Standard in ap-southeast-2", "the us-east-1 figure is used", "ap-southeast-2"} {
		if !strings.Contains(all, want) {
			t.Errorf("Sydney assumptions lack %q:\n%s", want, all)
		}
	}
	// "" is us-east-1.
	e0, _ := EstimateCosts(faq)
	in.Region = "us-east-1"
	e1, _ := EstimateCosts(in)
	if e0.MonthlyTotalUSD != e1.MonthlyTotalUSD || e0.MonthlyTotalUSD == e.MonthlyTotalUSD {
		t.Errorf(`"" → $%v, us-east-1 → $%v, Sydney → $%v`, e0.MonthlyTotalUSD, e1.MonthlyTotalUSD, e.MonthlyTotalUSD)
	}
}

func TestReporting300Seats(t *testing.T) {
	e, err := EstimateCosts(Input{ReportingSeats: 300})
	if err != nil {
		t.Fatal(err)
	}
	logLines(t, e)
	checkTotal(t, e)
	const faqUSD = 500
	t.Logf("300 seats: $%.2f against the FAQ's ~$%d (%+.1f%%)", e.MonthlyTotalUSD, faqUSD, (e.MonthlyTotalUSD/faqUSD-1)*100)
	if math.Abs(e.MonthlyTotalUSD/faqUSD-1) > 0.15 {
		t.Errorf("total $%.2f is not within 15%% of the FAQ's $%d", e.MonthlyTotalUSD, faqUSD)
	}
	want := map[string]float64{ // service + description prefix → quantity
		"Amazon QuickSight|Authors":                     20,
		"Amazon QuickSight|Readers":                     3,
		"Amazon Kinesis Data Streams|Shard-hours":       2 * 730,
		"Amazon Kinesis Data Streams|PUT payload units": 4.38,
	}
	for k, q := range want {
		svc, desc, _ := strings.Cut(k, "|")
		if l := line(t, e, svc, desc); math.Abs(l.Quantity-q) > 1e-9 {
			t.Errorf("%s %s: quantity %v, want %v", svc, desc, l.Quantity, q)
		}
	}
	for _, svc := range []string{"Amazon Data Firehose", "Amazon Athena"} {
		line(t, e, svc, "")
	}
	line(t, e, "Amazon S3", "Reporting data lake")
	line(t, e, "Amazon S3", "Athena query results")
	for _, l := range e.Lines {
		if l.Service == "Amazon SES" || strings.HasPrefix(l.Description, "Email") {
			t.Errorf("email line without emails: %+v", l)
		}
	}
}

// Kinesis shards grow with the load: 100,000 seats need more than one
// shard per stream.
func TestReportingScalesShards(t *testing.T) {
	e, err := EstimateCosts(Input{ReportingSeats: MaxReportingSeats})
	if err != nil {
		t.Fatal(err)
	}
	checkTotal(t, e)
	if l := line(t, e, "Amazon Kinesis Data Streams", "Shard-hours"); l.Quantity <= 2*730 {
		t.Errorf("100,000 seats: %v shard-hours, want more than 2 shards' worth", l.Quantity)
	}
	one, err := EstimateCosts(Input{ReportingSeats: 1})
	if err != nil {
		t.Fatal(err)
	}
	checkTotal(t, one)
	t.Logf("1 seat: $%.2f; 100,000 seats: $%.2f", one.MonthlyTotalUSD, e.MonthlyTotalUSD)
}

func TestZeroInput(t *testing.T) {
	e, err := EstimateCosts(Input{})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Lines) != 0 || e.MonthlyTotalUSD != 0 {
		t.Errorf("zero input: %d lines, $%v; want none, $0", len(e.Lines), e.MonthlyTotalUSD)
	}
	// Emails with no size and no retention: only the per-message lines.
	e, err = EstimateCosts(Input{EmailsPerDay: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range e.Lines {
		if l.Quantity == 0 || l.Service == "Amazon S3" || strings.HasPrefix(l.Description, "Outbound data") {
			t.Errorf("line that should be omitted: %+v", l)
		}
	}
	// No retention: no storage line, but the growth is stated.
	e, err = EstimateCosts(Input{EmailsPerDay: 1000, AverageEmailKB: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range e.Lines {
		if l.Service == "Amazon S3" {
			t.Errorf("storage line without retention: %+v", l)
		}
	}
	if !strings.Contains(strings.Join(e.Assumptions, "\n"), "grows by 2.9 GB a month") {
		t.Errorf("no growth rate in assumptions: %q", e.Assumptions)
	}
}

func TestBadInput(t *testing.T) {
	cases := []struct {
		name  string
		in    Input
		field string
	}{
		{"negative emails", Input{EmailsPerDay: -1}, "emailsPerDay"},
		{"too many emails", Input{EmailsPerDay: MaxEmailsPerDay + 1}, "emailsPerDay"},
		{"negative size", Input{AverageEmailKB: -1}, "averageEmailKB"},
		{"over SES's 40 MB", Input{AverageEmailKB: MaxAverageEmailKB + 1}, "averageEmailKB"},
		{"negative retention", Input{RetentionMonths: -1}, "retentionMonths"},
		{"retention over 10 years", Input{RetentionMonths: MaxRetentionMonths + 1}, "retentionMonths"},
		{"negative seats", Input{ReportingSeats: -5}, "reportingSeats"},
		{"too many seats", Input{ReportingSeats: MaxReportingSeats + 1}, "reportingSeats"},
		{"unknown region", Input{EmailsPerDay: 1, Region: "eu-west-9"}, "region"},
		{"region in capitals", Input{Region: "US-EAST-1"}, "region"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := EstimateCosts(c.in)
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v, want *InputError", err)
			}
			if ie.Field != c.field {
				t.Errorf("field %q, want %q (%v)", ie.Field, c.field, err)
			}
		})
	}
	// The maxima themselves are accepted.
	if _, err := EstimateCosts(Input{EmailsPerDay: MaxEmailsPerDay, AverageEmailKB: MaxAverageEmailKB, RetentionMonths: MaxRetentionMonths, ReportingSeats: MaxReportingSeats, Region: "ap-southeast-2"}); err != nil {
		t.Errorf("maxima: %v", err)
	}
}

func TestUnknownRegionListsKnown(t *testing.T) {
	_, err := EstimateCosts(Input{Region: "mars-north-1"})
	if err == nil {
		t.Fatal("no error")
	}
	for _, r := range Regions() {
		if !strings.Contains(err.Error(), r) {
			t.Errorf("%q does not list %s", err, r)
		}
	}
	if len(Regions()) < 2 {
		t.Errorf("regions %v, want at least us-east-1 and ap-southeast-2", Regions())
	}
}

func TestEveryPriceHasUnitAndSource(t *testing.T) {
	for region, table := range prices {
		for key, p := range table {
			t.Run(region+"/"+string(key), func(t *testing.T) {
				if p.USD <= 0 {
					t.Errorf("price %v", p.USD)
				}
				if p.Unit == "" {
					t.Error("no unit")
				}
				if !strings.HasPrefix(p.Source, "https://") {
					t.Errorf("source %q is not a URL", p.Source)
				}
				if p.SeenFor == "" {
					t.Error("no SeenFor region")
				}
			})
		}
	}
}

func TestEveryRegionHasEveryPrice(t *testing.T) {
	keys := []PriceKey{S3StandardStorage, SESMessages, SESInboundChunks, SESOutboundData, QuickSightReader, QuickSightAuthor,
		KinesisShardHours, KinesisPutUnits, FirehoseIngestion, AthenaDataScanned}
	for _, region := range []string{"us-east-1", "ap-southeast-2"} {
		if prices[region] == nil {
			t.Errorf("no prices for %s", region)
		}
	}
	for region, table := range prices {
		for _, k := range keys {
			if _, ok := table[k]; !ok {
				t.Errorf("%s has no %s", region, k)
			}
		}
		if len(table) != len(keys) {
			t.Errorf("%s has %d prices, want %d (a key missing from this test?)", region, len(table), len(keys))
		}
	}
}

func TestRoundCents(t *testing.T) {
	for _, c := range []struct{ in, want float64 }{
		{105 * 0.023, 2.42}, {105 * 0.025, 2.63}, {31 * 0.10, 3.10}, {15.5 * 0.09, 1.40},
		{0.004999, 0}, {0.005, 0.01}, {1234567.895, 1234567.9},
	} {
		if got := roundCents(c.in); got != c.want {
			t.Errorf("roundCents(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}
