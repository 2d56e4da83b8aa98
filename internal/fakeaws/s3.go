package fakeaws

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// S3 operations the fake records as writes.
const (
	OpPutObject             = "PutObject"
	OpCreateMultipartUpload = "CreateMultipartUpload"
)

// S3 is a local Amazon S3: gofakes3 with its in-memory backend, path-style
// addressing, behind a layer that adds what gofakes3 lacks and switchboard
// relies on:
//
//   - every PutObject and CreateMultipartUpload is recorded with its
//     x-amz-server-side-encryption header, and refused with 403 AccessDenied
//     unless it asks for SSE-S3 (AES256), as a bucket policy denying
//     unencrypted uploads would;
//   - PutBucketEncryption / GetBucketEncryption and PutPublicAccessBlock /
//     GetPublicAccessBlock (?encryption, ?publicAccessBlock) are served and
//     remembered per bucket;
//   - with TrustSTS and SetOwner, a bucket answers only requests signed (or
//     presigned) with credentials the STS fake issued for the owning role, as
//     a bucket in another AWS account would: 403 AccessDenied otherwise.
//
// gofakes3 checks no signatures; neither does this layer, beyond mapping the
// access key to the role it was issued for.
type S3 struct {
	// URL is the endpoint to give the SDK client (o.BaseEndpoint, with
	// o.UsePathStyle).
	URL string

	t       testing.TB
	backend *s3mem.Backend
	faker   http.Handler

	mu           sync.Mutex
	writes       []S3Write
	requests     []S3Request
	encryption   map[string]string
	publicAccess map[string]PublicAccessBlock
	versioning   map[string]string // bucket → Enabled or Suspended
	lifecycle    map[string][]byte // bucket → its LifecycleConfiguration XML, as put
	policies     map[string]string // bucket → its policy document, as put
	owners       map[string]string // bucket → role ARN
	sts          *STS
}

// S3Write is one object write the fake received.
type S3Write struct {
	Operation            string // OpPutObject or OpCreateMultipartUpload
	Bucket, Key          string
	ServerSideEncryption string // the x-amz-server-side-encryption header, "" when absent
	ContentType          string
	AccessKeyID          string
	Refused              bool // refused for lack of SSE-S3
}

// S3Request is one request the fake received.
type S3Request struct {
	Method      string
	Bucket, Key string
	Query       url.Values
	AccessKeyID string // from the Authorization header or a presigned URL
	Presigned   bool
	Status      int // the status the access layer answered; 0 when gofakes3 did
}

// PublicAccessBlock is a bucket's public access block configuration.
type PublicAccessBlock struct {
	BlockPublicAcls       bool
	IgnorePublicAcls      bool
	BlockPublicPolicy     bool
	RestrictPublicBuckets bool
}

// S3Object is a stored object.
type S3Object struct {
	Body     []byte
	Metadata map[string]string // as stored: Content-Type, X-Amz-Server-Side-Encryption, ...
}

// NewS3 starts a fake S3 for the duration of t.
func NewS3(t testing.TB) *S3 {
	t.Helper()
	backend := s3mem.New()
	s := &S3{
		t:            t,
		backend:      backend,
		faker:        gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server(),
		encryption:   map[string]string{},
		publicAccess: map[string]PublicAccessBlock{},
		versioning:   map[string]string{},
		policies:     map[string]string{},
		lifecycle:    map[string][]byte{},
		owners:       map[string]string{},
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// TrustSTS makes the fake map access keys to the roles s issued them for,
// which SetOwner needs.
func (s *S3) TrustSTS(sts *STS) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sts = sts
}

// SetOwner makes bucket answer only requests made with credentials issued
// for roleARN (by the STS fake given to TrustSTS), whether or not the bucket
// exists yet.
func (s *S3) SetOwner(bucket, roleARN string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.owners[bucket] = roleARN
}

// CreateBucket creates bucket directly, as if made outside switchboard.
func (s *S3) CreateBucket(bucket string) {
	if err := s.backend.CreateBucket(bucket); err != nil {
		s.t.Fatalf("fakeaws.S3: creating %s: %v", bucket, err)
	}
}

// PutObject stores an object directly, as another AWS service (SES
// receiving) would, with SSE-S3.
func (s *S3) PutObject(bucket, key string, body io.Reader, size int64) {
	meta := map[string]string{
		"X-Amz-Server-Side-Encryption": "AES256",
		"Last-Modified":                time.Now().UTC().Format(http.TimeFormat),
	}
	if _, err := s.backend.PutObject(bucket, key, meta, body, size, nil); err != nil {
		s.t.Fatalf("fakeaws.S3: putting %s/%s: %v", bucket, key, err)
	}
}

// Writes returns every object write received so far, in order.
func (s *S3) Writes() []S3Write {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.writes)
}

