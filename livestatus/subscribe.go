package livestatus

import (
	"context"

	"switchboard/apierror"
	"switchboard/gid"
	"switchboard/viewer"
)

// maxWatched bounds the agents one subscription names.
const maxWatched = 1000

// Subscribe returns the viewer's tenant's status changes, of the listed
// agents only when agentIDs is not empty, until ctx ends. Agents watch only
// themselves (omitting agentIDs means themselves); supervisors and admins
// watch anyone of the tenant. The tenant is fixed now, at subscribe time.
func (s *Service) Subscribe(ctx context.Context, agentIDs []gid.ID) (<-chan *Event, error) {
	tenant, agentIDs, err := watching(viewer.FromContext(ctx), agentIDs)
	if err != nil {
		return nil, err
	}
	sub := s.publisher.Broker.Subscribe(tenant, agentIDs, DefaultBuffer)
	context.AfterFunc(ctx, sub.Close)
	return sub.C(), nil
}

// watching says whose live changes v may watch when asking for agentIDs:
// the tenant, and the agents (none: all of them).
func watching(v *viewer.Viewer, agentIDs []gid.ID) (gid.ID, []gid.ID, error) {
	if !v.InTenant(viewer.RoleAgent) {
		return "", nil, apierror.New(apierror.Forbidden, "only a tenant's people watch agents")
	}
	if len(agentIDs) > maxWatched {
		return "", nil, apierror.New(apierror.BadUserInput, "at most %d agents at a time", maxWatched)
	}
	if !v.InTenant(viewer.RoleSupervisor) {
		if v.AgentID == "" {
			return "", nil, apierror.New(apierror.Forbidden, "you have no agent record to watch")
		}
		for _, id := range agentIDs {
			if id != v.AgentID {
				return "", nil, apierror.New(apierror.Forbidden, "an agent watches only itself")
			}
		}
		agentIDs = []gid.ID{v.AgentID}
	}
	return v.TenantID, agentIDs, nil
}
