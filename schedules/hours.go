// Package schedules holds a contact centre's opening hours — weekly hours and
// dated exceptions, in the centre's own time zone — and answers what a contact
// flow asks while a caller waits: is the centre open now, why, and when does
// that next change.
//
// # Local time
//
// Hours are wall-clock times of the schedule's time zone, taken from the tz
// database (the system's, or the copy built into the binary), and each local
// calendar date runs from its 00:00 to its 24:00.
// When daylight saving moves the clocks, a wall-clock time stands for the
// earliest instant at which the local clock reads that time or later:
//
//   - a time the clocks skip (02:30 on a day they jump from 02:00 to 03:00)
//     stands for the instant they jump, 03:00 local; hours wholly inside the
//     skipped hour do not happen that day;
//   - a time the clocks show twice (01:30 on a day they go back from 02:00 to
//     01:00) stands for its first occurrence. During the repeated hour the
//     centre stays as it was when the clocks went back, until the local time
//     passes the end of the repeated hour again. Where the clocks go back
//     across midnight (00:01 to 23:01), the new date has begun at its first
//     midnight and the repeated minutes belong to it.
//
// So a date at a transition is 23 or 25 hours long, and a schedule open
// 00:00 to 24:00 that day is open for 23 or 25 hours.
//
// # Exceptions
//
// An exception governs its whole local date: the weekly hours do not apply on
// it, including the part after midnight of the previous day's range that runs
// past midnight. An exception does not reach into the next date: a range of
// the weekly hours that runs past midnight from the day before a holiday ends
// at midnight, and one that runs past midnight into the day after a holiday
// still opens that day at 00:00.
package schedules

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the tz database, for systems without one
	"unicode/utf8"
)

// WeeklyHours is one range of the opening hours that repeat every week. Day
// is MONDAY to SUNDAY, in capitals; Opens and Closes are local times
// "HH:MM". Closes "24:00" (or "00:00") is midnight at the end of the day,
// and a Closes earlier than Opens runs past midnight into the next day.
type WeeklyHours struct {
	Day    string `json:"day"`
	Opens  string `json:"opens"`
	Closes string `json:"closes"`
}

// Exception replaces the weekly hours on one local date ("YYYY-MM-DD"): the
// centre is closed all day (Closed), or open only from Opens to Closes that
// day (Closes after Opens, or "24:00"). Name is what callers are told, such
// as "Christmas Day".
type Exception struct {
	Date   string `json:"date"`
	Name   string `json:"name"`
	Closed bool   `json:"closed"`
	Opens  string `json:"opens,omitempty"`
	Closes string `json:"closes,omitempty"`
}

// The reasons At gives when no exception governs the date. On an exception's
// date the reason, open or closed, is the exception's name.
const (
	ReasonOpeningHours        = "opening hours"
	ReasonOutsideOpeningHours = "outside opening hours"
)

// The most a schedule may hold.
const (
	MaxWeeklyHours = 50  // ranges of weekly hours
	MaxExceptions  = 500 // exceptions
	MaxNameLength  = 100 // characters in an exception's name
)

// InvalidError says what is wrong with the input to Compile and where: Field
// is the input's path, such as "weeklyHours[2]" or "timeZone".
type InvalidError struct {
	Field   string
	Message string
}

func (e *InvalidError) Error() string { return e.Field + ": " + e.Message }

// Status is whether the centre is open at an instant and why.
type Status struct {
	Open bool
	// Reason is ReasonOpeningHours or ReasonOutsideOpeningHours, or on an
	// exception's date the exception's name.
	Reason string
	// NextChangeAt is the first instant after the one asked about at which
	// Open is different, in the schedule's time zone; the zero time if Open
	// never changes. Open ranges that meet (22:00 to 24:00 then 00:00 to
	// 02:00 the next day) are one stretch, and a change of Reason alone
	// (closed for the night, then closed for a holiday) is not a change.
	NextChangeAt time.Time
}

// Schedule is a compiled set of opening hours. It is safe for concurrent use.
type Schedule struct {
	loc *time.Location
	// weekly holds each weekday's open spans, Monday first: the day's own
	// ranges and the previous day's past-midnight part, sorted and with
	// spans that meet merged.
	weekly [7][]span
	// never and always are whether weekly is closed, or open, all week.
	never, always bool
	exceptions    []exception // by date
}

// span is an open range of a local date in minutes from its start:
// 0 ≤ opens < closes ≤ 1440.
type span struct{ opens, closes int16 }

type exception struct {
	day   int64 // days since 1970-01-01
	name  string
	hours []span // none: closed all day
}

const minutesPerDay = 24 * 60

var dayNames = [7]string{"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"}

