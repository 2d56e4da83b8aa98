package livestatus

import (
	"context"
	"fmt"

	"switchboard/apierror"
	"switchboard/ent"
	"switchboard/ent/agentstatus"
	"switchboard/instances"
)

// ConnectStatus is an agent status as Amazon Connect lists it.
type ConnectStatus struct {
	ID, ARN, Name, Type string // Type: ROUTABLE, CUSTOM or OFFLINE
	Enabled             bool
	DisplayOrder        int
}

// ImportStatuses brings the instance's agent statuses in: a status of the
// same name is mapped to Connect's, a new one is created.
func (s *Service) ImportStatuses(ctx context.Context, c *ent.Client) ([]*ent.AgentStatus, error) {
	lister := s.connect
	if lister == nil {
		return nil, apierror.New(apierror.BadUserInput, "this server does not reach Amazon Connect")
	}
	inst, err := instances.Get(ctx, c)
	if err != nil {
		return nil, err
	}
	listed, err := lister.ListAgentStatuses(ctx, inst)
	if err != nil {
		return nil, apierror.Wrap(apierror.Upstream, err, "Amazon Connect did not list the agent statuses")
	}
	// Written after Connect answered, in a transaction of their own: all
	// the statuses or none, and none held open while Connect is asked.
	var out []*ent.AgentStatus
	err = s.inTx(ctx, func(ctx context.Context, c *ent.Client, _ *ent.Tx) error {
		out = make([]*ent.AgentStatus, 0, len(listed))
		for i, cs := range listed {
			typ := agentstatus.Type(cs.Type)
			if err := agentstatus.TypeValidator(typ); err != nil {
				return fmt.Errorf("livestatus: Connect status %q has type %q", cs.Name, cs.Type)
			}
			order := cs.DisplayOrder
			if order < 1 || order > 50 {
				order = min(i+1, 50)
			}
			existing, err := c.AgentStatus.Query().Where(agentstatus.Name(cs.Name)).Only(ctx)
			var st *ent.AgentStatus
			switch {
			case ent.IsNotFound(err):
				st, err = c.AgentStatus.Create().SetName(cs.Name).SetType(typ).SetDisplayOrder(order).
					SetEnabled(cs.Enabled).SetConnectStatusID(cs.ID).SetConnectStatusArn(cs.ARN).Save(ctx)
			case err == nil:
				st, err = existing.Update().SetType(typ).SetEnabled(cs.Enabled).
					SetConnectStatusID(cs.ID).SetConnectStatusArn(cs.ARN).Save(ctx)
			}
			if err != nil {
				return err
			}
			out = append(out, st)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
