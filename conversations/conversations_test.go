package conversations_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"switchboard/apierror"
	"switchboard/apierror/classify"
	"switchboard/connectaws"
	"switchboard/conversations"
	"switchboard/ent"
	"switchboard/ent/conversation"
	"switchboard/gid"
	"switchboard/internal/fakeaws"
	"switchboard/internal/testenv"
	"switchboard/viewer"
)

const (
	instanceID  = "11111111-2222-3333-4444-555555555555"
	instanceARN = "arn:aws:connect:ap-southeast-2:123456789012:instance/" + instanceID
	roleARN     = "arn:aws:iam::123456789012:role/SwitchboardAccess"
	externalID  = "tenant-a-external-id"
	chatFlow    = "flow-chat"
)

// fixture is a store with tenant A, whose Amazon Connect instance (behind
// fake STS and Connect endpoints the real SDK talks to) has a chat flow,
// and tenant B, which has no instance; and the service over them.
type fixture struct {
	c       *ent.Client
	connect *fakeaws.Connect
	clients *connectaws.Clients
	svc     *conversations.Service
	inst    *ent.Instance // tenant A's

	op                              context.Context
	adminA, alexCtx, beaCtx, samCtx context.Context
	adminB, cyCtx                   context.Context
	alex, bea, sam, cy              *ent.Agent
}

