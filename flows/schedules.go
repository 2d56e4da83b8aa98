package flows

import (
	"context"
	"strings"
	"time"

	"switchboard/apierror"
	"switchboard/ent"
	"switchboard/ent/schedule"
	"switchboard/gid"
	"switchboard/schedules"
)

// Hours is a schedule as an admin writes it: every field replaces what was
// there (the Schedule schema checks it compiles).
type Hours struct {
	Name        string
	TimeZone    string
	WeeklyHours []schedules.WeeklyHours
	Exceptions  []schedules.Exception
}

func (h *Hours) normalise() {
	h.Name, h.TimeZone = strings.TrimSpace(h.Name), strings.TrimSpace(h.TimeZone)
	if h.WeeklyHours == nil {
		h.WeeklyHours = []schedules.WeeklyHours{}
	}
	if h.Exceptions == nil {
		h.Exceptions = []schedules.Exception{}
	}
}

// Schedules returns the tenant's schedules by name.
func Schedules(ctx context.Context, c *ent.Client) ([]*ent.Schedule, error) {
	return c.Schedule.Query().Order(schedule.ByName()).All(ctx)
}

// CreateSchedule stores a new schedule.
func CreateSchedule(ctx context.Context, c *ent.Client, h Hours) (*ent.Schedule, error) {
	h.normalise()
	s, err := c.Schedule.Create().
		SetName(h.Name).SetTimeZone(h.TimeZone).SetWeeklyHours(h.WeeklyHours).SetExceptions(h.Exceptions).
		Save(ctx)
	return s, nameTaken(err)
}

// UpdateSchedule replaces the schedule id.
func UpdateSchedule(ctx context.Context, c *ent.Client, id gid.ID, h Hours) (*ent.Schedule, error) {
	h.normalise()
	s, err := c.Schedule.UpdateOneID(id).
		SetName(h.Name).SetTimeZone(h.TimeZone).SetWeeklyHours(h.WeeklyHours).SetExceptions(h.Exceptions).
		Save(ctx)
	if ent.IsNotFound(err) {
		return nil, apierror.New(apierror.NotFound, "no such schedule")
	}
	return s, nameTaken(err)
}

func nameTaken(err error) error {
	if ent.IsConstraintError(err) {
		return apierror.New(apierror.Conflict, "the tenant has a schedule of that name already")
	}
	return err
}

// DeleteSchedule deletes the schedule id.
func DeleteSchedule(ctx context.Context, c *ent.Client, id gid.ID) error {
	err := c.Schedule.DeleteOneID(id).Exec(ctx)
	if ent.IsNotFound(err) {
		return apierror.New(apierror.NotFound, "no such schedule")
	}
	return err
}

// StatusOf answers whether s is open at at, why, and when that changes.
func StatusOf(s *ent.Schedule, at time.Time) (schedules.Status, error) {
	compiled, err := schedules.Compile(s.TimeZone, s.WeeklyHours, s.Exceptions)
	if err != nil {
		// Stored schedules compile (the schema checks them); a time zone
		// the tz database has since dropped would land here.
		return schedules.Status{}, apierror.New(apierror.Internal, "schedule %q no longer compiles: %s", s.Name, err)
	}
	return compiled.At(at), nil
}

// Status answers for the tenant's schedule id at at.
func Status(ctx context.Context, c *ent.Client, id gid.ID, at time.Time) (schedules.Status, error) {
	s, err := c.Schedule.Get(ctx, id)
	if ent.IsNotFound(err) {
		return schedules.Status{}, apierror.New(apierror.NotFound, "no such schedule")
	}
	if err != nil {
		return schedules.Status{}, err
	}
	return StatusOf(s, at)
}
