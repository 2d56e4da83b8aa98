// Package oncontact is what an agent does to a live contact in Amazon
// Connect from the desktop: pausing its recording while a customer reads
// out card details, and setting the attributes that contact flows read
// later.
//
// An agent acts only on a contact of its own: one the agent event stream
// shows it handling, or one it recorded as an interaction. Supervisors and
// admins act on any contact of the tenant. Anything else is FORBIDDEN,
// found out before anything reaches Connect; the data layer decides whose
// contacts a viewer finds (schema.OwnContacts).
package oncontact

import (
	"context"
	"errors"
	"slices"

	"switchboard/apierror"
	"switchboard/connectaws"
	"switchboard/ent"
	"switchboard/ent/agentactivity"
	"switchboard/ent/interaction"
	"switchboard/ent/schema"
	"switchboard/ent/schema/schematype"
	"switchboard/instances"
	"switchboard/viewer"
)

// MaxContactID bounds a contact ID: Connect's are UUIDs, 256 at most.
const MaxContactID = 256

// MaxAttributes bounds the attributes of one update.
const MaxAttributes = 100

// Service acts on live contacts through each tenant's role.
type Service struct {
	aws *connectaws.Clients
}

// New returns a Service reaching tenants' instances through aws.
func New(aws *connectaws.Clients) *Service { return &Service{aws: aws} }

// Attribute is one contact attribute to set.
type Attribute struct {
	Key, Value string
}

// contact is a live contact the viewer may act on.
type contact struct {
	inst      connectaws.Instance
	id        string
	initialID string // the first contact of its chain (transfers), which Connect's calls name
}

// find returns the contact if the viewer may act on it.
func (s *Service) find(ctx context.Context, c *ent.Client, contactID string) (contact, error) {
	if contactID == "" || len(contactID) > MaxContactID {
		return contact{}, apierror.New(apierror.BadUserInput, "a contact ID is 1 to %d characters", MaxContactID)
	}
	inst, err := instances.Get(schema.ReadInstance(ctx), c)
	if err != nil {
		return contact{}, err
	}
	if s == nil || s.aws == nil {
		return contact{}, instances.NoAWS()
	}
	v := viewer.FromContext(ctx)
	if !v.InTenant(viewer.RoleAgent) {
		return contact{}, apierror.New(apierror.Forbidden, "only a tenant's people act on its contacts")
	}
	ctx = schema.OwnContacts(ctx)
	found := contact{inst: connectaws.InstanceOf(inst), id: contactID}
	// The agent event stream's contacts: those of agents on a contact or
	// in after-contact work (the viewer's own, for an agent).
	acts, err := c.AgentActivity.Query().
		Where(agentactivity.Or(agentactivity.OnContact(true), agentactivity.AfterContactWork(true))).
		All(ctx)
	if err != nil {
		return contact{}, err
	}
	for _, a := range acts {
		if i := slices.IndexFunc(a.Contacts, func(ac schematype.ActivityContact) bool { return ac.ContactID == contactID }); i >= 0 {
			found.initialID = a.Contacts[i].InitialContactID
			if found.initialID == "" {
				found.initialID = contactID
			}
			return found, nil
		}
	}
	// Interactions the desktop recorded (an agent reads only its own).
	known, err := c.Interaction.Query().Where(interaction.ContactID(contactID)).Exist(ctx)
	if err != nil {
		return contact{}, err
	}
	if !known && !v.InTenant(viewer.RoleSupervisor) {
		return contact{}, apierror.New(apierror.Forbidden, "an agent acts only on a contact of its own")
	}
	found.initialID = contactID // the contact itself, unless the stream says otherwise
	return found, nil
}

// SetRecording suspends, resumes or stops the recording of the contact
// (state connectaws.RecordingSuspended, RecordingResumed or
// RecordingStopped).
func (s *Service) SetRecording(ctx context.Context, c *ent.Client, contactID, state string) error {
	switch state {
	case connectaws.RecordingSuspended, connectaws.RecordingResumed, connectaws.RecordingStopped:
	default:
		return apierror.New(apierror.BadUserInput, "a recording state is SUSPENDED, RESUMED or STOPPED")
	}
	ct, err := s.find(ctx, c, contactID)
	if err != nil {
		return err
	}
	return upstream(s.aws.SetContactRecording(ctx, ct.inst, ct.id, ct.initialID, state), "change the contact's recording")
}

// UpdateAttributes sets attributes of the contact, checked against
// Connect's limits before anything is sent.
func (s *Service) UpdateAttributes(ctx context.Context, c *ent.Client, contactID string, attrs []*Attribute) error {
	if len(attrs) == 0 || len(attrs) > MaxAttributes {
		return apierror.New(apierror.BadUserInput, "give 1 to %d attributes", MaxAttributes)
	}
	m := make(map[string]string, len(attrs))
	for _, a := range attrs {
		if _, twice := m[a.Key]; twice {
			return apierror.New(apierror.BadUserInput, "the attribute %q is given twice", a.Key)
		}
		m[a.Key] = a.Value
	}
	if err := connectaws.CheckContactAttributes(m); err != nil {
		return apierror.Wrap(apierror.BadUserInput, err, "%v", err)
	}
	ct, err := s.find(ctx, c, contactID)
	if err != nil {
		return err
	}
	return upstream(s.aws.UpdateContactAttributes(ctx, ct.inst, ct.initialID, m), "update the contact's attributes")
}

// upstream turns Connect's answer into the client's: a contact Connect
// does not know (ended, or never of this instance) is NOT_FOUND, bad
// input BAD_USER_INPUT, the rest UPSTREAM.
func upstream(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, connectaws.ErrInvalidInput):
		return apierror.Wrap(apierror.BadUserInput, err, "%v", err)
	case connectaws.IsNotFound(err):
		return apierror.Wrap(apierror.NotFound, err, "Amazon Connect does not know the contact (has it ended?)")
	}
	return apierror.Wrap(apierror.Upstream, err, "Amazon Connect did not %s", what)
}