func newFixture(t *testing.T, b testenv.Backend) *fixture {
	t.Helper()
	sts := fakeaws.NewSTS(t)
	sts.AllowRole(roleARN, externalID)
	fc := fakeaws.NewConnect(t)
	fc.TrustSTS(sts)
	fc.AddInstance(instanceID)
	clients, err := connectaws.New(context.Background(), connectaws.Options{
		BaseCredentials:  credentials.NewStaticCredentialsProvider("AKIAPLATFORM", "platform-secret", ""),
		STSEndpoint:      sts.URL,
		ConnectEndpoint:  fc.URL,
		RetryMaxAttempts: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	st := testenv.OpenStore(t, b.URL(t))
	f := &fixture{
		c: st.Client, connect: fc, clients: clients,
		svc: conversations.New(conversations.ConnectAWS{Clients: clients}),
		op:  as(&viewer.Viewer{Role: viewer.RoleOperator, Email: "op@platform.example"}),
	}
	acme, err := f.c.Tenant.Create().SetName("Acme").Save(f.op)
	if err != nil {
		t.Fatal(err)
	}
	bolt, err := f.c.Tenant.Create().SetName("Bolt").Save(f.op)
	if err != nil {
		t.Fatal(err)
	}
	f.adminA = as(&viewer.Viewer{Role: viewer.RoleAdmin, TenantID: acme.ID, Email: "admin@acme.example"})
	f.adminB = as(&viewer.Viewer{Role: viewer.RoleAdmin, TenantID: bolt.ID, Email: "admin@bolt.example"})
	f.alex, f.alexCtx = f.agent(t, f.adminA, "Alex", viewer.RoleAgent)
	f.bea, f.beaCtx = f.agent(t, f.adminA, "Bea", viewer.RoleAgent)
	f.sam, f.samCtx = f.agent(t, f.adminA, "Sam", viewer.RoleSupervisor)
	f.cy, f.cyCtx = f.agent(t, f.adminB, "Cy", viewer.RoleAgent)
	f.inst, err = f.c.Instance.Create().SetInstanceArn(instanceARN).SetRegion("ap-southeast-2").
		SetRoleArn(roleARN).SetExternalID(externalID).SetChatContactFlowID(chatFlow).Save(f.adminA)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func as(v *viewer.Viewer) context.Context { return viewer.NewContext(context.Background(), v) }

func (f *fixture) agent(t *testing.T, admin context.Context, name string, role viewer.Role) (*ent.Agent, context.Context) {
	t.Helper()
	tenant := viewer.FromContext(admin).TenantID
	email := strings.ToLower(name) + "@" + string(tenant) + ".example"
	ag, err := f.c.Agent.Create().SetName(name).SetEmail(email).SetRole(role).Save(admin)
	if err != nil {
		t.Fatal(err)
	}
	return ag, as(&viewer.Viewer{Role: role, TenantID: tenant, AgentID: ag.ID, Email: email, Name: name})
}

// starts and stops count the requests Connect has had.
func (f *fixture) starts() int { return len(f.connect.RequestsFor(fakeaws.OpStartChatContact)) }
func (f *fixture) stops() int  { return len(f.connect.RequestsFor(fakeaws.OpStopContact)) }

// count returns how many conversations the tenant of admin holds.
func (f *fixture) count(t *testing.T, admin context.Context) int {
	t.Helper()
	n, err := f.c.Conversation.Query().Count(admin)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) start(t *testing.T, ctx context.Context, in conversations.Start) *ent.Conversation {
	t.Helper()
	conv, err := f.svc.StartConversation(ctx, f.c, in)
	if err != nil {
		t.Fatalf("starting %+v: %v", in, err)
	}
	return conv
}

func codeOf(err error) apierror.Code {
	code, _ := classify.Of(err)
	return code
}

func sms(externalID string) conversations.Start {
	return conversations.Start{Channel: conversation.ChannelSMS, ExternalID: externalID}
}

func TestStartConversation(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := newFixture(t, b)
		const message = "my card number is 4111 1111 1111 1111"
		before := time.Now().Add(-time.Second)
		conv := f.start(t, f.alexCtx, conversations.Start{
			Channel: conversation.ChannelSMS, ExternalID: " +61412345678 ", Participant: "  Jordan ", InitialMessage: message,
		})
		if conv.Status != conversation.StatusACTIVE || conv.AgentID == nil || *conv.AgentID != f.alex.ID ||
			conv.ExternalID != "+61412345678" || conv.Participant != "Jordan" || conv.Channel != conversation.ChannelSMS ||
			conv.TenantID != f.alex.TenantID || conv.EndedAt != nil || conv.StartedAt.Before(before) {
			t.Fatalf("started %+v", conv)
		}
		if conv.ID.Prefix() != "CV" || !conv.ID.Valid() {
			t.Fatalf("conversation ID %q", conv.ID)
		}
		ct, ok := f.connect.Contact(conv.ConnectContactID)
		if !ok || ct.InstanceID != instanceID || ct.Channel != "CHAT" || ct.ContactFlowID != chatFlow || ct.DisplayName != "Jordan" ||
			ct.ClientToken != string(conv.ID) || ct.Stopped {
			t.Fatalf("Connect contact %+v (found %v)", ct, ok)
		}
		if ct.Attributes["switchboardConversationId"] != string(conv.ID) || ct.Attributes["channel"] != "SMS" || ct.Attributes["externalId"] != "+61412345678" {
			t.Fatalf("contact attributes %v", ct.Attributes)
		}
		reqs := f.connect.RequestsFor(fakeaws.OpStartChatContact)
		if len(reqs) != 1 || !strings.Contains(string(reqs[0].Body), message) || reqs[0].AccessKeyID == "AKIAPLATFORM" || reqs[0].Region != "ap-southeast-2" {
			t.Fatalf("StartChatContact requests %+v", reqs)
		}

		t.Run("the party's active conversation is returned, not started again", func(t *testing.T) {
			for _, c := range []struct {
				name string
				ctx  context.Context
				in   conversations.Start
			}{
				{"the same agent", f.alexCtx, sms("+61412345678")},
				{"padded", f.alexCtx, sms("\t+61412345678  ")},
				{"by name", f.alexCtx, conversations.Start{Channel: conversation.ChannelSMS, ExternalID: "+61412345678", AgentID: &f.alex.ID}},
				{"a supervisor for another agent", f.samCtx, conversations.Start{Channel: conversation.ChannelSMS, ExternalID: "+61412345678", AgentID: &f.bea.ID}},
				{"the admin", f.adminA, conversations.Start{Channel: conversation.ChannelSMS, ExternalID: "+61412345678", AgentID: &f.sam.ID}},
			} {
				got, err := f.svc.StartConversation(c.ctx, f.c, c.in)
				if err != nil || got.ID != conv.ID {
					t.Errorf("%s: %v, %v; want %s", c.name, got, err, conv.ID)
				}
			}
			if f.starts() != 1 || f.count(t, f.adminA) != 1 {
				t.Fatalf("%d chats started, %d conversations", f.starts(), f.count(t, f.adminA))
			}
		})

		t.Run("another channel or party is another conversation", func(t *testing.T) {
			wa := f.start(t, f.alexCtx, conversations.Start{Channel: conversation.ChannelWHATSAPP, ExternalID: "+61412345678"})
			other := f.start(t, f.alexCtx, sms("+61400000000"))
			if wa.ID == conv.ID || other.ID == conv.ID || wa.ID == other.ID || wa.ConnectContactID == conv.ConnectContactID {
				t.Fatalf("conversations %s %s %s", conv.ID, wa.ID, other.ID)
			}
			// Without a participant name, Connect shows the external ID.
			if ct, _ := f.connect.Contact(other.ConnectContactID); ct.DisplayName != "+61400000000" || other.Participant != "+61400000000" {
				t.Fatalf("display name %q, participant %q", ct.DisplayName, other.Participant)
			}
		})

		t.Run("a supervisor starts one for an agent", func(t *testing.T) {
			got := f.start(t, f.samCtx, conversations.Start{Channel: conversation.ChannelWEBCHAT, ExternalID: "visitor-7", AgentID: &f.bea.ID})
			if got.AgentID == nil || *got.AgentID != f.bea.ID {
				t.Fatalf("started for %v", got.AgentID)
			}
			if _, err := f.c.Conversation.Get(f.beaCtx, got.ID); err != nil {
				t.Fatalf("bea cannot read her conversation: %v", err)
			}
		})

		t.Run("refused before Connect is asked", func(t *testing.T) {
			starts, stored := f.starts(), f.count(t, f.adminA)
			long := strings.Repeat("x", 257)
			cases := []struct {
				name string
				ctx  context.Context
				in   conversations.Start
				code apierror.Code
			}{
				{"no external ID", f.alexCtx, sms(""), apierror.BadUserInput},
				{"a blank external ID", f.alexCtx, sms(" \t "), apierror.BadUserInput},
				{"an external ID too long", f.alexCtx, sms(long), apierror.BadUserInput},
				{"an agent for another", f.alexCtx, conversations.Start{Channel: conversation.ChannelSMS, ExternalID: "+61499999999", AgentID: &f.bea.ID}, apierror.Forbidden},
				{"an admin without an agent record, for nobody", f.adminA, sms("+61499999999"), apierror.BadUserInput},
				{"the operator", f.op, sms("+61499999999"), apierror.Forbidden},
				{"no viewer", context.Background(), sms("+61499999999"), apierror.Forbidden},
				{"tenant B has no instance", f.cyCtx, sms("+61499999999"), apierror.BadUserInput},
				{"tenant B's agent for tenant A's", f.cyCtx, conversations.Start{Channel: conversation.ChannelSMS, ExternalID: "+61499999999", AgentID: &f.alex.ID}, apierror.Forbidden},
				{"tenant B, A's active party", f.cyCtx, sms("+61412345678"), apierror.BadUserInput},
			}
			for _, c := range cases {
				if got, err := f.svc.StartConversation(c.ctx, f.c, c.in); codeOf(err) != c.code {
					t.Errorf("%s: %v, %v; want %s", c.name, got, err, c.code)
				}
			}
			if f.starts() != starts || f.count(t, f.adminA) != stored || f.count(t, f.adminB) != 0 {
				t.Fatalf("refusals reached Connect (%d chats) or the store (%d, %d)", f.starts()-starts, f.count(t, f.adminA)-stored, f.count(t, f.adminB))
			}
			// 256 characters are enough.
			if got := f.start(t, f.alexCtx, sms(strings.Repeat("x", 256))); len(got.ExternalID) != 256 {
				t.Fatalf("external ID of %d characters", len(got.ExternalID))
			}
		})

		t.Run("an instance without a chat flow", func(t *testing.T) {
			if _, err := f.c.Instance.Create().SetInstanceArn(instanceARN).SetRegion("ap-southeast-2").
				SetRoleArn(roleARN).SetExternalID("tenant-b-external-id").Save(f.adminB); err != nil {
				t.Fatal(err)
			}
			starts := f.starts()
			if _, err := f.svc.StartConversation(f.cyCtx, f.c, sms("+447700900123")); codeOf(err) != apierror.BadUserInput {
				t.Fatalf("without a chat flow: %v", err)
			}
			if f.starts() != starts || f.count(t, f.adminB) != 0 {
				t.Fatal("a start without a chat flow reached Connect or the store")
			}
		})

		t.Run("a server that reaches no Connect", func(t *testing.T) {
			stored := f.count(t, f.adminA)
			if _, err := conversations.New(nil).StartConversation(f.alexCtx, f.c, sms("+61411111111")); codeOf(err) != apierror.BadUserInput {
				t.Fatalf("without Connect: %v", err)
			}
			if f.count(t, f.adminA) != stored {
				t.Fatal("stored a conversation without Connect")
			}
			// Its active conversations are still found.
			if got, err := conversations.New(nil).StartConversation(f.alexCtx, f.c, sms("+61412345678")); err != nil || got.ID != conv.ID {
				t.Fatalf("the active one without Connect: %v, %v", got, err)
			}
		})
	})
}

func TestStartConversationConnectFailures(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := newFixture(t, b)
		alexs := f.start(t, f.alexCtx, sms("+61412345678"))

		t.Run("Connect refuses: UPSTREAM and nothing stored", func(t *testing.T) {
			for _, fl := range []fakeaws.Failure{
				{Status: 400, Code: "InvalidRequestException", Message: "bad flow", Times: 1},
				{Status: 404, Code: "ResourceNotFoundException", Message: "no such flow", Times: 1},
				{Status: 500, Code: "InternalServiceException", Message: "oops", Times: 1},
			} {
				f.connect.Fail(fakeaws.OpStartChatContact, fl)
				stored := f.count(t, f.adminA)
				_, err := f.svc.StartConversation(f.alexCtx, f.c, sms("+61400000000"))
				if code, msg := classify.Of(err); code != apierror.Upstream || strings.Contains(msg, fl.Message) {
					t.Fatalf("%s: %s %q (%v)", fl.Code, code, msg, err)
				}
				if f.count(t, f.adminA) != stored {
					t.Fatalf("%s: a refused start was stored", fl.Code)
				}
			}
			// Once Connect answers, the party can be reached.
			f.start(t, f.alexCtx, sms("+61400000000"))
		})

		t.Run("a failed save stops the chat Connect started", func(t *testing.T) {
			// Bea cannot see Alex's conversation, so she asks Connect for a
			// chat; storing it collides with Alex's active one.
			starts, stops, stored := f.starts(), f.stops(), f.count(t, f.adminA)
			_, err := f.svc.StartConversation(f.beaCtx, f.c, sms("+61412345678"))
			if codeOf(err) != apierror.Conflict {
				t.Fatalf("bea takes alex's party: %v", err)
			}
			reqs := f.connect.RequestsFor(fakeaws.OpStartChatContact)
			if len(reqs) != starts+1 {
				t.Fatalf("%d chats started", len(reqs)-starts)
			}
			if f.count(t, f.adminA) != stored {
				t.Fatal("the collision stored a conversation")
			}
			stopped := stoppedSince(t, f, stops)
			if len(stopped) != 1 || stopped[0] == alexs.ConnectContactID {
				t.Fatalf("chats stopped %v, want bea's only", stopped)
			}
			if ct, ok := f.connect.Contact(stopped[0]); !ok || !ct.Stopped || ct.Attributes["externalId"] != "+61412345678" {
				t.Fatalf("bea's chat %+v", ct)
			}
			if ct, _ := f.connect.Contact(alexs.ConnectContactID); ct.Stopped {
				t.Fatal("alex's chat was stopped")
			}
		})

		t.Run("a supervisor naming another tenant's agent", func(t *testing.T) {
			starts, stops := f.starts(), f.stops()
			storedA, storedB := f.count(t, f.adminA), f.count(t, f.adminB)
			_, err := f.svc.StartConversation(f.samCtx, f.c, conversations.Start{Channel: conversation.ChannelSMS, ExternalID: "+61433333333", AgentID: &f.cy.ID})
			if codeOf(err) != apierror.Forbidden {
				t.Fatalf("for tenant B's agent: %v", err)
			}
			if f.count(t, f.adminA) != storedA || f.count(t, f.adminB) != storedB {
				t.Fatal("a conversation was stored for another tenant's agent")
			}
			// Whatever Connect was asked to start, it was asked to stop.
			if started, stopped := f.starts()-starts, stoppedSince(t, f, stops); started != len(stopped) {
				t.Fatalf("%d chats started, %v stopped", started, stopped)
			}
		})
	})
}