// Requests returns every request received so far, in order.
func (s *S3) Requests() []S3Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Encryption returns the SSE algorithm of bucket's default encryption, as
// PutBucketEncryption set it.
func (s *S3) Encryption(bucket string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.encryption[bucket]
	return a, ok
}

// PublicAccess returns bucket's public access block, as PutPublicAccessBlock
// set it.
func (s *S3) PublicAccess(bucket string) (PublicAccessBlock, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.publicAccess[bucket]
	return p, ok
}

// BucketExists reports whether bucket exists.
func (s *S3) BucketExists(bucket string) bool {
	ok, err := s.backend.BucketExists(bucket)
	return err == nil && ok
}

// Keys returns the keys in bucket, sorted; none for a missing bucket.
func (s *S3) Keys(bucket string) []string {
	list, err := s.backend.ListBucket(bucket, nil, gofakes3.ListBucketPage{})
	if err != nil {
		return nil
	}
	var keys []string
	for _, c := range list.Contents {
		keys = append(keys, c.Key)
	}
	slices.Sort(keys)
	return keys
}

// Object returns a stored object.
func (s *S3) Object(bucket, key string) (S3Object, bool) {
	obj, err := s.backend.GetObject(bucket, key, nil)
	if err != nil {
		return S3Object{}, false
	}
	defer obj.Contents.Close()
	body, err := io.ReadAll(obj.Contents)
	if err != nil {
		s.t.Errorf("fakeaws.S3: reading %s/%s: %v", bucket, key, err)
	}
	return S3Object{Body: body, Metadata: obj.Metadata}, true
}

// ServeHTTP implements http.Handler.
func (s *S3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	q := r.URL.Query()
	rec := S3Request{Method: r.Method, Bucket: bucket, Key: key, Query: q}
	if sig, err := ParseAuthorization(r.Header.Get("Authorization")); err == nil {
		rec.AccessKeyID = sig.AccessKeyID
	} else if cred := q.Get("X-Amz-Credential"); cred != "" {
		rec.AccessKeyID, _, _ = strings.Cut(cred, "/")
		rec.Presigned = true
	}

	status, code := s.handle(w, r, bucket, key, q, &rec)
	rec.Status = status
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
	if status == 0 {
		s.faker.ServeHTTP(w, r)
		return
	}
	if code != "" {
		writeS3Error(w, status, code)
	}
}

// handle serves what the access layer answers itself and returns its
// status, with an error code for an error; status 0 leaves the request to
// gofakes3.
func (s *S3) handle(w http.ResponseWriter, r *http.Request, bucket, key string, q url.Values, rec *S3Request) (int, string) {
	s.mu.Lock()
	owner, owned := s.owners[bucket]
	sts := s.sts
	s.mu.Unlock()
	if owned {
		creds, ok := IssuedCredentials{}, false
		if sts != nil && rec.AccessKeyID != "" {
			creds, ok = sts.Lookup(rec.AccessKeyID)
		}
		if !ok || creds.RoleARN != owner {
			return http.StatusForbidden, "AccessDenied"
		}
	}

	_, encryption := q["encryption"]
	_, publicAccess := q["publicAccessBlock"]
	_, uploads := q["uploads"]
	_, versioning := q["versioning"]
	_, lifecycle := q["lifecycle"]
	_, policy := q["policy"]
	switch {
	case bucket != "" && key == "" && policy:
		return s.bucketPolicy(w, r, bucket)
	case bucket != "" && key == "" && versioning:
		return s.bucketVersioning(w, r, bucket)
	case bucket != "" && key == "" && lifecycle:
		return s.bucketLifecycle(w, r, bucket)
	case bucket != "" && key == "" && encryption:
		return s.bucketEncryption(w, r, bucket)
	case bucket != "" && key == "" && publicAccess:
		return s.bucketPublicAccess(w, r, bucket)
	case key != "" && r.Method == http.MethodPut && q.Get("uploadId") == "" && r.Header.Get("X-Amz-Copy-Source") == "":
		return s.write(r, OpPutObject, bucket, key, rec)
	case key != "" && r.Method == http.MethodPost && uploads:
		return s.write(r, OpCreateMultipartUpload, bucket, key, rec)
	}
	return 0, ""
}

