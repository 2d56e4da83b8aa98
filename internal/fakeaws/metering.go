package fakeaws

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Operation names the fake Marketplace Metering serves, as the SDK and the
// X-Amz-Target header spell them.
const (
	OpBatchMeterUsage = "BatchMeterUsage"
	OpResolveCustomer = "ResolveCustomer"
)

// Limits of BatchMeterUsage that the fake enforces.
const (
	MaxUsageRecords = 25            // records per call
	MeteringWindow  = 6 * time.Hour // how old a record's timestamp may be
)

const (
	meteringTargetPrefix = "AWSMPMeteringService."
	meteringContentType  = "application/x-amz-json-1.1"
)

// Metering is a local AWS Marketplace Metering Service speaking the JSON 1.1
// protocol (POST /, the operation in X-Amz-Target, errors as
// {"__type", "message"}) for BatchMeterUsage and ResolveCustomer.
//
// Customers exist once a test adds them with AddCustomer; a record for any
// other customer, for an unsubscribed one or for another product is answered
// CustomerNotSubscribed. A record is identified by its customer, dimension
// and UTC hour: sent again with the same quantity it is Success with the
// same MeteringRecordId, with another quantity DuplicateRecord, as AWS
// documents.
type Metering struct {
	// URL is the endpoint to give the SDK client (o.BaseEndpoint).
	URL string

	t        testing.TB
	failures failures

	mu           sync.Mutex
	now          func() time.Time
	caller       *aws.Credentials
	customers    map[string]MeteringCustomer // by registration token
	unsubscribed map[string]bool             // by CustomerIdentifier or CustomerAWSAccountID
	metered      map[meteredKey]MeteredRecord
	sent         []MeteredRecord
	unprocess    int
	requests     []Request
}

// MeteringCustomer is a buyer of a product: either an older product's
// CustomerIdentifier, or (products listed from June 2026) an AWS account
// ID with the licence of its agreement.
type MeteringCustomer struct {
	CustomerIdentifier   string
	CustomerAWSAccountID string
	ProductCode          string
	LicenseARN           string
}

// MeteredRecord is a usage record the fake accepted.
type MeteredRecord struct {
	// Customer is the CustomerIdentifier, or the CustomerAWSAccountID for
	// a record with a LicenseARN.
	Customer         string
	LicenseARN       string
	ProductCode      string
	Dimension        string
	Hour             time.Time // the record's timestamp, truncated to its UTC hour
	Quantity         int
	MeteringRecordID string
}

type meteredKey struct {
	customer, license, dimension string
	hour                         time.Time
}

// NewMetering starts a fake Marketplace Metering for the duration of t.
func NewMetering(t testing.TB) *Metering {
	t.Helper()
	m := &Metering{
		t:            t,
		now:          time.Now,
		customers:    map[string]MeteringCustomer{},
		unsubscribed: map[string]bool{},
		metered:      map[meteredKey]MeteredRecord{},
	}
	srv := httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(srv.Close)
	m.URL = srv.URL
	return m
}

// SetClock makes the fake judge timestamps against now instead of the
// wall clock.
func (m *Metering) SetClock(now func() time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = now
}

// TrustCaller makes the fake verify each request's signature against creds,
// the platform's own credentials, and refuse any other signer.
func (m *Metering) TrustCaller(creds aws.Credentials) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.caller = &creds
}

// AddCustomer registers c under the registration token a buyer's browser
// would bring (x-amzn-marketplace-token), and subscribes it.
func (m *Metering) AddCustomer(token string, c MeteringCustomer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.customers[token] = c
	delete(m.unsubscribed, customerOf(c.CustomerIdentifier, c.CustomerAWSAccountID))
}

// Unsubscribe ends the subscriptions of customer, a CustomerIdentifier or a
// CustomerAWSAccountID: its records are answered CustomerNotSubscribed.
func (m *Metering) Unsubscribe(customer string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.unsubscribed[customer] = true
}

// UnprocessNext makes the next n records the fake is sent come back in
// UnprocessedRecords, unaccepted, as after a transient fault of AWS.
func (m *Metering) UnprocessNext(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.unprocess += n
}

// Fail makes requests to operation (OpBatchMeterUsage, OpResolveCustomer)
// fail with f. Failures queue up: the first is used until its Times run out.
func (m *Metering) Fail(operation string, f Failure) { m.failures.add(operation, f) }

// ClearFailures removes every queued failure.
func (m *Metering) ClearFailures() { m.failures.clear() }

// Sent returns every record accepted so far, once each, in order: a record
// resent idempotently is not repeated.
func (m *Metering) Sent() []MeteredRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.sent)
}

// Requests returns every request received so far, in order.
func (m *Metering) Requests() []Request {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.requests)
}

// meteringError is an error answer: an HTTP status and an AWS error code.
type meteringError struct {
	status  int
	code    string
	message string
}

func meteringInvalid(code, message string) *meteringError {
	return &meteringError{http.StatusBadRequest, code, message}
}

