package schedules

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

const (
	sydney  = "Australia/Sydney"
	newYork = "America/New_York"
)

// local parses "2006-01-02 15:04 -0700": a local time with its UTC offset,
// so that every expected instant is unambiguous.
func local(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse("2006-01-02 15:04 -0700", s)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func compile(tb testing.TB, zone string, weekly []WeeklyHours, exceptions ...Exception) *Schedule {
	tb.Helper()
	s, err := Compile(zone, weekly, exceptions)
	if err != nil {
		tb.Fatalf("Compile: %v", err)
	}
	return s
}

func w(day, opens, closes string) WeeklyHours {
	return WeeklyHours{Day: day, Opens: opens, Closes: closes}
}

// days returns the same hours on each of days.
func days(opens, closes string, days ...string) []WeeklyHours {
	var hours []WeeklyHours
	for _, d := range days {
		hours = append(hours, w(d, opens, closes))
	}
	return hours
}

var (
	weekdays = []string{"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"}
	allWeek  = dayNames[:]
)

func closed(date, name string) Exception { return Exception{Date: date, Name: name, Closed: true} }

func special(date, name, opens, closes string) Exception {
	return Exception{Date: date, Name: name, Opens: opens, Closes: closes}
}

// Checked with Go's tz database (2026): Sydney leaves daylight saving on
// Sunday 5 April (03:00 AEDT becomes 02:00 AEST) and starts it on Sunday 4
// October (02:00 AEST becomes 03:00 AEDT); New York starts it on Sunday 8
// March (02:00 EST becomes 03:00 EDT) and leaves it on Sunday 1 November
// (02:00 EDT becomes 01:00 EST).
func TestTransitionDates(t *testing.T) {
	for _, c := range []struct {
		zone, before, after string
	}{
		{sydney, "2026-04-05 02:59 +1100", "2026-04-05 02:00 +1000"},
		{sydney, "2026-10-04 01:59 +1000", "2026-10-04 03:00 +1100"},
		{newYork, "2026-03-08 01:59 -0500", "2026-03-08 03:00 -0400"},
		{newYork, "2026-11-01 01:59 -0400", "2026-11-01 01:00 -0500"},
	} {
		loc, err := time.LoadLocation(c.zone)
		if err != nil {
			t.Fatal(err)
		}
		before, after := local(t, c.before), local(t, c.after)
		_, end := before.In(loc).ZoneBounds()
		if !end.Equal(before.Add(time.Minute)) || !end.Equal(after) {
			t.Errorf("%s: the clocks change at %v, want %v (after %s)", c.zone, end, after, c.before)
		}
	}
}

func TestAt(t *testing.T) {
	never := time.Time{}
	sydneyBusiness := compile(t, sydney,
		append(days("08:00", "18:00", weekdays...), w("SATURDAY", "09:00", "13:00")),
		closed("2026-04-03", "Good Friday"),
		closed("2026-04-04", "Easter Saturday"),
		closed("2026-04-06", "Easter Monday"))
	sydneySunday := compile(t, sydney, days("00:00", "24:00", "SUNDAY"))
	sydneyGap := compile(t, sydney, days("02:30", "05:00", "SUNDAY"))
	sydneyDrill := compile(t, sydney, days("10:00", "16:00", "SUNDAY"),
		special("2026-10-04", "Daylight saving drill", "01:00", "04:00"))
	sydneyAlways := compile(t, sydney, append(days("00:00", "12:00", allWeek...), days("12:00", "24:00", allWeek...)...),
		closed("2027-12-25", "Christmas Day"))
	lateNight := compile(t, sydney, days("22:00", "02:00", "FRIDAY"),
		closed("2026-01-17", "Stocktake"),
		closed("2026-01-23", "Staff party"))

	newYorkBusiness := compile(t, newYork, days("09:00", "17:00", weekdays...),
		closed("2026-05-25", "Memorial Day"),
		closed("2026-11-26", "Thanksgiving Day"))
	newYorkSunday := compile(t, newYork, days("00:00", "24:00", "SUNDAY"))
	newYorkGap := compile(t, newYork, days("02:30", "05:00", "SUNDAY"))
	newYorkAroundGap := compile(t, newYork, []WeeklyHours{w("SUNDAY", "00:00", "02:00"), w("SUNDAY", "03:00", "06:00")})
	newYorkInGap := compile(t, newYork, days("02:00", "02:45", "SUNDAY"))
	newYorkRepeated := compile(t, newYork, days("01:30", "03:00", "SUNDAY"))
	newYorkEarly := compile(t, newYork, days("00:00", "01:30", "SUNDAY"))
	newYorkAlways := compile(t, newYork, days("00:00", "24:00", allWeek...),
		closed("2026-11-01", "Staff day"),
		special("2026-11-08", "Fall drill", "01:30", "02:30"))
	continuous := compile(t, newYork, []WeeklyHours{
		w("MONDAY", "22:00", "24:00"), w("TUESDAY", "00:00", "02:00"), w("TUESDAY", "02:00", "04:00"),
		w("SUNDAY", "20:00", "00:00"), w("MONDAY", "00:00", "01:00"),
	})
	openDay := compile(t, newYork, nil,
		special("2029-03-03", "Open day", "10:00", "14:00"),
		closed("2029-03-04", "Recovery day"))
	nothing := compile(t, sydney, nil)

	for _, c := range []struct {
		name     string
		schedule *Schedule
		at       string
		open     bool
		reason   string
		next     string // "" for never
	}{
		// Sydney, Easter 2026 with the end of daylight saving on its Sunday.
		{"Sydney weekday before closing", sydneyBusiness, "2026-04-02 17:59 +1100", true, ReasonOpeningHours, "2026-04-02 18:00 +1100"},
		{"Sydney Thursday evening: past three holidays and the end of DST to Tuesday", sydneyBusiness, "2026-04-02 19:00 +1100", false, ReasonOutsideOpeningHours, "2026-04-07 08:00 +1000"},
		{"Sydney Good Friday", sydneyBusiness, "2026-04-03 10:00 +1100", false, "Good Friday", "2026-04-07 08:00 +1000"},
		{"Sydney Easter Sunday, second 02:30", sydneyBusiness, "2026-04-05 02:30 +1000", false, ReasonOutsideOpeningHours, "2026-04-07 08:00 +1000"},
		{"Sydney Easter Monday closes the day", sydneyBusiness, "2026-04-06 08:00 +1000", false, "Easter Monday", "2026-04-07 08:00 +1000"},
		{"Sydney Tuesday opening", sydneyBusiness, "2026-04-07 08:00 +1000", true, ReasonOpeningHours, "2026-04-07 18:00 +1000"},
		{"Sydney Saturday after DST starts", sydneyBusiness, "2026-10-03 12:00 +1000", true, ReasonOpeningHours, "2026-10-03 13:00 +1000"},
		{"Sydney Saturday afternoon to Monday in DST", sydneyBusiness, "2026-10-03 13:00 +1000", false, ReasonOutsideOpeningHours, "2026-10-05 08:00 +1100"},

		// A Sunday open all day is 25 hours long in April, 23 in October.
		{"Sydney before the 25-hour Sunday", sydneySunday, "2026-04-04 23:59 +1100", false, ReasonOutsideOpeningHours, "2026-04-05 00:00 +1100"},
		{"Sydney 25-hour Sunday starts", sydneySunday, "2026-04-05 00:00 +1100", true, ReasonOpeningHours, "2026-04-06 00:00 +1000"},
		{"Sydney 25-hour Sunday, first 02:30", sydneySunday, "2026-04-05 02:30 +1100", true, ReasonOpeningHours, "2026-04-06 00:00 +1000"},
		{"Sydney 25-hour Sunday, second 02:30", sydneySunday, "2026-04-05 02:30 +1000", true, ReasonOpeningHours, "2026-04-06 00:00 +1000"},
		{"Sydney 25-hour Sunday ends", sydneySunday, "2026-04-06 00:00 +1000", false, ReasonOutsideOpeningHours, "2026-04-12 00:00 +1000"},
		{"Sydney 23-hour Sunday starts", sydneySunday, "2026-10-04 00:00 +1000", true, ReasonOpeningHours, "2026-10-05 00:00 +1100"},
		{"Sydney 23-hour Sunday after the jump", sydneySunday, "2026-10-04 03:00 +1100", true, ReasonOpeningHours, "2026-10-05 00:00 +1100"},

		// Opening at 02:30, a time skipped in October and repeated in April.
		{"Sydney skipped 02:30: before the jump", sydneyGap, "2026-10-04 01:59 +1000", false, ReasonOutsideOpeningHours, "2026-10-04 03:00 +1100"},
		{"Sydney skipped 02:30 opens at 03:00", sydneyGap, "2026-10-04 03:00 +1100", true, ReasonOpeningHours, "2026-10-04 05:00 +1100"},
		{"Sydney repeated 02:30: before the first", sydneyGap, "2026-04-05 02:15 +1100", false, ReasonOutsideOpeningHours, "2026-04-05 02:30 +1100"},
		{"Sydney repeated 02:30: open at the first", sydneyGap, "2026-04-05 02:30 +1100", true, ReasonOpeningHours, "2026-04-05 05:00 +1000"},
		{"Sydney repeated hour: still open in the second 02:15", sydneyGap, "2026-04-05 02:15 +1000", true, ReasonOpeningHours, "2026-04-05 05:00 +1000"},

		// Special hours on the day DST starts: 01:00 AEST to 04:00 AEDT is two hours.
		{"Sydney drill: Saturday", sydneyDrill, "2026-10-03 12:00 +1000", false, ReasonOutsideOpeningHours, "2026-10-04 01:00 +1000"},
		{"Sydney drill: open", sydneyDrill, "2026-10-04 01:30 +1000", true, "Daylight saving drill", "2026-10-04 04:00 +1100"},
		{"Sydney drill: after it, closed by the exception", sydneyDrill, "2026-10-04 04:00 +1100", false, "Daylight saving drill", "2026-10-11 10:00 +1100"},
		{"Sydney drill: weekly hours do not apply that day", sydneyDrill, "2026-10-04 12:00 +1100", false, "Daylight saving drill", "2026-10-11 10:00 +1100"},

		// Friday 22:00 to 02:00.
		{"late night: Friday before", lateNight, "2026-01-09 21:00 +1100", false, ReasonOutsideOpeningHours, "2026-01-09 22:00 +1100"},
		{"late night: Saturday 01:00", lateNight, "2026-01-10 01:00 +1100", true, ReasonOpeningHours, "2026-01-10 02:00 +1100"},
		{"late night: Saturday 02:00", lateNight, "2026-01-10 02:00 +1100", false, ReasonOutsideOpeningHours, "2026-01-16 22:00 +1100"},
		{"late night: a Saturday holiday ends Friday's night at midnight", lateNight, "2026-01-16 23:00 +1100", true, ReasonOpeningHours, "2026-01-17 00:00 +1100"},
		{"late night: the Saturday holiday, then a Friday one", lateNight, "2026-01-17 01:00 +1100", false, "Stocktake", "2026-01-24 00:00 +1100"},
		{"late night: a Friday holiday", lateNight, "2026-01-23 23:00 +1100", false, "Staff party", "2026-01-24 00:00 +1100"},
		{"late night: after a Friday holiday Saturday still opens at 00:00", lateNight, "2026-01-24 01:00 +1100", true, ReasonOpeningHours, "2026-01-24 02:00 +1100"},

		// Open all week (as 00:00-12:00 and 12:00-24:00), but for Christmas Day 2027.
		{"always: closes for Christmas in more than a year", sydneyAlways, "2026-01-01 12:00 +1100", true, ReasonOpeningHours, "2027-12-25 00:00 +1100"},
		{"always: Christmas Day", sydneyAlways, "2027-12-25 12:00 +1100", false, "Christmas Day", "2027-12-26 00:00 +1100"},
		{"always: after Christmas never closes", sydneyAlways, "2027-12-26 00:00 +1100", true, ReasonOpeningHours, ""},
		{"nothing: never open", nothing, "2026-04-05 02:30 +1000", false, ReasonOutsideOpeningHours, ""},

		// New York.
		{"New York Friday evening: Memorial Day Monday, Tuesday opening", newYorkBusiness, "2026-05-22 19:00 -0400", false, ReasonOutsideOpeningHours, "2026-05-26 09:00 -0400"},
		{"New York Memorial Day", newYorkBusiness, "2026-05-25 12:00 -0400", false, "Memorial Day", "2026-05-26 09:00 -0400"},
		{"New York Friday closing before DST starts", newYorkBusiness, "2026-03-06 16:59 -0500", true, ReasonOpeningHours, "2026-03-06 17:00 -0500"},
		{"New York weekend across the start of DST", newYorkBusiness, "2026-03-06 17:00 -0500", false, ReasonOutsideOpeningHours, "2026-03-09 09:00 -0400"},
		{"New York weekend across the end of DST", newYorkBusiness, "2026-10-31 12:00 -0400", false, ReasonOutsideOpeningHours, "2026-11-02 09:00 -0500"},
		{"New York Thanksgiving eve", newYorkBusiness, "2026-11-25 17:00 -0500", false, ReasonOutsideOpeningHours, "2026-11-27 09:00 -0500"},

		{"New York 23-hour Sunday", newYorkSunday, "2026-03-08 00:00 -0500", true, ReasonOpeningHours, "2026-03-09 00:00 -0400"},
		{"New York 25-hour Sunday", newYorkSunday, "2026-11-01 00:00 -0400", true, ReasonOpeningHours, "2026-11-02 00:00 -0500"},
		{"New York 25-hour Sunday, second 01:30", newYorkSunday, "2026-11-01 01:30 -0500", true, ReasonOpeningHours, "2026-11-02 00:00 -0500"},
		{"New York Saturday before the 25-hour Sunday", newYorkSunday, "2026-10-31 23:00 -0400", false, ReasonOutsideOpeningHours, "2026-11-01 00:00 -0400"},

		{"New York skipped 02:30: before the jump", newYorkGap, "2026-03-08 01:59 -0500", false, ReasonOutsideOpeningHours, "2026-03-08 03:00 -0400"},
		{"New York skipped 02:30 opens at 03:00", newYorkGap, "2026-03-08 03:00 -0400", true, ReasonOpeningHours, "2026-03-08 05:00 -0400"},
		{"New York closed 02:00-03:00 that does not exist: one stretch", newYorkAroundGap, "2026-03-08 01:00 -0500", true, ReasonOpeningHours, "2026-03-08 06:00 -0400"},
		{"New York closed 02:00-03:00 on an ordinary Sunday", newYorkAroundGap, "2026-03-15 01:00 -0400", true, ReasonOpeningHours, "2026-03-15 02:00 -0400"},
		{"New York hours wholly skipped do not happen", newYorkInGap, "2026-03-07 12:00 -0500", false, ReasonOutsideOpeningHours, "2026-03-15 02:00 -0400"},
		{"New York hours wholly skipped, asked that day", newYorkInGap, "2026-03-08 01:00 -0500", false, ReasonOutsideOpeningHours, "2026-03-15 02:00 -0400"},
		{"New York repeated 01:30: before the first", newYorkRepeated, "2026-11-01 01:29 -0400", false, ReasonOutsideOpeningHours, "2026-11-01 01:30 -0400"},
		{"New York repeated hour: open in the second 01:15", newYorkRepeated, "2026-11-01 01:15 -0500", true, ReasonOpeningHours, "2026-11-01 03:00 -0500"},
		{"New York closing at the first 01:30", newYorkEarly, "2026-11-01 01:15 -0400", true, ReasonOpeningHours, "2026-11-01 01:30 -0400"},
		{"New York closed in the second 01:15", newYorkEarly, "2026-11-01 01:15 -0500", false, ReasonOutsideOpeningHours, "2026-11-08 00:00 -0500"},

		{"New York always open: up to the staff day", newYorkAlways, "2026-10-31 12:00 -0400", true, ReasonOpeningHours, "2026-11-01 00:00 -0400"},
		{"New York staff day, first 01:30", newYorkAlways, "2026-11-01 01:30 -0400", false, "Staff day", "2026-11-02 00:00 -0500"},
		{"New York staff day, second 01:30", newYorkAlways, "2026-11-01 01:30 -0500", false, "Staff day", "2026-11-02 00:00 -0500"},
		{"New York after the staff day: up to the drill day", newYorkAlways, "2026-11-02 00:00 -0500", true, ReasonOpeningHours, "2026-11-08 00:00 -0500"},
		{"New York drill day before its hours", newYorkAlways, "2026-11-08 01:00 -0500", false, "Fall drill", "2026-11-08 01:30 -0500"},
		{"New York drill day hours, then open for good", newYorkAlways, "2026-11-08 02:00 -0500", true, "Fall drill", "2026-11-08 02:30 -0500"},
		{"New York drill day after its hours", newYorkAlways, "2026-11-08 02:30 -0500", false, "Fall drill", "2026-11-09 00:00 -0500"},
		{"New York after the drill day", newYorkAlways, "2026-11-09 00:00 -0500", true, ReasonOpeningHours, ""},

		{"continuous: Monday 22:00 to Tuesday 04:00 in three ranges", continuous, "2026-06-01 23:00 -0400", true, ReasonOpeningHours, "2026-06-02 04:00 -0400"},
		{"continuous: Sunday 20:00 to 00:00 then Monday 00:00 to 01:00", continuous, "2026-05-31 21:00 -0400", true, ReasonOpeningHours, "2026-06-01 01:00 -0400"},
		{"continuous: Monday between", continuous, "2026-06-01 12:00 -0400", false, ReasonOutsideOpeningHours, "2026-06-01 22:00 -0400"},

		{"open day years ahead", openDay, "2026-01-01 12:00 -0500", false, ReasonOutsideOpeningHours, "2029-03-03 10:00 -0500"},
		{"open day", openDay, "2029-03-03 12:00 -0500", true, "Open day", "2029-03-03 14:00 -0500"},
		{"open day over: never again", openDay, "2029-03-03 15:00 -0500", false, "Open day", ""},
		{"closed exception on a never-open schedule", openDay, "2029-03-04 15:00 -0500", false, "Recovery day", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			at := local(t, c.at)
			want := Status{Open: c.open, Reason: c.reason, NextChangeAt: never}
			if c.next != "" {
				want.NextChangeAt = local(t, c.next)
			}
			got := c.schedule.At(at)
			if got.Open != want.Open || got.Reason != want.Reason || !got.NextChangeAt.Equal(want.NextChangeAt) {
				t.Errorf("At(%s) = %s, want %s", c.at, describeStatus(got), describeStatus(want))
			}
			if !got.NextChangeAt.IsZero() && got.NextChangeAt.Location() != c.schedule.loc {
				t.Errorf("NextChangeAt is in %v, want the schedule's zone", got.NextChangeAt.Location())
			}
		})
	}
}

