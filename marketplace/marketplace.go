// Package marketplace serves what AWS Marketplace sends switchboard: the
// buyer's browser at the SaaS fulfilment URL (RegisterPath), resolved with
// ResolveCustomer and held as a pending subscription until it is linked to
// a tenant; and the subscription notifications of each product's SNS topic
// (SNSPath), which move the tenant's lifecycle through tenants.Service.
//
// Neither carries a tenant's credential: the registration token is AWS's to
// judge, and a notification must be signed by SNS (awssns) and come from a
// topic of AWS Marketplace's account.
package marketplace

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"switchboard/awssns"
	"switchboard/connectaws"
	"switchboard/connectaws/arn"
	"switchboard/ent"
	"switchboard/ent/pendingsubscription"
	"switchboard/ent/tenant"
	"switchboard/tenants"
	"switchboard/viewer"
)

// The paths the Handler serves.
const (
	RegisterPath = "/marketplace/register"
	SNSPath      = "/aws/sns/marketplace"
)

// Defaults of the Options.
const (
	// DefaultSignupURL is the admin console's sign-up page.
	DefaultSignupURL = "/signup"
	// DefaultTopicAccount is the AWS account of AWS Marketplace's
	// subscription notification topics
	// (arn:aws:sns:us-east-1:287250355862:aws-mp-subscription-notification-CODE).
	DefaultTopicAccount = "287250355862"
	// MaxMessageAge is how old a notification may be: SNS's retries are
	// over well within it, so an older one is a replay.
	MaxMessageAge = time.Hour
)

// topicPrefix begins the name of a product's subscription topic; the
// product code follows.
const topicPrefix = "aws-mp-subscription-notification-"

// ServiceName is what the package acts as (viewer.SystemOperator).
const ServiceName = "marketplace"

// Options configure the Handler.
type Options struct {
	Client   *ent.Client
	Metering *connectaws.Metering
	Tenants  *tenants.Service
	// SignupURL is where a registered buyer's browser is sent, with
	// ?subscription=ID (or ?tenant=ID for a buyer already linked);
	// DefaultSignupURL when empty.
	SignupURL string
	// SNS configures how notifications are authenticated; the zero value
	// is production's.
	SNS awssns.Options
	// TopicAccount is the account whose topics may deliver notifications;
	// DefaultTopicAccount when empty.
	TopicAccount string
	// RegisterRate bounds the registrations a second this replica asks
	// AWS to resolve, with RegisterBurst at once: the fulfilment URL is
	// open to anyone. DefaultRegisterRate and DefaultRegisterBurst when
	// zero.
	RegisterRate  rate.Limit
	RegisterBurst int
	Logger        *slog.Logger
	Now           func() time.Time
}

// Defaults of the registration rate.
const (
	DefaultRegisterRate  rate.Limit = 10
	DefaultRegisterBurst            = 50
)

type handler struct {
	Options
	sns      *awssns.Verifier
	register *rate.Limiter
}