// write records an object write and refuses it without SSE-S3.
func (s *S3) write(r *http.Request, op, bucket, key string, rec *S3Request) (int, string) {
	wr := S3Write{
		Operation: op, Bucket: bucket, Key: key,
		ServerSideEncryption: r.Header.Get("X-Amz-Server-Side-Encryption"),
		ContentType:          r.Header.Get("Content-Type"),
		AccessKeyID:          rec.AccessKeyID,
	}
	wr.Refused = wr.ServerSideEncryption != "AES256"
	s.mu.Lock()
	s.writes = append(s.writes, wr)
	s.mu.Unlock()
	if wr.Refused {
		return http.StatusForbidden, "AccessDenied"
	}
	return 0, ""
}

type sseConfiguration struct {
	XMLName xml.Name  `xml:"ServerSideEncryptionConfiguration"`
	Rules   []sseRule `xml:"Rule"`
}

type sseRule struct {
	Default struct {
		SSEAlgorithm   string `xml:"SSEAlgorithm"`
		KMSMasterKeyID string `xml:"KMSMasterKeyID,omitempty"`
	} `xml:"ApplyServerSideEncryptionByDefault"`
	BucketKeyEnabled *bool `xml:"BucketKeyEnabled,omitempty"`
}

func (s *S3) bucketEncryption(w http.ResponseWriter, r *http.Request, bucket string) (int, string) {
	if !s.BucketExists(bucket) {
		return http.StatusNotFound, "NoSuchBucket"
	}
	switch r.Method {
	case http.MethodPut:
		var cfg sseConfiguration
		if err := xml.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&cfg); err != nil || len(cfg.Rules) != 1 {
			return http.StatusBadRequest, "MalformedXML"
		}
		algorithm := cfg.Rules[0].Default.SSEAlgorithm
		if algorithm != "AES256" && algorithm != "aws:kms" && algorithm != "aws:kms:dsse" {
			return http.StatusBadRequest, "MalformedXML"
		}
		s.mu.Lock()
		s.encryption[bucket] = algorithm
		s.mu.Unlock()
		w.WriteHeader(http.StatusOK)
		return http.StatusOK, ""
	case http.MethodGet:
		s.mu.Lock()
		algorithm, ok := s.encryption[bucket]
		s.mu.Unlock()
		if !ok {
			return http.StatusNotFound, "ServerSideEncryptionConfigurationNotFoundError"
		}
		cfg := sseConfiguration{Rules: make([]sseRule, 1)}
		cfg.Rules[0].Default.SSEAlgorithm = algorithm
		writeXML(w, cfg)
		return http.StatusOK, ""
	}
	return http.StatusMethodNotAllowed, "MethodNotAllowed"
}

type versioningConfiguration struct {
	XMLName xml.Name `xml:"VersioningConfiguration"`
	Status  string   `xml:"Status,omitempty"`
}

// bucketVersioning serves PutBucketVersioning and GetBucketVersioning.
func (s *S3) bucketVersioning(w http.ResponseWriter, r *http.Request, bucket string) (int, string) {
	if !s.BucketExists(bucket) {
		return http.StatusNotFound, "NoSuchBucket"
	}
	switch r.Method {
	case http.MethodPut:
		var cfg versioningConfiguration
		if err := xml.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&cfg); err != nil || (cfg.Status != "Enabled" && cfg.Status != "Suspended") {
			return http.StatusBadRequest, "MalformedXML"
		}
		s.mu.Lock()
		s.versioning[bucket] = cfg.Status
		s.mu.Unlock()
		w.WriteHeader(http.StatusOK)
		return http.StatusOK, ""
	case http.MethodGet:
		s.mu.Lock()
		status := s.versioning[bucket]
		s.mu.Unlock()
		writeXML(w, versioningConfiguration{Status: status})
		return http.StatusOK, ""
	}
	return http.StatusMethodNotAllowed, "MethodNotAllowed"
}

