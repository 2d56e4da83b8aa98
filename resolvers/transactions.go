package resolvers

import "fmt"

// Transaction is how a mutation field uses the request's database
// transaction.
type Transaction int

const (
	// InRequestTransaction: the mutation runs in the request's transaction,
	// which commits when the operation succeeds and rolls back when it
	// fails.
	InRequestTransaction Transaction = iota + 1
	// CallsAWS: the mutation calls AWS, which must never be waited for
	// inside an open transaction, so it runs without the request's; its
	// writes are short ones of their own, made before or after the call.
	CallsAWS
	// OwnTransaction: the mutation runs without the request's transaction
	// and its domain service opens the transactions it needs.
	OwnTransaction
)

// String names the classification.
func (t Transaction) String() string {
	switch t {
	case InRequestTransaction:
		return "InRequestTransaction"
	case CallsAWS:
		return "CallsAWS"
	case OwnTransaction:
		return "OwnTransaction"
	}
	return fmt.Sprintf("Transaction(%d)", int(t))
}

// mutationTransactions says, for every field of Mutation, how it uses the
// request's transaction: the one place that says so. A new mutation is
// added here; a test fails for a field of the schema that is not.
var mutationTransactions = map[string]Transaction{
	// tenancy
	"createTenant":      InRequestTransaction,
	"updateTenant":      InRequestTransaction,
	"createAgent":       InRequestTransaction,
	"updateAgent":       InRequestTransaction,
	"deleteAgent":       InRequestTransaction,
	"createAgentStatus": InRequestTransaction,
	"updateAgentStatus": InRequestTransaction,
	"createModule":      InRequestTransaction,
	"updateModule":      InRequestTransaction,
	"deleteModule":      InRequestTransaction,
	// tenant lifecycle; decommissioning deletes in the request's
	// transaction, all or nothing.
	"unsubscribeTenant":  InRequestTransaction,
	"resubscribeTenant":  InRequestTransaction,
	"decommissionTenant": InRequestTransaction,
	"linkSubscription":   InRequestTransaction,
	// instance: S3 creates the email buckets (mail.EnsureBuckets).
	"configureInstance": CallsAWS,
	// live status
	"importAgentStatuses": CallsAWS, // Connect ListAgentStatuses
	"rotateAgentEventKey": InRequestTransaction,
	// The live status service makes a change in one statement on
	// PostgreSQL when Connect is not told, and otherwise in a transaction
	// of its own that holds the agent's row while it tells Connect
	// (PutUserStatus), so that Connect is not told twice.
	"setAgentStatus": OwnTransaction,
	// agents from Connect's users: Connect ListUsers, ListRoutingProfiles
	// and DescribeUser first, then the batch in a transaction of its own.
	"importConnectUsers": CallsAWS,
	// contacts
	"createContact":     InRequestTransaction,
	"updateContact":     InRequestTransaction,
	"deleteContact":     InRequestTransaction,
	"recordInteraction": InRequestTransaction,
	"createScimToken":   InRequestTransaction,
	"revokeScimToken":   InRequestTransaction,
	// onboarding: S3 versioning and lifecycle (the choice is written first,
	// in its own statement, for the Instance policy to judge).
	"configureEmailBackups":   CallsAWS,
	"createAdminUser":         InRequestTransaction,
	"verifyInstance":          CallsAWS, // STS, Connect, Customer Profiles; statuses imported in a transaction of their own
	"configureReporting":      InRequestTransaction,
	"configureAssist":         InRequestTransaction,
	"reportingEmbedUrl":       CallsAWS, // QuickSight GenerateEmbedUrlForRegisteredUser
	"deleteAdminUser":         InRequestTransaction,
	"setMicrosoftIntegration": CallsAWS, // the credentials are tried against Entra ID first
	// branding: both images or neither.
	"setBranding":   InRequestTransaction,
	"clearBranding": InRequestTransaction,
	// contact flows
	"createSchedule":             InRequestTransaction,
	"updateSchedule":             InRequestTransaction,
	"deleteSchedule":             InRequestTransaction,
	"setOperationalParameter":    InRequestTransaction,
	"deleteOperationalParameter": InRequestTransaction,
	"rotateFlowsKey":             InRequestTransaction, // the old key goes with the new one's arrival
	// conversations: Connect StartChatContact and StopContact.
	"startConversation": CallsAWS,
	"endConversation":   CallsAWS,
	// customer profiles: Customer Profiles CreateProfile, UpdateProfile
	// (and SearchProfiles to read the profile back); nothing stored here.
	// on a live contact: Connect's recording and attribute calls.
	"setContactRecording":     CallsAWS,
	"updateContactAttributes": CallsAWS,
	"createCustomerProfile":   CallsAWS,
	"updateCustomerProfile":   CallsAWS,
	// email
	"createEmailAddress": InRequestTransaction,
	"updateEmailAddress": InRequestTransaction,
	"deleteEmailAddress": InRequestTransaction,
	"sendEmail":          CallsAWS, // S3 PutObject, SES SendEmail
	// templates
	"createTemplate": InRequestTransaction,
	"updateTemplate": InRequestTransaction,
	"deleteTemplate": InRequestTransaction,
}

// MutationTransaction returns how the mutation field named uses the
// request's transaction; ok is false for a name that is not a mutation.
func MutationTransaction(field string) (t Transaction, ok bool) {
	t, ok = mutationTransactions[field]
	return t, ok
}
