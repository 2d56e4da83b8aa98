package connectaws

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
)

// AgentStatusType is what an agent status means for routing.
type AgentStatusType string

// The types of agent status Amazon Connect knows.
const (
	// AgentStatusRoutable: contacts are routed to the agent ("Available").
	AgentStatusRoutable AgentStatusType = "ROUTABLE"
	// AgentStatusCustom: logged in, but no contacts are routed (e.g. "Break").
	AgentStatusCustom AgentStatusType = "CUSTOM"
	// AgentStatusOffline: the agent is offline.
	AgentStatusOffline AgentStatusType = "OFFLINE"
)

// AgentStatus is one of the statuses an instance's agents choose from.
type AgentStatus struct {
	ID   string
	ARN  string
	Name string
	Type AgentStatusType
	// State is ENABLED or DISABLED, and DisplayOrder the status's place
	// (1–50) in the agent's list. ListAgentStatuses does not return them, so
	// they are empty and 0 there.
	State        string
	DisplayOrder int
}

// maxPages bounds pagination, against a service that never stops answering
// with a next token. An instance has at most 50 agent statuses.
const maxPages = 1000

// PutUserStatus sets the agent status of a Connect user. If the agent is on
// a contact, Connect makes it the agent's next status instead.
func (c *Clients) PutUserStatus(ctx context.Context, inst Instance, userID, agentStatusID string) error {
	if userID == "" || agentStatusID == "" {
		return errors.New("connectaws: PutUserStatus needs a user ID and an agent status ID")
	}
	t, r, err := c.tenant(inst)
	if err != nil {
		return err
	}
	_, err = t.connect.PutUserStatus(ctx, &connect.PutUserStatusInput{
		InstanceId:    aws.String(r.id),
		UserId:        aws.String(userID),
		AgentStatusId: aws.String(agentStatusID),
	})
	return upstream("Connect", "PutUserStatus", err)
}

// ListAgentStatuses returns every agent status of the instance, enabled or
// not, following the API's pagination.
func (c *Clients) ListAgentStatuses(ctx context.Context, inst Instance) ([]AgentStatus, error) {
	t, r, err := c.tenant(inst)
	if err != nil {
		return nil, err
	}
	var out []AgentStatus
	p := connect.NewListAgentStatusesPaginator(t.connect, &connect.ListAgentStatusesInput{
		InstanceId: aws.String(r.id),
	}, func(o *connect.ListAgentStatusesPaginatorOptions) { o.StopOnDuplicateToken = true })
	for pages := 0; p.HasMorePages(); pages++ {
		if pages == maxPages {
			return nil, fmt.Errorf("connectaws: ListAgentStatuses: more than %d pages", maxPages)
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, upstream("Connect", "ListAgentStatuses", err)
		}
		for _, s := range page.AgentStatusSummaryList {
			out = append(out, AgentStatus{
				ID:   aws.ToString(s.Id),
				ARN:  aws.ToString(s.Arn),
				Name: aws.ToString(s.Name),
				Type: AgentStatusType(s.Type),
			})
		}
	}
	return out, nil
}