// bucketPolicy serves PutBucketPolicy, GetBucketPolicy and
// DeleteBucketPolicy. A policy must be a JSON document with a Version and
// at least one statement (400 MalformedPolicy otherwise).
func (s *S3) bucketPolicy(w http.ResponseWriter, r *http.Request, bucket string) (int, string) {
	if !s.BucketExists(bucket) {
		return http.StatusNotFound, "NoSuchBucket"
	}
	switch r.Method {
	case http.MethodPut:
		body, err := io.ReadAll(io.LimitReader(r.Body, 20<<10)) // S3's limit: 20 KB
		var doc struct {
			Version   string
			Statement []json.RawMessage
		}
		if err != nil || json.Unmarshal(body, &doc) != nil || doc.Version == "" || len(doc.Statement) == 0 {
			return http.StatusBadRequest, "MalformedPolicy"
		}
		s.mu.Lock()
		s.policies[bucket] = string(body)
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		return http.StatusNoContent, ""
	case http.MethodGet:
		s.mu.Lock()
		doc, ok := s.policies[bucket]
		s.mu.Unlock()
		if !ok {
			return http.StatusNotFound, "NoSuchBucketPolicy"
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, doc)
		return http.StatusOK, ""
	case http.MethodDelete:
		s.mu.Lock()
		delete(s.policies, bucket)
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		return http.StatusNoContent, ""
	}
	return http.StatusMethodNotAllowed, "MethodNotAllowed"
}

// BucketPolicy returns a bucket's policy document, "" when it has none.
func (s *S3) BucketPolicy(bucket string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.policies[bucket]
}

// Versioning returns a bucket's versioning status: Enabled, Suspended, or
// "" when never set.
func (s *S3) Versioning(bucket string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.versioning[bucket]
}

// LifecycleRule is the part of a lifecycle rule the fake checks and tells.
type LifecycleRule struct {
	ID     string `xml:"ID"`
	Status string `xml:"Status"`
	Filter *struct {
		Prefix *string `xml:"Prefix"`
	} `xml:"Filter"`
	NoncurrentVersionExpiration *struct {
		NoncurrentDays int `xml:"NoncurrentDays"`
	} `xml:"NoncurrentVersionExpiration"`
	AbortIncompleteMultipartUpload *struct {
		DaysAfterInitiation int `xml:"DaysAfterInitiation"`
	} `xml:"AbortIncompleteMultipartUpload"`
	Expiration *struct {
		Days int `xml:"Days"`
	} `xml:"Expiration"`
}

type lifecycleConfiguration struct {
	XMLName xml.Name        `xml:"LifecycleConfiguration"`
	Rules   []LifecycleRule `xml:"Rule"`
}

// bucketLifecycle serves PutBucketLifecycleConfiguration (which replaces
// every rule, as S3's does), GetBucketLifecycleConfiguration and
// DeleteBucketLifecycle.
func (s *S3) bucketLifecycle(w http.ResponseWriter, r *http.Request, bucket string) (int, string) {
	if !s.BucketExists(bucket) {
		return http.StatusNotFound, "NoSuchBucket"
	}
	switch r.Method {
	case http.MethodPut:
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		var cfg lifecycleConfiguration
		if err != nil || xml.Unmarshal(body, &cfg) != nil || len(cfg.Rules) == 0 || len(cfg.Rules) > 1000 {
			return http.StatusBadRequest, "MalformedXML"
		}
		for _, rule := range cfg.Rules {
			if rule.Status != "Enabled" && rule.Status != "Disabled" || rule.Filter == nil {
				return http.StatusBadRequest, "MalformedXML"
			}
		}
		s.mu.Lock()
		s.lifecycle[bucket] = body
		s.mu.Unlock()
		w.WriteHeader(http.StatusOK)
		return http.StatusOK, ""
	case http.MethodGet:
		s.mu.Lock()
		body, ok := s.lifecycle[bucket]
		s.mu.Unlock()
		if !ok {
			return http.StatusNotFound, "NoSuchLifecycleConfiguration"
		}
		var cfg lifecycleConfiguration
		_ = xml.Unmarshal(body, &cfg)
		writeXML(w, cfg)
		return http.StatusOK, ""
	case http.MethodDelete:
		s.mu.Lock()
		delete(s.lifecycle, bucket)
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		return http.StatusNoContent, ""
	}
	return http.StatusMethodNotAllowed, "MethodNotAllowed"
}

