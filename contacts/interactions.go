package contacts

import (
	"context"
	"strings"
	"time"

	"switchboard/ent"
	"switchboard/ent/interaction"
	"switchboard/ent/schema"
	"switchboard/failure"
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
	v := viewer.FromContext(ctx)
	if !v.InTenant(viewer.RoleAgent) {
		return nil, failure.New(failure.Forbidden, "only a tenant's people record interactions")
	}
	agentID := v.AgentID
	if in.AgentID != nil {
		agentID = *in.AgentID
	}
	if agentID == "" {
		return nil, failure.New(failure.BadUserInput, "you have no agent record: name the agent with agentId")
	}
	if agentID != v.AgentID && !v.InTenant(viewer.RoleSupervisor) {
		return nil, failure.New(failure.Forbidden, "an agent records only its own interactions")
	}
	in.ContactID = strings.TrimSpace(in.ContactID)
	if in.ContactID == "" {
		return nil, failure.New(failure.BadUserInput, "contactId is required")
	}
	phone := ""
	if p := strings.TrimSpace(in.PhoneNumber); p != "" {
		var err error
		if phone, err = schema.NormalisePhone(p, region); err != nil {
			return nil, err
		}
	}
	if in.EndedAt != nil && in.EndedAt.Before(in.StartedAt) {
		return nil, failure.New(failure.BadUserInput, "endedAt is before startedAt")
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