// Compile checks a schedule's time zone (an IANA name such as
// "Australia/Sydney"), weekly hours and exceptions, and returns the schedule.
// An error is an *InvalidError naming the first thing wrong.
func Compile(timeZone string, weekly []WeeklyHours, exceptions []Exception) (*Schedule, error) {
	loc, err := loadZone(timeZone)
	if err != nil {
		return nil, err
	}
	return compileIn(loc, weekly, exceptions)
}

func loadZone(name string) (*time.Location, error) {
	switch name {
	case "":
		return nil, invalid("timeZone", "missing; give an IANA time zone such as Australia/Sydney")
	case "Local":
		return nil, invalid("timeZone", `"Local" is not an IANA time zone`)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, invalid("timeZone", "unknown time zone "+echo(name))
	}
	return loc, nil
}

func compileIn(loc *time.Location, weekly []WeeklyHours, exceptions []Exception) (*Schedule, error) {
	s := &Schedule{loc: loc}
	if err := s.setWeekly(weekly); err != nil {
		return nil, err
	}
	if err := s.setExceptions(exceptions); err != nil {
		return nil, err
	}
	return s, nil
}

// weekRange is a range of weekly hours in minutes from the start of its day;
// closes is past minutesPerDay when the range runs past midnight.
type weekRange struct{ day, opens, closes int }

func (s *Schedule) setWeekly(weekly []WeeklyHours) error {
	if len(weekly) > MaxWeeklyHours {
		return invalid("weeklyHours", fmt.Sprintf("%d ranges; at most %d", len(weekly), MaxWeeklyHours))
	}
	ranges := make([]weekRange, len(weekly))
	for i, w := range weekly {
		field := fmt.Sprintf("weeklyHours[%d]", i)
		day := slices.Index(dayNames[:], w.Day)
		if day < 0 {
			return invalid(field, "day "+echo(w.Day)+" is not one of MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY")
		}
		opens, closes, err := parseHours(w.Opens, w.Closes)
		if err != "" {
			return invalid(field, err)
		}
		if closes < opens {
			closes += minutesPerDay
		}
		ranges[i] = weekRange{day, opens, closes}
	}
	for i, a := range ranges {
		for j, b := range ranges[:i] {
			if a.overlaps(b) {
				return invalid(fmt.Sprintf("weeklyHours[%d]", i), fmt.Sprintf("%s overlaps weeklyHours[%d] (%s)", weekly[i].describe(a), j, weekly[j].describe(b)))
			}
		}
	}
	for _, r := range ranges {
		if r.closes <= minutesPerDay {
			s.weekly[r.day] = append(s.weekly[r.day], span{int16(r.opens), int16(r.closes)})
			continue
		}
		next := (r.day + 1) % 7
		s.weekly[r.day] = append(s.weekly[r.day], span{int16(r.opens), minutesPerDay})
		s.weekly[next] = append(s.weekly[next], span{0, int16(r.closes - minutesPerDay)})
	}
	s.never, s.always = true, true
	for d, spans := range s.weekly {
		slices.SortFunc(spans, func(a, b span) int { return int(a.opens) - int(b.opens) })
		merged := spans[:0]
		for _, sp := range spans {
			if n := len(merged); n > 0 && merged[n-1].closes == sp.opens {
				merged[n-1].closes = sp.closes
				continue
			}
			merged = append(merged, sp)
		}
		s.weekly[d] = slices.Clip(merged)
		s.never = s.never && len(merged) == 0
		s.always = s.always && len(merged) == 1 && merged[0] == span{0, minutesPerDay}
	}
	return nil
}

// overlaps reports whether two ranges share a minute of the week, counting
// Sunday's past-midnight part as Monday morning.
func (r weekRange) overlaps(o weekRange) bool {
	const week = 7 * minutesPerDay
	a1, a2 := r.day*minutesPerDay+r.opens, r.day*minutesPerDay+r.closes
	b1, b2 := o.day*minutesPerDay+o.opens, o.day*minutesPerDay+o.closes
	for _, shift := range []int{-week, 0, week} {
		if a1 < b2+shift && b1+shift < a2 {
			return true
		}
	}
	return false
}

// describe is how an error message names a range: "MONDAY 09:00 to 17:00",
// or "MONDAY 22:00 to TUESDAY 02:00" past midnight.
func (w WeeklyHours) describe(r weekRange) string {
	if r.closes > minutesPerDay || w.Closes == "00:00" {
		return fmt.Sprintf("%s %s to %s %s", w.Day, w.Opens, dayNames[(r.day+1)%7], w.Closes)
	}
	return fmt.Sprintf("%s %s to %s", w.Day, w.Opens, w.Closes)
}

