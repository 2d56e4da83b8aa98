package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/golang-jwt/jwt/v5"
)

// DefaultLeeway is the clock skew tolerated when checking exp, nbf and iat.
const DefaultLeeway = 30 * time.Second

// maxTokenLen bounds the size of a token accepted for verification, so that
// oversized headers are rejected before any parsing or key lookup.
const maxTokenLen = 16 << 10

// Options configures a [Verifier].
type Options struct {
	// Secret is the HS256 key for locally minted tokens
	// (SWITCHBOARD_JWT_SECRET). When empty, local tokens are rejected.
	Secret []byte
	// Issuer is the OpenID Connect issuer URL (SWITCHBOARD_OIDC_ISSUER). When
	// set, NewVerifier performs discovery and tokens issued by it are
	// accepted too.
	Issuer string
	// Audience is the required aud of OIDC tokens
	// (SWITCHBOARD_OIDC_AUDIENCE). When empty, the audience is not checked.
	Audience string
	// LocalIssuer is the iss required of HS256 tokens. Defaults to
	// [LocalIssuer] ("switchboard").
	LocalIssuer string
	// Leeway is the tolerated clock skew. Defaults to [DefaultLeeway].
	Leeway time.Duration
	// HTTPClient is used for OIDC discovery and JWKS fetches. Defaults to
	// http.DefaultClient.
	HTTPClient *http.Client
	// Now returns the current time; tests override it. Defaults to time.Now.
	Now func() time.Time
}

// Verifier checks bearer tokens. It is safe for concurrent use.
type Verifier struct {
	secret      []byte
	localIssuer string
	localParser *jwt.Parser

	oidcIssuer   string
	oidcAudience string
	oidcVerifier *oidc.IDTokenVerifier
}

// NewVerifier returns a Verifier for opts. When opts.Issuer is set it fetches
// the issuer's discovery document (using ctx and opts.HTTPClient) and fails if
// that is not possible; signing keys are then fetched from the JWKS on demand
// and refreshed by go-oidc when an unknown key ID appears. At least one of
// opts.Secret and opts.Issuer must be set.
func NewVerifier(ctx context.Context, opts Options) (*Verifier, error) {
	if len(opts.Secret) == 0 && opts.Issuer == "" {
		return nil, errors.New("auth: a JWT secret or an OIDC issuer is required")
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	leeway := opts.Leeway
	if leeway <= 0 {
		leeway = DefaultLeeway
	}
	v := &Verifier{
		secret:      append([]byte(nil), opts.Secret...),
		localIssuer: opts.LocalIssuer,
	}
	if v.localIssuer == "" {
		v.localIssuer = LocalIssuer
	}
	v.localParser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(v.localIssuer),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(now),
	)

	if opts.Issuer != "" {
		if opts.Issuer == v.localIssuer {
			return nil, errors.New("auth: the OIDC issuer must differ from the local issuer")
		}
		if opts.HTTPClient != nil {
			ctx = oidc.ClientContext(ctx, opts.HTTPClient)
		}
		provider, err := oidc.NewProvider(ctx, opts.Issuer)
		if err != nil {
			return nil, fmt.Errorf("auth: OIDC discovery for %s: %w", opts.Issuer, err)
		}
		v.oidcIssuer = opts.Issuer
		v.oidcAudience = opts.Audience
		// The provider restricts signing algorithms to the asymmetric ones it
		// advertises (never HS* or none). go-oidc has no leeway setting, so
		// the clock it sees is shifted back by the leeway instead. The
		// audience is checked in verifyOIDC so that its failure can be
		// reported precisely.
		v.oidcVerifier = provider.Verifier(&oidc.Config{
			SkipClientIDCheck: true,
			Now:               func() time.Time { return now().Add(-leeway) },
		})
	}
	return v, nil
}

