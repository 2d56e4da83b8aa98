package mail

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"switchboard/apierror"
	"switchboard/apierror/classify"
	"switchboard/awssns"
	"switchboard/connectaws/arn"
	"switchboard/ent"
	"switchboard/instances"
)

// sesNotification is what SES publishes about an email it received.
type sesNotification struct {
	NotificationType string `json:"notificationType"`
	Receipt          struct {
		Recipients []string `json:"recipients"`
		Action     struct {
			Type       string `json:"type"`
			BucketName string `json:"bucketName"`
			ObjectKey  string `json:"objectKey"`
			TopicArn   string `json:"topicArn"`
		} `json:"action"`
	} `json:"receipt"`
	Mail struct {
		MessageID string `json:"messageId"`
	} `json:"mail"`
}

// SNSHandler serves the HTTPS endpoint that an SNS topic of a tenant's
// account delivers SES receipt notifications to. Every message must carry
// a valid SNS signature (403 otherwise). A SubscriptionConfirmation is
// confirmed, by visiting its SubscribeURL, when the topic's account is the
// account of an instance with the email module. A Notification of a
// received email, stored by an S3 action in a content bucket, is handed to
// Receive as the tenant that owns the bucket, provided the topic is in that
// tenant's account.
//
// Processing runs under ctx (the server's lifetime), not the request's, and
// is bounded by Options.ProcessTimeout, so that SNS giving up on a slow
// answer does not cut it short; a retry then finds the work done. Answers:
// 200 done (also for a malformed message, recorded as FAILED, and for
// notifications that are not about a received email), 4xx for what a retry
// cannot mend, 5xx for what it may (S3 or Connect failing): SNS retries
// those.
func (s *Service) SNSHandler(ctx context.Context) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		m, err := s.sns.ReadMessage(r)
		if re, ok := errors.AsType[*awssns.ReadError](err); ok {
			if re.Status == http.StatusForbidden {
				s.log.WarnContext(r.Context(), "mail: SNS message refused", "topic", m.TopicArn, "type", m.Type, "err", err)
			}
			http.Error(w, re.Error(), re.Status)
			return
		}
		switch m.Type {
		case "SubscriptionConfirmation":
			s.confirmSubscription(r.Context(), w, m)
		case "UnsubscribeConfirmation":
			s.log.InfoContext(r.Context(), "mail: SNS subscription ended", "topic", m.TopicArn)
			w.WriteHeader(http.StatusOK)
		case "Notification":
			s.notification(ctx, w, r, m)
		default:
			http.Error(w, "unknown message type", http.StatusBadRequest)
		}
	})
}

