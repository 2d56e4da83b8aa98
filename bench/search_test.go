package bench_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/lib/pq"

	"switchboard/auth"
	"switchboard/contactpoint"
	"switchboard/contacts"
	"switchboard/ent"
	"switchboard/ent/contact"
	"switchboard/ent/schema/schematype"
	"switchboard/gid"
	"switchboard/internal/testenv"
	"switchboard/store"
	"switchboard/viewer"
)

// BenchmarkSearchContacts: searchContacts latency (contacts.ParseQuery and
// contacts.Search with an agent's privacy rules, over ent) on PostgreSQL
// with 100,000 organisation contacts in the tenant and 10,000 in another,
// beside the very statements it sends run bare through database/sql, in
// the same run. Target: search p99 at most 1.5 times the bare p99.
func BenchmarkSearchContacts(b *testing.B) {
	if os.Getenv(testenv.PostgresEnv) == "" && os.Getenv(testenv.RequirePostgresEnv) != "1" {
		b.Skipf("BenchmarkSearchContacts needs PostgreSQL: set %s to a server URL, or run `make bench`, which starts one", testenv.PostgresEnv)
	}
	url := testenv.PostgresURL(b)
	s := testenv.NewServerOn(b, url)
	ctx := context.Background()

	const region = "AU" // the tenants are Australian: "02 9876 5432" is a Sydney number
	big := newRegionTenant(b, s, "Bench Directory", region)
	other := newRegionTenant(b, s, "Other Directory", region)
	agentID, _ := s.NewAgent(b, big, "Agent Search", "agent.search@bench.example", auth.RoleAgent)

	const bigN, otherN = 100_000, 10_000
	start := time.Now()
	loaded := loadContacts(b, s.Store.DB, gid.ID(big.ID), newContactGen(1), bigN)
	loadContacts(b, s.Store.DB, gid.ID(other.ID), newContactGen(2), otherN)
	// The steady state of a directory: the GIN pending lists merged, the
	// visibility map set, statistics current.
	if _, err := s.Store.DB.Exec(`VACUUM ANALYZE contacts`); err != nil {
		b.Fatal(err)
	}
	load := time.Since(start)
	checkHookEquivalence(b, s, gid.ID(other.ID), newContactGen(3))

	// Search runs over a client of its own on the same pool, whose driver
	// records the statements it sends.
	rec := &recorder{}
	client := ent.NewClient(ent.Driver(rec.wrap(entsql.OpenDB(dialect.Postgres, s.Store.DB))))
	agent := viewer.NewContext(ctx, &viewer.Viewer{
		Role: viewer.RoleAgent, TenantID: gid.ID(big.ID), AgentID: gid.ID(agentID), Email: "agent.search@bench.example",
	})

	cases := []struct{ name, q string }{
		{"name prefix", "jor"},
		{"mid-word", "ams"},
		{"surname", "nguyen"},
		{"email fragment", "@northwind"},
		{"4 digits", "9876"},
		{"formatted number", "+61 2 9876"},
		{"no match", "qxzv"},
	}
	const warmup, runs = 5, 100
	first := 20
	search := func(q string) (*ent.ContactConnection, error) {
		parsed, err := contacts.ParseQuery(q, region)
		if err != nil {
			return nil, err
		}
		return contacts.Search(agent, client, parsed, &first, nil)
	}

	var allSearch, allBare []time.Duration
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-17s %-12s %6s %5s %10s %10s %10s %10s %7s\n",
		"case", "query", "total", "stmts", "search-p50", "search-p99", "sql-p50", "sql-p99", "p99-x")
	b.ResetTimer()
	for _, c := range cases {
		// What Search sends for this query, and a check of what it finds.
		var total int
		stmts := rec.capture(func() {
			conn, err := search(c.q)
			if err != nil {
				b.Fatalf("%s: %v", c.name, err)
			}
			checkPage(b, c.name, c.q, conn, gid.ID(big.ID), loaded)
			total = conn.TotalCount
		})
		for i := 0; i < warmup; i++ {
			if _, err := search(c.q); err != nil {
				b.Fatal(err)
			}
			replay(b, s.Store.DB, stmts)
		}
		// Interleave the two, alternating which goes first, so that noise
		// and cache state fall on both alike.
		var sd, bd []time.Duration
		for i := 0; i < runs; i++ {
			timeSearch := func() {
				t0 := time.Now()
				if _, err := search(c.q); err != nil {
					b.Fatal(err)
				}
				sd = append(sd, time.Since(t0))
			}
			timeBare := func() {
				t0 := time.Now()
				replay(b, s.Store.DB, stmts)
				bd = append(bd, time.Since(t0))
			}
			if i%2 == 0 {
				timeSearch()
				timeBare()
			} else {
				timeBare()
				timeSearch()
			}
		}
		allSearch = append(allSearch, sd...)
		allBare = append(allBare, bd...)
		fmt.Fprintf(&table, "%-17s %-12q %6d %5d %10s %10s %10s %10s %7.2f\n",
			c.name, c.q, total, len(stmts), ms(percentile(sd, 0.50)), ms(percentile(sd, 0.99)),
			ms(percentile(bd, 0.50)), ms(percentile(bd, 0.99)),
			float64(percentile(sd, 0.99))/float64(percentile(bd, 0.99)))
	}
	b.StopTimer()

	sp50, sp99 := percentile(allSearch, 0.50), percentile(allSearch, 0.99)
	bp50, bp99 := percentile(allBare, 0.50), percentile(allBare, 0.99)
	ratio := float64(sp99) / float64(bp99)
	b.ReportMetric(millis(sp50), "search-p50-ms")
	b.ReportMetric(millis(sp99), "search-p99-ms")
	b.ReportMetric(millis(bp50), "sql-p50-ms")
	b.ReportMetric(millis(bp99), "sql-p99-ms")
	b.ReportMetric(ratio, "p99-ratio")
	// One message of nine lines: go test cuts a benchmark's log at ten.
	b.Logf("searchContacts p50 %s p99 %s, its bare SQL p50 %s p99 %s: p99 ratio %.2f (target ≤ 1.5); "+
		"%d + %d contacts loaded in %s; %d runs of each query after %d warm-up%s",
		ms(sp50), ms(sp99), ms(bp50), ms(bp99), ratio, bigN, otherN, load.Round(time.Millisecond), runs, warmup,
		strings.TrimSuffix(table.String(), "\n"))
}

