package scim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"switchboard/apierror"
	"switchboard/ent"
	"switchboard/ent/contact"
	"switchboard/ent/tenant"
	"switchboard/gid"
	"switchboard/viewer"
)

// Prefix is the path under which Handler serves.
const Prefix = "/scim/v2"

// ContentType is the media type of SCIM requests and responses.
const ContentType = "application/scim+json"

const (
	maxBody       = 1 << 20 // bytes of a request body
	defaultCount  = 100     // resources of a list page when count is not given
	maxResults    = 200     // resources of a list page at most
	maxCandidates = 10000   // rows a filter the store cannot fully evaluate may examine
)

// Option configures Handler.
type Option func(*handler)

// WithRowLocks makes writes lock the rows they read until they commit, so
// that concurrent requests serialise; use it on PostgreSQL. (SQLite
// transactions already take the database's write lock when they begin.)
func WithRowLocks(lock bool) Option { return func(h *handler) { h.lockRows = lock } }

// WithBaseURL sets the absolute URL of the /scim/v2 endpoint, as clients
// reach it, for meta.location. Without it the URL is made from the
// request's Host and X-Forwarded-Proto headers.
func WithBaseURL(u string) Option {
	return func(h *handler) { h.baseURL = strings.TrimSuffix(u, "/") }
}

// WithAdmit passes each token's tenant through admit (tenants.Gate.Admit):
// a token of a tenant it refuses is answered 403.
func WithAdmit(admit func(ctx context.Context, tenantID gid.ID) error) Option {
	return func(h *handler) { h.admit = admit }
}

type handler struct {
	client   *ent.Client
	log      *slog.Logger
	lockRows bool
	baseURL  string
	admit    func(ctx context.Context, tenantID gid.ID) error
}

