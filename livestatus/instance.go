package livestatus

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"

	"switchboard/apierror"
	"switchboard/ent"
	"switchboard/ent/agentstatus"
	"switchboard/ent/instance"
)

// InstanceConfig is how a tenant reaches its Amazon Connect instance.
type InstanceConfig struct {
	InstanceARN, Alias, Region, RoleARN, ExternalID, ChatContactFlowID string
	Modules                                                            []string
}

// ConfigureInstance creates or replaces the tenant's instance settings.
func ConfigureInstance(ctx context.Context, c *ent.Client, in InstanceConfig) (*ent.Instance, error) {
	if parts := strings.Split(in.InstanceARN, ":"); len(parts) > 3 && parts[3] != in.Region {
		return nil, apierror.New(apierror.BadUserInput, "the instance ARN's region is %q, not %q", parts[3], in.Region)
	}
	existing, err := c.Instance.Query().Only(ctx)
	switch {
	case ent.IsNotFound(err):
		return c.Instance.Create().
			SetInstanceArn(in.InstanceARN).SetAlias(in.Alias).SetRegion(in.Region).
			SetRoleArn(in.RoleARN).SetExternalID(in.ExternalID).SetChatContactFlowID(in.ChatContactFlowID).
			SetModules(in.Modules).
			Save(ctx)
	case err != nil:
		return nil, err
	}
	return existing.Update().
		SetInstanceArn(in.InstanceARN).SetAlias(in.Alias).SetRegion(in.Region).
		SetRoleArn(in.RoleARN).SetExternalID(in.ExternalID).SetChatContactFlowID(in.ChatContactFlowID).
		SetModules(in.Modules).
		Save(ctx)
}

// RotateAgentEventKey gives the tenant's instance a new key for the agent
// event stream's delivery and returns it; only its hash is kept.
func RotateAgentEventKey(ctx context.Context, c *ent.Client) (string, error) {
	inst, err := c.Instance.Query().Only(ctx)
	if ent.IsNotFound(err) {
		return "", apierror.New(apierror.BadUserInput, "configure the Amazon Connect instance first")
	}
	if err != nil {
		return "", err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	key := "sbe_" + base64.RawURLEncoding.EncodeToString(b)
	if err := inst.Update().SetAgentEventKeyHash(hashKey(key)).Exec(ctx); err != nil {
		return "", err
	}
	return key, nil
}

func hashKey(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}

func instanceForKeyHash(ctx context.Context, c *ent.Client, hash []byte) (*ent.Instance, error) {
	return c.Instance.Query().Where(instance.AgentEventKeyHash(hash)).WithTenant().Only(ctx)
}

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
	inst, err := c.Instance.Query().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apierror.New(apierror.BadUserInput, "configure the Amazon Connect instance first")
	}
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