// Handler serves RegisterPath and SNSPath. Both are form or JSON posts of
// AWS's; they are bounded in size by the caller.
func Handler(o Options) http.Handler {
	if o.SignupURL == "" {
		o.SignupURL = DefaultSignupURL
	}
	if o.TopicAccount == "" {
		o.TopicAccount = DefaultTopicAccount
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RegisterRate <= 0 {
		o.RegisterRate = DefaultRegisterRate
	}
	if o.RegisterBurst <= 0 {
		o.RegisterBurst = DefaultRegisterBurst
	}
	h := &handler{Options: o, sns: awssns.NewVerifier(o.SNS, o.Now), register: rate.NewLimiter(o.RegisterRate, o.RegisterBurst)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+RegisterPath, h.registerBuyer)
	mux.HandleFunc("POST "+SNSPath, h.notify)
	return mux
}

func (h *handler) system(ctx context.Context) context.Context {
	return viewer.NewContext(ctx, viewer.SystemOperator(ServiceName))
}

// register resolves the buyer the registration token names and sends the
// browser on to the sign-up page with its pending subscription. Nothing is
// stored for a token AWS does not take.
func (h *handler) registerBuyer(w http.ResponseWriter, r *http.Request) {
	if !h.register.Allow() {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many registrations; try again in a moment", http.StatusTooManyRequests)
		return
	}
	token := strings.TrimSpace(r.PostFormValue("x-amzn-marketplace-token"))
	if token == "" {
		http.Error(w, "x-amzn-marketplace-token is missing: subscribe through AWS Marketplace", http.StatusBadRequest)
		return
	}
	c, err := h.Metering.ResolveCustomer(r.Context(), token)
	switch {
	case connectaws.IsInvalidToken(err):
		h.Logger.WarnContext(r.Context(), "marketplace: registration token refused", "err", err)
		http.Error(w, "the registration token is invalid or has expired: subscribe again through AWS Marketplace", http.StatusBadRequest)
		return
	case connectaws.IsThrottled(err):
		w.Header().Set("Retry-After", "5")
		http.Error(w, "AWS Marketplace is busy; try again in a few seconds", http.StatusServiceUnavailable)
		return
	case err != nil:
		h.Logger.ErrorContext(r.Context(), "marketplace: resolving the buyer", "err", err)
		http.Error(w, "AWS Marketplace could not be reached; try again", http.StatusBadGateway)
		return
	}
	if c.ProductCode == "" || (c.CustomerIdentifier == "" && c.CustomerAWSAccountID == "") {
		h.Logger.ErrorContext(r.Context(), "marketplace: ResolveCustomer named no buyer", "customer", c)
		http.Error(w, "AWS Marketplace named no buyer", http.StatusBadGateway)
		return
	}
	ctx := h.system(r.Context())
	where := tenant.MarketplaceProductCode(c.ProductCode)
	if c.CustomerIdentifier != "" {
		where = tenant.And(where, tenant.MarketplaceCustomerIdentifier(c.CustomerIdentifier))
	} else {
		where = tenant.And(where, tenant.MarketplaceAWSAccountID(c.CustomerAWSAccountID), tenant.MarketplaceLicenseArn(c.LicenseARN))
	}
	if t, err := h.Client.Tenant.Query().Where(where).First(ctx); err == nil {
		// A buyer already linked (Marketplace's "set up your account"
		// again): on to its tenant.
		h.redirect(w, r, "tenant", string(t.ID))
		return
	} else if !ent.IsNotFound(err) {
		h.fail(w, r, "looking up the buyer's tenant", err)
		return
	}
	// Every field is set, empty or not, so that the unique index holds on
	// both stores (PostgreSQL would let NULLs repeat) and registering
	// again finds the same row.
	id, err := h.Client.PendingSubscription.Create().
		SetCustomerIdentifier(c.CustomerIdentifier).
		SetCustomerAWSAccountID(c.CustomerAWSAccountID).
		SetProductCode(c.ProductCode).
		SetLicenseArn(c.LicenseARN).
		SetRegisteredAt(h.Now()).
		OnConflictColumns(pendingsubscription.FieldProductCode, pendingsubscription.FieldCustomerIdentifier, pendingsubscription.FieldCustomerAWSAccountID).
		UpdateLicenseArn().
		UpdateRegisteredAt().
		ID(ctx)
	if err != nil {
		h.fail(w, r, "holding the pending subscription", err)
		return
	}
	h.Logger.InfoContext(r.Context(), "marketplace: buyer registered", "subscription", id, "product", c.ProductCode)
	h.redirect(w, r, "subscription", string(id))
}

func (h *handler) redirect(w http.ResponseWriter, r *http.Request, key, value string) {
	u, err := url.Parse(h.SignupURL)
	if err != nil {
		h.fail(w, r, "the sign-up URL", err)
		return
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

func (h *handler) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	h.Logger.ErrorContext(r.Context(), "marketplace: "+what, "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

// notification is what AWS Marketplace publishes about a subscription. Old
// documentation spells the keys in CamelCase; both are taken.
type notification struct {
	Action           string `json:"action"`
	CustomerID       string `json:"customer-identifier"`
	CustomerIDCamel  string `json:"CustomerIdentifier"`
	ProductCode      string `json:"product-code"`
	ProductCodeCamel string `json:"ProductCode"`
	OfferID          string `json:"offer-identifier"`
	FreeTrial        string `json:"isFreeTrialTermPresent"`
}

func (n *notification) customer() string { return first(n.CustomerID, n.CustomerIDCamel) }
func (n *notification) product() string  { return first(n.ProductCode, n.ProductCodeCamel) }

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// The actions of a notification.
const (
	subscribeSuccess   = "subscribe-success"
	subscribeFail      = "subscribe-fail"
	unsubscribePending = "unsubscribe-pending"
	unsubscribeSuccess = "unsubscribe-success"
)

// notify takes in a message of a product's subscription topic. Answers:
// 200 taken in (also for a buyer switchboard does not know), 400 for a
// message no retry mends, 403 for one not from AWS Marketplace, 500 when
// the store failed (SNS tries again).
func (h *handler) notify(w http.ResponseWriter, r *http.Request) {
	m, err := h.sns.ReadMessage(r)
	if re, ok := errors.AsType[*awssns.ReadError](err); ok {
		if m != nil {
			h.Logger.WarnContext(r.Context(), "marketplace: SNS message refused", "topic", m.TopicArn, "err", err)
		}
		http.Error(w, re.Error(), re.Status)
		return
	}
	product, ok := h.productOfTopic(m.TopicArn)
	if !ok {
		h.Logger.WarnContext(r.Context(), "marketplace: message of a topic not AWS Marketplace's refused", "topic", m.TopicArn)
		http.Error(w, "not an AWS Marketplace subscription topic", http.StatusForbidden)
		return
	}
	switch m.Type {
	case "SubscriptionConfirmation":
		if err := h.sns.Confirm(r.Context(), m); errors.Is(err, awssns.ErrForeignURL) {
			http.Error(w, "invalid SubscribeURL", http.StatusForbidden)
		} else if err != nil {
			h.Logger.ErrorContext(r.Context(), "marketplace: confirming the subscription", "topic", m.TopicArn, "err", err)
			http.Error(w, "could not confirm", http.StatusBadGateway)
		} else {
			h.Logger.InfoContext(r.Context(), "marketplace: SNS subscription confirmed", "topic", m.TopicArn)
		}
		return
	case "UnsubscribeConfirmation":
		h.Logger.InfoContext(r.Context(), "marketplace: SNS subscription ended", "topic", m.TopicArn)
		return
	case "Notification":
	default:
		http.Error(w, "unknown message type", http.StatusBadRequest)
		return
	}
	sent, err := time.Parse(time.RFC3339Nano, m.Timestamp)
	if err != nil || h.Now().Sub(sent) > MaxMessageAge {
		h.Logger.WarnContext(r.Context(), "marketplace: stale notification refused", "topic", m.TopicArn, "timestamp", m.Timestamp)
		http.Error(w, "the notification is too old (a replay?)", http.StatusBadRequest)
		return
	}
	var n notification
	if err := json.Unmarshal([]byte(m.Message), &n); err != nil || n.customer() == "" || n.Action == "" {
		http.Error(w, "not an AWS Marketplace subscription notification", http.StatusBadRequest)
		return
	}
	if n.product() != product {
		http.Error(w, "the notification's product is not its topic's", http.StatusBadRequest)
		return
	}
	if err := h.apply(r.Context(), &n, sent); err != nil {
		h.fail(w, r, "applying "+n.Action+" of "+n.customer(), err)
		return
	}
}

// productOfTopic returns the product code of an AWS Marketplace
// subscription topic, ok false for any other topic.
func (h *handler) productOfTopic(topic string) (string, bool) {
	a, err := arn.Parse(topic)
	if err != nil || a.Service != "sns" || a.Account != h.TopicAccount {
		return "", false
	}
	code, ok := strings.CutPrefix(a.Resource, topicPrefix)
	return code, ok && code != ""
}

// apply moves the lifecycle of the buyer's tenant as the action says; a
// buyer not yet linked loses its pending subscription when it fails or
// leaves. Every action may come twice, and each is idempotent.
func (h *handler) apply(ctx context.Context, n *notification, sent time.Time) error {
	ctx = h.system(ctx)
	log := h.Logger.With("action", n.Action, "customer", n.customer(), "product", n.product())
	t, err := h.Client.Tenant.Query().
		Where(tenant.MarketplaceCustomerIdentifier(n.customer()), tenant.MarketplaceProductCode(n.product())).
		First(ctx)
	if ent.IsNotFound(err) {
		if n.Action == subscribeFail || n.Action == unsubscribeSuccess {
			deleted, err := h.Client.PendingSubscription.Delete().
				Where(pendingsubscription.CustomerIdentifier(n.customer()), pendingsubscription.ProductCode(n.product())).
				Exec(ctx)
			if err != nil {
				return err
			}
			log.InfoContext(ctx, "marketplace: buyer of no tenant", "pendingDeleted", deleted)
			return nil
		}
		log.InfoContext(ctx, "marketplace: notification of a buyer of no tenant")
		return nil
	}
	if err != nil {
		return err
	}
	log = log.With("tenant", t.ID)
	switch n.Action {
	case subscribeSuccess:
		// A subscription older than the tenant's end (delivered late) does
		// not bring it back.
		if t.UnsubscribedAt != nil && !sent.After(*t.UnsubscribedAt) {
			log.InfoContext(ctx, "marketplace: subscription older than the tenant's end ignored", "sent", sent)
			return nil
		}
		_, err = h.Tenants.Resubscribe(ctx, h.Client, t.ID)
	case subscribeFail, unsubscribeSuccess:
		_, err = h.Tenants.Unsubscribe(ctx, h.Client, t.ID)
	case unsubscribePending:
		// AWS takes the last hour's usage for an hour more; the meter
		// sends each closed hour on its own.
		log.InfoContext(ctx, "marketplace: buyer is unsubscribing")
		return nil
	default:
		log.InfoContext(ctx, "marketplace: notification ignored")
		return nil
	}
	if err == nil {
		log.InfoContext(ctx, "marketplace: tenant's lifecycle moved", "freeTrial", n.FreeTrial)
	}
	return err
}