// Handler serves SCIM 2.0 under /scim/v2 for the tenant whose bearer token
// each request carries. Mount it without stripping the prefix:
//
//	mux.Handle("/scim/v2/", scim.Handler(client, log, scim.WithRowLocks(isPostgres)))
func Handler(c *ent.Client, log *slog.Logger, opts ...Option) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	h := &handler{client: c, log: log}
	for _, o := range opts {
		o(h)
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	}
	rest, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok || (rest != "" && rest[0] != '/') {
		h.fail(w, r, notFound("no such endpoint"))
		return
	}
	tenantID, err := h.authenticate(r)
	if err != nil {
		if errors.Is(err, ErrUnauthenticated) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="SCIM"`)
			h.fail(w, r, &Error{Status: http.StatusUnauthorized, Detail: "a valid SCIM bearer token is required"})
			return
		}
		h.fail(w, r, err)
		return
	}
	if h.admit != nil {
		if err := h.admit(r.Context(), tenantID); err != nil {
			var fe *apierror.Error
			if errors.As(err, &fe) && fe.Code == apierror.Forbidden {
				h.fail(w, r, &Error{Status: http.StatusForbidden, Detail: fe.Reason + ": " + fe.Message})
				return
			}
			h.fail(w, r, err)
			return
		}
	}
	ctx := ServiceContext(r.Context(), tenantID)
	r = r.WithContext(ctx)

	var segs []string
	for _, s := range strings.Split(strings.Trim(rest, "/"), "/") {
		if s != "" {
			segs = append(segs, s)
		}
	}
	route := func(name string, n int) bool { return len(segs) == n && strings.EqualFold(segs[0], name) }
	switch {
	case route("ServiceProviderConfig", 1):
		h.only(w, r, "GET", func() { h.write(w, r, http.StatusOK, serviceProviderConfig(h.base(r))) })
	case route("ResourceTypes", 1):
		h.only(w, r, "GET", func() { h.write(w, r, http.StatusOK, listOf([]any{userResourceType(h.base(r))})) })
	case route("ResourceTypes", 2):
		h.only(w, r, "GET", func() {
			if !strings.EqualFold(segs[1], "User") {
				h.fail(w, r, notFound("no resource type %q", truncate(segs[1], 60)))
				return
			}
			h.write(w, r, http.StatusOK, userResourceType(h.base(r)))
		})
	case route("Schemas", 1):
		h.only(w, r, "GET", func() { h.write(w, r, http.StatusOK, listOf([]any{userSchema(h.base(r))})) })
	case route("Schemas", 2):
		h.only(w, r, "GET", func() {
			if !strings.EqualFold(segs[1], UserSchema) {
				h.fail(w, r, notFound("no schema %q", truncate(segs[1], 80)))
				return
			}
			h.write(w, r, http.StatusOK, userSchema(h.base(r)))
		})
	case route("Users", 1):
		switch r.Method {
		case http.MethodGet:
			h.listUsers(w, r)
		case http.MethodPost:
			h.createUser(w, r)
		default:
			h.notAllowed(w, r, "GET, POST")
		}
	case route("Users", 2) && segs[1] == ".search":
		h.only(w, r, "POST", func() { h.searchUsers(w, r) })
	case route("Users", 2):
		id := gid.ID(segs[1])
		switch r.Method {
		case http.MethodGet:
			h.getUser(w, r, id)
		case http.MethodPut:
			h.replaceUser(w, r, id)
		case http.MethodPatch:
			h.patchUser(w, r, id)
		case http.MethodDelete:
			h.deleteUser(w, r, id)
		default:
			h.notAllowed(w, r, "GET, PUT, PATCH, DELETE")
		}
	default:
		h.fail(w, r, notFound("no such endpoint"))
	}
}

// authenticate reads the bearer token and finds its tenant.
func (h *handler) authenticate(r *http.Request) (gid.ID, error) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", ErrUnauthenticated
	}
	return Authenticate(r.Context(), h.client, strings.TrimSpace(token))
}

func (h *handler) only(w http.ResponseWriter, r *http.Request, method string, f func()) {
	if r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead) {
		h.notAllowed(w, r, method)
		return
	}
	f()
}

func (h *handler) notAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	h.fail(w, r, &Error{Status: http.StatusMethodNotAllowed, Detail: r.Method + " is not supported here"})
}

// base is the absolute URL of /scim/v2.
func (h *handler) base(r *http.Request) string {
	if h.baseURL != "" {
		return h.baseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	return scheme + "://" + r.Host + Prefix
}

// write sends v as SCIM JSON.
func (h *handler) write(w http.ResponseWriter, r *http.Request, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		h.log.ErrorContext(r.Context(), "scim: encoding a response", "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"schemas":["` + ErrorSchema + `"],"status":"500","detail":"internal error"}`)
	}
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// fail sends err as a SCIM error; unexpected errors are logged and sent
// as a bare 500.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	e, internal := asError(err)
	if internal {
		h.log.ErrorContext(r.Context(), "scim: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	h.write(w, r, e.Status, e)
}

// listResponse is a page of resources (RFC 7644 §3.4.2).
type listResponse struct {
	Schemas      []string `json:"schemas"`
	TotalResults int      `json:"totalResults"`
	StartIndex   int      `json:"startIndex"`
	ItemsPerPage int      `json:"itemsPerPage"`
	Resources    []any    `json:"Resources"`
}

func listOf(items []any) *listResponse {
	return &listResponse{Schemas: []string{ListResponseSchema}, TotalResults: len(items), StartIndex: 1, ItemsPerPage: len(items), Resources: items}
}

// query is a list request: from the URL of GET /Users, or the body of
// POST /Users/.search.
type query struct {
	Filter             string   `json:"filter"`
	StartIndex         *int     `json:"startIndex"`
	Count              *int     `json:"count"`
	Attributes         []string `json:"attributes"`
	ExcludedAttributes []string `json:"excludedAttributes"`
	SortBy             string   `json:"sortBy"`
}

func (h *handler) listUsers(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q := query{Filter: v.Get("filter"), SortBy: v.Get("sortBy")}
	for name, dst := range map[string]**int{"startIndex": &q.StartIndex, "count": &q.Count} {
		if s := strings.TrimSpace(v.Get(name)); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				h.fail(w, r, badRequest("invalidValue", "%s must be an integer", name))
				return
			}
			*dst = &n
		}
	}
	q.Attributes = splitList(v.Get("attributes"))
	q.ExcludedAttributes = splitList(v.Get("excludedAttributes"))
	h.list(w, r, q)
}

