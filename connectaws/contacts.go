package connectaws

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"
)

// Chat is a chat contact started in Connect. Its participant token is a
// secret of the party that joins the chat: hand it on, never keep it.
type Chat struct {
	ContactID        string
	ParticipantID    string
	ParticipantToken string
}

// ChatRequest starts a chat contact.
type ChatRequest struct {
	ContactFlowID string
	DisplayName   string            // the external participant
	Attributes    map[string]string // contact attributes for the flow
	ClientToken   string            // idempotency: the same token, the same contact
	// InitialMessage, when set, is the customer's first message; it goes
	// to Connect only.
	InitialMessage string
}

// StartChatContact starts a chat contact on the instance's contact flow.
func (c *Clients) StartChatContact(ctx context.Context, inst Instance, req ChatRequest) (Chat, error) {
	if req.ContactFlowID == "" || req.DisplayName == "" {
		return Chat{}, errors.New("connectaws: StartChatContact needs a contact flow and a display name")
	}
	t, r, err := c.tenant(inst)
	if err != nil {
		return Chat{}, err
	}
	in := &connect.StartChatContactInput{
		InstanceId:         aws.String(r.id),
		ContactFlowId:      aws.String(req.ContactFlowID),
		ParticipantDetails: &types.ParticipantDetails{DisplayName: aws.String(req.DisplayName)},
		Attributes:         req.Attributes,
	}
	if req.ClientToken != "" {
		in.ClientToken = aws.String(req.ClientToken)
	}
	if req.InitialMessage != "" {
		in.InitialMessage = &types.ChatMessage{ContentType: aws.String("text/plain"), Content: aws.String(req.InitialMessage)}
	}
	out, err := t.connect.StartChatContact(ctx, in)
	if err != nil {
		return Chat{}, upstream("Connect", "StartChatContact", err)
	}
	return Chat{
		ContactID:        aws.ToString(out.ContactId),
		ParticipantID:    aws.ToString(out.ParticipantId),
		ParticipantToken: aws.ToString(out.ParticipantToken),
	}, nil
}

// StopContact ends a contact.
func (c *Clients) StopContact(ctx context.Context, inst Instance, contactID string) error {
	if contactID == "" {
		return errors.New("connectaws: StopContact needs a contact ID")
	}
	t, r, err := c.tenant(inst)
	if err != nil {
		return err
	}
	_, err = t.connect.StopContact(ctx, &connect.StopContactInput{
		InstanceId: aws.String(r.id),
		ContactId:  aws.String(contactID),
	})
	return upstream("Connect", "StopContact", err)
}
