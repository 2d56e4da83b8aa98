// Package conversations ties external conversations (SMS, WhatsApp, web
// chat, ...) to the Amazon Connect chat contacts that carry them. It keeps
// the relationship only: message text goes to Connect and never to the store.
package conversations

import (
	"context"
	"strings"
	"time"

	"switchboard/apierror"
	"switchboard/connectaws"
	"switchboard/ent"
	"switchboard/ent/conversation"
	"switchboard/ent/schema"
	"switchboard/gid"
	"switchboard/instances"
	"switchboard/viewer"
)

// Chats is what the service asks of a tenant's Amazon Connect instance.
type Chats interface {
	StartChatContact(ctx context.Context, inst *ent.Instance, req connectaws.ChatRequest) (connectaws.Chat, error)
	StopContact(ctx context.Context, inst *ent.Instance, contactID string) error
}

// Service starts and ends conversations.
type Service struct {
	chats Chats // nil: this server reaches no Connect instance
	now   func() time.Time
}

// New returns the service.
func New(chats Chats) *Service { return &Service{chats: chats, now: time.Now} }

// Start is a conversation to start.
type Start struct {
	Channel     conversation.Channel
	ExternalID  string // the party's number or id on the channel
	Participant string // a display name for the party
	// InitialMessage is the party's first message, handed to Connect only.
	InitialMessage string
	AgentID        *gid.ID // nil: the viewer's own agent
}

// StartConversation starts a chat contact in the tenant's instance for an
// external party, or returns the conversation already active with it.
func (s *Service) StartConversation(ctx context.Context, c *ent.Client, in Start) (*ent.Conversation, error) {
	agentID, err := viewer.FromContext(ctx).ActingFor(in.AgentID, "hold conversations")
	if err != nil {
		return nil, err
	}
	in.ExternalID = strings.TrimSpace(in.ExternalID)
	if in.ExternalID == "" || len(in.ExternalID) > 256 {
		return nil, apierror.New(apierror.BadUserInput, "externalId is required (at most 256 characters)")
	}
	if active, err := s.active(ctx, c, in.Channel, in.ExternalID); err != nil || active != nil {
		return active, err
	}
	// Issue 9 (perms): read on the viewer's behalf, which the Instance policy allows only under schema.ReadInstance.
	inst, err := instances.Find(schema.ReadInstance(ctx), c)
	if err != nil {
		return nil, err
	}
	if inst == nil || inst.ChatContactFlowID == "" {
		return nil, apierror.New(apierror.BadUserInput, "configure the Amazon Connect instance and its chat contact flow first")
	}
	if s.chats == nil {
		return nil, apierror.New(apierror.BadUserInput, "this server does not reach Amazon Connect")
	}
	id := gid.New("CV")
	participant := strings.TrimSpace(in.Participant)
	if participant == "" {
		participant = in.ExternalID
	}
	chat, err := s.chats.StartChatContact(ctx, inst, connectaws.ChatRequest{
		ContactFlowID:  inst.ChatContactFlowID,
		DisplayName:    participant,
		Attributes:     map[string]string{"switchboardConversationId": string(id), "channel": string(in.Channel), "externalId": in.ExternalID},
		ClientToken:    string(id),
		InitialMessage: in.InitialMessage,
	})
	if err != nil {
		return nil, apierror.Wrap(apierror.Upstream, err, "Amazon Connect did not start the chat")
	}
	conv, err := c.Conversation.Create().
		SetID(id).SetAgentID(agentID).SetChannel(in.Channel).SetExternalID(in.ExternalID).SetActiveExternalID(in.ExternalID).
		SetParticipant(participant).SetConnectContactID(chat.ContactID).SetStartedAt(s.now()).
		Save(ctx)
	if err != nil {
		// Recorded nothing: end the chat Connect started for it.
		_ = s.chats.StopContact(context.WithoutCancel(ctx), inst, chat.ContactID)
		if ent.IsConstraintError(err) {
			if active, aerr := s.active(ctx, c, in.Channel, in.ExternalID); aerr == nil && active != nil {
				return active, nil
			}
			return nil, apierror.New(apierror.Conflict, "a conversation with this party is already active with another agent")
		}
		return nil, err
	}
	return conv, nil
}

func (s *Service) active(ctx context.Context, c *ent.Client, ch conversation.Channel, externalID string) (*ent.Conversation, error) {
	conv, err := c.Conversation.Query().
		Where(conversation.ChannelEQ(ch), conversation.ExternalID(externalID), conversation.StatusEQ(conversation.StatusACTIVE)).
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return conv, err
}

// EndConversation ends the conversation and its Connect contact.
func (s *Service) EndConversation(ctx context.Context, c *ent.Client, id gid.ID) (*ent.Conversation, error) {
	conv, err := c.Conversation.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if conv.Status == conversation.StatusENDED {
		return conv, nil
	}
	if conv.ConnectContactID != "" && s.chats != nil {
		// Issue 9 (perms): read on the viewer's behalf, which the Instance policy allows only under schema.ReadInstance.
		inst, err := instances.Find(schema.ReadInstance(ctx), c)
		if err != nil {
			return nil, err
		}
		if inst != nil {
			if err := s.chats.StopContact(ctx, inst, conv.ConnectContactID); err != nil && !contactGone(err) {
				return nil, apierror.Wrap(apierror.Upstream, err, "Amazon Connect did not end the chat")
			}
		}
	}
	return conv.Update().SetStatus(conversation.StatusENDED).SetEndedAt(s.now()).ClearActiveExternalID().Save(ctx)
}

// contactGone reports whether Connect says the contact has already ended.
func contactGone(err error) bool { return connectaws.IsNotFound(err) }