func (h *handler) searchUsers(w http.ResponseWriter, r *http.Request) {
	var q query
	if err := decodeJSON(r.Body, &q); err != nil {
		h.fail(w, r, err)
		return
	}
	h.list(w, r, q)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (h *handler) list(w http.ResponseWriter, r *http.Request, q query) {
	if q.SortBy != "" {
		h.fail(w, r, badRequest("invalidValue", "sorting is not supported"))
		return
	}
	proj, err := newProjection(q.Attributes, q.ExcludedAttributes)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	start, count := 1, defaultCount
	if q.StartIndex != nil && *q.StartIndex > 1 {
		start = *q.StartIndex
	}
	if q.Count != nil {
		count = min(max(*q.Count, 0), maxResults)
	}
	var f Expr
	if strings.TrimSpace(q.Filter) != "" {
		if f, err = ParseFilter(q.Filter); err == nil {
			err = checkFilter(f)
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
	}
	ctx := r.Context()
	total, page, err := h.find(ctx, f, start, count)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	base := h.base(r)
	resources := make([]any, 0, len(page))
	for _, c := range page {
		resources = append(resources, proj.apply(userOf(c, base)))
	}
	h.write(w, r, http.StatusOK, &listResponse{
		Schemas: []string{ListResponseSchema}, TotalResults: total, StartIndex: start,
		ItemsPerPage: len(resources), Resources: resources,
	})
}

// find returns how many of the tenant's SCIM users match f and the page of
// them from start (1-based), in order of creation.
func (h *handler) find(ctx context.Context, f Expr, start, count int) (int, []*ent.Contact, error) {
	q := h.client.Contact.Query().Order(ent.Asc(contact.FieldID))
	sf := sqlFilter{exact: true}
	if f != nil {
		sf = compile(f)
	}
	if sf.p != nil {
		q.Where(sf.p)
	}
	if sf.exact {
		total, err := q.Clone().Count(ctx)
		if err != nil || count == 0 || start > total {
			return total, nil, err
		}
		page, err := q.Offset(start - 1).Limit(count).All(ctx)
		return total, page, err
	}
	rows, err := q.Limit(maxCandidates + 1).All(ctx)
	if err != nil {
		return 0, nil, err
	}
	if len(rows) > maxCandidates {
		return 0, nil, badRequest("tooMany", "the filter selects too many users to evaluate; narrow it, e.g. with userName eq")
	}
	var matched []*ent.Contact
	for _, c := range rows {
		if match(f, userOf(c, "")) {
			matched = append(matched, c)
		}
	}
	if start > len(matched) {
		return len(matched), nil, nil
	}
	return len(matched), matched[start-1 : min(start-1+count, len(matched))], nil
}

func (h *handler) getUser(w http.ResponseWriter, r *http.Request, id gid.ID) {
	proj, err := newProjection(splitList(r.URL.Query().Get("attributes")), splitList(r.URL.Query().Get("excludedAttributes")))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	c, err := h.get(r.Context(), h.client, id, false)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.write(w, r, http.StatusOK, proj.apply(userOf(c, h.base(r))))
}

// get reads a SCIM user of the tenant; another tenant's, a hand-made
// contact and a malformed ID are all not found. lock locks its row (on
// PostgreSQL) until the transaction ends.
func (h *handler) get(ctx context.Context, c *ent.Client, id gid.ID, lock bool) (*ent.Contact, error) {
	if id.Prefix() != "CT" || !id.Valid() {
		return nil, notFound("no user %q", truncate(string(id), 60))
	}
	q := c.Contact.Query().Where(contact.ID(id))
	if lock && h.lockRows {
		q.ForUpdate()
	}
	got, err := q.Only(ctx)
	if ent.IsNotFound(err) {
		return nil, notFound("no user %q", id)
	}
	return got, err
}

func (h *handler) createUser(w http.ResponseWriter, r *http.Request) {
	var in userInput
	if err := decodeJSON(r.Body, &in); err != nil {
		h.fail(w, r, err)
		return
	}
	s := stateFrom(&in, nil)
	var created *ent.Contact
	err := h.tx(r.Context(), func(ctx context.Context, tx *ent.Client) error {
		if err := s.finish(); err != nil {
			return err
		}
		if err := h.claimUserName(ctx, tx, s.UserName, ""); err != nil {
			return err
		}
		create := tx.Contact.Create().
			SetScope(contact.ScopeORGANISATION).
			SetSource(contact.SourceSCIM)
		setState(create.Mutation(), s)
		var err error
		created, err = create.Save(ctx)
		return err
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.InfoContext(r.Context(), "scim: user created", "tenant", created.TenantID, "id", created.ID)
	u := userOf(created, h.base(r))
	w.Header().Set("Location", u.Meta.Location)
	h.write(w, r, http.StatusCreated, u)
}

func (h *handler) replaceUser(w http.ResponseWriter, r *http.Request, id gid.ID) {
	var in userInput
	if err := decodeJSON(r.Body, &in); err != nil {
		h.fail(w, r, err)
		return
	}
	h.update(w, r, id, func(old *state) (*state, error) { return stateFrom(&in, old), nil })
}

func (h *handler) patchUser(w http.ResponseWriter, r *http.Request, id gid.ID) {
	var req patchRequest
	if err := decodeJSON(r.Body, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	h.update(w, r, id, func(s *state) (*state, error) { return s, s.patch(&req) })
}

// update reads a user, changes it with change and writes it back, in one
// transaction.
func (h *handler) update(w http.ResponseWriter, r *http.Request, id gid.ID, change func(*state) (*state, error)) {
	var updated *ent.Contact
	err := h.tx(r.Context(), func(ctx context.Context, tx *ent.Client) error {
		c, err := h.get(ctx, tx, id, true)
		if err != nil {
			return err
		}
		s, err := change(stateOf(c))
		if err != nil {
			return err
		}
		if err := s.finish(); err != nil {
			return err
		}
		if s.UserName != deref(c.ScimUserName) {
			if err := h.claimUserName(ctx, tx, s.UserName, c.ID); err != nil {
				return err
			}
		}
		upd := tx.Contact.UpdateOne(c)
		setState(upd.Mutation(), s)
		updated, err = upd.Save(ctx)
		return err
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.write(w, r, http.StatusOK, userOf(updated, h.base(r)))
}

func (h *handler) deleteUser(w http.ResponseWriter, r *http.Request, id gid.ID) {
	if id.Prefix() != "CT" || !id.Valid() {
		h.fail(w, r, notFound("no user %q", truncate(string(id), 60)))
		return
	}
	if err := h.client.Contact.DeleteOneID(id).Exec(r.Context()); err != nil {
		if ent.IsNotFound(err) {
			err = notFound("no user %q", id)
		}
		h.fail(w, r, err)
		return
	}
	h.log.InfoContext(r.Context(), "scim: user deleted", "tenant", viewer.FromContext(r.Context()).TenantID, "id", id)
	w.WriteHeader(http.StatusNoContent)
}

// claimUserName checks that no user of the tenant but self has userName,
// compared case-insensitively (userNames are stored as sent: Entra ID sends
// user principal names, whose case it keeps). With row locks (PostgreSQL),
// the tenant's row is locked first, so that two requests cannot both claim
// one name; SQLite transactions are serialised already.
func (h *handler) claimUserName(ctx context.Context, tx *ent.Client, userName string, self gid.ID) error {
	if h.lockRows {
		if _, err := tx.Tenant.Query().Where(tenant.ID(viewer.FromContext(ctx).TenantID)).ForUpdate().Only(ctx); err != nil {
			return err
		}
	}
	q := tx.Contact.Query().Where(contact.ScimUserNameEqualFold(userName))
	if self != "" {
		q.Where(contact.IDNEQ(self))
	}
	taken, err := q.Exist(ctx)
	if err != nil {
		return err
	}
	if taken {
		return &Error{Status: http.StatusConflict, ScimType: "uniqueness", Detail: "userName is already taken"}
	}
	return nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// setState writes s into a contact mutation, whole.
func setState(m *ent.ContactMutation, s *state) {
	m.SetScimUserName(s.UserName)
	if s.ExternalID != "" {
		m.SetScimExternalID(s.ExternalID)
	} else if m.Op().Is(ent.OpUpdateOne) {
		m.ClearScimExternalID()
	}
	m.SetName(s.contactName())
	m.SetGivenName(s.GivenName)
	m.SetFamilyName(s.FamilyName)
	m.SetJobTitle(s.Title)
	m.SetActive(s.Active)
	m.SetEmails(s.Emails)
	m.SetPhoneNumbers(s.Phones)
}

// tx runs f in a transaction, committing when it returns nil.
func (h *handler) tx(ctx context.Context, f func(context.Context, *ent.Client) error) error {
	tx, err := h.client.Tx(ctx)
	if err != nil {
		return err
	}
	if err := f(ctx, tx.Client()); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
