// Package schematype holds the Go types of structured entity fields, apart
// from ent/schema so that the generated code can use them.
package schematype

import "time"

// ContactPoint is one typed email address or phone number of a contact.
type ContactPoint struct {
	Type    string `json:"type"`
	Value   string `json:"value"`
	Primary bool   `json:"primary,omitempty"`
}

// ActivityContact is a contact an agent is handling, as the agent event
// stream last showed it.
type ActivityContact struct {
	ContactID        string `json:"contactId"`
	InitialContactID string `json:"initialContactId,omitempty"`
	// Channel is VOICE, CHAT, TASK or EMAIL.
	Channel string `json:"channel"`
	// State is Connect's: INCOMING, PENDING, CONNECTING, CONNECTED,
	// CONNECTED_ONHOLD, MISSED, PAUSED, REJECTED, ERROR or ENDED (the agent
	// is in after-contact work).
	State string `json:"state"`
	// Since is when the contact entered State.
	Since time.Time `json:"since"`
}
