package connectaws

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrMalformed reports an agent event, or a delivery of them, that cannot
// be read.
var ErrMalformed = errors.New("connectaws: malformed agent event data")

// AgentEventType is the kind of an agent event stream event.
type AgentEventType string

// The agent event types Amazon Connect publishes.
const (
	AgentEventLogin       AgentEventType = "LOGIN"
	AgentEventLogout      AgentEventType = "LOGOUT"
	AgentEventStateChange AgentEventType = "STATE_CHANGE"
	// AgentEventHeartBeat is published every 120 s in which nothing else
	// happened, for up to an hour after the agent logged out.
	AgentEventHeartBeat AgentEventType = "HEART_BEAT"
)

// AgentEvent is one event of an Amazon Connect agent event stream: what an
// agent looked like after (Current) and before (Previous) it. Timestamps
// are ISO 8601 in the stream ("2019-05-25T18:43:59.049Z").
type AgentEvent struct {
	EventID        string         `json:"EventId"`
	EventType      AgentEventType `json:"EventType"`
	EventTimestamp time.Time      `json:"EventTimestamp"`
	AgentARN       string         `json:"AgentARN"`
	InstanceARN    string         `json:"InstanceARN"`
	AWSAccountID   string         `json:"AWSAccountId"`
	Version        string         `json:"Version"` // of the event format, e.g. "2019-05-25"
	Current        *AgentSnapshot `json:"CurrentAgentSnapshot"`
	// Previous is nil on LOGIN and LOGOUT events.
	Previous *AgentSnapshot `json:"PreviousAgentSnapshot"`
}

// AgentSnapshot is an agent's status, configuration and contacts at one
// moment.
type AgentSnapshot struct {
	AgentStatus AgentStatusRef `json:"AgentStatus"`
	// NextAgentStatus is the status the agent chose while on a contact, to
	// take effect when the contact ends; nil if none.
	NextAgentStatus *NextAgentStatus   `json:"NextAgentStatus"`
	Configuration   AgentConfiguration `json:"Configuration"`
	Contacts        []AgentContact     `json:"Contacts"`
}

// AgentStatusRef names an agent status and when the agent entered it. It
// does not say the status's type: look the ARN up among ListAgentStatuses.
type AgentStatusRef struct {
	ARN            string    `json:"ARN"`
	Name           string    `json:"Name"`
	StartTimestamp time.Time `json:"StartTimestamp"`
}

// NextAgentStatus is the status an agent will enter when its contacts end.
type NextAgentStatus struct {
	ARN               string    `json:"ARN"`
	Name              string    `json:"Name"`
	EnqueuedTimestamp time.Time `json:"EnqueuedTimestamp"`
}

// AgentConfiguration is the agent's user configuration.
type AgentConfiguration struct {
	Username             string                `json:"Username"`
	FirstName            string                `json:"FirstName"`
	LastName             string                `json:"LastName"`
	LanguageCode         string                `json:"LanguageCode"`
	AutoAccept           bool                  `json:"AutoAccept"`
	RoutingProfile       *RoutingProfile       `json:"RoutingProfile"`
	AgentHierarchyGroups *AgentHierarchyGroups `json:"AgentHierarchyGroups"`
	Proficiencies        []Proficiency         `json:"Proficiencies"`
}

// RoutingProfile is the routing profile an agent is assigned.
type RoutingProfile struct {
	ARN                  string               `json:"ARN"`
	Name                 string               `json:"Name"`
	Concurrency          []ChannelConcurrency `json:"Concurrency"`
	DefaultOutboundQueue *Queue               `json:"DefaultOutboundQueue"`
	InboundQueues        []Queue              `json:"InboundQueues"`
}

// ChannelConcurrency is how many contacts of a channel an agent can take at
// once, and how many more it can take now.
type ChannelConcurrency struct {
	Channel        string `json:"Channel"` // VOICE, CHAT, TASK, EMAIL
	AvailableSlots int    `json:"AvailableSlots"`
	MaximumSlots   int    `json:"MaximumSlots"`
}

// Queue is a Connect queue.
type Queue struct {
	ARN      string   `json:"ARN"`
	Name     string   `json:"Name"`
	Channels []string `json:"Channels"`
}

// AgentHierarchyGroups places an agent in the instance's hierarchy.
type AgentHierarchyGroups struct {
	Level1 *HierarchyGroup `json:"Level1"`
	Level2 *HierarchyGroup `json:"Level2"`
	Level3 *HierarchyGroup `json:"Level3"`
	Level4 *HierarchyGroup `json:"Level4"`
	Level5 *HierarchyGroup `json:"Level5"`
}

// HierarchyGroup is one level of an agent hierarchy.
type HierarchyGroup struct {
	ARN  string `json:"ARN"`
	Name string `json:"Name"`
}

// Proficiency is a predefined attribute an agent has, at a level.
type Proficiency struct {
	Name  string  `json:"Name"`
	Value string  `json:"Value"`
	Level float64 `json:"Level"`
}

// AgentContact is a contact the agent is handling.
type AgentContact struct {
	ContactID                 string    `json:"ContactId"`
	InitialContactID          string    `json:"InitialContactId"`
	Channel                   string    `json:"Channel"`          // VOICE, CHAT, TASK, EMAIL
	InitiationMethod          string    `json:"InitiationMethod"` // INBOUND, OUTBOUND, TRANSFER, CALLBACK, API, ...
	State                     string    `json:"State"`            // CONNECTING, CONNECTED, CONNECTED_ONHOLD, MISSED, ENDED, ...
	StateStartTimestamp       time.Time `json:"StateStartTimestamp"`
	ConnectedToAgentTimestamp time.Time `json:"ConnectedToAgentTimestamp"`
	QueueTimestamp            time.Time `json:"QueueTimestamp"`
	Queue                     *Queue    `json:"Queue"`
}

// ParseAgentEvent decodes one agent event stream record (a JSON object).
// Unknown fields are ignored and unknown event types accepted, so that
// additions to the stream do not break it; an event without an EventType or
// AgentARN, or with a timestamp that is not ISO 8601, is ErrMalformed.
func ParseAgentEvent(data []byte) (AgentEvent, error) {
	var ev AgentEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return AgentEvent{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if ev.EventType == "" || ev.AgentARN == "" {
		return AgentEvent{}, fmt.Errorf("%w: event lacks EventType or AgentARN", ErrMalformed)
	}
	return ev, nil
}