// newRegionTenant creates a tenant whose numbers without a country code
// are read in region.
func newRegionTenant(b *testing.B, s *testenv.Server, name, region string) testenv.Tenant {
	tn := s.NewTenant(b, name)
	s.MustDo(b, tn.AdminToken, `mutation($id: ID!, $region: String!) { updateTenant(id: $id, input: {defaultRegion: $region}) { id } }`,
		map[string]any{"id": tn.ID, "region": region}, nil)
	return tn
}

// A company of the directory: its people share a mail domain and the first
// digits of their direct lines.
type company struct {
	name, domain string
	line         string // E.164 without the last four digits of a direct line
	country      string // "AU", "US" or "UK", for mobiles
	style        int    // how it spells addresses: 0 given.family, 1 gfamily, 2 given_family
}

var companies = []company{
	{"Northwind Traders", "northwind.com.au", "+61298760", "AU", 0},
	{"Harbour Freight Logistics", "harbourfreight.com.au", "+61292471", "AU", 1},
	{"Southern Cross Health", "schealth.org.au", "+61398655", "AU", 0},
	{"Yarra Valley Water", "yvw.com.au", "+61398723", "AU", 2},
	{"Brisbane Legal", "brislegal.com.au", "+61730016", "AU", 0},
	{"Swan River Mining", "swanriver.com.au", "+61892217", "AU", 1},
	{"Adelaide Energy", "adelaideenergy.com.au", "+61881234", "AU", 0},
	{"Coral Coast Tourism", "coralcoast.com.au", "+61740519", "AU", 0},
	{"Kookaburra Software", "kookaburra.io", "+61280986", "AU", 2},
	{"Tasman Insurance", "tasman.com.au", "+61362318", "AU", 0},
	{"Bondi Bank", "bondibank.com.au", "+61293876", "AU", 1},
	{"Outback Telecom", "outbacktel.com.au", "+61889871", "AU", 0},
	{"Melbourne Design Co", "mdc.com.au", "+61390981", "AU", 2},
	{"Canberra Analytics", "cbranalytics.gov.au", "+61262075", "AU", 0},
	{"Hunter Valley Wines", "huntervalley.com.au", "+61249381", "AU", 1},
	{"Pacific Shipping", "pacship.com.au", "+61298762", "AU", 0},
	{"Contoso Ltd", "contoso.com", "+1212736", "US", 0},
	{"Fabrikam Inc", "fabrikam.com", "+1415987", "US", 1},
	{"Tailspin Toys", "tailspintoys.com", "+1312555", "US", 0},
	{"Wide World Importers", "wideworldimporters.com", "+1206543", "US", 2},
	{"Lakeshore Medical", "lakeshoremed.org", "+1312987", "US", 0},
	{"Blue Yonder Airlines", "blueyonder.aero", "+1646981", "US", 1},
	{"Alpine Ski House", "alpineskihouse.com", "+1303541", "US", 0},
	{"Coho Winery", "cohowinery.com", "+1707963", "US", 0},
	{"Margie's Travel", "margiestravel.com", "+1617520", "US", 2},
	{"Proseware", "proseware.com", "+1512408", "US", 0},
	{"Thames Water Services", "thameswater.co.uk", "+44207946", "UK", 0},
	{"Mersey Engineering", "merseyeng.co.uk", "+44151496", "UK", 1},
	{"Highland Distillers", "highland.co.uk", "+44131496", "UK", 0},
	{"Bristol Robotics", "bristolrobotics.co.uk", "+44117496", "UK", 2},
	{"Pennine Rail", "penninerail.co.uk", "+44161496", "UK", 0},
	{"Cotswold Estates", "cotswoldestates.co.uk", "+44128598", "UK", 1},
}

