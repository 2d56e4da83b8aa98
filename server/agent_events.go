package server

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"switchboard/apierror"
	"switchboard/connectaws"
	"switchboard/ent"
	"switchboard/instances"
	"switchboard/livestatus"
	"switchboard/tenants"
)

// AgentEventsPath is where Amazon Connect's agent event stream is delivered
// (Amazon Data Firehose HTTP endpoint delivery, or a forwarder posting JSON).
const AgentEventsPath = "/connect/agent-events"

// agentEvents takes a batch of agent event stream records, authenticated by
// the tenant's agent event key (X-Amz-Firehose-Access-Key, or a bearer
// token), and applies them to the key's tenant only.
func (s *Server) agentEvents(w http.ResponseWriter, r *http.Request) {
	reply := func(code int, requestID, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = w.Write(connectaws.FirehoseResponse(requestID, time.Now(), msg))
	}
	requestID := r.Header.Get(connectaws.FirehoseRequestIDHeader)
	key := r.Header.Get(connectaws.FirehoseAccessKeyHeader)
	if key == "" {
		key, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	// Looked up by the key's SHA-256, so the comparison leaks nothing of the key.
	inst, err := instances.ForAgentEventKey(r.Context(), s.store.Client, key)
	if err == nil {
		err = s.identity.gate.Admit(r.Context(), inst.TenantID)
		if tenants.IsUnsubscribed(err) {
			reply(http.StatusForbidden, requestID, apierror.ReasonTenantUnsubscribed+": the tenant's subscription has ended")
			return
		}
	}
	if err != nil {
		if !ent.IsNotFound(err) && key != "" {
			s.log.ErrorContext(r.Context(), "agent events: finding the key's instance", "err", err)
			reply(http.StatusInternalServerError, requestID, "internal error")
			return
		}
		reply(http.StatusUnauthorized, requestID, "unknown access key")
		return
	}
	rid, _, records, err := connectaws.ParseFirehoseRequest(r.Body, connectaws.DefaultDeliveryLimit)
	switch {
	case errors.Is(err, connectaws.ErrTooLarge):
		reply(http.StatusRequestEntityTooLarge, requestID, "the delivery is too large")
		return
	case err != nil:
		reply(http.StatusBadRequest, requestID, "malformed delivery: "+err.Error())
		return
	}
	if requestID == "" {
		requestID = rid
	}
	var events []livestatus.ConnectEvent
	malformed := 0
	for _, rec := range records {
		e, err := connectaws.ParseAgentEvent(rec)
		if err != nil {
			malformed++
			continue
		}
		if e.InstanceARN != "" && e.InstanceARN != inst.InstanceArn {
			malformed++ // another instance's event: not this key's to apply
			continue
		}
		if ce, ok := livestatus.ConnectEventFrom(e); ok {
			events = append(events, ce)
		}
	}
	res, err := s.status.ApplyConnectEvents(r.Context(), inst, events)
	if err != nil {
		s.log.ErrorContext(r.Context(), "agent events: applying", "tenant", inst.TenantID, "err", err)
		reply(http.StatusInternalServerError, requestID, "internal error; retry the delivery")
		return
	}
	s.log.InfoContext(r.Context(), "agent events", "tenant", inst.TenantID, "records", len(records),
		"applied", res.Applied, "history", res.Recorded, "duplicate", res.Duplicate,
		"unchanged", res.Unchanged, "unknown", res.Unknown, "future", res.Future, "activity", res.Activity, "malformed", malformed)
	reply(http.StatusOK, requestID, "")
}
