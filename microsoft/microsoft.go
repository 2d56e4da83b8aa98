// Package microsoft checks that the Microsoft Entra ID app credentials a
// tenant's admin enters work: it asks the directory for a Microsoft Graph
// token with the OAuth 2.0 client-credentials grant, and says what to fix
// when Entra refuses.
package microsoft

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// DefaultAuthority is Microsoft Entra ID's sign-in service (the global
// cloud), used when Check is given no authority.
const DefaultAuthority = "https://login.microsoftonline.com"

// GraphScope is the scope Check asks a token for: the application
// permissions granted to the app on Microsoft Graph.
const GraphScope = "https://graph.microsoft.com/.default"

// DefaultTimeout bounds a Check whose context has no deadline.
const DefaultTimeout = 10 * time.Second

// MaxClientSecret is the longest client secret accepted, in bytes.
const MaxClientSecret = 1024

// Credentials are an Entra ID app registration's: the directory it
// belongs to, the app's ID and one of its client secrets. Printed or
// logged, they show no secret.
type Credentials struct {
	DirectoryTenantID string // the directory's GUID, or one of its verified domains
	ClientID          string // the Application (client) ID, a GUID
	ClientSecret      string // a client secret's Value (not its Secret ID)
}

// String shows the credentials with the secret redacted.
func (c Credentials) String() string {
	return fmt.Sprintf("{DirectoryTenantID:%s ClientID:%s ClientSecret:%s}", c.DirectoryTenantID, c.ClientID, redacted(c.ClientSecret))
}

// GoString is String, for %#v.
func (c Credentials) GoString() string { return "microsoft.Credentials" + c.String() }

// LogValue logs the credentials with the secret redacted.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("directoryTenantId", c.DirectoryTenantID),
		slog.String("clientId", c.ClientID),
		slog.String("clientSecret", redacted(c.ClientSecret)),
	)
}

func redacted(secret string) string {
	if secret == "" {
		return ""
	}
	return "[redacted]"
}

// A Field names one of the Credentials, as the admin's form does.
type Field string

// The fields of Credentials.
const (
	FieldDirectoryTenantID Field = "directoryTenantId"
	FieldClientID          Field = "clientId"
	FieldClientSecret      Field = "clientSecret"
)

// A FieldError is Validate's: a field of the credentials has the wrong
// form. Its text says which and what is expected, and never holds the
// secret.
type FieldError struct {
	Field   Field
	Problem string // what is wrong and what is expected, in words
}

func (e *FieldError) Error() string { return "microsoft: " + e.Problem }