var givenNames = []string{
	"Jordan", "Jorge", "Jordyn", "Marjorie", "Olivia", "Liam", "Charlotte", "Noah", "Amelia", "Oliver",
	"Isla", "William", "Ava", "Jack", "Mia", "Henry", "Grace", "Thomas", "Chloe", "James",
	"Sophie", "Lucas", "Zoë", "Ethan", "Emily", "Samuel", "Ella", "Daniel", "Ruby", "Benjamin",
	"Lily", "Matthew", "Harper", "Joshua", "Evie", "Priya", "Arjun", "Wei", "Mei", "Hiroshi",
	"Yuki", "Minh", "Linh", "Mohammed", "Fatima", "Ahmed", "Aisha", "Carlos", "Sofia", "Mateo",
	"Lucía", "José", "Sean", "Siobhan", "Niamh", "Connor", "Aroha", "Tane", "Kwame", "Ama",
	"Dmitri", "Anastasia", "Lars", "Ingrid", "Pierre", "Camille", "Giulia", "Marco", "Rahul", "Ananya",
	"Hannah", "Jessica", "Michael", "Sarah", "David", "Rebecca", "Andrew", "Laura", "Peter", "Kate",
	"Samantha", "Abraham", "Natasha", "Bryce", "Tahlia", "Lachlan", "Mackenzie", "Riley", "Kai", "Layla",
}

var familyNames = []string{
	"Smith", "Jones", "Williams", "Brown", "Wilson", "Taylor", "Johnson", "White", "Martin", "Anderson",
	"Thompson", "Nguyen", "Tran", "Le", "Pham", "Thomas", "Walker", "Harris", "Lee", "Ryan",
	"Robinson", "Kelly", "King", "Davis", "Wright", "Evans", "Roberts", "Green", "Hall", "Wood",
	"Jackson", "Clarke", "Adams", "Abrams", "Jorgensen", "Samson", "Chen", "Wang", "Li", "Zhang",
	"Liu", "Singh", "Patel", "Kumar", "Sharma", "Khan", "Ali", "Garcia", "Rodriguez", "Martinez",
	"Lopez", "Núñez", "Murphy", "O'Brien", "O'Connor", "Byrne", "Walsh", "Müller", "Schmidt", "Rossi",
	"Russo", "Kowalski", "Novak", "Ivanov", "Petrov", "Tanaka", "Suzuki", "Sato", "Kim", "Park",
	"Choi", "Dubois", "Moreau", "Hughes", "Edwards", "Morgan", "Cooper", "Price", "Bennett", "Fraser",
	"Macdonald", "Campbell", "Stewart", "Reid", "Graham", "Ramsay", "Adamson", "Van der Berg", "Da Silva", "Okafor",
}