func (m *Metering) serve(w http.ResponseWriter, r *http.Request) {
	requestID := newUUID()
	w.Header().Set("x-amzn-RequestId", requestID)
	w.Header().Set("Content-Type", meteringContentType)

	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	op, _ := strings.CutPrefix(r.Header.Get("X-Amz-Target"), meteringTargetPrefix)
	rec := Request{
		Operation:    op,
		Method:       r.Method,
		Path:         r.URL.Path,
		Query:        r.URL.Query(),
		Body:         body,
		SessionToken: r.Header.Get("X-Amz-Security-Token"),
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	defer func() { m.requests = append(m.requests, rec) }()

	var out any
	var merr *meteringError
	switch {
	case err != nil:
		merr = meteringInvalid("SerializationException", "unreadable body")
	case r.Method != http.MethodPost || r.URL.Path != "/":
		merr = &meteringError{http.StatusNotFound, "UnknownOperationException", "the fake serves only POST /"}
	case op != OpBatchMeterUsage && op != OpResolveCustomer:
		m.t.Errorf("fakeaws.Metering: no operation serves X-Amz-Target %q", r.Header.Get("X-Amz-Target"))
		rec.Operation = ""
		merr = meteringInvalid("UnknownOperationException", "no such operation")
	case r.Header.Get("Content-Type") != meteringContentType:
		m.t.Errorf("fakeaws.Metering: Content-Type %q, want %q", r.Header.Get("Content-Type"), meteringContentType)
		merr = meteringInvalid("SerializationException", "wrong Content-Type")
	default:
		merr = m.authenticate(r, body, &rec)
	}
	if merr == nil {
		if f, ok := m.failures.next(op); ok {
			merr = &meteringError{f.Status, f.Code, f.Message}
		}
	}
	if merr == nil {
		switch op {
		case OpBatchMeterUsage:
			out, merr = m.batchMeterUsage(body)
		case OpResolveCustomer:
			out, merr = m.resolveCustomer(body)
		}
	}
	if merr != nil {
		rec.Status, rec.ErrorCode = merr.status, merr.code
		w.WriteHeader(merr.status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": merr.code, "message": merr.message})
		return
	}
	rec.Status = http.StatusOK
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(out)
}

// authenticate checks r's signature, as configured; m.mu must be held.
func (m *Metering) authenticate(r *http.Request, body []byte, rec *Request) *meteringError {
	sig, err := ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return &meteringError{http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token"}
	}
	rec.AccessKeyID, rec.Region = sig.AccessKeyID, sig.Region
	if sig.Service != "aws-marketplace" {
		return &meteringError{http.StatusForbidden, "InvalidSignatureException",
			"Credential should be scoped to correct service: 'aws-marketplace'."}
	}
	if m.caller == nil {
		return nil
	}
	if sig.AccessKeyID != m.caller.AccessKeyID {
		return &meteringError{http.StatusForbidden, "UnrecognizedClientException", "The security token included in the request is invalid."}
	}
	if err := verifySignature(r, body, sig, *m.caller); err != nil {
		return &meteringError{http.StatusForbidden, "InvalidSignatureException",
			"The request signature we calculated does not match the signature you provided."}
	}
	return nil
}

// usageRecord is a UsageRecord on the wire. Timestamp is in epoch seconds,
// JSON 1.1's default; pointers tell absent members from zero ones.
type usageRecord struct {
	Timestamp            *float64 `json:",omitempty"`
	CustomerIdentifier   string   `json:",omitempty"`
	CustomerAWSAccountId string   `json:",omitempty"`
	LicenseArn           string   `json:",omitempty"`
	Dimension            string   `json:",omitempty"`
	Quantity             *int64   `json:",omitempty"`
}

type usageRecordResult struct {
	UsageRecord      usageRecord
	MeteringRecordId string `json:",omitempty"`
	Status           string
}

func (m *Metering) batchMeterUsage(body []byte) (any, *meteringError) {
	var in struct {
		UsageRecords []usageRecord
		ProductCode  string
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, meteringInvalid("SerializationException", "malformed body")
	}
	if n := len(in.UsageRecords); n == 0 || n > MaxUsageRecords {
		return nil, meteringInvalid("ValidationException", fmt.Sprintf(
			"1 validation error detected: Value at 'usageRecords' failed to satisfy constraint: "+
				"Member must have length between 1 and %d (got %d)", MaxUsageRecords, n))
	}
	now := m.now()
	for _, ur := range in.UsageRecords {
		if merr := m.checkRecord(ur, in.ProductCode, now); merr != nil {
			return nil, merr
		}
	}

	out := struct {
		Results            []usageRecordResult
		UnprocessedRecords []usageRecord
	}{Results: []usageRecordResult{}, UnprocessedRecords: []usageRecord{}}
	for _, ur := range in.UsageRecords {
		if m.unprocess > 0 {
			m.unprocess--
			out.UnprocessedRecords = append(out.UnprocessedRecords, ur)
			continue
		}
		res := usageRecordResult{UsageRecord: ur}
		res.Status, res.MeteringRecordId = m.meter(ur, in.ProductCode)
		out.Results = append(out.Results, res)
	}
	// AWS does not promise Results in the order of the records sent.
	slices.Reverse(out.Results)
	return out, nil
}

// checkRecord refuses ur, as AWS refuses the whole call for one bad record.
func (m *Metering) checkRecord(ur usageRecord, productCode string, now time.Time) *meteringError {
	switch {
	case ur.Timestamp == nil || ur.Dimension == "":
		return meteringInvalid("ValidationException", "UsageRecord requires Timestamp and Dimension")
	case (ur.CustomerIdentifier == "") == (ur.CustomerAWSAccountId == ""):
		return meteringInvalid("ValidationException", "UsageRecord requires exactly one of CustomerIdentifier and CustomerAWSAccountId")
	case ur.CustomerAWSAccountId != "" && ur.LicenseArn == "":
		return meteringInvalid("InvalidLicenseException", "CustomerAWSAccountId requires a LicenseArn")
	case ur.CustomerIdentifier != "" && productCode == "":
		return meteringInvalid("InvalidProductCodeException", "CustomerIdentifier requires the request's ProductCode")
	case ur.Quantity != nil && (*ur.Quantity < 0 || *ur.Quantity > math.MaxInt32):
		return meteringInvalid("ValidationException", "Quantity must be between 0 and 2147483647")
	}
	ts := epochTime(*ur.Timestamp)
	if ts.After(now) || now.Sub(ts) > MeteringWindow {
		return meteringInvalid("TimestampOutOfBoundsException",
			"Timestamp must be within the past 6 hours and not in the future")
	}
	return nil
}

// meter accepts ur if it is new and answers its status; m.mu must be held.
func (m *Metering) meter(ur usageRecord, productCode string) (status, recordID string) {
	customer := customerOf(ur.CustomerIdentifier, ur.CustomerAWSAccountId)
	if !m.subscribed(ur, productCode) {
		return "CustomerNotSubscribed", ""
	}
	quantity := 0
	if ur.Quantity != nil {
		quantity = int(*ur.Quantity)
	}
	key := meteredKey{
		customer: customer, license: ur.LicenseArn, dimension: ur.Dimension,
		hour: epochTime(*ur.Timestamp).Truncate(time.Hour),
	}
	if prev, ok := m.metered[key]; ok {
		if prev.Quantity == quantity {
			return "Success", prev.MeteringRecordID
		}
		return "DuplicateRecord", ""
	}
	if ur.LicenseArn != "" {
		productCode = "" // the licence names the product
	}
	rec := MeteredRecord{
		Customer: customer, LicenseARN: ur.LicenseArn, ProductCode: productCode,
		Dimension: ur.Dimension, Hour: key.hour, Quantity: quantity, MeteringRecordID: newUUID(),
	}
	m.metered[key] = rec
	m.sent = append(m.sent, rec)
	return "Success", rec.MeteringRecordID
}

// subscribed reports whether ur's customer subscribes to the product the
// record is for; m.mu must be held.
func (m *Metering) subscribed(ur usageRecord, productCode string) bool {
	if m.unsubscribed[customerOf(ur.CustomerIdentifier, ur.CustomerAWSAccountId)] {
		return false
	}
	for _, c := range m.customers {
		if ur.LicenseArn != "" {
			if c.CustomerAWSAccountID == ur.CustomerAWSAccountId && c.LicenseARN == ur.LicenseArn {
				return true
			}
		} else if c.CustomerIdentifier == ur.CustomerIdentifier && c.ProductCode == productCode {
			return true
		}
	}
	return false
}

func (m *Metering) resolveCustomer(body []byte) (any, *meteringError) {
	var in struct{ RegistrationToken string }
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, meteringInvalid("SerializationException", "malformed body")
	}
	if in.RegistrationToken == "" {
		return nil, meteringInvalid("ValidationException", "RegistrationToken is required")
	}
	c, ok := m.customers[in.RegistrationToken]
	if !ok {
		return nil, meteringInvalid("InvalidTokenException", "Registration token is invalid")
	}
	return struct {
		CustomerIdentifier   string `json:",omitempty"`
		CustomerAWSAccountId string `json:",omitempty"`
		ProductCode          string `json:",omitempty"`
		LicenseArn           string `json:",omitempty"`
	}{c.CustomerIdentifier, c.CustomerAWSAccountID, c.ProductCode, c.LicenseARN}, nil
}

// customerOf names a customer by whichever identifier it has.
func customerOf(identifier, accountID string) string {
	if identifier != "" {
		return identifier
	}
	return accountID
}

// epochTime converts JSON 1.1's epoch seconds to a UTC time, to the
// millisecond the SDK sends.
func epochTime(s float64) time.Time {
	return time.UnixMilli(int64(math.Round(s * 1000))).UTC()
}