func describeStatus(s Status) string {
	next := "never"
	if !s.NextChangeAt.IsZero() {
		next = s.NextChangeAt.Format("2006-01-02 15:04 -0700")
	}
	return fmt.Sprintf("{open %v, %q, next change %s}", s.Open, s.Reason, next)
}

// A date on which the clocks change is 23 or 25 hours long, and so is a day
// open 00:00 to 24:00.
func TestOpenAllDayOnATransition(t *testing.T) {
	for _, c := range []struct {
		zone, date string
		hours      time.Duration
	}{
		{sydney, "2026-04-05", 25 * time.Hour},
		{sydney, "2026-10-04", 23 * time.Hour},
		{newYork, "2026-03-08", 23 * time.Hour},
		{newYork, "2026-11-01", 25 * time.Hour},
		{sydney, "2026-07-05", 24 * time.Hour},
	} {
		s := compile(t, c.zone, days("00:00", "24:00", "SUNDAY"))
		start, err := time.ParseInLocation(time.DateOnly, c.date, s.loc)
		if err != nil {
			t.Fatal(err)
		}
		before := s.At(start.Add(-time.Nanosecond))
		if before.Open || !before.NextChangeAt.Equal(start) {
			t.Errorf("%s %s: just before = %s, want closed until %v", c.zone, c.date, describeStatus(before), start)
		}
		at := s.At(start)
		if !at.Open || at.NextChangeAt.Sub(start) != c.hours {
			t.Errorf("%s %s: open %v for %v, want open for %v", c.zone, c.date, at.Open, at.NextChangeAt.Sub(start), c.hours)
		}
	}
}

