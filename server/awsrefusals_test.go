package server_test

import (
	"strings"
	"testing"

	"switchboard/graph"
	"switchboard/internal/testenv"
	"switchboard/resolvers"
)

// TestAWSMutationsRefusedBeforeAWS: every mutation that calls AWS, sent by
// a caller who may not make it — no token, an agent where an admin is
// needed, another tenant's people — is refused before any AWS request is
// made: no AssumeRole, no Connect call. The table must name every such
// mutation of the schema.
func TestAWSMutationsRefusedBeforeAWS(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := newConnectFixture(t, b)
		var addr struct {
			CreateEmailAddress struct{ ID string } `json:"createEmailAddress"`
		}
		f.s.MustDo(t, f.a.AdminToken, `mutation($in: CreateEmailAddressInput!) { createEmailAddress(input: $in) { id } }`, map[string]any{"in": map[string]any{
			"address": "support@acme.example", "sesIdentityArn": "arn:aws:ses:ap-southeast-2:123456789012:identity/acme.example",
		}}, &addr)
		instance := map[string]any{"instanceArn": instanceARN, "region": "ap-southeast-2", "roleArn": roleARN, "externalId": externalID}
		chat := map[string]any{"channel": "WEBCHAT", "externalId": "customer-1", "agentId": f.alex}
		microsoftIn := map[string]any{"directoryTenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47", "clientId": "11111111-2222-3333-4444-555555555555", "clientSecret": "x"}
		email := map[string]any{"from": addr.CreateEmailAddress.ID, "to": []string{"someone@example.com"}, "subject": "Hello", "text": "Hi"}
		createProfile := `mutation($in: CustomerProfileInput!) { createCustomerProfile(input: $in) { profileId } }`
		updateProfile := `mutation($id: ID!, $in: CustomerProfileInput!) { updateCustomerProfile(profileId: $id, input: $in) { profileId } }`
		profile := map[string]any{"firstName": "Jo", "phoneNumber": "+61298765432"}
		profileID := "0123456789abcdef0123456789abcdef"
		recording := `mutation($c: String!) { setContactRecording(contactId: $c, state: SUSPENDED) { state } }`
		attrs := `mutation($c: String!) { updateContactAttributes(contactId: $c, attributes: [{key: "k", value: "v"}]) { contactId } }`
		contact := map[string]any{"c": "c-unknown"}

		cases := []struct {
			mutation, who, token, query string
			vars                        map[string]any
			codes                       []string // any of
		}{
			{"configureInstance", "no token", "", `mutation($in: ConfigureInstanceInput!) { configureInstance(input: $in) { id } }`, map[string]any{"in": instance}, []string{"UNAUTHENTICATED"}},
			{"configureInstance", "agent", f.alexTok, `mutation($in: ConfigureInstanceInput!) { configureInstance(input: $in) { id } }`, map[string]any{"in": instance}, []string{"FORBIDDEN"}},
			{"configureInstance", "supervisor", f.supTok, `mutation($in: ConfigureInstanceInput!) { configureInstance(input: $in) { id } }`, map[string]any{"in": instance}, []string{"FORBIDDEN"}},
			{"importAgentStatuses", "no token", "", `mutation { importAgentStatuses { id } }`, nil, []string{"UNAUTHENTICATED"}},
			{"importAgentStatuses", "agent", f.alexTok, `mutation { importAgentStatuses { id } }`, nil, []string{"FORBIDDEN"}},
			{"importAgentStatuses", "supervisor", f.supTok, `mutation { importAgentStatuses { id } }`, nil, []string{"FORBIDDEN"}},
			{"importConnectUsers", "no token", "", `mutation { importConnectUsers { next } }`, nil, []string{"UNAUTHENTICATED"}},
			{"importConnectUsers", "agent", f.alexTok, `mutation { importConnectUsers { next } }`, nil, []string{"FORBIDDEN"}},
			{"importConnectUsers", "supervisor", f.supTok, `mutation { importConnectUsers { next } }`, nil, []string{"FORBIDDEN"}},
			{"importConnectUsers", "another tenant's admin", f.b.AdminToken, `mutation { importConnectUsers { next } }`, nil, []string{"BAD_USER_INPUT"}},
			{"importConnectUsers", "an admin, after too long", f.a.AdminToken, `mutation($a: String) { importConnectUsers(after: $a) { next } }`, map[string]any{"a": strings.Repeat("x", 9000)}, []string{"BAD_USER_INPUT"}},
			{"startConversation", "no token", "", `mutation($in: StartConversationInput!) { startConversation(input: $in) { id } }`, map[string]any{"in": chat}, []string{"UNAUTHENTICATED"}},
			{"startConversation", "an agent for another", f.beaTok, `mutation($in: StartConversationInput!) { startConversation(input: $in) { id } }`, map[string]any{"in": chat}, []string{"FORBIDDEN"}},
			{"startConversation", "another tenant's agent", f.cyTok, `mutation($in: StartConversationInput!) { startConversation(input: $in) { id } }`, map[string]any{"in": chat}, []string{"FORBIDDEN", "NOT_FOUND"}},
			{"endConversation", "no token", "", `mutation($id: ID!) { endConversation(id: $id) { id } }`, map[string]any{"id": f.alex}, []string{"UNAUTHENTICATED"}},
			{"endConversation", "another tenant's agent", f.cyTok, `mutation($id: ID!) { endConversation(id: $id) { id } }`, map[string]any{"id": f.alex}, []string{"NOT_FOUND", "BAD_USER_INPUT"}},
			{"sendEmail", "no token", "", `mutation($in: SendEmailInput!) { sendEmail(input: $in) { id } }`, map[string]any{"in": email}, []string{"UNAUTHENTICATED"}},
			{"sendEmail", "another tenant's agent", f.cyTok, `mutation($in: SendEmailInput!) { sendEmail(input: $in) { id } }`, map[string]any{"in": email}, []string{"NOT_FOUND", "FORBIDDEN"}},
			{"sendEmail", "another tenant's admin", f.b.AdminToken, `mutation($in: SendEmailInput!) { sendEmail(input: $in) { id } }`, map[string]any{"in": email}, []string{"NOT_FOUND", "FORBIDDEN"}},
			{"configureEmailBackups", "no token", "", `mutation { configureEmailBackups(keepDays: 30) { buckets { name } } }`, nil, []string{"UNAUTHENTICATED"}},
			{"configureEmailBackups", "supervisor", f.supTok, `mutation { configureEmailBackups(keepDays: 30) { buckets { name } } }`, nil, []string{"FORBIDDEN"}},
			{"configureEmailBackups", "another tenant's admin", f.b.AdminToken, `mutation { configureEmailBackups(keepDays: 30) { buckets { name } } }`, nil, []string{"BAD_USER_INPUT"}},
			{"verifyInstance", "no token", "", `mutation { verifyInstance { ready } }`, nil, []string{"UNAUTHENTICATED"}},
			{"verifyInstance", "supervisor", f.supTok, `mutation { verifyInstance { ready } }`, nil, []string{"FORBIDDEN"}},
			{"verifyInstance", "another tenant's admin", f.b.AdminToken, `mutation { verifyInstance { ready } }`, nil, []string{"BAD_USER_INPUT"}},
			{"reportingEmbedUrl", "no token", "", `mutation { reportingEmbedUrl { url } }`, nil, []string{"UNAUTHENTICATED"}},
			{"reportingEmbedUrl", "agent", f.alexTok, `mutation { reportingEmbedUrl { url } }`, nil, []string{"FORBIDDEN"}},
			{"reportingEmbedUrl", "supervisor, nothing configured", f.supTok, `mutation { reportingEmbedUrl { url } }`, nil, []string{"CONFLICT"}},
			{"reportingEmbedUrl", "another tenant's admin", f.b.AdminToken, `mutation { reportingEmbedUrl { url } }`, nil, []string{"BAD_USER_INPUT"}},
			{"setMicrosoftIntegration", "no token", "", `mutation($in: MicrosoftIntegrationInput!) { setMicrosoftIntegration(input: $in) { configured } }`, map[string]any{"in": microsoftIn}, []string{"UNAUTHENTICATED"}},
			{"createCustomerProfile", "no token", "", createProfile, map[string]any{"in": profile}, []string{"UNAUTHENTICATED"}},
			{"createCustomerProfile", "agent, without the profiles module", f.alexTok, createProfile, map[string]any{"in": profile}, []string{"FORBIDDEN"}},
			{"createCustomerProfile", "another tenant's agent, no instance", f.cyTok, createProfile, map[string]any{"in": profile}, []string{"BAD_USER_INPUT"}},
			{"updateCustomerProfile", "no token", "", updateProfile, map[string]any{"id": profileID, "in": profile}, []string{"UNAUTHENTICATED"}},
			{"updateCustomerProfile", "agent, without the profiles module", f.alexTok, updateProfile, map[string]any{"id": profileID, "in": profile}, []string{"FORBIDDEN"}},
			{"updateCustomerProfile", "another tenant's agent, no instance", f.cyTok, updateProfile, map[string]any{"id": profileID, "in": profile}, []string{"BAD_USER_INPUT"}},
			{"setContactRecording", "no token", "", recording, contact, []string{"UNAUTHENTICATED"}},
			{"setContactRecording", "agent, not its contact", f.alexTok, recording, contact, []string{"FORBIDDEN"}},
			{"setContactRecording", "another tenant's agent, no instance", f.cyTok, recording, contact, []string{"BAD_USER_INPUT"}},
			{"updateContactAttributes", "no token", "", attrs, contact, []string{"UNAUTHENTICATED"}},
			{"updateContactAttributes", "agent, not its contact", f.alexTok, attrs, contact, []string{"FORBIDDEN"}},
			{"updateContactAttributes", "another tenant's agent, no instance", f.cyTok, attrs, contact, []string{"BAD_USER_INPUT"}},
			{"setMicrosoftIntegration", "supervisor", f.supTok, `mutation($in: MicrosoftIntegrationInput!) { setMicrosoftIntegration(input: $in) { configured } }`, map[string]any{"in": microsoftIn}, []string{"FORBIDDEN"}},
		}
		covered := map[string]bool{}
		for _, c := range cases {
			covered[c.mutation] = true
		}
		for _, field := range graph.NewExecutableSchema(graph.Config{}).Schema().Mutation.Fields {
			if tx, _ := resolvers.MutationTransaction(field.Name); tx == resolvers.CallsAWS && !covered[field.Name] {
				t.Errorf("%s calls AWS and has no case here", field.Name)
			}
		}

		stsBefore, connectBefore := len(f.sts.Calls()), len(f.connect.Requests())
		for _, c := range cases {
			r := f.s.Do(t, c.token, c.query, c.vars)
			ok := false
			for _, code := range c.codes {
				ok = ok || r.Code() == code
			}
			if !ok {
				t.Errorf("%s by %s: %q %+v, want one of %v", c.mutation, c.who, r.Code(), r.Errors, c.codes)
			}
			if n, m := len(f.sts.Calls()), len(f.connect.Requests()); n != stsBefore || m != connectBefore {
				t.Fatalf("%s by %s reached AWS: %d AssumeRole, %d Connect requests", c.mutation, c.who, n-stsBefore, m-connectBefore)
			}
		}
	})
}