func (s *Schedule) setExceptions(exceptions []Exception) error {
	if len(exceptions) > MaxExceptions {
		return invalid("exceptions", fmt.Sprintf("%d exceptions; at most %d", len(exceptions), MaxExceptions))
	}
	s.exceptions = make([]exception, 0, len(exceptions))
	seen := make(map[int64]int, len(exceptions))
	for i, e := range exceptions {
		field := fmt.Sprintf("exceptions[%d]", i)
		day, ok := parseDate(e.Date)
		if !ok {
			return invalid(field, "date "+echo(e.Date)+" is not a date (YYYY-MM-DD)")
		}
		if j, dup := seen[day]; dup {
			return invalid(field, fmt.Sprintf("date %s is already exceptions[%d]", e.Date, j))
		}
		seen[day] = i
		switch n := utf8.RuneCountInString(e.Name); {
		case strings.TrimSpace(e.Name) == "":
			return invalid(field, "name is missing")
		case !utf8.ValidString(e.Name):
			return invalid(field, "name is not valid UTF-8")
		case n > MaxNameLength:
			return invalid(field, fmt.Sprintf("name is %d characters; at most %d", n, MaxNameLength))
		}
		x := exception{day: day, name: e.Name}
		if e.Closed {
			if e.Opens != "" || e.Closes != "" {
				return invalid(field, "a day closed all day has no opens or closes")
			}
		} else {
			if e.Opens == "" || e.Closes == "" {
				return invalid(field, "special hours need opens and closes (or closed: true for a day closed all day)")
			}
			opens, closes, err := parseHours(e.Opens, e.Closes)
			if err != "" {
				return invalid(field, err)
			}
			if closes < opens {
				return invalid(field, fmt.Sprintf("closes %s is before opens %s; special hours stay within their day (24:00 is its midnight)", e.Closes, e.Opens))
			}
			x.hours = []span{{int16(opens), int16(closes)}}
		}
		s.exceptions = append(s.exceptions, x)
	}
	slices.SortFunc(s.exceptions, func(a, b exception) int { return int(a.day - b.day) })
	return nil
}

// parseHours parses a range's opens and closes, in minutes from the start of
// the day, or says what is wrong with them.
func parseHours(opensText, closesText string) (opens, closes int, problem string) {
	opens, ok := parseClock(opensText)
	if !ok {
		return 0, 0, "opens " + echo(opensText) + " is not a time of day (HH:MM)"
	}
	if opens == minutesPerDay {
		return 0, 0, "opens 24:00 is not a time of day (HH:MM); 24:00 is only a closing time"
	}
	if closes, ok = parseClock(closesText); !ok {
		return 0, 0, "closes " + echo(closesText) + " is not a time of day (HH:MM)"
	}
	if closes == opens {
		return 0, 0, fmt.Sprintf("opens and closes are both %s; a whole day is 00:00 to 24:00", opensText)
	}
	return opens, closes, ""
}

// parseClock parses "HH:MM" (00:00 to 23:59, or 24:00) into minutes from
// the start of the day.
func parseClock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if m > 59 || h > 24 || h == 24 && m != 0 {
		return 0, false
	}
	return h*60 + m, true
}

// parseDate parses "YYYY-MM-DD" into days since 1970-01-01.
func parseDate(s string) (int64, bool) {
	if len(s) != len(time.DateOnly) {
		return 0, false
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, false
	}
	return floorDiv(t.Unix(), 86400), true
}

// echo quotes input for an error message unless it is short and plain.
func echo(v string) string {
	plain := len(v) > 0 && len(v) <= 32
	for i := 0; plain && i < len(v); i++ {
		plain = v[i] > ' ' && v[i] < 0x7f && v[i] != '"'
	}
	if plain {
		return v
	}
	if len(v) > 32 {
		v = v[:32] + "…"
	}
	return strconv.Quote(v)
}

func invalid(field, message string) *InvalidError {
	return &InvalidError{Field: field, Message: message}
}

// At returns whether the centre is open at t, why, and when that next
// changes, looking as far ahead as it takes.
func (s *Schedule) At(t time.Time) Status {
	day, end := s.dateOf(t)
	spans, ex := s.hours(day)
	openReason, closedReason := ReasonOpeningHours, ReasonOutsideOpeningHours
	if ex != nil {
		openReason, closedReason = ex.name, ex.name
	}
	for i, sp := range spans {
		closes := end
		if sp.closes < minutesPerDay {
			closes = s.instant(day, sp.closes)
		}
		if !t.Before(closes) {
			continue
		}
		opens := s.instant(day, sp.opens)
		if !opens.After(t) {
			return Status{Open: true, Reason: openReason, NextChangeAt: s.closing(day, spans[i+1:], closes, end)}
		}
		if opens.Before(closes) { // else the span is in a skipped hour
			return Status{Reason: closedReason, NextChangeAt: opens}
		}
	}
	return Status{Reason: closedReason, NextChangeAt: s.opening(day + 1)}
}

