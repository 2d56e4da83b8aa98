package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"switchboard/auth"
	"switchboard/cmd/switchboard/wire"
	"switchboard/connectaws"
	"switchboard/gid"
	"switchboard/internal/fakeaws"
	"switchboard/internal/testenv"
)

// TestEmailOperations drives the contract's email operations through
// GraphQL, with the real SDK against fake STS, S3 and SES.
func TestEmailOperations(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		platform := aws.Credentials{AccessKeyID: "AKIAPLATFORM", SecretAccessKey: "platform-secret"}
		sts, s3, ses := fakeaws.NewSTS(t), fakeaws.NewS3(t), fakeaws.NewSES(t)
		sts.TrustCaller(platform)
		s3.TrustSTS(sts)
		ses.TrustSTS(sts)
		s := testenv.NewServer(t, b, func(c *wire.Config) {
			c.AWS = &wire.AWS{Options: connectaws.Options{
				BaseCredentials: credentials.StaticCredentialsProvider{Value: platform}, STSEndpoint: sts.URL, RetryMaxAttempts: 1,
				S3Endpoint: s3.URL, SESEndpoint: ses.URL,
			}}
		})
		mailer := s.App.Mail()
		a, bt := s.NewTenant(t, "Acme"), s.NewTenant(t, "Bolt")
		_, agentTok := s.NewAgent(t, a, "Alex", "alex@acme.example", auth.RoleAgent)
		_, otherTok := s.NewAgent(t, bt, "Cy", "cy@bolt.example", auth.RoleAgent)
		const account, region = "111111111111", "eu-west-2"
		role := "arn:aws:iam::" + account + ":role/SwitchboardAccess"
		sts.AllowRole(role, "ext-acme")
		content, attachments := mailer.BucketNames(mustID(a.ID), "acme-support")
		s3.SetOwner(content, role)
		s3.SetOwner(attachments, role)
		s.MustDo(t, a.AdminToken, `mutation($in: ConfigureInstanceInput!) { configureInstance(input: $in) { id modules } }`, map[string]any{"in": map[string]any{
			"instanceArn": "arn:aws:connect:" + region + ":" + account + ":instance/11111111-2222-3333-4444-555555555555",
			"alias":       "acme-support", "region": region, "roleArn": role, "externalId": "ext-acme", "modules": []string{"email"},
		}}, nil)
		if enc, ok := s3.Encryption(content); !ok || enc != "AES256" {
			t.Fatalf("content bucket encryption %q %v", enc, ok)
		}
		if pab, ok := s3.PublicAccess(attachments); !ok || !pab.BlockPublicAcls || !pab.RestrictPublicBuckets {
			t.Fatalf("attachments bucket public access %+v", pab)
		}
		var addr struct {
			CreateEmailAddress struct{ ID string } `json:"createEmailAddress"`
		}
		s.MustDo(t, a.AdminToken, `mutation($in: CreateEmailAddressInput!) { createEmailAddress(input: $in) { id } }`, map[string]any{"in": map[string]any{
			"address": "support@acme.example", "sesIdentityArn": "arn:aws:ses:" + region + ":" + account + ":identity/acme.example",
		}}, &addr)

		// sendEmail as a GraphQL multipart request with one attachment.
		sent := sendEmail(t, s, agentTok, addr.CreateEmailAddress.ID, "report.txt", "the attached report")
		if len(sent.Errors) > 0 {
			t.Fatalf("sendEmail: %+v", sent.Errors)
		}
		var out struct {
			SendEmail struct{ ID, Direction, From, Subject string }
		}
		_ = json.Unmarshal(sent.Data, &out)
		if out.SendEmail.Direction != "OUTBOUND" || out.SendEmail.Subject != "Your report" {
			t.Fatalf("sent %+v", out.SendEmail)
		}
		if len(ses.Sent()) != 1 {
			t.Fatalf("SES received %d", len(ses.Sent()))
		}

		var list struct {
			Emails struct {
				TotalCount int
				Edges      []struct{ Node struct{ ID string } }
			}
		}
		s.MustDo(t, agentTok, testenv.ContractOperation(t, "Emails"), map[string]any{"direction": "OUTBOUND"}, &list)
		if list.Emails.TotalCount != 1 || list.Emails.Edges[0].Node.ID != out.SendEmail.ID {
			t.Fatalf("emails %+v", list)
		}
		var msg struct {
			Email struct {
				BodyText    string
				Attachments []struct {
					FileName, DownloadURL string
					Size                  int
				}
			}
		}
		s.MustDo(t, agentTok, testenv.ContractOperation(t, "EmailMessage"), map[string]any{"id": out.SendEmail.ID}, &msg)
		if !strings.Contains(msg.Email.BodyText, "Please find") || len(msg.Email.Attachments) != 1 ||
			msg.Email.Attachments[0].FileName != "report.txt" || !strings.Contains(msg.Email.Attachments[0].DownloadURL, "X-Amz-Expires=") {
			t.Fatalf("message %+v", msg.Email)
		}
		// Tenant B reaches none of it.
		var none struct{ Email json.RawMessage }
		s.MustDo(t, otherTok, testenv.ContractOperation(t, "EmailMessage"), map[string]any{"id": out.SendEmail.ID}, &none)
		if string(none.Email) != "null" {
			t.Fatalf("tenant B reads A's email: %s", none.Email)
		}
		s.MustDo(t, otherTok, testenv.ContractOperation(t, "Emails"), nil, &list)
		if list.Emails.TotalCount != 0 {
			t.Fatalf("tenant B lists %d", list.Emails.TotalCount)
		}
		if r := sendEmail(t, s, otherTok, addr.CreateEmailAddress.ID, "x.txt", "x"); r.Code() == "" {
			t.Fatal("tenant B sent from A's address")
		}
		// SES refuses: UPSTREAM, and nothing recorded.
		ses.Fail(fakeaws.Failure{Status: 400, Code: "MessageRejected", Message: "no", Times: 1})
		if r := sendEmail(t, s, agentTok, addr.CreateEmailAddress.ID, "y.txt", "y"); r.Code() != "UPSTREAM" {
			t.Fatalf("refused send: %q", r.Code())
		}
		s.MustDo(t, agentTok, testenv.ContractOperation(t, "Emails"), nil, &list)
		if list.Emails.TotalCount != 1 {
			t.Fatalf("a refused send was recorded: %d", list.Emails.TotalCount)
		}
		for _, w := range s3.Writes() {
			if w.ServerSideEncryption != "AES256" {
				t.Fatalf("%s %s/%s without SSE-S3", w.Operation, w.Bucket, w.Key)
			}
		}
	})
}

func mustID(s string) gid.ID { return gid.ID(s) }

// sendEmail posts the contract's SendEmail as a GraphQL multipart request.
func sendEmail(t *testing.T, s *testenv.Server, token, from, fileName, content string) testenv.Response {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	ops, _ := json.Marshal(map[string]any{
		"query": testenv.ContractOperation(t, "SendEmail"),
		"variables": map[string]any{"input": map[string]any{
			"from": from, "to": []string{"jordan@customer.example"}, "subject": "Your report",
			"text": "Please find the report attached.", "attachments": []any{nil},
		}},
	})
	_ = w.WriteField("operations", string(ops))
	_ = w.WriteField("map", `{"0": ["variables.input.attachments.0"]}`)
	fw, _ := w.CreateFormFile("0", fileName)
	_, _ = io.WriteString(fw, content)
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/query", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var r testenv.Response
	raw, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("%d %s", res.StatusCode, raw)
	}
	return r
}
