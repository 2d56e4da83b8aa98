package schema

import (
	"context"

	"entgo.io/ent"

	"switchboard/apierror"
	gen "switchboard/ent"
	"switchboard/ent/hook"
	"switchboard/ent/template"
	"switchboard/templates"
)

// Hooks of Template: a chat template's rich text is sanitised before it is
// stored, whichever path stores it, so no stored body holds a script.
func (Template) Hooks() []ent.Hook {
	return []ent.Hook{
		hook.On(func(next ent.Mutator) ent.Mutator {
			return hook.TemplateFunc(func(ctx context.Context, m *gen.TemplateMutation) (ent.Value, error) {
				body, ok := m.Body()
				if !ok {
					return next.Mutate(ctx, m)
				}
				channel, set := m.Channel()
				switch {
				case set:
				case m.Op().Is(ent.OpUpdateOne):
					old, err := m.OldChannel(ctx)
					if err != nil {
						return nil, err
					}
					channel = old
				default:
					return nil, apierror.New(apierror.BadUserInput, "update templates one at a time")
				}
				if channel == template.ChannelCHAT {
					m.SetBody(templates.Sanitize(body))
				}
				return next.Mutate(ctx, m)
			})
		}, ent.OpCreate|ent.OpUpdate|ent.OpUpdateOne),
	}
}