// confirmSubscription confirms a subscription to a topic of a tenant's
// account.
func (s *Service) confirmSubscription(ctx context.Context, w http.ResponseWriter, m *awssns.Message) {
	account := arnAccount(m.TopicArn, "sns")
	known, err := s.accountHasEmail(ctx, account)
	if err != nil {
		s.log.ErrorContext(ctx, "mail: looking up the topic's account", "topic", m.TopicArn, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if !known {
		s.log.WarnContext(ctx, "mail: subscription of a topic of no tenant refused", "topic", m.TopicArn)
		http.Error(w, "unknown topic", http.StatusForbidden)
		return
	}
	if err := s.sns.Confirm(ctx, m); errors.Is(err, awssns.ErrForeignURL) {
		s.log.WarnContext(ctx, "mail: subscription refused", "topic", m.TopicArn, "err", err)
		http.Error(w, "invalid SubscribeURL", http.StatusForbidden)
		return
	} else if err != nil {
		s.log.ErrorContext(ctx, "mail: confirming the subscription", "topic", m.TopicArn, "err", err)
		http.Error(w, "could not confirm", http.StatusBadGateway)
		return
	}
	s.log.InfoContext(ctx, "mail: SNS subscription confirmed", "topic", m.TopicArn)
	w.WriteHeader(http.StatusOK)
}

// notification takes in the email an SES notification announces.
func (s *Service) notification(base context.Context, w http.ResponseWriter, r *http.Request, m *awssns.Message) {
	ctx := r.Context()
	var n sesNotification
	if err := json.Unmarshal([]byte(m.Message), &n); err != nil {
		s.log.WarnContext(ctx, "mail: SNS notification is not from SES", "topic", m.TopicArn)
		http.Error(w, "not an SES notification", http.StatusBadRequest)
		return
	}
	a := n.Receipt.Action
	if n.NotificationType != "Received" || a.Type != "S3" || a.BucketName == "" || a.ObjectKey == "" {
		s.log.InfoContext(ctx, "mail: SES notification ignored", "topic", m.TopicArn,
			"notificationType", n.NotificationType, "action", a.Type)
		w.WriteHeader(http.StatusOK)
		return
	}
	inst, err := s.instanceForBucket(ctx, a.BucketName)
	if err != nil {
		s.log.WarnContext(ctx, "mail: notification for no tenant's bucket", "topic", m.TopicArn, "bucket", a.BucketName, "err", err)
		http.Error(w, "unknown bucket", http.StatusNotFound)
		return
	}
	if account := arnAccount(m.TopicArn, "sns"); account == "" || account != arnAccount(inst.InstanceArn, "connect") ||
		(a.TopicArn != "" && a.TopicArn != m.TopicArn) {
		s.log.WarnContext(ctx, "mail: notification from a topic outside the bucket's tenant refused",
			"topic", m.TopicArn, "bucket", a.BucketName, "tenant", inst.TenantID)
		http.Error(w, "topic and bucket belong to different accounts", http.StatusForbidden)
		return
	}

	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	case <-ctx.Done():
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	pctx, cancel := context.WithTimeout(systemContext(base, inst.TenantID), s.processTimeout)
	defer cancel()
	e, err := s.receive(pctx, inst, a.BucketName, a.ObjectKey, n.Receipt.Recipients)
	if err != nil {
		code, _ := classify.Of(err)
		status := http.StatusBadGateway
		switch code {
		case apierror.NotFound:
			status = http.StatusNotFound
		case apierror.BadUserInput, apierror.Forbidden:
			status = http.StatusBadRequest
		case apierror.Internal:
			status = http.StatusInternalServerError
		}
		s.log.ErrorContext(ctx, "mail: inbound email not taken in", "tenant", inst.TenantID,
			"bucket", a.BucketName, "key", a.ObjectKey, "status", status, "err", err)
		http.Error(w, http.StatusText(status), status)
		return
	}
	s.log.InfoContext(ctx, "mail: inbound email taken in", "tenant", inst.TenantID, "email", e.ID, "state", e.State)
	w.WriteHeader(http.StatusOK)
}

// instanceForBucket finds the instance, with the email module, whose
// content bucket is bucket. It reads across tenants: the bucket name is all
// a notification says.
func (s *Service) instanceForBucket(ctx context.Context, bucket string) (*ent.Instance, error) {
	tenant, ok := s.tenantOfBucket(bucket)
	if !ok {
		return nil, errors.New("not a content bucket's name")
	}
	inst, err := instances.ForTenant(ctx, s.client, tenant)
	if err != nil {
		return nil, err
	}
	if content, _ := s.BucketNames(inst.TenantID, inst.Alias); content != bucket || !Enabled(inst) {
		return nil, errors.New("not the tenant's content bucket")
	}
	return inst, nil
}

// accountHasEmail reports whether an instance with the email module is in
// the AWS account. It reads across tenants.
func (s *Service) accountHasEmail(ctx context.Context, account string) (bool, error) {
	if account == "" {
		return false, nil
	}
	insts, err := instances.InAccount(ctx, s.client, account)
	if err != nil {
		return false, err
	}
	for _, inst := range insts {
		if Enabled(inst) {
			return true, nil
		}
	}
	return false, nil
}

// arnAccount returns the account of an ARN of service, or "".
func arnAccount(s, service string) string {
	a, err := arn.Parse(s)
	if err != nil || a.Service != service {
		return ""
	}
	return a.Account
}
