package connectaws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"switchboard/connectaws/arn"
)

// The names switchboard gives what it sets up in a tenant's account to
// receive email: a receipt rule set (used only when the account has no
// active one), its rule, and the SNS topic the rule notifies.
const (
	ReceiptRuleSet  = "switchboard"
	ReceiptRuleName = "switchboard-inbound"
	EmailTopic      = "switchboard-email"
)

// MaxRuleRecipients is SES's limit on a receipt rule's recipients.
const MaxRuleRecipients = 100

// Subscription states.
const (
	SubscriptionConfirmed = "confirmed"
	SubscriptionPending   = "pending"   // SNS waits for the endpoint to confirm
	SubscriptionRequested = "requested" // just subscribed; SNS sends the confirmation
)

// ReceiptRule is the rule that hands a tenant's inbound email to
// switchboard: SES stores each message for its recipients in Bucket under
// Prefix, and notifies TopicARN.
type ReceiptRule struct {
	Recipients     []string
	Bucket, Prefix string
	TopicARN       string
	RuleSet        string // where the rule is (set by EnsureReceiptRule)
}

// InTheirRuleSet reports whether the rule is in the account's own active
// rule set rather than in ReceiptRuleSet.
func (r ReceiptRule) InTheirRuleSet() bool { return r.RuleSet != "" && r.RuleSet != ReceiptRuleSet }

// emailTopicARN is the ARN of the email topic in inst's account, in
// region, and that account.
func emailTopicARN(inst Instance, region string) (topic, account string, err error) {
	a, err := arn.ParseInstance(inst.InstanceARN)
	if err != nil {
		return "", "", fmt.Errorf("%w: %v", ErrInvalidInstance, err)
	}
	return "arn:" + a.Partition + ":sns:" + region + ":" + a.Account + ":" + EmailTopic, a.Account, nil
}

// sesPublishes is the topic policy statement that lets SES of the
// account publish to the topic.
func sesPublishes(topicARN, account string) map[string]any {
	return map[string]any{
		"Sid":       "SwitchboardSESPublish",
		"Effect":    "Allow",
		"Principal": map[string]any{"Service": "ses.amazonaws.com"},
		"Action":    "SNS:Publish",
		"Resource":  topicARN,
		"Condition": map[string]any{"StringEquals": map[string]any{"AWS:SourceAccount": account}},
	}
}

// EnsureEmailTopic makes sure the topic EmailTopic exists in inst's
// account in region and that its policy lets the account's SES publish
// to it, creating or amending what is missing. It returns the topic's ARN
// and what it changed (nothing on a second run).
func (c *Clients) EnsureEmailTopic(ctx context.Context, inst Instance, region string) (string, []string, error) {
	topicARN, account, err := emailTopicARN(inst, region)
	if err != nil {
		return "", nil, err
	}
	cl, err := c.SNS(inst, region)
	if err != nil {
		return "", nil, err
	}
	stmt := sesPublishes(topicARN, account)
	got, err := cl.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(topicARN)})
	if _, ok := errors.AsType[*snstypes.NotFoundException](err); ok {
		doc, _, err := MergeStatement("", stmt)
		if err != nil {
			return "", nil, err
		}
		out, err := cl.CreateTopic(ctx, &sns.CreateTopicInput{
			Name:       aws.String(EmailTopic),
			Attributes: map[string]string{"Policy": doc},
		})
		if err != nil {
			return "", nil, upstream("SNS", "CreateTopic", err)
		}
		return aws.ToString(out.TopicArn), []string{"created the SNS topic " + aws.ToString(out.TopicArn)}, nil
	}
	if err != nil {
		return "", nil, upstream("SNS", "GetTopicAttributes", err)
	}
	doc, changed, err := MergeStatement(got.Attributes["Policy"], stmt)
	if err != nil || !changed {
		return topicARN, nil, err
	}
	_, err = cl.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{
		TopicArn: aws.String(topicARN), AttributeName: aws.String("Policy"), AttributeValue: aws.String(doc),
	})
	if err != nil {
		return "", nil, upstream("SNS", "SetTopicAttributes", err)
	}
	return topicARN, []string{"let SES publish to the SNS topic " + topicARN}, nil
}

