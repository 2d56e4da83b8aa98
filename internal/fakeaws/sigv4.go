package fakeaws

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Signature is what a request's SigV4 Authorization header says about it.
type Signature struct {
	AccessKeyID   string   // the key that signed, e.g. "ASIA..." for assumed-role credentials
	Date          string   // the scope's date, YYYYMMDD
	Region        string   // the scope's region
	Service       string   // the scope's service signing name, e.g. "connect" or "sts"
	SignedHeaders []string // lower-case header names, sorted
	Signature     string   // hex
}

const sigV4Algorithm = "AWS4-HMAC-SHA256"

// ParseAuthorization reads an "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
// Signature=..." header value.
func ParseAuthorization(h string) (Signature, error) {
	rest, ok := strings.CutPrefix(h, sigV4Algorithm+" ")
	if !ok {
		return Signature{}, errors.New("not a SigV4 Authorization header")
	}
	var s Signature
	var credential string
	for part := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return Signature{}, fmt.Errorf("malformed Authorization component %q", part)
		}
		switch k {
		case "Credential":
			credential = v
		case "SignedHeaders":
			s.SignedHeaders = strings.Split(v, ";")
		case "Signature":
			s.Signature = v
		}
	}
	scope := strings.Split(credential, "/")
	if len(scope) != 5 || scope[4] != "aws4_request" || scope[0] == "" {
		return Signature{}, fmt.Errorf("malformed credential scope %q", credential)
	}
	s.AccessKeyID, s.Date, s.Region, s.Service = scope[0], scope[1], scope[2], scope[3]
	if s.Signature == "" || len(s.SignedHeaders) == 0 {
		return Signature{}, errors.New("Authorization header lacks SignedHeaders or Signature")
	}
	return s, nil
}

// verifySignature recomputes r's SigV4 signature with creds and compares it
// with the one r carries. body is r's body, already read.
func verifySignature(r *http.Request, body []byte, sig Signature, creds aws.Credentials) error {
	signingTime, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return fmt.Errorf("bad X-Amz-Date: %w", err)
	}
	if signingTime.Format("20060102") != sig.Date {
		return errors.New("X-Amz-Date does not match the credential scope")
	}
	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" && h != payloadHash {
		return errors.New("X-Amz-Content-Sha256 does not match the body")
	}

	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	re := &http.Request{Method: r.Method, URL: &u, Host: r.Host, Header: http.Header{}}
	for _, h := range sig.SignedHeaders {
		switch h {
		case "host":
		case "content-length":
			re.ContentLength = r.ContentLength
		default:
			key := textproto.CanonicalMIMEHeaderKey(h)
			re.Header[key] = r.Header.Values(key)
		}
	}
	err = v4.NewSigner().SignHTTP(context.Background(), creds, re, payloadHash, sig.Service, sig.Region, signingTime)
	if err != nil {
		return err
	}
	want, err := ParseAuthorization(re.Header.Get("Authorization"))
	if err != nil {
		return err
	}
	if want.Signature != sig.Signature {
		return errors.New("signature does not match")
	}
	return nil
}