var departments = []string{
	"Service Desk", "Accounts Payable", "Accounts Receivable", "Reception", "Payroll", "Security Office",
	"Facilities", "Sales", "Customer Care", "Dispatch", "After Hours", "Legal Team",
}

var jobTitles = []string{
	"Account Manager", "Operations Lead", "Finance Officer", "Engineer", "Nurse Unit Manager", "Paralegal",
	"Site Supervisor", "Procurement Specialist", "Team Leader", "Director", "Analyst", "Receptionist", "",
}

var personalDomains = []string{"gmail.com", "outlook.com", "bigpond.com", "icloud.com", "yahoo.co.uk"}

// emailFold spells a name in an address's letters.
var emailFold = strings.NewReplacer("ë", "e", "í", "i", "é", "e", "ú", "u", "ñ", "n", "ü", "u", "'", "", " ", "")

// A generated contact, in the shape the contact hook stores.
type genContact struct {
	name, given, family, job string
	emails, phones           []schematype.ContactPoint
	searchName               string
	searchEmails             string
	searchPhones             string
}

// contactGen makes a deterministic directory.
type contactGen struct{ r *rand.Rand }

func newContactGen(seed uint64) *contactGen {
	return &contactGen{r: rand.New(rand.NewPCG(seed, 0x5eed))}
}

func (g *contactGen) digits(n int) string {
	var sb strings.Builder
	for i := 0; i < n; i++ {
		sb.WriteByte(byte('0' + g.r.IntN(10)))
	}
	return sb.String()
}

// mobile returns a mobile number of the country in E.164.
func (g *contactGen) mobile(country string) string {
	switch country {
	case "US":
		areas := []string{"212", "415", "312", "646", "206", "303", "617", "512"}
		return "+1" + areas[g.r.IntN(len(areas))] + string(byte('2'+g.r.IntN(8))) + g.digits(6)
	case "UK":
		return "+447" + string(byte('4'+g.r.IntN(6))) + g.digits(8)
	}
	return "+614" + g.digits(8)
}

func (g *contactGen) next() genContact {
	co := companies[g.r.IntN(len(companies))]
	var c genContact
	if g.r.IntN(100) < 6 {
		// A shared line: a team, with no given or family name.
		c.name = departments[g.r.IntN(len(departments))] + " " + strings.Fields(co.name)[0]
		slug := strings.ReplaceAll(strings.ToLower(departments[g.r.IntN(len(departments))]), " ", "")
		c.emails = []schematype.ContactPoint{{Type: "work", Value: slug + "@" + co.domain, Primary: true}}
		c.phones = []schematype.ContactPoint{{Type: "work", Value: co.line + g.digits(4), Primary: true}}
	} else {
		c.given = givenNames[g.r.IntN(len(givenNames))]
		c.family = familyNames[g.r.IntN(len(familyNames))]
		c.name = c.given + " " + c.family
		if g.r.IntN(100) < 3 {
			c.family = "" // a name that was never split
		}
		c.job = jobTitles[g.r.IntN(len(jobTitles))]
		gl := emailFold.Replace(strings.ToLower(c.given))
		fl := emailFold.Replace(strings.ToLower(familyNames[g.r.IntN(len(familyNames))]))
		if c.family != "" {
			fl = emailFold.Replace(strings.ToLower(c.family))
		}
		if g.r.IntN(100) < 92 {
			local := gl + "." + fl
			switch co.style {
			case 1:
				local = gl[:1] + fl
			case 2:
				local = gl + "_" + fl
			}
			c.emails = append(c.emails, schematype.ContactPoint{Type: "work", Value: local + "@" + co.domain})
		}
		if g.r.IntN(100) < 15 {
			c.emails = append(c.emails, schematype.ContactPoint{Type: "home",
				Value: fmt.Sprintf("%s%s%d@%s", gl, fl, g.r.IntN(100), personalDomains[g.r.IntN(len(personalDomains))])})
		}
		if g.r.IntN(100) < 70 {
			c.phones = append(c.phones, schematype.ContactPoint{Type: "work", Value: co.line + g.digits(4)})
		}
		if g.r.IntN(100) < 60 {
			country := co.country
			if g.r.IntN(100) < 10 {
				country = []string{"AU", "US", "UK"}[g.r.IntN(3)]
			}
			c.phones = append(c.phones, schematype.ContactPoint{Type: "mobile", Value: g.mobile(country)})
		}
		if len(c.emails) > 0 {
			c.emails[0].Primary = true
		}
		if len(c.phones) > 0 {
			c.phones[0].Primary = true
		}
	}
	if c.emails == nil {
		c.emails = []schematype.ContactPoint{}
	}
	if c.phones == nil {
		c.phones = []schematype.ContactPoint{}
	}
	// The search columns, as the contact hook derives them.
	var words []string
	for _, s := range []string{c.name, c.given, c.family} {
		if s = strings.TrimSpace(s); s != "" {
			words = append(words, strings.ToLower(s))
		}
	}
	c.searchName = strings.Join(words, " ")
	addrs := make([]string, len(c.emails))
	for i, e := range c.emails {
		addrs[i] = e.Value
	}
	c.searchEmails = strings.Join(addrs, " ")
	nums := make([]string, len(c.phones))
	for i, p := range c.phones {
		nums[i] = contactpoint.Digits(p.Value)
	}
	c.searchPhones = strings.Join(nums, " ")
	return c
}

