package conversations

import (
	"context"

	"switchboard/connectaws"
	"switchboard/ent"
)

// ConnectAWS is Chats on aws-sdk-go-v2, through the tenant's role.
type ConnectAWS struct {
	Clients *connectaws.Clients
}

// StartChatContact implements Chats.
func (c ConnectAWS) StartChatContact(ctx context.Context, inst *ent.Instance, req connectaws.ChatRequest) (connectaws.Chat, error) {
	return c.Clients.StartChatContact(ctx, connectaws.InstanceOf(inst), req)
}

// StopContact implements Chats.
func (c ConnectAWS) StopContact(ctx context.Context, inst *ent.Instance, contactID string) error {
	return c.Clients.StopContact(ctx, connectaws.InstanceOf(inst), contactID)
}
