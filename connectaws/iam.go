package connectaws

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Permission is what one AWS operation that switchboard calls through a
// tenant's role needs of that role: the IAM action, and the resources it
// is scoped to. Permissions is every one of them; a test holds the code to
// it (every SDK operation the code calls is listed), so the generated
// policy allows exactly what switchboard does.
type Permission struct {
	// Service and Operation are the SDK's: the client package's name and
	// the operation's (its Input type without "Input").
	Service, Operation string
	// Action is IAM's.
	Action string
	// Module is the module whose feature calls it; "" for the base build.
	Module string
	// Resources are its ARNs in a tenant's Scope.
	Resources func(Scope) []string
}

// Scope is what a tenant's policy is scoped to.
type Scope struct {
	Partition, Account, Region string
	// InstanceARN is the tenant's Connect instance, InstanceAlias its alias.
	InstanceARN, InstanceAlias string
	// Buckets are the email module's content and attachments buckets.
	Buckets []string
	// SESIdentities are the ARNs of the SES identities the tenant sends
	// from; none yet: the region's identities.
	SESIdentities []string
	// QuickSightDashboard and QuickSightUser are the reporting module's.
	QuickSightAccount, QuickSightDashboard, QuickSightUser string
}

// The modules whose permissions are listed.
const (
	ModuleEmail     = "email"
	ModuleReporting = "reporting"
	ModuleProfiles  = "profiles"
	ModuleAI        = "ai"
)

// instanceAll is the instance and everything in it (its users, contacts,
// agent statuses), as Connect's resource ARNs nest.
func instanceAll(s Scope) []string { return []string{s.InstanceARN, s.InstanceARN + "/*"} }

// ProfilesDomain is the name of an instance's Customer Profiles domain:
// the only one Connect's service-linked role reaches (the FAQ's first
// answer).
func ProfilesDomain(alias string) string { return "amazon-connect-" + alias }

// profilesDomain is the ARN of the instance's domain.
func profilesDomain(s Scope) []string {
	return []string{"arn:" + s.Partition + ":profile:" + s.Region + ":" + s.Account + ":domains/" + ProfilesDomain(or(s.InstanceAlias, "*"))}
}

// anyIntegration is ListAccountIntegrations', which names no domain.
func anyIntegration(s Scope) []string {
	return []string{"arn:" + s.Partition + ":profile:" + s.Region + ":" + s.Account + ":*"}
}

func buckets(s Scope) []string {
	out := make([]string, 0, len(s.Buckets))
	for _, b := range s.Buckets {
		out = append(out, "arn:"+s.Partition+":s3:::"+b)
	}
	return out
}

func objects(s Scope) []string {
	out := make([]string, 0, len(s.Buckets))
	for _, b := range s.Buckets {
		out = append(out, "arn:"+s.Partition+":s3:::"+b+"/*")
	}
	return out
}

func identities(s Scope) []string {
	if len(s.SESIdentities) > 0 {
		return s.SESIdentities
	}
	return []string{"arn:" + s.Partition + ":ses:" + s.Region + ":" + s.Account + ":identity/*"}
}

// bedrockModels are the foundation models (which belong to no account) and
// the account's inference profiles, in any region: cross-region inference
// runs a profile's model in another region of its geography.
func bedrockModels(s Scope) []string {
	return []string{
		"arn:" + s.Partition + ":bedrock:*::foundation-model/*",
		"arn:" + s.Partition + ":bedrock:*:" + s.Account + ":inference-profile/*",
	}
}

// anyResource is for actions IAM cannot scope to a resource (SES's
// receipt rules).
func anyResource(Scope) []string { return []string{"*"} }

// emailTopic is the inbound mail topic, in any region of the account (SES
// receives in the region of each identity, not always the instance's).
func emailTopic(s Scope) []string {
	return []string{"arn:" + s.Partition + ":sns:*:" + s.Account + ":" + EmailTopic}
}