func primaryValue(points []schematype.ContactPoint) string {
	for _, p := range points {
		if p.Primary {
			return p.Value
		}
	}
	return ""
}

// loadContacts copies n organisation contacts into the tenant.
// It returns them.
func loadContacts(b *testing.B, db *sql.DB, tenant gid.ID, g *contactGen, n int) []genContact {
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit, a no-op
	stmt, err := tx.Prepare(pq.CopyIn("contacts", "id", "created_at", "updated_at", "scope", "source",
		"name", "given_name", "family_name", "email", "phone_number", "emails", "phone_numbers", "job_title",
		"active", "tenant_id", "search_name", "search_emails", "search_phones"))
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	out := make([]genContact, 0, n)
	for i := 0; i < n; i++ {
		c := g.next()
		out = append(out, c)
		emails, _ := json.Marshal(c.emails)
		phones, _ := json.Marshal(c.phones)
		if _, err := stmt.Exec(string(gid.New("CT")), now, now, "ORGANISATION", "MANUAL",
			c.name, c.given, c.family, primaryValue(c.emails), primaryValue(c.phones), string(emails), string(phones), c.job,
			true, string(tenant), c.searchName, c.searchEmails, c.searchPhones); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := stmt.Exec(); err != nil {
		b.Fatal(err)
	}
	if err := stmt.Close(); err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return out
}

// checkHookEquivalence creates generated contacts through ent, whose hook
// normalises them and derives the search columns, and fails unless it
// stores what the loader writes; it then deletes them.
func checkHookEquivalence(b *testing.B, s *testenv.Server, tenant gid.ID, g *contactGen) {
	admin := viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleAdmin, TenantID: tenant, Email: "admin@bench.example"})
	var ids []gid.ID
	for i := 0; i < 300; i++ {
		c := g.next()
		cr := s.Store.Client.Contact.Create().SetScope(contact.ScopeORGANISATION).SetSource(contact.SourceMANUAL).
			SetName(c.name).SetJobTitle(c.job).
			SetEmails(slices.Clone(c.emails)).SetPhoneNumbers(slices.Clone(c.phones))
		if c.given != "" {
			cr.SetGivenName(c.given)
		}
		if c.family != "" {
			cr.SetFamilyName(c.family)
		}
		got, err := cr.Save(admin)
		if err != nil {
			b.Fatalf("creating %q through ent: %v", c.name, err)
		}
		ids = append(ids, got.ID)
		if got.SearchName != c.searchName || got.SearchEmails != c.searchEmails || got.SearchPhones != c.searchPhones ||
			got.Email != primaryValue(c.emails) || got.PhoneNumber != primaryValue(c.phones) ||
			!slices.Equal(got.Emails, c.emails) || !slices.Equal(got.PhoneNumbers, c.phones) {
			b.Fatalf("the loader and the contact hook disagree:\nloader %+v\nhook   %q %q %q %q %q %+v %+v", c,
				got.SearchName, got.SearchEmails, got.SearchPhones, got.Email, got.PhoneNumber, got.Emails, got.PhoneNumbers)
		}
	}
	if _, err := s.Store.Client.Contact.Delete().Where(contact.IDIn(ids...)).Exec(admin); err != nil {
		b.Fatal(err)
	}
}

