package fakeaws

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// OpGenerateEmbedURLForRegisteredUser is the QuickSight operation the fake
// serves.
const OpGenerateEmbedURLForRegisteredUser = "GenerateEmbedUrlForRegisteredUser"

// QuickSight is a local Amazon QuickSight serving, over REST-JSON,
//
//	GenerateEmbedUrlForRegisteredUser  POST /accounts/{AwsAccountId}/embed-url/registered-user
//
// for the users and dashboards it is told of (AddUser, AddDashboard), with
// QuickSight's checks: a user ARN it knows (404
// QuickSightUserNotFoundException), a dashboard of the account (404
// ResourceNotFoundException), SessionLifetimeInMinutes from 15 to 600, at
// most three AllowedDomains. With TrustSTS it accepts only requests signed
// with credentials the fake STS issued. Errors carry X-Amzn-ErrorType and
// a {"Message": ...} body.
type QuickSight struct {
	// URL is the endpoint to give the SDK client (o.BaseEndpoint).
	URL string

	t          testing.TB
	failures   failures
	mu         sync.Mutex
	users      map[string]bool // user ARNs
	dashboards map[string]bool // account/dashboard
	embeds     []Embed
	sts        *STS
}

// Embed is one embed URL the fake made.
type Embed struct {
	Account, UserARN, DashboardID string
	SessionLifetimeInMinutes      int64
	AllowedDomains                []string
	AccessKeyID, Region           string
	URL                           string
}

// NewQuickSight starts a fake QuickSight for the duration of t.
func NewQuickSight(t testing.TB) *QuickSight {
	t.Helper()
	q := &QuickSight{t: t, users: map[string]bool{}, dashboards: map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(q.serve))
	t.Cleanup(srv.Close)
	q.URL = srv.URL
	return q
}

// TrustSTS makes the fake accept only requests signed with unexpired
// credentials that sts issued.
func (q *QuickSight) TrustSTS(sts *STS) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.sts = sts
}

// AddUser registers a QuickSight user ARN.
func (q *QuickSight) AddUser(arn string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.users[arn] = true
}

// AddDashboard registers a dashboard of account.
func (q *QuickSight) AddDashboard(account, id string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.dashboards[account+"/"+id] = true
}

// Fail queues failures of the operation.
func (q *QuickSight) Fail(operation string, f Failure) { q.failures.add(operation, f) }

// Embeds returns the embed URLs made, in order.
func (q *QuickSight) Embeds() []Embed {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.embeds)
}

var embedPath = regexp.MustCompile(`^/accounts/([0-9]{12})/embed-url/registered-user$`)

type quickSightError struct {
	status        int
	code, message string
}

func (q *QuickSight) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	fail := func(e *quickSightError) {
		w.Header().Set("X-Amzn-Errortype", e.code)
		w.WriteHeader(e.status)
		_ = json.NewEncoder(w).Encode(map[string]string{"Message": e.message, "RequestId": newUUID()})
	}
	m := embedPath.FindStringSubmatch(r.URL.Path)
	switch {
	case err != nil:
		fail(&quickSightError{http.StatusBadRequest, "InvalidParameterValueException", "unreadable body"})
		return
	case r.Method != http.MethodPost || m == nil:
		q.t.Errorf("fakeaws.QuickSight: no operation serves %s %s", r.Method, r.URL.Path)
		fail(&quickSightError{http.StatusNotFound, "ResourceNotFoundException", "no such operation"})
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	sig, e := q.authenticate(r, body)
	if e == nil {
		if f, ok := q.failures.next(OpGenerateEmbedURLForRegisteredUser); ok {
			e = &quickSightError{f.Status, f.Code, f.Message}
		}
	}
	var in struct {
		UserArn                  string
		SessionLifetimeInMinutes *int64
		AllowedDomains           []string
		ExperienceConfiguration  struct {
			Dashboard *struct{ InitialDashboardId string }
		}
	}
	if e == nil && json.Unmarshal(body, &in) != nil {
		e = &quickSightError{http.StatusBadRequest, "InvalidParameterValueException", "malformed body"}
	}
	lifetime := int64(600)
	if in.SessionLifetimeInMinutes != nil {
		lifetime = *in.SessionLifetimeInMinutes
	}
	switch {
	case e != nil:
	case in.ExperienceConfiguration.Dashboard == nil:
		e = &quickSightError{http.StatusBadRequest, "InvalidParameterValueException", "the fake embeds dashboards only"}
	case lifetime < 15 || lifetime > 600:
		e = &quickSightError{http.StatusBadRequest, "SessionLifetimeInMinutesInvalidException", "SessionLifetimeInMinutes must be 15 to 600"}
	case len(in.AllowedDomains) > 3:
		e = &quickSightError{http.StatusBadRequest, "InvalidParameterValueException", "at most 3 AllowedDomains"}
	case !q.users[in.UserArn] || !strings.Contains(in.UserArn, ":"+m[1]+":"):
		e = &quickSightError{http.StatusNotFound, "QuickSightUserNotFoundException", "The user " + in.UserArn + " does not exist."}
	case !q.dashboards[m[1]+"/"+in.ExperienceConfiguration.Dashboard.InitialDashboardId]:
		e = &quickSightError{http.StatusNotFound, "ResourceNotFoundException", "Dashboard not found"}
	}
	if e != nil {
		fail(e)
		return
	}
	url := "https://" + sig.Region + ".quicksight.aws.amazon.com/embed/" + randomHex(16) + "/dashboards/" +
		in.ExperienceConfiguration.Dashboard.InitialDashboardId + "?code=" + randomHex(16)
	q.embeds = append(q.embeds, Embed{Account: m[1], UserARN: in.UserArn, DashboardID: in.ExperienceConfiguration.Dashboard.InitialDashboardId,
		SessionLifetimeInMinutes: lifetime, AllowedDomains: in.AllowedDomains, AccessKeyID: sig.AccessKeyID, Region: sig.Region, URL: url})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(map[string]any{"EmbedUrl": url, "RequestId": newUUID(), "Status": 200})
}

// authenticate checks r's signature, as configured; q.mu must be held.
func (q *QuickSight) authenticate(r *http.Request, body []byte) (Signature, *quickSightError) {
	sig, err := ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return sig, &quickSightError{http.StatusForbidden, "AccessDeniedException", "Missing Authentication Token"}
	}
	if sig.Service != "quicksight" {
		return sig, &quickSightError{http.StatusForbidden, "AccessDeniedException", "Credential should be scoped to correct service: 'quicksight'."}
	}
	if q.sts == nil {
		return sig, nil
	}
	creds, ok := q.sts.Lookup(sig.AccessKeyID)
	if !ok || !time.Now().Before(creds.Expires) {
		return sig, &quickSightError{http.StatusForbidden, "AccessDeniedException", "The security token included in the request is invalid."}
	}
	if err := verifySignature(r, body, sig, awsCredentials(creds)); err != nil {
		return sig, &quickSightError{http.StatusForbidden, "AccessDeniedException", "The request signature we calculated does not match the signature you provided."}
	}
	return sig, nil
}
