package livestatus

import (
	"context"

	"switchboard/connectaws"
	"switchboard/ent"
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

// ConnectEventFrom turns an agent event of the stream into the status it
// reports; ok is false for an event that names no status.
func ConnectEventFrom(e connectaws.AgentEvent) (ConnectEvent, bool) {
	if e.Current == nil || e.Current.AgentStatus.StartTimestamp.IsZero() {
		return ConnectEvent{}, false
	}
	userID, err := connectaws.UserIDFromAgentARN(e.AgentARN)
	if err != nil {
		return ConnectEvent{}, false
	}
	return ConnectEvent{
		EventID:     e.EventID,
		UserID:      userID,
		StatusARN:   e.Current.AgentStatus.ARN,
		StatusName:  e.Current.AgentStatus.Name,
		StatusStart: e.Current.AgentStatus.StartTimestamp,
	}, true
}
