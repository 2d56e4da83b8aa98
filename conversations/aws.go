package conversations

import (
	"context"
	"errors"

	"switchboard/connectaws"
	"switchboard/ent"
)

// ConnectAWS is Chats on aws-sdk-go-v2, through the tenant's role.
type ConnectAWS struct {
	Clients *connectaws.Clients
}

func instance(inst *ent.Instance) connectaws.Instance {
	return connectaws.Instance{InstanceARN: inst.InstanceArn, Region: inst.Region, RoleARN: inst.RoleArn, ExternalID: inst.ExternalID}
}

// StartChatContact implements Chats.
func (c ConnectAWS) StartChatContact(ctx context.Context, inst *ent.Instance, req connectaws.ChatRequest) (connectaws.Chat, error) {
	return c.Clients.StartChatContact(ctx, instance(inst), req)
}

// StopContact implements Chats.
func (c ConnectAWS) StopContact(ctx context.Context, inst *ent.Instance, contactID string) error {
	return c.Clients.StopContact(ctx, instance(inst), contactID)
}

func asUpstream(err error, target **connectaws.UpstreamError) bool { return errors.As(err, target) }