// EnsureSubscription subscribes endpoint (http or https, as its scheme)
// to topicARN unless it is already, and says where the subscription
// stands.
func (c *Clients) EnsureSubscription(ctx context.Context, inst Instance, region, topicARN, endpoint string) (string, error) {
	cl, err := c.SNS(inst, region)
	if err != nil {
		return "", err
	}
	protocol, _, _ := strings.Cut(endpoint, "://")
	p := sns.NewListSubscriptionsByTopicPaginator(cl, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topicARN)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", upstream("SNS", "ListSubscriptionsByTopic", err)
		}
		for _, s := range page.Subscriptions {
			if aws.ToString(s.Protocol) == protocol && aws.ToString(s.Endpoint) == endpoint {
				if aws.ToString(s.SubscriptionArn) == "PendingConfirmation" {
					return SubscriptionPending, nil
				}
				return SubscriptionConfirmed, nil
			}
		}
	}
	_, err = cl.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: aws.String(topicARN), Protocol: aws.String(protocol), Endpoint: aws.String(endpoint),
	})
	if err != nil {
		return "", upstream("SNS", "Subscribe", err)
	}
	return SubscriptionRequested, nil
}

// EnsureReceiptRule makes sure the account's active receipt rule set in
// region holds the rule ReceiptRuleName as want describes it. When no set
// is active, ReceiptRuleSet is created (if missing) and activated; when the
// account has its own active set, the rule is added to it, last, rather
// than replacing it (an account has one active set, and the tenant's other
// rules keep working). It returns want completed and what it changed.
func (c *Clients) EnsureReceiptRule(ctx context.Context, inst Instance, region string, want ReceiptRule) (ReceiptRule, []string, error) {
	if len(want.Recipients) == 0 {
		// A rule without recipients takes the mail of every verified
		// domain of the account: never switchboard's to create.
		return want, nil, errors.New("connectaws: a receipt rule needs recipients")
	}
	if len(want.Recipients) > MaxRuleRecipients {
		return want, nil, fmt.Errorf("connectaws: a receipt rule takes at most %d recipients, not %d", MaxRuleRecipients, len(want.Recipients))
	}
	cl, err := c.SESClassic(inst, region)
	if err != nil {
		return want, nil, err
	}
	var changes []string
	active, err := cl.DescribeActiveReceiptRuleSet(ctx, &ses.DescribeActiveReceiptRuleSetInput{})
	if err != nil {
		return want, nil, upstream("SES", "DescribeActiveReceiptRuleSet", err)
	}
	rules := active.Rules
	if active.Metadata != nil && aws.ToString(active.Metadata.Name) != "" {
		want.RuleSet = aws.ToString(active.Metadata.Name)
	} else {
		want.RuleSet = ReceiptRuleSet
		got, err := cl.DescribeReceiptRuleSet(ctx, &ses.DescribeReceiptRuleSetInput{RuleSetName: aws.String(ReceiptRuleSet)})
		if _, ok := errors.AsType[*sestypes.RuleSetDoesNotExistException](err); ok {
			if _, err := cl.CreateReceiptRuleSet(ctx, &ses.CreateReceiptRuleSetInput{RuleSetName: aws.String(ReceiptRuleSet)}); err != nil {
				return want, nil, upstream("SES", "CreateReceiptRuleSet", err)
			}
			changes = append(changes, "created the receipt rule set "+ReceiptRuleSet)
		} else if err != nil {
			return want, nil, upstream("SES", "DescribeReceiptRuleSet", err)
		} else {
			rules = got.Rules
		}
		if _, err := cl.SetActiveReceiptRuleSet(ctx, &ses.SetActiveReceiptRuleSetInput{RuleSetName: aws.String(ReceiptRuleSet)}); err != nil {
			return want, nil, upstream("SES", "SetActiveReceiptRuleSet", err)
		}
		changes = append(changes, "made "+ReceiptRuleSet+" the active receipt rule set")
	}

	rule := &sestypes.ReceiptRule{
		Name:        aws.String(ReceiptRuleName),
		Enabled:     true,
		Recipients:  want.Recipients,
		ScanEnabled: true, // spam and virus verdicts in each notification
		TlsPolicy:   sestypes.TlsPolicyOptional,
		Actions: []sestypes.ReceiptAction{{S3Action: &sestypes.S3Action{
			BucketName: aws.String(want.Bucket), ObjectKeyPrefix: aws.String(want.Prefix), TopicArn: aws.String(want.TopicARN),
		}}},
	}
	i := slices.IndexFunc(rules, func(r sestypes.ReceiptRule) bool { return aws.ToString(r.Name) == ReceiptRuleName })
	switch {
	case i < 0:
		_, err := cl.CreateReceiptRule(ctx, &ses.CreateReceiptRuleInput{RuleSetName: aws.String(want.RuleSet), Rule: rule})
		if err != nil {
			return want, nil, upstream("SES", "CreateReceiptRule", err)
		}
		changes = append(changes, "created the receipt rule "+ReceiptRuleName+" in "+want.RuleSet)
	case !sameRule(rules[i], *rule):
		_, err := cl.UpdateReceiptRule(ctx, &ses.UpdateReceiptRuleInput{RuleSetName: aws.String(want.RuleSet), Rule: rule})
		if err != nil {
			return want, nil, upstream("SES", "UpdateReceiptRule", err)
		}
		changes = append(changes, "updated the receipt rule "+ReceiptRuleName+" in "+want.RuleSet)
	}
	return want, changes, nil
}