// In Santiago the clocks go back from 24:00 on Saturday 4 April 2026 to
// 23:00: Saturday's 23:00 to 24:00 happens twice, and a range closing at
// 23:30 closes at the first 23:30.
func TestRepeatedHourBeforeMidnight(t *testing.T) {
	s := compile(t, "America/Santiago", days("20:00", "23:30", "SATURDAY"))
	for _, c := range []struct {
		at, next string
		open     bool
	}{
		{"2026-04-04 23:15 -0300", "2026-04-04 23:30 -0300", true},
		{"2026-04-04 23:45 -0300", "2026-04-11 20:00 -0400", false},
		{"2026-04-04 23:15 -0400", "2026-04-11 20:00 -0400", false},
	} {
		got := s.At(local(t, c.at))
		if got.Open != c.open || !got.NextChangeAt.Equal(local(t, c.next)) {
			t.Errorf("At(%s) = %s, want open %v until %s", c.at, describeStatus(got), c.open, c.next)
		}
	}
}

// manyRanges returns n half-hour ranges that do not overlap.
func manyRanges(n int) []WeeklyHours {
	var hours []WeeklyHours
	for i := range n {
		hours = append(hours, w(dayNames[i%7], fmt.Sprintf("%02d:00", i/7), fmt.Sprintf("%02d:30", i/7)))
	}
	return hours
}

