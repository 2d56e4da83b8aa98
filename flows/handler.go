package flows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"entgo.io/ent/dialect/sql"

	"switchboard/apierror"
	"switchboard/credential"
	"switchboard/ent"
	"switchboard/ent/flowskey"
	"switchboard/ent/operationalparameter"
	"switchboard/ent/predicate"
	"switchboard/ent/privacy"
	"switchboard/ent/schedule"
	"switchboard/gid"
	"switchboard/schedules"
	"switchboard/tenants"
)

// Path is where contact flows ask, through the tenant's forwarding Lambda.
const Path = "/flows"

// MaxEvent bounds the Lambda event read: Connect's are a few KiB.
const MaxEvent = 256 << 10

// Event is the part of Amazon Connect's Lambda event (ContactFlowEvent)
// that /flows reads: the parameters the flow's block passes.
type Event struct {
	Name    string
	Details struct {
		Parameters map[string]string
	}
}

// HandlerOptions configure the Handler.
type HandlerOptions struct {
	Client *ent.Client
	// Admit is the tenant lifecycle's gate (tenants.Gate.Admit): the key
	// of an unsubscribed tenant is refused like every other credential.
	Admit  func(context.Context, gid.ID) error
	Logger *slog.Logger
	Now    func() time.Time
	// Recheck is how long an answer's rows are trusted before they are read
	// again (DefaultRecheck when zero): a schedule changed, a parameter
	// set or a key rotated holds on every replica within it.
	Recheck time.Duration
}

// DefaultRecheck is HandlerOptions.Recheck's default: a second, as the
// tenant lifecycle's gate.
const DefaultRecheck = time.Second

// Handler answers contact flows at Path: the key in KeyHeader names the
// tenant; Parameters.action is "schedule" (Parameters.schedule, a
// schedule's name) or "parameters" (Parameters.group). The reply is a flat
// JSON object of strings, as Connect requires. Answers come from the store
// alone, in one query, or none for what was read within Recheck (as the
// gate keeps a tenant's lifecycle): no AWS is called on this path.
func Handler(o HandlerOptions) http.Handler {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Recheck <= 0 {
		o.Recheck = DefaultRecheck
	}
	h := &handler{HandlerOptions: o, compiled: map[gid.ID]compiledSchedule{}, rows: map[string]cachedRows{}}
	return http.HandlerFunc(h.serve)
}

// handler answers /flows. It keeps each schedule compiled, by its ID and
// the time it was last written, so that the common call is one query.
type handler struct {
	HandlerOptions
	mu       sync.Mutex
	compiled map[gid.ID]compiledSchedule
	rows     map[string]cachedRows // by action, key's hash and name
}

// cachedRows are what one key asked for read, and when.
type cachedRows struct {
	read     time.Time
	schedule *ent.Schedule
	params   []*ent.OperationalParameter
}

// cached returns the rows read for what, if read within Recheck; read
// reads them (ok false: none, which is not kept).
func (h *handler) cached(what string, read func() (cachedRows, bool, error)) (cachedRows, bool, error) {
	now := time.Now()
	h.mu.Lock()
	c, ok := h.rows[what]
	h.mu.Unlock()
	if ok && now.Sub(c.read) < h.Recheck {
		return c, true, nil
	}
	c, ok, err := read()
	if err != nil || !ok {
		return c, ok, err
	}
	c.read = now
	h.mu.Lock()
	if len(h.rows) >= maxCompiled {
		clear(h.rows)
	}
	h.rows[what] = c
	h.mu.Unlock()
	return c, true, nil
}

func cacheKey(action, key, name string) string {
	return action + "\x00" + string(credential.Hash(key)) + "\x00" + name
}

type compiledSchedule struct {
	updatedAt time.Time
	schedule  *schedules.Schedule
}

// maxCompiled bounds the compiled schedules kept; past it they are all
// dropped and compiled again as asked.
const maxCompiled = 10_000