// dateOf returns the local date that t falls in, and the instant that date
// ends.
func (s *Schedule) dateOf(t time.Time) (day int64, end time.Time) {
	_, offset := t.In(s.loc).Zone()
	day = floorDiv(t.Unix()+int64(offset), 86400)
	end = s.instant(day+1, 0)
	if !t.Before(end) {
		// The clocks went back across midnight and the next date began at
		// its first midnight: the repeated hour belongs to it.
		day++
		end = s.instant(day+1, 0)
	}
	return day, end
}

// closing returns when an open stretch that lasts until cover on date day
// (which ends at end) closes; rest are the spans of the day after the one
// that closes at cover.
func (s *Schedule) closing(day int64, rest []span, cover, end time.Time) time.Time {
	limit := s.horizon(day)
	for {
		for _, sp := range rest {
			if s.instant(day, sp.opens).After(cover) {
				return cover
			}
			if closes := s.instant(day, sp.closes); closes.After(cover) {
				cover = closes
			}
		}
		if cover.Before(end) {
			return cover
		}
		// Open at the start of the next date.
		day++
		var ex *exception
		if rest, ex = s.hours(day); ex == nil && s.always {
			i := s.exceptionFrom(day)
			if i == len(s.exceptions) {
				return time.Time{}
			}
			day, rest = s.exceptions[i].day, s.exceptions[i].hours
			cover = s.instant(day, 0)
		}
		if day > limit {
			return time.Time{}
		}
		end = s.instant(day+1, 0)
	}
}

// opening returns when the centre, closed at the start of date day, opens.
func (s *Schedule) opening(day int64) time.Time {
	for limit := s.horizon(day); day <= limit; day++ {
		spans, ex := s.hours(day)
		if ex == nil && s.never {
			i := s.exceptionFrom(day)
			if i == len(s.exceptions) {
				return time.Time{}
			}
			day, spans = s.exceptions[i].day, s.exceptions[i].hours
		}
		for _, sp := range spans {
			if opens := s.instant(day, sp.opens); opens.Before(s.instant(day, sp.closes)) {
				return opens
			}
		}
	}
	return time.Time{}
}

// horizon is the last date to look at for a change after date day: past the
// last exception, weekly hours that are neither always open nor never open
// change within two weeks (one week, and one more in case daylight saving
// swallows the change that week).
func (s *Schedule) horizon(day int64) int64 {
	if n := len(s.exceptions); n > 0 {
		day = max(day, s.exceptions[n-1].day)
	}
	return day + 21
}

// hours returns the open spans of a date, and the exception that governs it
// if any.
func (s *Schedule) hours(day int64) ([]span, *exception) {
	if i := s.exceptionFrom(day); i < len(s.exceptions) && s.exceptions[i].day == day {
		return s.exceptions[i].hours, &s.exceptions[i]
	}
	return s.weekly[floorMod(day+3, 7)], nil // 1970-01-01 was a Thursday
}

// exceptionFrom returns the index of the first exception on or after date day.
func (s *Schedule) exceptionFrom(day int64) int {
	lo, hi := 0, len(s.exceptions)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if s.exceptions[mid].day < day {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// instant returns the earliest instant at which the local clock reads minute
// (0 to 1440) of date day, or a later time: the time's first occurrence if
// the clocks show it twice, the instant the clocks jump if they skip it.
func (s *Schedule) instant(day int64, minute int16) time.Time {
	wall := day*86400 + int64(minute)*60 // the local clock's reading, counted as if it were UTC
	t := time.Date(1970, time.January, 1+int(day), 0, int(minute), 0, 0, s.loc)
	_, offset := t.Zone()
	switch got := t.Unix() + int64(offset); {
	case got < wall: // skipped; t is before the jump
		if _, end := t.ZoneBounds(); !end.IsZero() {
			return end
		}
	case got > wall: // skipped; t is after the jump
		if start, _ := t.ZoneBounds(); !start.IsZero() {
			return start
		}
	default:
		// If the clocks went back shortly before t, the time may have
		// occurred first before they did.
		start, _ := t.ZoneBounds()
		if start.IsZero() || t.Sub(start) >= 24*time.Hour {
			return t
		}
		_, before := start.Add(-time.Second).Zone()
		if first := wall - int64(before); before > offset && first < start.Unix() {
			return time.Unix(first, 0).In(s.loc)
		}
	}
	return t
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }
