package livestatus

import (
	"context"

	"switchboard/connectaws"
	"switchboard/ent"
	"switchboard/ent/schema/schematype"
)

// ConnectAWS is the Connect of the live status service on aws-sdk-go-v2:
// each tenant's instance is reached through its cross-account role.
type ConnectAWS struct {
	Clients *connectaws.Clients
}

// PutUserStatus implements Connect.
func (c ConnectAWS) PutUserStatus(ctx context.Context, inst *ent.Instance, userID, agentStatusID string) error {
	return c.Clients.PutUserStatus(ctx, connectaws.InstanceOf(inst), userID, agentStatusID)
}

// ListAgentStatuses implements Connect.
func (c ConnectAWS) ListAgentStatuses(ctx context.Context, inst *ent.Instance) ([]ConnectStatus, error) {
	listed, err := c.Clients.ListAgentStatuses(ctx, connectaws.InstanceOf(inst))
	if err != nil {
		return nil, err
	}
	out := make([]ConnectStatus, len(listed))
	for i, s := range listed {
		out[i] = ConnectStatus{
			ID: s.ID, ARN: s.ARN, Name: s.Name, Type: string(s.Type),
			Enabled: s.State != "DISABLED", DisplayOrder: s.DisplayOrder,
		}
	}
	return out, nil
}

// ConnectEventFrom turns an agent event of the stream into the status and
// the activity it reports; ok is false for an event without a current
// snapshot or of no Connect user. StatusStart is zero when the snapshot
// names no status.
func ConnectEventFrom(e connectaws.AgentEvent) (ConnectEvent, bool) {
	if e.Current == nil {
		return ConnectEvent{}, false
	}
	userID, err := connectaws.UserIDFromAgentARN(e.AgentARN)
	if err != nil {
		return ConnectEvent{}, false
	}
	cur := e.Current
	act := &ConnectActivity{At: e.EventTimestamp, Contacts: make([]schematype.ActivityContact, 0, len(cur.Contacts))}
	for _, c := range cur.Contacts {
		act.Contacts = append(act.Contacts, schematype.ActivityContact{
			ContactID: c.ContactID, InitialContactID: c.InitialContactID,
			Channel: c.Channel, State: c.State, Since: c.StateStartTimestamp,
		})
	}
	if n := cur.NextAgentStatus; n != nil {
		act.NextStatusARN, act.NextStatusName = n.ARN, n.Name
	}
	return ConnectEvent{
		EventID:     e.EventID,
		UserID:      userID,
		StatusARN:   cur.AgentStatus.ARN,
		StatusName:  cur.AgentStatus.Name,
		StatusStart: cur.AgentStatus.StartTimestamp,
		Activity:    act,
	}, true
}