// checkPage fails unless a first page holds only the tenant's contacts
// and the query finds as many as a plain substring scan of what was loaded
// into the tenant (the other tenant's contacts match too).
func checkPage(b *testing.B, name, q string, conn *ent.ContactConnection, tenant gid.ID, loaded []genContact) {
	text, digits := strings.ToLower(q), contactpoint.Digits(q)
	want := 0
	for _, c := range loaded {
		if strings.Contains(c.searchName, text) || strings.Contains(c.searchEmails, text) ||
			(len(digits) >= 3 && strings.Contains(c.searchPhones, digits)) {
			want++
		}
	}
	if conn.TotalCount != want || (want == 0) != (q == "qxzv") || len(conn.Edges) != min(want, 20) {
		b.Fatalf("%s: %q found %d, a page of %d; the tenant has %d", name, q, conn.TotalCount, len(conn.Edges), want)
	}
	for _, e := range conn.Edges {
		if e.Node.TenantID != tenant {
			b.Fatalf("%s: %q found %s of tenant %s", name, q, e.Node.ID, e.Node.TenantID)
		}
	}
}

// statement is one statement ent sent, with its arguments.
type statement struct {
	query string
	args  []any
}

// recorder is an ent driver that records the statements sent through it
// while capturing.
type recorder struct {
	dialect.Driver
	mu  sync.Mutex
	on  bool
	got []statement
}

func (r *recorder) wrap(d dialect.Driver) dialect.Driver { r.Driver = d; return r }

// capture returns the statements f sends.
func (r *recorder) capture(f func()) []statement {
	r.mu.Lock()
	r.on, r.got = true, nil
	r.mu.Unlock()
	f()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on = false
	return r.got
}

func (r *recorder) record(q string, args any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.on {
		return
	}
	a, _ := args.([]any)
	r.got = append(r.got, statement{query: q, args: slices.Clone(a)})
}

// Exec implements dialect.Driver.
func (r *recorder) Exec(ctx context.Context, q string, args, v any) error {
	r.record(q, args)
	return r.Driver.Exec(ctx, q, args, v)
}

// Query implements dialect.Driver.
func (r *recorder) Query(ctx context.Context, q string, args, v any) error {
	r.record(q, args)
	return r.Driver.Query(ctx, q, args, v)
}

// Tx implements dialect.Driver.
func (r *recorder) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := r.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return &recordingTx{Tx: tx, r: r}, nil
}

type recordingTx struct {
	dialect.Tx
	r *recorder
}

func (t *recordingTx) Exec(ctx context.Context, q string, args, v any) error {
	t.r.record(q, args)
	return t.Tx.Exec(ctx, q, args, v)
}

func (t *recordingTx) Query(ctx context.Context, q string, args, v any) error {
	t.r.record(q, args)
	return t.Tx.Query(ctx, q, args, v)
}

// replay sends the statements through database/sql and reads every row.
func replay(b *testing.B, db *sql.DB, stmts []statement) {
	for _, st := range stmts {
		rows, err := db.QueryContext(store.PlanEachTime(context.Background()), st.query, st.args...) // as Search sends them
		if err != nil {
			b.Fatal(err)
		}
		cols, err := rows.Columns()
		if err != nil {
			b.Fatal(err)
		}
		dest := make([]any, len(cols))
		for i := range dest {
			dest[i] = new(sql.RawBytes)
		}
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				b.Fatal(err)
			}
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
		rows.Close()
	}
}

// percentile returns the nearest-rank percentile p of d.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[max(0, int(math.Ceil(p*float64(len(s))))-1)]
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", millis(d)) }
