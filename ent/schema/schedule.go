package schema

import (
	"context"
	"errors"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"switchboard/apierror"
	"switchboard/schedules"
)

// Schedule is a contact centre's opening hours in its own time zone:
// weekly hours and dated exceptions (holidays, closures, special hours),
// which contact flows ask about through /flows and supervisors through
// scheduleStatus. The rules of the hours are package schedules'.
type Schedule struct {
	ent.Schema
}

// Mixin of Schedule.
func (Schedule) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("SH"), TenantMixin{}}
}

// Fields of Schedule.
func (Schedule) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(100),
		field.String("time_zone").NotEmpty().MaxLen(64),
		field.JSON("weekly_hours", []schedules.WeeklyHours{}).Default([]schedules.WeeklyHours{}).
			Annotations(entgql.Type("[WeeklyHours!]")),
		field.JSON("exceptions", []schedules.Exception{}).Default([]schedules.Exception{}).
			Annotations(entgql.Type("[ScheduleException!]")),
	}
}

// Indexes of Schedule: a name once in a tenant (flows ask by name).
func (Schedule) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "name").Unique()}
}

// Hooks of Schedule: what is stored compiles (schedules.Compile), or the
// write is BAD_USER_INPUT saying what is wrong.
func (Schedule) Hooks() []ent.Hook {
	type scheduleMutation interface {
		TimeZone() (string, bool)
		OldTimeZone(context.Context) (string, error)
		WeeklyHours() ([]schedules.WeeklyHours, bool)
		OldWeeklyHours(context.Context) ([]schedules.WeeklyHours, error)
		Exceptions() ([]schedules.Exception, bool)
		OldExceptions(context.Context) ([]schedules.Exception, error)
	}
	return []ent.Hook{
		func(next ent.Mutator) ent.Mutator {
			return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
				sm, ok := m.(scheduleMutation)
				if !ok || m.Op().Is(ent.OpDelete|ent.OpDeleteOne) {
					return next.Mutate(ctx, m)
				}
				zone, zok := sm.TimeZone()
				weekly, wok := sm.WeeklyHours()
				exceptions, eok := sm.Exceptions()
				if !zok && !wok && !eok {
					return next.Mutate(ctx, m)
				}
				if m.Op().Is(ent.OpUpdate) {
					return nil, errors.New("schedules are changed one at a time")
				}
				if m.Op().Is(ent.OpUpdateOne) {
					var err error
					if !zok {
						zone, err = sm.OldTimeZone(ctx)
					}
					if err == nil && !wok {
						weekly, err = sm.OldWeeklyHours(ctx)
					}
					if err == nil && !eok {
						exceptions, err = sm.OldExceptions(ctx)
					}
					if err != nil {
						return nil, err
					}
				}
				if _, err := schedules.Compile(zone, weekly, exceptions); err != nil {
					return nil, apierror.New(apierror.BadUserInput, "%s", err)
				}
				return next.Mutate(ctx, m)
			})
		},
	}
}

// Annotations of Schedule: its inputs are the schema's own
// (graph/schema/flows.graphqls), with typed hours.
func (Schedule) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput, entgql.SkipOrderField)}
}