func dashboardAndUser(s Scope) []string {
	account := s.QuickSightAccount
	if account == "" {
		account = s.Account
	}
	dash := "arn:" + s.Partition + ":quicksight:" + s.Region + ":" + account + ":dashboard/" + or(s.QuickSightDashboard, "*")
	user := s.QuickSightUser
	if user == "" {
		user = "arn:" + s.Partition + ":quicksight:" + s.Region + ":" + account + ":user/*"
	}
	return []string{dash, user}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Permissions is every AWS operation switchboard calls through a tenant's
// role. STS AssumeRole (the platform's own) and Marketplace Metering (the
// platform's account) are not the tenant role's and are not here.
var Permissions = []Permission{
	{"connect", "DescribeInstance", "connect:DescribeInstance", "", instanceAll},
	{"connect", "ListApprovedOrigins", "connect:ListApprovedOrigins", "", instanceAll},
	{"connect", "AssociateApprovedOrigin", "connect:AssociateApprovedOrigin", "", instanceAll},
	{"connect", "ListAgentStatuses", "connect:ListAgentStatuses", "", instanceAll},
	{"connect", "ListQuickConnects", "connect:ListQuickConnects", "", instanceAll},
	{"connect", "PutUserStatus", "connect:PutUserStatus", "", instanceAll},
	{"connect", "StartChatContact", "connect:StartChatContact", "", instanceAll},
	{"connect", "StartTaskContact", "connect:StartTaskContact", "", instanceAll},
	{"connect", "StopContact", "connect:StopContact", "", instanceAll},
	// The live contact centre (issue 14). IAM scopes these to the
	// instance (the Lists), its queues (GetCurrentMetricData), users
	// (DescribeUser) and contacts (recording, attributes): all within
	// instanceAll's instance/*.
	{"connect", "ListQueues", "connect:ListQueues", "", instanceAll},
	{"connect", "GetCurrentMetricData", "connect:GetCurrentMetricData", "", instanceAll},
	{"connect", "SuspendContactRecording", "connect:SuspendContactRecording", "", instanceAll},
	{"connect", "ResumeContactRecording", "connect:ResumeContactRecording", "", instanceAll},
	{"connect", "StopContactRecording", "connect:StopContactRecording", "", instanceAll},
	{"connect", "UpdateContactAttributes", "connect:UpdateContactAttributes", "", instanceAll},
	{"connect", "ListUsers", "connect:ListUsers", "", instanceAll},
	{"connect", "DescribeUser", "connect:DescribeUser", "", instanceAll},
	{"connect", "ListRoutingProfiles", "connect:ListRoutingProfiles", "", instanceAll},
	{"connect", "ListContactFlows", "connect:ListContactFlows", "", instanceAll},

	{"customerprofiles", "ListAccountIntegrations", "profile:ListAccountIntegrations", "", anyIntegration},
	{"customerprofiles", "GetDomain", "profile:GetDomain", "", profilesDomain},
	{"customerprofiles", "CreateDomain", "profile:CreateDomain", "", profilesDomain},
	{"customerprofiles", "PutIntegration", "profile:PutIntegration", "", profilesDomain},
	// The desktop's screen pop reads and writes the customers' profiles.
	{"customerprofiles", "SearchProfiles", "profile:SearchProfiles", ModuleProfiles, profilesDomain},
	{"customerprofiles", "CreateProfile", "profile:CreateProfile", ModuleProfiles, profilesDomain},
	{"customerprofiles", "UpdateProfile", "profile:UpdateProfile", ModuleProfiles, profilesDomain},

	{"s3", "HeadBucket", "s3:ListBucket", ModuleEmail, buckets},
	{"s3", "CreateBucket", "s3:CreateBucket", ModuleEmail, buckets},
	{"s3", "PutBucketEncryption", "s3:PutEncryptionConfiguration", ModuleEmail, buckets},
	{"s3", "PutPublicAccessBlock", "s3:PutBucketPublicAccessBlock", ModuleEmail, buckets},
	{"s3", "PutBucketVersioning", "s3:PutBucketVersioning", ModuleEmail, buckets},
	{"s3", "GetBucketVersioning", "s3:GetBucketVersioning", ModuleEmail, buckets},
	{"s3", "PutBucketLifecycleConfiguration", "s3:PutLifecycleConfiguration", ModuleEmail, buckets},
	{"s3", "GetBucketLifecycleConfiguration", "s3:GetLifecycleConfiguration", ModuleEmail, buckets},
	{"s3", "PutObject", "s3:PutObject", ModuleEmail, objects},
	{"s3", "CreateMultipartUpload", "s3:PutObject", ModuleEmail, objects},
	{"s3", "UploadPart", "s3:PutObject", ModuleEmail, objects},
	{"s3", "CompleteMultipartUpload", "s3:PutObject", ModuleEmail, objects},
	{"s3", "AbortMultipartUpload", "s3:AbortMultipartUpload", ModuleEmail, objects},
	{"s3", "GetObject", "s3:GetObject", ModuleEmail, objects},

	{"sesv2", "SendEmail", "ses:SendRawEmail", ModuleEmail, identities},
	{"ses", "GetIdentityVerificationAttributes", "ses:GetIdentityVerificationAttributes", ModuleEmail, identities},
	{"ses", "VerifyEmailIdentity", "ses:VerifyEmailIdentity", ModuleEmail, identities},
	{"ses", "DescribeActiveReceiptRuleSet", "ses:DescribeActiveReceiptRuleSet", ModuleEmail, anyResource},
	{"ses", "DescribeReceiptRuleSet", "ses:DescribeReceiptRuleSet", ModuleEmail, anyResource},
	{"ses", "CreateReceiptRuleSet", "ses:CreateReceiptRuleSet", ModuleEmail, anyResource},
	{"ses", "SetActiveReceiptRuleSet", "ses:SetActiveReceiptRuleSet", ModuleEmail, anyResource},
	{"ses", "CreateReceiptRule", "ses:CreateReceiptRule", ModuleEmail, anyResource},
	{"ses", "UpdateReceiptRule", "ses:UpdateReceiptRule", ModuleEmail, anyResource},

	{"s3", "GetBucketPolicy", "s3:GetBucketPolicy", ModuleEmail, buckets},
	{"s3", "PutBucketPolicy", "s3:PutBucketPolicy", ModuleEmail, buckets},

	{"sns", "GetTopicAttributes", "sns:GetTopicAttributes", ModuleEmail, emailTopic},
	{"sns", "CreateTopic", "sns:CreateTopic", ModuleEmail, emailTopic},
	{"sns", "SetTopicAttributes", "sns:SetTopicAttributes", ModuleEmail, emailTopic},
	{"sns", "ListSubscriptionsByTopic", "sns:ListSubscriptionsByTopic", ModuleEmail, emailTopic},
	{"sns", "Subscribe", "sns:Subscribe", ModuleEmail, emailTopic},

	{"bedrockruntime", "Converse", "bedrock:InvokeModel", ModuleAI, bedrockModels},
	{"bedrockruntime", "ConverseStream", "bedrock:InvokeModelWithResponseStream", ModuleAI, bedrockModels},

	{"quicksight", "GenerateEmbedUrlForRegisteredUser", "quicksight:GenerateEmbedUrlForRegisteredUser", ModuleReporting, dashboardAndUser},
}

// Allows reports whether Permissions lists the SDK operation.
func Allows(service, operation string) bool {
	return slices.ContainsFunc(Permissions, func(p Permission) bool { return p.Service == service && p.Operation == operation })
}

// PolicyDocument is an IAM policy.
type PolicyDocument struct {
	Version   string
	Statement []PolicyStatement
}

// PolicyStatement is one statement of it.
type PolicyStatement struct {
	Sid      string
	Effect   string
	Action   []string
	Resource []string
}

// Policy returns the least-privilege policy for a tenant's role: the
// actions of the base build and of the modules enabled, each statement
// scoped to the scope's resources, one statement per service and resource
// set. A module whose resources the scope lacks (no buckets yet) is left
// out rather than given "*".
func Policy(scope Scope, modules []string) (PolicyDocument, error) {
	if scope.Partition == "" {
		scope.Partition = "aws"
	}
	if scope.InstanceARN == "" || scope.Account == "" || scope.Region == "" {
		return PolicyDocument{}, fmt.Errorf("connectaws: a policy needs the instance, its account and region")
	}
	type group struct {
		sid       string
		actions   []string
		resources []string
	}
	groups := map[string]*group{}
	var order []string
	for _, p := range Permissions {
		if p.Module != "" && !slices.Contains(modules, p.Module) {
			continue
		}
		res := p.Resources(scope)
		if len(res) == 0 {
			continue
		}
		key := p.Service + "\x00" + strings.Join(res, ",")
		g, ok := groups[key]
		if !ok {
			g = &group{sid: sidOf(p.Service, res), resources: res}
			groups[key] = g
			order = append(order, key)
		}
		if !slices.Contains(g.actions, p.Action) {
			g.actions = append(g.actions, p.Action)
		}
	}
	doc := PolicyDocument{Version: "2012-10-17"}
	for _, k := range order {
		g := groups[k]
		sort.Strings(g.actions)
		doc.Statement = append(doc.Statement, PolicyStatement{Sid: g.sid, Effect: "Allow", Action: g.actions, Resource: g.resources})
	}
	return doc, nil
}

// sidOf names a statement: alphanumeric, as IAM requires.
func sidOf(service string, res []string) string {
	switch service {
	case "connect":
		return "ConnectInstance"
	case "s3":
		if strings.HasSuffix(res[0], "/*") {
			return "EmailBucketObjects"
		}
		return "EmailBuckets"
	case "sesv2":
		return "SendEmail"
	case "ses":
		if res[0] == "*" {
			return "ReceiveEmail"
		}
		return "VerifyIdentities"
	case "sns":
		return "InboundMailTopic"
	case "quicksight":
		return "EmbedDashboard"
	case "bedrockruntime":
		return "InvokeModels"
	case "customerprofiles":
		if strings.HasSuffix(res[0], ":*") {
			return "ProfilesIntegrations"
		}
		return "ProfilesDomain"
	}
	return strings.ToUpper(service[:1]) + service[1:]
}

// JSON returns the document as IAM takes it.
func (d PolicyDocument) JSON() string {
	b, _ := json.MarshalIndent(d, "", "  ")
	return string(b)
}