// stoppedSince returns the contact IDs of the StopContact requests after
// the first n, which Connect answered.
func stoppedSince(t *testing.T, f *fixture, n int) []string {
	t.Helper()
	var ids []string
	for _, r := range f.connect.RequestsFor(fakeaws.OpStopContact)[n:] {
		var in struct{ ContactId string }
		if err := json.Unmarshal(r.Body, &in); err != nil {
			t.Fatal(err)
		}
		if r.Status == 200 {
			ids = append(ids, in.ContactId)
		}
	}
	return ids
}

func TestEndConversation(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := newFixture(t, b)

		t.Run("ends it and its chat, once", func(t *testing.T) {
			conv := f.start(t, f.alexCtx, sms("+61412345678"))
			before := time.Now().Add(-time.Second)
			ended, err := f.svc.EndConversation(f.alexCtx, f.c, conv.ID)
			if err != nil {
				t.Fatal(err)
			}
			if ended.ID != conv.ID || ended.Status != conversation.StatusENDED || ended.EndedAt == nil || ended.EndedAt.Before(before) || ended.ActiveExternalID != nil {
				t.Fatalf("ended %+v", ended)
			}
			if ct, _ := f.connect.Contact(conv.ConnectContactID); !ct.Stopped {
				t.Fatal("the chat was not stopped")
			}
			stops := f.stops()
			again, err := f.svc.EndConversation(f.alexCtx, f.c, conv.ID)
			if err != nil || again.Status != conversation.StatusENDED || !again.EndedAt.Equal(*ended.EndedAt) {
				t.Fatalf("ending again: %+v, %v", again, err)
			}
			if f.stops() != stops {
				t.Fatal("ending again asked Connect again")
			}
			// The party may start anew.
			if anew := f.start(t, f.alexCtx, sms("+61412345678")); anew.ID == conv.ID {
				t.Fatal("an ended conversation was returned as active")
			}
		})

		t.Run("a chat Connect has already ended", func(t *testing.T) {
			for i, c := range []struct {
				name string
				gone func(conv *ent.Conversation)
			}{
				{"stopped in Connect", func(conv *ent.Conversation) {
					if err := f.clients.StopContact(context.Background(), connectaws.InstanceOf(f.inst), conv.ConnectContactID); err != nil {
						t.Fatal(err)
					}
				}},
				{"contact not found", func(*ent.Conversation) {
					f.connect.Fail(fakeaws.OpStopContact, fakeaws.Failure{Status: 410, Code: "ContactNotFoundException", Message: "gone", Times: 1})
				}},
				{"resource not found", func(*ent.Conversation) {
					f.connect.Fail(fakeaws.OpStopContact, fakeaws.Failure{Status: 404, Code: "ResourceNotFoundException", Message: "gone", Times: 1})
				}},
			} {
				conv := f.start(t, f.alexCtx, sms(fmt.Sprintf("+6140000000%d", i)))
				c.gone(conv)
				ended, err := f.svc.EndConversation(f.alexCtx, f.c, conv.ID)
				if err != nil || ended.Status != conversation.StatusENDED {
					t.Fatalf("%s: %+v, %v", c.name, ended, err)
				}
			}
		})

		t.Run("Connect fails: UPSTREAM, still active", func(t *testing.T) {
			conv := f.start(t, f.alexCtx, sms("+61422222222"))
			f.connect.Fail(fakeaws.OpStopContact, fakeaws.Failure{Status: 500, Code: "InternalServiceException", Message: "oops", Times: 1})
			if _, err := f.svc.EndConversation(f.alexCtx, f.c, conv.ID); codeOf(err) != apierror.Upstream {
				t.Fatalf("Connect failing: %v", err)
			}
			now, err := f.c.Conversation.Get(f.alexCtx, conv.ID)
			if err != nil || now.Status != conversation.StatusACTIVE || now.ActiveExternalID == nil {
				t.Fatalf("after a failed end: %+v, %v", now, err)
			}
			if ended, err := f.svc.EndConversation(f.alexCtx, f.c, conv.ID); err != nil || ended.Status != conversation.StatusENDED {
				t.Fatalf("ending once Connect answers: %+v, %v", ended, err)
			}
		})

		t.Run("who ends whose", func(t *testing.T) {
			conv := f.start(t, f.alexCtx, sms("+61455555555"))
			stops := f.stops()
			for _, c := range []struct {
				name string
				ctx  context.Context
				code apierror.Code
			}{
				{"another agent of the tenant", f.beaCtx, apierror.NotFound},
				{"tenant B's agent", f.cyCtx, apierror.NotFound},
				{"tenant B's admin", f.adminB, apierror.NotFound},
				{"the operator", f.op, apierror.NotFound},
				{"no viewer", context.Background(), apierror.Forbidden},
			} {
				if got, err := f.svc.EndConversation(c.ctx, f.c, conv.ID); codeOf(err) != c.code {
					t.Errorf("%s ends alex's: %v, %v; want %s", c.name, got, err, c.code)
				}
			}
			if f.stops() != stops {
				t.Fatal("a refused end reached Connect")
			}
			if now, err := f.c.Conversation.Get(f.alexCtx, conv.ID); err != nil || now.Status != conversation.StatusACTIVE {
				t.Fatalf("after refused ends: %+v, %v", now, err)
			}
			if _, err := f.svc.EndConversation(f.alexCtx, f.c, gid.New("CV")); codeOf(err) != apierror.NotFound {
				t.Fatalf("an unknown conversation: %v", err)
			}
			// The tenant's supervisor may end it.
			if ended, err := f.svc.EndConversation(f.samCtx, f.c, conv.ID); err != nil || ended.Status != conversation.StatusENDED {
				t.Fatalf("the supervisor ends it: %+v, %v", ended, err)
			}
		})
	})
}