// In Goose Bay until 2011 the clocks went back from 00:01 to 23:01: on
// 7 November 2010 the local clock read Sunday 00:00 ADT, then Saturday 23:01
// AST again. Sunday began at its first midnight, so the repeated minutes of
// Saturday belong to Sunday.
func TestRepeatedHourAcrossMidnight(t *testing.T) {
	s := compile(t, "America/Goose_Bay", days("00:00", "06:00", "SUNDAY"))
	for _, c := range []struct {
		at, next string
		open     bool
	}{
		{"2010-11-06 23:59 -0300", "2010-11-07 00:00 -0300", false},
		{"2010-11-07 00:00 -0300", "2010-11-07 06:00 -0400", true},
		{"2010-11-06 23:30 -0400", "2010-11-07 06:00 -0400", true},
	} {
		got := s.At(local(t, c.at))
		if got.Open != c.open || !got.NextChangeAt.Equal(local(t, c.next)) {
			t.Errorf("At(%s) = %s, want open %v until %s", c.at, describeStatus(got), c.open, c.next)
		}
	}
}

func TestCompileRejects(t *testing.T) {
	long := strings.Repeat("é", MaxNameLength+1)
	many := func(n int) []Exception {
		var e []Exception
		for i := range n {
			e = append(e, closed(time.Date(2026, 1, 1+i, 0, 0, 0, 0, time.UTC).Format(time.DateOnly), "Closed"))
		}
		return e
	}
	for _, c := range []struct {
		name       string
		zone       string
		weekly     []WeeklyHours
		exceptions []Exception
		field      string
		message    string
	}{
		{"unknown zone", "Mars/Olympus", nil, nil, "timeZone", "unknown time zone Mars/Olympus"},
		{"no zone", "", nil, nil, "timeZone", "missing; give an IANA time zone such as Australia/Sydney"},
		{"the server's zone", "Local", nil, nil, "timeZone", `"Local" is not an IANA time zone`},
		{"a path for a zone", "../../etc/passwd", nil, nil, "timeZone", "unknown time zone ../../etc/passwd"},
		{"closes 25:00", sydney, []WeeklyHours{w("MONDAY", "09:00", "17:00"), w("TUESDAY", "09:00", "17:00"), w("WEDNESDAY", "09:00", "25:00")},
			nil, "weeklyHours[2]", "closes 25:00 is not a time of day (HH:MM)"},
		{"opens 24:00", sydney, days("24:00", "02:00", "MONDAY"), nil, "weeklyHours[0]", "opens 24:00 is not a time of day (HH:MM); 24:00 is only a closing time"},
		{"minutes 60", sydney, days("09:60", "17:00", "MONDAY"), nil, "weeklyHours[0]", "opens 09:60 is not a time of day (HH:MM)"},
		{"24:30", sydney, days("09:00", "24:30", "MONDAY"), nil, "weeklyHours[0]", "closes 24:30 is not a time of day (HH:MM)"},
		{"one digit hour", sydney, days("9:00", "17:00", "MONDAY"), nil, "weeklyHours[0]", "opens 9:00 is not a time of day (HH:MM)"},
		{"missing closes", sydney, days("09:00", "", "MONDAY"), nil, "weeklyHours[0]", `closes "" is not a time of day (HH:MM)`},
		{"opens equals closes", sydney, days("09:00", "09:00", "MONDAY"), nil, "weeklyHours[0]", "opens and closes are both 09:00; a whole day is 00:00 to 24:00"},
		{"unknown day", sydney, days("09:00", "17:00", "Monday"), nil, "weeklyHours[0]", "day Monday is not one of MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY"},
		{"overlapping ranges", sydney, []WeeklyHours{w("MONDAY", "08:00", "12:00"), w("TUESDAY", "08:00", "12:00"), w("MONDAY", "11:00", "17:00")},
			nil, "weeklyHours[2]", "MONDAY 11:00 to 17:00 overlaps weeklyHours[0] (MONDAY 08:00 to 12:00)"},
		{"a range inside another", sydney, []WeeklyHours{w("MONDAY", "08:00", "24:00"), w("MONDAY", "11:00", "12:00")},
			nil, "weeklyHours[1]", "MONDAY 11:00 to 12:00 overlaps weeklyHours[0] (MONDAY 08:00 to 24:00)"},
		{"past midnight into the next morning", sydney, []WeeklyHours{w("MONDAY", "22:00", "02:00"), w("TUESDAY", "01:00", "05:00")},
			nil, "weeklyHours[1]", "TUESDAY 01:00 to 05:00 overlaps weeklyHours[0] (MONDAY 22:00 to TUESDAY 02:00)"},
		{"Sunday night into Monday morning", sydney, []WeeklyHours{w("MONDAY", "01:59", "05:00"), w("SUNDAY", "22:00", "02:00")},
			nil, "weeklyHours[1]", "SUNDAY 22:00 to MONDAY 02:00 overlaps weeklyHours[0] (MONDAY 01:59 to 05:00)"},
		{"past midnight into the same day's later range", sydney, []WeeklyHours{w("MONDAY", "20:00", "22:00"), w("MONDAY", "21:00", "00:00")},
			nil, "weeklyHours[1]", "MONDAY 21:00 to TUESDAY 00:00 overlaps weeklyHours[0] (MONDAY 20:00 to 22:00)"},
		{"too many ranges", sydney, manyRanges(MaxWeeklyHours + 1), nil, "weeklyHours", "51 ranges; at most 50"},
		{"bad date", sydney, nil, []Exception{closed("2026-02-30", "Holiday")}, "exceptions[0]", "date 2026-02-30 is not a date (YYYY-MM-DD)"},
		{"short date", sydney, nil, []Exception{closed("2026-2-3", "Holiday")}, "exceptions[0]", "date 2026-2-3 is not a date (YYYY-MM-DD)"},
		{"duplicate dates", sydney, nil, []Exception{closed("2026-12-25", "Christmas Day"), closed("2026-12-26", "Boxing Day"), special("2026-12-25", "Christmas lunch", "12:00", "14:00")},
			"exceptions[2]", "date 2026-12-25 is already exceptions[0]"},
		{"no name", sydney, nil, []Exception{closed("2026-12-25", " ")}, "exceptions[0]", "name is missing"},
		{"long name", sydney, nil, []Exception{closed("2026-12-25", long)}, "exceptions[0]", "name is 101 characters; at most 100"},
		{"special hours missing", sydney, nil, []Exception{{Date: "2026-12-24", Name: "Christmas Eve"}},
			"exceptions[0]", "special hours need opens and closes (or closed: true for a day closed all day)"},
		{"special hours without closes", sydney, nil, []Exception{{Date: "2026-12-24", Name: "Christmas Eve", Opens: "09:00"}},
			"exceptions[0]", "special hours need opens and closes (or closed: true for a day closed all day)"},
		{"closed with hours", sydney, nil, []Exception{{Date: "2026-12-24", Name: "Christmas Eve", Closed: true, Opens: "09:00", Closes: "12:00"}},
			"exceptions[0]", "a day closed all day has no opens or closes"},
		{"special hours past midnight", sydney, nil, []Exception{special("2026-12-31", "New Year's Eve", "20:00", "02:00")},
			"exceptions[0]", "closes 02:00 is before opens 20:00; special hours stay within their day (24:00 is its midnight)"},
		{"special hours empty", sydney, nil, []Exception{special("2026-12-31", "New Year's Eve", "20:00", "20:00")},
			"exceptions[0]", "opens and closes are both 20:00; a whole day is 00:00 to 24:00"},
		{"special hours 25:00", sydney, nil, []Exception{special("2026-12-31", "New Year's Eve", "20:00", "25:00")},
			"exceptions[0]", "closes 25:00 is not a time of day (HH:MM)"},
		{"too many exceptions", sydney, nil, many(MaxExceptions + 1), "exceptions", "501 exceptions; at most 500"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := Compile(c.zone, c.weekly, c.exceptions)
			var invalid *InvalidError
			if !errors.As(err, &invalid) {
				t.Fatalf("Compile = %v, %v; want an *InvalidError", s, err)
			}
			if invalid.Field != c.field || invalid.Message != c.message {
				t.Errorf("Compile: %q, %q\nwant      %q, %q", invalid.Field, invalid.Message, c.field, c.message)
			}
			if want := c.field + ": " + c.message; err.Error() != want {
				t.Errorf("Error() = %q, want %q", err.Error(), want)
			}
		})
	}
}

