package fakeaws_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"switchboard/internal/fakeaws"
)

// roleCredentials assumes role on s and returns the credentials.
func roleCredentials(t *testing.T, s *fakeaws.STS) aws.CredentialsProvider {
	t.Helper()
	s.TrustCaller(base)
	s.AllowRole(role, externalID)
	return credentials.StaticCredentialsProvider{Value: assumed(t, s)}
}

func TestS3RefusesUnencryptedWritesAndStrangers(t *testing.T) {
	ctx := context.Background()
	st := fakeaws.NewSTS(t)
	f := fakeaws.NewS3(t)
	f.TrustSTS(st)
	creds := roleCredentials(t, st)
	client := func(c aws.CredentialsProvider) *s3.Client {
		return s3.New(s3.Options{Region: "eu-west-2", Credentials: c, BaseEndpoint: aws.String(f.URL), UsePathStyle: true, RetryMaxAttempts: 1})
	}
	c := client(creds)
	f.SetOwner("owned", role)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("owned")}); err != nil {
		t.Fatal(err)
	}
	put := func(c *s3.Client, sse s3types.ServerSideEncryption) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("owned"), Key: aws.String("k"),
			Body: bytes.NewReader([]byte("x")), ServerSideEncryption: sse})
		return err
	}
	if err := put(c, ""); apiCode(err) != "AccessDenied" {
		t.Errorf("unencrypted put: %v", err)
	}
	if err := put(c, s3types.ServerSideEncryptionAes256); err != nil {
		t.Errorf("encrypted put: %v", err)
	}
	stranger := client(credentials.StaticCredentialsProvider{Value: aws.Credentials{AccessKeyID: "AKIASTRANGER", SecretAccessKey: "x"}})
	if _, err := stranger.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("owned"), Key: aws.String("k")}); apiCode(err) != "AccessDenied" {
		t.Errorf("a stranger reading: %v", err)
	}
	writes := f.Writes()
	if len(writes) != 2 || !writes[0].Refused || writes[1].Refused || writes[1].ServerSideEncryption != "AES256" {
		t.Errorf("writes %+v", writes)
	}
	if obj, ok := f.Object("owned", "k"); !ok || string(obj.Body) != "x" {
		t.Errorf("object %v %q", ok, obj.Body)
	}
}

func TestSESSendEmail(t *testing.T) {
	ctx := context.Background()
	st := fakeaws.NewSTS(t)
	f := fakeaws.NewSES(t)
	f.TrustSTS(st)
	c := sesv2.New(sesv2.Options{Region: "eu-west-2", Credentials: roleCredentials(t, st), BaseEndpoint: aws.String(f.URL), RetryMaxAttempts: 1})
	in := &sesv2.SendEmailInput{
		FromEmailAddressIdentityArn: aws.String("arn:aws:ses:eu-west-2:111111111111:identity/example.com"),
		Destination:                 &sestypes.Destination{BccAddresses: []string{"b@example.net"}},
		Content:                     &sestypes.EmailContent{Raw: &sestypes.RawMessage{Data: []byte("Subject: hi\r\n\r\nhello")}},
	}
	out, err := c.SendEmail(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	sent := f.Sent()
	if len(sent) != 1 || sent[0].MessageID != aws.ToString(out.MessageId) || !strings.HasSuffix(string(sent[0].Raw), "hello") ||
		sent[0].Bcc[0] != "b@example.net" || !strings.HasPrefix(sent[0].AccessKeyID, "ASIA") {
		t.Errorf("sent %+v", sent)
	}
	f.Fail(fakeaws.Failure{Status: 400, Code: "MessageRejected", Message: "Email address is not verified.", Times: 1})
	if _, err := c.SendEmail(ctx, in); apiCode(err) != "MessageRejected" {
		t.Errorf("refused send: %v", err)
	}
}

func apiCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}