// sameRule reports whether SES's rule is the one wanted: enabled, scanning,
// the same recipients (in any order, without regard to case) and the one S3
// action.
func sameRule(got, want sestypes.ReceiptRule) bool {
	norm := func(rs []string) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = strings.ToLower(r)
		}
		slices.Sort(out)
		return out
	}
	if !got.Enabled || !got.ScanEnabled || !slices.Equal(norm(got.Recipients), norm(want.Recipients)) || len(got.Actions) != 1 {
		return false
	}
	g, w := got.Actions[0].S3Action, want.Actions[0].S3Action
	return g != nil && aws.ToString(g.BucketName) == aws.ToString(w.BucketName) &&
		aws.ToString(g.ObjectKeyPrefix) == aws.ToString(w.ObjectKeyPrefix) &&
		aws.ToString(g.TopicArn) == aws.ToString(w.TopicArn) && aws.ToString(g.KmsKeyArn) == ""
}

// MergeStatement returns the policy document doc (a JSON policy; empty for
// none) with stmt in it: added, or put in place of the statement with the
// same Sid when that one differs. changed is false when doc held stmt
// already.
func MergeStatement(doc string, stmt map[string]any) (merged string, changed bool, err error) {
	policy := map[string]any{"Version": "2012-10-17"}
	if doc != "" {
		if err := json.Unmarshal([]byte(doc), &policy); err != nil {
			return "", false, fmt.Errorf("connectaws: the policy in force is not JSON: %w", err)
		}
	}
	// Compare as JSON sees it, the way the document in force was read.
	var want map[string]any
	b, _ := json.Marshal(stmt)
	_ = json.Unmarshal(b, &want)

	var statements []any
	switch s := policy["Statement"].(type) {
	case nil:
	case []any:
		statements = s
	case map[string]any: // a lone statement may be written without a list
		statements = []any{s}
	default:
		return "", false, errors.New("connectaws: the policy in force has an unreadable Statement")
	}
	found := false
	for i, s := range statements {
		m, ok := s.(map[string]any)
		if !ok || m["Sid"] != want["Sid"] {
			continue
		}
		found = true
		if reflect.DeepEqual(m, want) {
			return doc, false, nil
		}
		statements[i] = want
	}
	if !found {
		statements = append(statements, want)
	}
	policy["Statement"] = statements
	out, err := json.Marshal(policy)
	return string(out), true, err
}
