package flows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"switchboard/apierror"
	"switchboard/ent"
	"switchboard/ent/schedule"
	"switchboard/ent/schema"
	"switchboard/gid"
	"switchboard/tenants"
	"switchboard/viewer"
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
}

// Handler answers contact flows at Path: the key in KeyHeader names the
// tenant; Parameters.action is "schedule" (Parameters.schedule, a
// schedule's name) or "parameters" (Parameters.group). The reply is a flat
// JSON object of strings, as Connect requires. Answers come from the store
// alone, in two or three queries: no AWS is called on this path.
func Handler(o HandlerOptions) http.Handler {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tenantID, err := TenantOfKey(r.Context(), o.Client, r.Header.Get(KeyHeader))
		if err == nil {
			err = o.Admit(r.Context(), tenantID)
		}
		switch {
		case tenants.IsUnsubscribed(err):
			reply(w, http.StatusForbidden, map[string]string{"error": apierror.ReasonTenantUnsubscribed + ": the tenant's subscription has ended"})
			return
		case errors.Is(err, ErrUnknownKey), errors.Is(err, tenants.ErrNoTenant):
			reply(w, http.StatusUnauthorized, map[string]string{"error": "unknown flows key: send the key from rotateFlowsKey in " + KeyHeader})
			return
		case err != nil:
			o.Logger.ErrorContext(r.Context(), "flows: finding the key's tenant", "err", err)
			reply(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
			return
		}
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
		ctx := viewer.NewContext(r.Context(), viewer.System(tenantID, schema.FlowsService))
		p := ev.Details.Parameters
		var (
			out    map[string]string
			status = http.StatusOK
		)
		switch action := p["action"]; action {
		case "schedule":
			out, status, err = o.schedule(ctx, p["schedule"])
		case "parameters":
			out, status, err = o.parameters(ctx, p["group"])
		default:
			out, status = map[string]string{"error": fmt.Sprintf("Parameters.action must be schedule or parameters, not %q", action)}, http.StatusBadRequest
		}
		if err != nil {
			o.Logger.ErrorContext(r.Context(), "flows: answering", "tenant", tenantID, "action", p["action"], "err", err)
			out, status = map[string]string{"error": "internal error"}, http.StatusInternalServerError
		}
		reply(w, status, out)
	})
}

func (o HandlerOptions) schedule(ctx context.Context, name string) (map[string]string, int, error) {
	s, err := o.Client.Schedule.Query().Where(schedule.Name(name)).Only(ctx)
	if ent.IsNotFound(err) {
		return map[string]string{"error": fmt.Sprintf("no schedule named %q", name)}, http.StatusNotFound, nil
	}
	if err != nil {
		return nil, 0, err
	}
	st, err := StatusOf(s, o.Now())
	if err != nil {
		return nil, 0, err
	}
	next := ""
	if !st.NextChangeAt.IsZero() {
		next = st.NextChangeAt.Format(time.RFC3339)
	}
	return map[string]string{
		"open": fmt.Sprint(st.Open), "reason": st.Reason, "nextChangeAt": next, "schedule": s.Name,
	}, http.StatusOK, nil
}

func (o HandlerOptions) parameters(ctx context.Context, group string) (map[string]string, int, error) {
	params, err := Parameters(ctx, o.Client, &group)
	if err != nil {
		return nil, 0, err
	}
	if len(params) == 0 {
		return map[string]string{"error": fmt.Sprintf("no parameters in group %q", group)}, http.StatusNotFound, nil
	}
	out := make(map[string]string, len(params))
	for _, p := range params {
		out[p.Key] = p.Value
	}
	return out, http.StatusOK, nil
}

func reply(w http.ResponseWriter, status int, body map[string]string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
