package contacts

import (
	"context"
	"strings"
	"time"

	"switchboard/apierror"
	"switchboard/contactpoint"
	"switchboard/ent"
	"switchboard/ent/interaction"
	"switchboard/gid"
	"switchboard/viewer"
)

// Interaction is an interaction to record.
type Interaction struct {
	ContactID      string // the Amazon Connect contact ID
	Channel        interaction.Channel
	PhoneNumber    string
	ConnectionType interaction.ConnectionType
	StartedAt      time.Time
	EndedAt        *time.Time
	AgentID        *gid.ID // nil: the viewer's own agent
}

// Record records an interaction, or updates the one with the same Connect
// contact ID. An agent records its own; supervisors and admins any agent's.
func Record(ctx context.Context, c *ent.Client, region string, in Interaction) (*ent.Interaction, error) {
	agentID, err := viewer.FromContext(ctx).ActingFor(in.AgentID, "record interactions")
	if err != nil {
		return nil, err
	}
	in.ContactID = strings.TrimSpace(in.ContactID)
	if in.ContactID == "" {
		return nil, apierror.New(apierror.BadUserInput, "contactId is required")
	}
	phone := ""
	if p := strings.TrimSpace(in.PhoneNumber); p != "" {
		var err error
		if phone, err = contactpoint.NormalisePhone(p, region); err != nil {
			return nil, err
		}
	}
	if in.EndedAt != nil && in.EndedAt.Before(in.StartedAt) {
		return nil, apierror.New(apierror.BadUserInput, "endedAt is before startedAt")
	}
	existing, err := c.Interaction.Query().Where(interaction.ContactID(in.ContactID)).Only(ctx)
	switch {
	case ent.IsNotFound(err):
		return c.Interaction.Create().
			SetAgentID(agentID).SetContactID(in.ContactID).SetChannel(in.Channel).
			SetPhoneNumber(phone).SetConnectionType(in.ConnectionType).
			SetStartedAt(in.StartedAt).SetNillableEndedAt(in.EndedAt).
			Save(ctx)
	case err != nil:
		return nil, err
	}
	return existing.Update().
		SetAgentID(agentID).SetChannel(in.Channel).SetPhoneNumber(phone).
		SetConnectionType(in.ConnectionType).SetStartedAt(in.StartedAt).SetNillableEndedAt(in.EndedAt).
		Save(ctx)
}