// Lifecycle returns a bucket's lifecycle rules, as last put.
func (s *S3) Lifecycle(bucket string) []LifecycleRule {
	s.mu.Lock()
	body := s.lifecycle[bucket]
	s.mu.Unlock()
	var cfg lifecycleConfiguration
	_ = xml.Unmarshal(body, &cfg)
	return cfg.Rules
}

// PutLifecycleRule sets a bucket's lifecycle rules to rules, as another
// tool of the tenant's would have.
func (s *S3) PutLifecycleRule(bucket string, rules ...LifecycleRule) {
	b, err := xml.Marshal(lifecycleConfiguration{Rules: rules})
	if err != nil {
		panic(err)
	}
	s.mu.Lock()
	s.lifecycle[bucket] = b
	s.mu.Unlock()
}

type publicAccessConfiguration struct {
	XMLName               xml.Name `xml:"PublicAccessBlockConfiguration"`
	BlockPublicAcls       bool     `xml:"BlockPublicAcls"`
	IgnorePublicAcls      bool     `xml:"IgnorePublicAcls"`
	BlockPublicPolicy     bool     `xml:"BlockPublicPolicy"`
	RestrictPublicBuckets bool     `xml:"RestrictPublicBuckets"`
}

func (s *S3) bucketPublicAccess(w http.ResponseWriter, r *http.Request, bucket string) (int, string) {
	if !s.BucketExists(bucket) {
		return http.StatusNotFound, "NoSuchBucket"
	}
	switch r.Method {
	case http.MethodPut:
		var cfg publicAccessConfiguration
		if err := xml.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&cfg); err != nil {
			return http.StatusBadRequest, "MalformedXML"
		}
		s.mu.Lock()
		s.publicAccess[bucket] = PublicAccessBlock{
			BlockPublicAcls: cfg.BlockPublicAcls, IgnorePublicAcls: cfg.IgnorePublicAcls,
			BlockPublicPolicy: cfg.BlockPublicPolicy, RestrictPublicBuckets: cfg.RestrictPublicBuckets,
		}
		s.mu.Unlock()
		w.WriteHeader(http.StatusOK)
		return http.StatusOK, ""
	case http.MethodGet:
		s.mu.Lock()
		p, ok := s.publicAccess[bucket]
		s.mu.Unlock()
		if !ok {
			return http.StatusNotFound, "NoSuchPublicAccessBlockConfiguration"
		}
		writeXML(w, publicAccessConfiguration{
			BlockPublicAcls: p.BlockPublicAcls, IgnorePublicAcls: p.IgnorePublicAcls,
			BlockPublicPolicy: p.BlockPublicPolicy, RestrictPublicBuckets: p.RestrictPublicBuckets,
		})
		return http.StatusOK, ""
	}
	return http.StatusMethodNotAllowed, "MethodNotAllowed"
}

func writeXML(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, xml.Header)
	_ = xml.NewEncoder(w).Encode(v)
}

func writeS3Error(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("X-Amz-Request-Id", strings.ToUpper(randomHex(8)))
	w.WriteHeader(status)
	_ = xml.NewEncoder(w).Encode(struct {
		XMLName   xml.Name `xml:"Error"`
		Code      string
		Message   string
		RequestID string `xml:"RequestId"`
	}{Code: code, Message: code, RequestID: strings.ToUpper(randomHex(8))})
}