func TestCompileAccepts(t *testing.T) {
	for _, c := range []struct {
		name       string
		weekly     []WeeklyHours
		exceptions []Exception
	}{
		{"adjacent ranges", []WeeklyHours{w("MONDAY", "08:00", "12:00"), w("MONDAY", "12:00", "17:00")}, nil},
		{"past midnight up to the next day's range", []WeeklyHours{w("MONDAY", "22:00", "02:00"), w("TUESDAY", "02:00", "05:00")}, nil},
		{"closes 00:00 is midnight", []WeeklyHours{w("MONDAY", "22:00", "00:00"), w("TUESDAY", "00:00", "05:00")}, nil},
		{"Sunday night up to Monday morning", []WeeklyHours{w("SUNDAY", "22:00", "06:00"), w("MONDAY", "06:00", "22:00")}, nil},
		{"the most ranges", manyRanges(MaxWeeklyHours), nil},
		{"special hours all day and to midnight", nil, []Exception{special("2026-12-24", "Christmas Eve", "00:00", "24:00"), special("2026-12-31", "New Year's Eve", "20:00", "24:00")}},
		{"a name of 100 characters", nil, []Exception{closed("2026-12-25", strings.Repeat("é", MaxNameLength))}},
	} {
		if _, err := Compile(sydney, c.weekly, c.exceptions); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// zones for the tests against the clock: the two of the contract, daylight
// saving by half an hour (Lord Howe) and at 02:45 (Chatham), clocks that
// change at midnight (Havana, Beirut, Santiago) or skip from 23:00 to the
// next day (Nuuk), Dublin's negative daylight saving, Casablanca's two
// changes around Ramadan, zones without daylight saving, and UTC.
var clockZones = []string{
	sydney, newYork, "Australia/Lord_Howe", "Pacific/Chatham", "America/Havana", "Asia/Beirut",
	"America/Santiago", "America/Nuuk", "Europe/Dublin", "Africa/Casablanca", "America/St_Johns",
	"Asia/Kolkata", "Asia/Tokyo", "UTC",
}

// transitions returns when loc's clocks change from 2026 to 2027.
func transitions(loc *time.Location) []time.Time {
	var ts []time.Time
	for t := time.Date(2026, 1, 1, 0, 0, 0, 0, loc); t.Year() < 2028; {
		_, end := t.ZoneBounds()
		if end.IsZero() {
			break
		}
		ts = append(ts, end)
		t = end
	}
	return ts
}

// instant must give, for each local time of the days around each change of
// the clocks, the first minute at which the local clock reads that time or
// later.
func TestInstantIsTheFirstMinuteAtOrAfter(t *testing.T) {
	for _, zone := range clockZones {
		s := compile(t, zone, nil)
		for _, change := range transitions(s.loc) {
			_, offset := change.Zone()
			first := floorDiv(change.Unix()+int64(offset), 86400) - 1
			type target struct {
				day    int64
				minute int16
			}
			var targets []target
			for day := first; day <= first+2; day++ {
				for m := range minutesPerDay + 1 {
					targets = append(targets, target{day, int16(m)})
				}
			}
			k := 0
			for u := change.Add(-50 * time.Hour); k < len(targets) && u.Before(change.Add(50*time.Hour)); u = u.Add(time.Minute) {
				_, off := u.In(s.loc).Zone()
				wall := u.Unix() + int64(off)
				for ; k < len(targets) && wall >= targets[k].day*86400+int64(targets[k].minute)*60; k++ {
					tg := targets[k]
					if got := s.instant(tg.day, tg.minute); !got.Equal(u) {
						t.Errorf("%s: %s %02d:%02d is at %v, want %v", zone, time.Unix(tg.day*86400, 0).UTC().Format(time.DateOnly), tg.minute/60, tg.minute%60, got, u.In(s.loc))
					}
				}
			}
			if k != len(targets) {
				t.Fatalf("%s: %d local times not reached", zone, len(targets)-k)
			}
		}
	}
}

// reference is the contract read literally: a local date is an exception's
// or the weekly hours', and a wall-clock minute of it is open or not.
type reference struct {
	loc        *time.Location
	weekly     []WeeklyHours
	exceptions map[date]Exception
}

type date struct {
	year  int
	month time.Month
	day   int
}

func clock(s string) int { m, _ := parseClock(s); return m }

// at returns whether the centre is open at the minute that holds t, and why.
func (r reference) at(t time.Time) (bool, string) {
	lt := t.In(r.loc)
	minute := lt.Hour()*60 + lt.Minute()
	y, mo, d := lt.Date()
	if e, ok := r.exceptions[date{y, mo, d}]; ok {
		return !e.Closed && clock(e.Opens) <= minute && minute < clock(e.Closes), e.Name
	}
	today := dayNames[(int(lt.Weekday())+6)%7]
	yesterday := dayNames[(int(lt.Weekday())+5)%7]
	for _, h := range r.weekly {
		opens, closes := clock(h.Opens), clock(h.Closes)
		switch {
		case h.Day == today && opens < closes && opens <= minute && minute < closes,
			h.Day == today && closes < opens && opens <= minute,
			h.Day == yesterday && closes < opens && minute < closes:
			return true, ReasonOpeningHours
		}
	}
	return false, ReasonOutsideOpeningHours
}

// repeated reports whether t may be in an hour the clocks repeat, which the
// reference cannot tell from its first occurrence.
func (r reference) repeated(t time.Time) bool {
	_, before := t.Add(-3 * time.Hour).In(r.loc).Zone()
	_, now := t.In(r.loc).Zone()
	return before > now
}

// checkAgainstClock compiles a random schedule in a random zone, and checks
// At at random instants near a random one or near a change of the clocks
// against the reference: Open and Reason at the instant, and NextChangeAt
// as the first minute at which the reference differs, when that is within
// ten days and the way there does not cross a repeated hour.
func checkAgainstClock(t *testing.T, seed uint64) (checked, skipped int) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	zone := clockZones[rng.IntN(len(clockZones))]
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	focus := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(int64(2 * 365 * 24 * time.Hour))))
	if ts := transitions(loc); len(ts) > 0 && rng.IntN(3) > 0 {
		focus = ts[rng.IntN(len(ts))]
	}
	minute := func(closes bool) int {
		switch rng.IntN(4) {
		case 0: // near the changes of the clocks
			return rng.IntN(9) * 30
		case 1:
			if closes {
				return minutesPerDay
			}
			return 0
		}
		return rng.IntN(96) * 15
	}
	hhmm := func(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }
	var weekly []WeeklyHours
	for range rng.IntN(7) {
		h := w(dayNames[rng.IntN(7)], hhmm(minute(false)), hhmm(minute(true)))
		if _, err := compileIn(loc, append(weekly, h), nil); err == nil {
			weekly = append(weekly, h)
		}
	}
	if rng.IntN(10) == 0 {
		weekly = days("00:00", "24:00", allWeek...)
	}
	ref := reference{loc: loc, weekly: weekly, exceptions: map[date]Exception{}}
	var exceptions []Exception
	for i := range rng.IntN(5) {
		on := focus.In(loc).AddDate(0, 0, rng.IntN(15)-6)
		e := closed(on.Format(time.DateOnly), fmt.Sprintf("exception %d", i))
		if rng.IntN(3) > 0 {
			opens := minute(false)
			closes := opens + 15*(1+rng.IntN((minutesPerDay-opens)/15))
			e = special(e.Date, e.Name, hhmm(opens), hhmm(closes))
		}
		y, m, d := on.Date()
		if _, dup := ref.exceptions[date{y, m, d}]; !dup {
			exceptions = append(exceptions, e)
			ref.exceptions[date{y, m, d}] = e
		}
	}
	s, err := compileIn(loc, weekly, exceptions)
	if err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	for range 8 {
		at := focus.Add(time.Duration(rng.Int64N(int64(8*24*time.Hour))) - 4*24*time.Hour)
		if rng.IntN(2) == 0 {
			at = at.Truncate(time.Minute)
		}
		got := s.At(at)
		describe := func() string {
			return fmt.Sprintf("seed %d, %s, weekly %v, exceptions %v: At(%v) = %s", seed, zone, weekly, exceptions, at.In(loc), describeStatus(got))
		}
		// Whatever the reference says, the change is a change.
		if !got.NextChangeAt.IsZero() {
			if !got.NextChangeAt.After(at) || s.At(got.NextChangeAt).Open == got.Open {
				t.Errorf("%s: no change at the next change", describe())
			}
		}
		if ref.repeated(at) {
			skipped++
			continue
		}
		open, reason := ref.at(at)
		if got.Open != open || got.Reason != reason {
			t.Errorf("%s, want open %v, %q", describe(), open, reason)
			continue
		}
		var want time.Time
		horizon := at.Add(10 * 24 * time.Hour)
		u := at.Truncate(time.Minute).Add(time.Minute)
		for ; u.Before(horizon); u = u.Add(time.Minute) {
			if ref.repeated(u) {
				break
			}
			if o, _ := ref.at(u); o != open {
				want = u
				break
			}
		}
		switch {
		case !want.IsZero():
			if !got.NextChangeAt.Equal(want) {
				t.Errorf("%s, want the next change at %v", describe(), want.In(loc))
			}
		case !u.Before(horizon):
			if !got.NextChangeAt.IsZero() && got.NextChangeAt.Before(horizon) {
				t.Errorf("%s, want no change for ten days", describe())
			}
		default:
			skipped++
			continue
		}
		checked++
	}
	return checked, skipped
}

