package mail

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"switchboard/connectaws"
	"switchboard/connectaws/arn"
	"switchboard/ent"
)

// InboundPrefix is where in the content bucket SES's receipt rule stores
// the raw messages it receives (the object key is the prefix and SES's
// message ID).
const InboundPrefix = "inbound/"

// Receiving is what EnsureReceiving found, and set up, in one SES region.
type Receiving struct {
	Region       string
	Rule         connectaws.ReceiptRule
	Subscription string // connectaws.Subscription*
	Changes      []string
}

// EnsureReceiving sets up, in inst's account in region, what brings the
// mail SES receives for recipients to switchboard, and changes nothing
// already in place: the SNS topic connectaws.EmailTopic, which SES may
// publish to; the content bucket's policy statement letting SES store
// messages under InboundPrefix; the receipt rule storing them there and
// notifying the topic; the topic's subscription of endpoint (this server's
// /aws/sns/email, which confirms it when SNS asks).
func (s *Service) EnsureReceiving(ctx context.Context, inst *ent.Instance, region string, recipients []string, endpoint string) (Receiving, error) {
	target := connectaws.InstanceOf(inst)
	out := Receiving{Region: region}
	topic, changes, err := s.aws.EnsureEmailTopic(ctx, target, region)
	if err != nil {
		return out, err
	}
	out.Changes = append(out.Changes, changes...)

	content, _ := s.BucketNames(inst.TenantID, inst.Alias)
	changed, err := s.allowSESDelivery(ctx, inst, content)
	if err != nil {
		return out, err
	}
	if changed {
		out.Changes = append(out.Changes, "let SES store inbound mail in "+content+"/"+InboundPrefix)
	}

	out.Rule, changes, err = s.aws.EnsureReceiptRule(ctx, target, region, connectaws.ReceiptRule{
		Recipients: recipients, Bucket: content, Prefix: InboundPrefix, TopicARN: topic,
	})
	if err != nil {
		return out, err
	}
	out.Changes = append(out.Changes, changes...)

	out.Subscription, err = s.aws.EnsureSubscription(ctx, target, region, topic, endpoint)
	if err != nil {
		return out, err
	}
	if out.Subscription == connectaws.SubscriptionRequested {
		out.Changes = append(out.Changes, "subscribed "+endpoint+" to "+topic)
	}
	return out, nil
}

// allowSESDelivery puts in the bucket's policy the statement that lets
// SES of inst's account store objects under InboundPrefix, keeping the
// policy's other statements.
func (s *Service) allowSESDelivery(ctx context.Context, inst *ent.Instance, bucket string) (bool, error) {
	a, err := arn.ParseInstance(inst.InstanceArn)
	if err != nil {
		return false, err
	}
	c, err := s.s3Client(inst)
	if err != nil {
		return false, err
	}
	var doc string
	got, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
	switch {
	case err == nil:
		doc = aws.ToString(got.Policy)
	case errorCode(err) == "NoSuchBucketPolicy":
	default:
		return false, upstream(err, "Amazon S3 did not return the policy of %s", bucket)
	}
	merged, changed, err := connectaws.MergeStatement(doc, map[string]any{
		"Sid":       "SwitchboardSESPut",
		"Effect":    "Allow",
		"Principal": map[string]any{"Service": "ses.amazonaws.com"},
		"Action":    "s3:PutObject",
		"Resource":  "arn:" + a.Partition + ":s3:::" + bucket + "/" + strings.TrimSuffix(InboundPrefix, "/") + "/*",
		"Condition": map[string]any{"StringEquals": map[string]any{"AWS:SourceAccount": a.Account}},
	})
	if err != nil || !changed {
		return false, err
	}
	if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(merged)}); err != nil {
		return false, upstream(err, "Amazon S3 did not set the policy of %s", bucket)
	}
	return true, nil
}