var (
	guidPattern  = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`)
	labelPattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
)

func isGUID(s string) bool { return guidPattern.MatchString(s) }

// isDomain reports whether s is a DNS name of two labels or more whose
// last label is not all digits (so no IP address).
func isDomain(s string) bool {
	if len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if !labelPattern.MatchString(l) {
			return false
		}
	}
	_, err := strconv.Atoi(labels[len(labels)-1])
	return err != nil
}

// Validate checks the form of the credentials, without asking Microsoft:
// the directory (tenant) ID is a GUID or a domain name, the client ID a
// GUID, the secret present and at most MaxClientSecret bytes. Its error
// is a *FieldError.
func Validate(c Credentials) error {
	switch t := c.DirectoryTenantID; {
	case t == "":
		return &FieldError{FieldDirectoryTenantID, "the directory (tenant) ID is required: the Directory (tenant) ID on the app registration's Overview in the Microsoft Entra admin center"}
	case strings.EqualFold(t, "common") || strings.EqualFold(t, "organizations") || strings.EqualFold(t, "consumers"):
		return &FieldError{FieldDirectoryTenantID, "the directory (tenant) ID must name one directory, not \"" + strings.ToLower(t) + "\": enter the Directory (tenant) ID on the app registration's Overview"}
	case !isGUID(t) && !isDomain(t):
		return &FieldError{FieldDirectoryTenantID, "the directory (tenant) ID must be a GUID (like 72f988bf-86f1-41af-91ab-2d7cd011db47) or a verified domain of the directory (like contoso.onmicrosoft.com)"}
	}
	switch {
	case c.ClientID == "":
		return &FieldError{FieldClientID, "the client ID is required: the Application (client) ID on the app registration's Overview"}
	case !isGUID(c.ClientID):
		return &FieldError{FieldClientID, "the client ID must be a GUID (like 00001111-aaaa-2222-bbbb-3333cccc4444): the Application (client) ID on the app registration's Overview"}
	}
	s := c.ClientSecret
	switch {
	case s == "":
		return &FieldError{FieldClientSecret, "the client secret is required: the Value of a client secret under the app registration's Certificates & secrets"}
	case len(s) > MaxClientSecret:
		return &FieldError{FieldClientSecret, fmt.Sprintf("the client secret is longer than %d characters: paste only the secret's Value", MaxClientSecret)}
	case strings.TrimSpace(s) != s:
		return &FieldError{FieldClientSecret, "the client secret has spaces or line breaks around it: paste only the secret's Value"}
	case strings.ContainsFunc(s, unicode.IsControl):
		return &FieldError{FieldClientSecret, "the client secret holds control characters: paste only the secret's Value"}
	}
	return nil
}

// A Reason says why Check failed.
type Reason string

// The reasons of a CheckError.
const (
	// Entra refused the secret: wrong, or the Secret ID entered for the Value.
	ReasonClientSecret Reason = "CLIENT_SECRET"
	// The secret has expired.
	ReasonClientSecretExpired Reason = "CLIENT_SECRET_EXPIRED"
	// The directory has no such app, or no service principal of it.
	ReasonClientID Reason = "CLIENT_ID"
	// The app is disabled in the directory.
	ReasonApplicationDisabled Reason = "APPLICATION_DISABLED"
	// Entra knows no such directory.
	ReasonDirectory Reason = "DIRECTORY"
	// Entra refused for another reason (a Conditional Access policy, ...).
	ReasonRefused Reason = "REFUSED"
	// The sign-in service could not be reached, did not answer in time or
	// is unavailable: try again later.
	ReasonUnreachable Reason = "UNREACHABLE"
	// Something answered, but not as Entra does (a wrong authority, a proxy).
	ReasonUnexpected Reason = "UNEXPECTED_RESPONSE"
)

// A CheckError is Check's when the credentials have the right form but do
// not get a token. Its text says what the admin must fix; neither it nor
// any field holds the secret.
type CheckError struct {
	Reason Reason
	// Field is the credential to change, or "" when none is at fault.
	Field Field
	// Fix says what is wrong and what to do, in words.
	Fix string
	// What Entra answered, when it did: the OAuth error ("invalid_client"),
	// its AADSTS code ("AADSTS7000215"), its description (any echo of the
	// secret removed), the IDs Microsoft's support asks for, the HTTP status.
	Code          string
	AADSTS        string
	Description   string
	TraceID       string
	CorrelationID string
	StatusCode    int

	err error // the transport's, for ReasonUnreachable and ReasonUnexpected
}

func (e *CheckError) Error() string {
	s := "microsoft: " + e.Fix
	if e.AADSTS != "" {
		s += " (" + e.AADSTS + ")"
	}
	return s
}

// Unwrap returns the transport's error, if any (context.DeadlineExceeded
// for a timeout).
func (e *CheckError) Unwrap() error { return e.err }

// Check asks the directory for a Microsoft Graph token with the
// credentials, at authority + "/" + DirectoryTenantID +
// "/oauth2/v2.0/token" (authority "" is DefaultAuthority), through
// httpClient (nil: http.DefaultClient), and returns nil when one is
// issued. It gives up after DefaultTimeout unless ctx has a deadline. Its
// error is a *FieldError when the credentials have the wrong form, a
// *CheckError when they get no token.
func Check(ctx context.Context, authority string, c Credentials, httpClient *http.Client) error {
	if err := Validate(c); err != nil {
		return err
	}
	tokenURL, err := tokenURL(authority, c.DirectoryTenantID)
	if err != nil {
		return err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	if httpClient != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, httpClient)
	}
	conf := clientcredentials.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		TokenURL:     tokenURL,
		Scopes:       []string{GraphScope},
		AuthStyle:    oauth2.AuthStyleInParams,
	}
	_, err = conf.Token(ctx)
	if err == nil {
		return nil
	}
	return checkError(ctx, err, c)
}

// tokenURL is the token endpoint of the directory at authority.
func tokenURL(authority, tenant string) (string, error) {
	if authority == "" {
		authority = DefaultAuthority
	}
	authority = strings.TrimRight(authority, "/")
	u, err := url.Parse(authority)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("microsoft: the authority %q is not an http(s) URL", authority)
	}
	return authority + "/" + url.PathEscape(tenant) + "/oauth2/v2.0/token", nil
}

// entraError is the body of Entra's error answers.
type entraError struct {
	Error         string `json:"error"`
	Description   string `json:"error_description"`
	ErrorCodes    []int  `json:"error_codes"`
	TraceID       string `json:"trace_id"`
	CorrelationID string `json:"correlation_id"`
}

var aadstsPattern = regexp.MustCompile(`\bAADSTS(\d+)\b`)

// checkError turns the oauth2 package's error into a CheckError.
func checkError(ctx context.Context, err error, c Credentials) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		var ue *url.Error
		switch {
		case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded):
			cause := ctx.Err()
			if cause == nil {
				cause = err
			}
			return &CheckError{Reason: ReasonUnreachable, Fix: "Microsoft's sign-in service did not answer in time: try again later", err: cause}
		case errors.As(err, &ue):
			return &CheckError{Reason: ReasonUnreachable, Fix: "Microsoft's sign-in service could not be reached: try again later; if it persists, the server's outbound network access needs checking", err: err}
		default:
			return &CheckError{Reason: ReasonUnexpected, Fix: "Microsoft's sign-in service answered without a token: try again later", err: err}
		}
	}

	e := &CheckError{StatusCode: re.Response.StatusCode}
	var body entraError
	_ = json.Unmarshal(re.Body, &body) // a body that is not Entra's leaves it empty
	e.Code = firstNonEmpty(body.Error, re.ErrorCode)
	e.Description = scrub(firstNonEmpty(body.Description, re.ErrorDescription), c.ClientSecret)
	e.TraceID = scrub(body.TraceID, c.ClientSecret)
	e.CorrelationID = scrub(body.CorrelationID, c.ClientSecret)
	code := 0
	if len(body.ErrorCodes) > 0 {
		code = body.ErrorCodes[0]
	} else if m := aadstsPattern.FindStringSubmatch(e.Description); m != nil {
		code, _ = strconv.Atoi(m[1])
	}
	if code != 0 {
		e.AADSTS = "AADSTS" + strconv.Itoa(code)
	}

	switch {
	case code == 7000215:
		e.Reason, e.Field = ReasonClientSecret, FieldClientSecret
		e.Fix = "Microsoft refused the client secret: enter the Value of a client secret under the app registration's Certificates & secrets, or add a new secret and enter its Value"
		if isGUID(c.ClientSecret) {
			e.Fix = "Microsoft refused the client secret, which looks like a Secret ID: enter the secret's Value (shown only when the secret is added; add a new one if it is lost)"
		}
	case code == 7000222:
		e.Reason, e.Field = ReasonClientSecretExpired, FieldClientSecret
		e.Fix = "the client secret has expired: add a new client secret under the app registration's Certificates & secrets and enter its Value"
	case code == 700016:
		e.Reason, e.Field = ReasonClientID, FieldClientID
		e.Fix = "the directory has no application with this client ID: enter the Application (client) ID on the app registration's Overview, and check the app is registered in (or consented to by) this directory"
	case code == 7000229:
		e.Reason, e.Field = ReasonClientID, FieldClientID
		e.Fix = "the application has no service principal in this directory: an administrator of the directory must consent to it (admin consent) first"
	case code == 7000112:
		e.Reason, e.Field = ReasonApplicationDisabled, FieldClientID
		e.Fix = "the application is disabled in the directory: enable it (Enterprise applications, Properties, Enabled for users to sign in) or use another"
	case code == 90002 || code == 900023:
		e.Reason, e.Field = ReasonDirectory, FieldDirectoryTenantID
		e.Fix = "Microsoft knows no directory with this ID: enter the Directory (tenant) ID on the app registration's Overview, or a verified domain of the directory"
	case code == 0 && e.Code == "invalid_client":
		e.Reason, e.Field = ReasonClientSecret, FieldClientSecret
		e.Fix = "Microsoft refused the client ID or secret: check the Application (client) ID and enter the Value of a current client secret"
	case code == 0 && e.Code == "unauthorized_client":
		e.Reason, e.Field = ReasonClientID, FieldClientID
		e.Fix = "Microsoft does not let this client ID use client credentials in this directory: check the Application (client) ID on the app registration's Overview, and that the app belongs to this directory"
	case e.Code == "temporarily_unavailable" || (e.Code == "" && e.StatusCode >= 500):
		e.Reason = ReasonUnreachable
		e.Fix = fmt.Sprintf("Microsoft's sign-in service is unavailable (HTTP %d): try again later", e.StatusCode)
	case e.Code == "":
		e.Reason = ReasonUnexpected
		e.Fix = fmt.Sprintf("the sign-in service answered HTTP %d, not as Microsoft's does: check the server's Microsoft authority setting", e.StatusCode)
	default:
		e.Reason = ReasonRefused
		e.Fix = "Microsoft refused to issue a token (" + e.Code + ")"
		if s := summary(e.Description); s != "" {
			e.Fix += ": " + s
		}
	}
	return e
}

// summary is the first sentence or so of an Entra description, without
// its AADSTS prefix and the trace, correlation and time lines.
func summary(desc string) string {
	if i := strings.IndexAny(desc, "\r\n"); i >= 0 {
		desc = desc[:i]
	}
	if i := strings.Index(desc, " Trace ID:"); i >= 0 {
		desc = desc[:i]
	}
	if m := aadstsPattern.FindStringIndex(desc); m != nil && m[0] == 0 {
		desc = strings.TrimLeft(desc[m[1]:], ": ")
	}
	desc = strings.TrimSpace(desc)
	if r := []rune(desc); len(r) > 300 {
		desc = string(r[:300]) + "…"
	}
	return desc
}

// scrub removes any echo of the secret from text that came from the
// sign-in service.
func scrub(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "[client secret]")
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