func TestAtAgreesWithTheClock(t *testing.T) {
	seeds := 400
	if testing.Short() {
		seeds = 100
	}
	var checked, skipped int
	for seed := range uint64(seeds) {
		c, s := checkAgainstClock(t, seed)
		checked, skipped = checked+c, skipped+s
	}
	t.Logf("%d instants checked against the clock, %d skipped in repeated hours", checked, skipped)
	if checked < seeds*8*3/4 {
		t.Errorf("only %d of %d instants checked", checked, seeds*8)
	}
}

// FuzzAt checks random schedules against the clock, one per seed:
//
//	go test ./schedules -run '^$' -fuzz FuzzAt -fuzztime 30s
func FuzzAt(f *testing.F) {
	for _, seed := range []uint64{1, 2, 3, 1 << 40} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, seed uint64) { checkAgainstClock(t, seed) })
}

// benchSchedule is a Sydney centre open on weekdays and Saturday mornings,
// with ten years of public holidays.
func benchSchedule(tb testing.TB) *Schedule {
	var holidays []Exception
	for year := 2026; year < 2036; year++ {
		for _, md := range []string{"01-01", "01-26", "04-25", "06-08", "10-05", "12-24", "12-25", "12-26", "12-31"} {
			e := closed(fmt.Sprintf("%d-%s", year, md), "Public holiday")
			if md == "12-24" || md == "12-31" {
				e = special(e.Date, "Early close", "08:00", "12:00")
			}
			holidays = append(holidays, e)
		}
	}
	return compile(tb, sydney, append(days("08:00", "18:00", weekdays...), w("SATURDAY", "09:00", "13:00")), holidays...)
}

// BenchmarkAt asks the schedule at instants spread over a fortnight that
// includes Christmas, open and closed.
func BenchmarkAt(b *testing.B) {
	s := benchSchedule(b)
	start := local(b, "2026-12-18 00:00 +1100")
	var instants []time.Time
	for i := range 14 * 24 * 4 {
		instants = append(instants, start.Add(time.Duration(i)*15*time.Minute+7*time.Second))
	}
	b.ReportAllocs()
	var open int
	for i := 0; b.Loop(); i++ {
		if s.At(instants[i%len(instants)]).Open {
			open++
		}
	}
	_ = open
}

func TestAtDoesNotAllocate(t *testing.T) {
	s := benchSchedule(t)
	at := local(t, "2026-12-24 11:00 +1100")
	if n := testing.AllocsPerRun(100, func() { s.At(at) }); n != 0 {
		t.Errorf("At allocates %v times", n)
	}
}