func (h *handler) serve(w http.ResponseWriter, r *http.Request) {
	var ev Event
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxEvent+1))
	if err == nil && len(body) > MaxEvent {
		err = errors.New("the event is too large")
	}
	if err == nil {
		err = json.Unmarshal(body, &ev)
	}
	if err != nil {
		reply(w, http.StatusBadRequest, map[string]string{"error": "not a contact flow's Lambda event: " + err.Error()})
		return
	}
	key := r.Header.Get(KeyHeader)
	p := ev.Details.Parameters
	var (
		tenantID gid.ID
		found    bool
		answer   func() (map[string]string, error)
	)
	// The key and what it asks for are read in one query: rows of the
	// tenant whose key it is. Only when there is none is the key looked
	// up alone, to tell a wrong key (401) from a missing name (404).
	switch action := p["action"]; action {
	case "schedule":
		tenantID, found, answer, err = h.schedule(r.Context(), key, p["schedule"])
	case "parameters":
		tenantID, found, answer, err = h.parameters(r.Context(), key, p["group"])
	default:
		answer = func() (map[string]string, error) {
			return nil, errBadAction(action)
		}
	}
	if err == nil && !found {
		tenantID, err = TenantOfKey(r.Context(), h.Client, key)
	}
	if err == nil {
		err = h.Admit(r.Context(), tenantID)
	}
	switch {
	case tenants.IsUnsubscribed(err):
		reply(w, http.StatusForbidden, map[string]string{"error": apierror.ReasonTenantUnsubscribed + ": the tenant's subscription has ended"})
		return
	case errors.Is(err, ErrUnknownKey), errors.Is(err, tenants.ErrNoTenant):
		reply(w, http.StatusUnauthorized, map[string]string{"error": "unknown flows key: send the key from rotateFlowsKey in " + KeyHeader})
		return
	case err != nil:
		h.Logger.ErrorContext(r.Context(), "flows: answering", "action", p["action"], "err", err)
		reply(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
		return
	}
	out, err := answer()
	var nf notFound
	switch {
	case errors.As(err, &nf):
		reply(w, http.StatusNotFound, map[string]string{"error": nf.Error()})
	case errors.Is(err, errAction):
		reply(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
	case err != nil:
		h.Logger.ErrorContext(r.Context(), "flows: answering", "tenant", tenantID, "action", p["action"], "err", err)
		reply(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
	default:
		reply(w, http.StatusOK, out)
	}
}

// notFound is a name the tenant has no schedule or group of.
type notFound string

func (e notFound) Error() string { return string(e) }

var errAction = errors.New("Parameters.action must be schedule or parameters")

func errBadAction(action string) error { return fmt.Errorf("%w, not %q", errAction, action) }

// keyOwns confines a query to the rows of the tenant whose flows key is
// key (none for a key of no tenant).
func keyOwns(key string) func(*sql.Selector) {
	return func(s *sql.Selector) {
		k := sql.Table(flowskey.Table)
		s.Where(sql.In(s.C(tenants.TenantColumn),
			sql.Select(k.C(flowskey.FieldTenantID)).From(k).Where(sql.EQ(k.C(flowskey.FieldKeyHash), credential.Hash(key)))))
	}
}

// anyTenant reads across tenants: the key is the caller's only credential,
// and keyOwns confines the read to its tenant.
func anyTenant(ctx context.Context) context.Context {
	return privacy.DecisionContext(ctx, privacy.Allow)
}

func (h *handler) schedule(ctx context.Context, key, name string) (gid.ID, bool, func() (map[string]string, error), error) {
	c, ok, err := h.cached(cacheKey("schedule", key, name), func() (cachedRows, bool, error) {
		row, err := h.Client.Schedule.Query().
			Where(schedule.Name(name), predicate.Schedule(keyOwns(key))).
			Select(schedule.FieldID, schedule.FieldTenantID, schedule.FieldName, schedule.FieldUpdatedAt).
			Only(anyTenant(ctx))
		if ent.IsNotFound(err) {
			return cachedRows{}, false, nil
		}
		return cachedRows{schedule: row}, err == nil, err
	})
	if err != nil {
		return "", false, nil, err
	}
	if !ok {
		return "", false, func() (map[string]string, error) {
			return nil, notFound(fmt.Sprintf("no schedule named %q", name))
		}, nil
	}
	row := c.schedule
	return row.TenantID, true, func() (map[string]string, error) {
		compiled, err := h.compile(ctx, row)
		if err != nil {
			return nil, err
		}
		st := compiled.At(h.Now())
		next := ""
		if !st.NextChangeAt.IsZero() {
			next = st.NextChangeAt.Format(time.RFC3339)
		}
		return map[string]string{"open": fmt.Sprint(st.Open), "reason": st.Reason, "nextChangeAt": next, "schedule": row.Name}, nil
	}, nil
}

// compile returns the schedule of row compiled, from the ones kept when it
// has not been written since.
func (h *handler) compile(ctx context.Context, row *ent.Schedule) (*schedules.Schedule, error) {
	h.mu.Lock()
	c, ok := h.compiled[row.ID]
	h.mu.Unlock()
	if ok && c.updatedAt.Equal(row.UpdatedAt) {
		return c.schedule, nil
	}
	full, err := h.Client.Schedule.Query().Where(schedule.ID(row.ID)).Only(anyTenant(ctx))
	if err != nil {
		return nil, err
	}
	compiled, err := schedules.Compile(full.TimeZone, full.WeeklyHours, full.Exceptions)
	if err != nil {
		return nil, fmt.Errorf("schedule %s no longer compiles: %w", full.ID, err)
	}
	h.mu.Lock()
	if len(h.compiled) >= maxCompiled {
		clear(h.compiled)
	}
	h.compiled[row.ID] = compiledSchedule{updatedAt: full.UpdatedAt, schedule: compiled}
	h.mu.Unlock()
	return compiled, nil
}

func (h *handler) parameters(ctx context.Context, key, group string) (gid.ID, bool, func() (map[string]string, error), error) {
	c, ok, err := h.cached(cacheKey("parameters", key, group), func() (cachedRows, bool, error) {
		params, err := h.Client.OperationalParameter.Query().
			Where(operationalparameter.GroupName(group), predicate.OperationalParameter(keyOwns(key))).
			Select(operationalparameter.FieldTenantID, operationalparameter.FieldKey, operationalparameter.FieldValue).
			All(anyTenant(ctx))
		return cachedRows{params: params}, err == nil && len(params) > 0, err
	})
	if err != nil {
		return "", false, nil, err
	}
	if !ok {
		return "", false, func() (map[string]string, error) {
			return nil, notFound(fmt.Sprintf("no parameters in group %q", group))
		}, nil
	}
	params := c.params
	return params[0].TenantID, true, func() (map[string]string, error) {
		out := make(map[string]string, len(params))
		for _, p := range params {
			out[p.Key] = p.Value
		}
		return out, nil
	}, nil
}
func reply(w http.ResponseWriter, status int, body map[string]string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