// Verify checks rawToken and returns the caller's claims. The token is routed
// by its iss claim: tokens from the local issuer must be HS256 and are checked
// with the secret; tokens from the configured OIDC issuer are checked against
// its published keys (asymmetric algorithms only). Any other issuer, the
// "none" algorithm, a missing or past exp, or claims that break the role and
// tenant rules are rejected. Every error wraps [ErrUnauthenticated].
func (v *Verifier) Verify(ctx context.Context, rawToken string) (Claims, error) {
	if rawToken == "" {
		return Claims{}, unauthenticated("missing token", nil)
	}
	if len(rawToken) > maxTokenLen {
		return Claims{}, unauthenticated("token too large", nil)
	}

	// Peek at the unverified header and issuer only to pick the verification
	// path; nothing read here is trusted until that path has checked it.
	var peek jwt.RegisteredClaims
	tok, _, err := jwt.NewParser().ParseUnverified(rawToken, &peek)
	if err != nil {
		if errors.Is(err, jwt.ErrTokenUnverifiable) {
			return Claims{}, unauthenticated("unsupported signing algorithm", err)
		}
		return Claims{}, unauthenticated("malformed token", err)
	}
	if alg := tok.Method.Alg(); alg == "" || alg == jwt.SigningMethodNone.Alg() {
		return Claims{}, unauthenticated("unsupported signing algorithm", nil)
	}

	switch {
	case peek.Issuer == v.localIssuer:
		return v.verifyLocal(rawToken)
	case v.oidcVerifier != nil && peek.Issuer == v.oidcIssuer:
		if peek.ExpiresAt == nil {
			// go-oidc treats a missing exp as the zero time, which is always
			// expired; report the case precisely.
			return Claims{}, unauthenticated("token has no expiry", nil)
		}
		return v.verifyOIDC(ctx, rawToken)
	default:
		return Claims{}, unauthenticated("unknown issuer", nil)
	}
}

func (v *Verifier) verifyLocal(rawToken string) (Claims, error) {
	if len(v.secret) == 0 {
		return Claims{}, unauthenticated("local tokens are not accepted", nil)
	}
	var tc tokenClaims
	_, err := v.localParser.ParseWithClaims(rawToken, &tc, func(t *jwt.Token) (any, error) {
		// WithValidMethods already enforces this; checking the concrete type
		// as well guards against any algorithm confusion.
		if t.Method != jwt.SigningMethodHS256 {
			return nil, fmt.Errorf("unexpected signing method %q", t.Method.Alg())
		}
		return v.secret, nil
	})
	if err != nil {
		return Claims{}, unauthenticated(jwtReason(err), err)
	}
	return finish(Claims{
		Subject:   tc.Subject,
		Email:     tc.Email,
		Name:      tc.Name,
		Tenant:    tc.Tenant,
		Role:      tc.Role,
		ExpiresAt: tc.ExpiresAt.Time,
	})
}

// jwtReason maps a jwt/v5 error to a client-safe reason.
func jwtReason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed token"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "unsupported signing algorithm"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "invalid signature"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "token has no expiry"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "token not valid yet"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "token issued in the future"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "unknown issuer"
	}
	return "invalid token"
}

// oidcClaims are the application claims read from a verified OIDC token.
type oidcClaims struct {
	Email  string `json:"email"`
	Name   string `json:"name"`
	Tenant string `json:"tenant"`
	Role   Role   `json:"role"`
}

func (v *Verifier) verifyOIDC(ctx context.Context, rawToken string) (Claims, error) {
	idt, err := v.oidcVerifier.Verify(ctx, rawToken)
	if err != nil {
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return Claims{}, unauthenticated("token expired", err)
		}
		return Claims{}, unauthenticated("invalid token", err)
	}
	if v.oidcAudience != "" && !slices.Contains(idt.Audience, v.oidcAudience) {
		return Claims{}, unauthenticated("invalid audience", nil)
	}
	var oc oidcClaims
	if err := idt.Claims(&oc); err != nil {
		return Claims{}, unauthenticated("malformed claims", err)
	}
	return finish(Claims{
		Subject:   idt.Subject,
		Email:     oc.Email,
		Name:      oc.Name,
		Tenant:    oc.Tenant,
		Role:      oc.Role,
		ExpiresAt: idt.Expiry,
	})
}

// finish applies the contract's claim rules shared by both token kinds and
// normalises the expiry to UTC.
func finish(c Claims) (Claims, error) {
	c.ExpiresAt = c.ExpiresAt.UTC()
	if c.Subject == "" {
		return Claims{}, unauthenticated("missing subject", nil)
	}
	if reason := c.check(); reason != "" {
		return Claims{}, unauthenticated(reason, nil)
	}
	return c, nil
}
