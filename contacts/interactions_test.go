package contacts_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"switchboard/apierror"
	"switchboard/apierror/classify"
	"switchboard/contacts"
	"switchboard/ent"
	"switchboard/ent/interaction"
	"switchboard/gid"
	"switchboard/internal/testenv"
	"switchboard/viewer"
)

// stored returns every interaction of the tenant whose admin ctx is.
func stored(t *testing.T, f *fixture, admin context.Context) []*ent.Interaction {
	t.Helper()
	all, err := f.c.Interaction.Query().Order(interaction.ByContactID()).All(admin)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

func TestRecord(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := newFixture(t, b)
		start := time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)
		end := start.Add(7 * time.Minute)
		ptr := func(id gid.ID) *gid.ID { return &id }
		voice := func(contactID, phone string, agent *gid.ID) contacts.Interaction {
			return contacts.Interaction{
				ContactID: contactID, Channel: interaction.ChannelVOICE, PhoneNumber: phone,
				ConnectionType: interaction.ConnectionTypeINBOUND, StartedAt: start, AgentID: agent,
			}
		}

		t.Run("an agent records its own, idempotently by contact ID", func(t *testing.T) {
			first, err := contacts.Record(f.alexCtx, f.c, "AU", voice("c-1", "0412 345 678", nil))
			if err != nil {
				t.Fatal(err)
			}
			if first.AgentID != f.alex.ID || first.ContactID != "c-1" || first.PhoneNumber != "+61412345678" ||
				first.TenantID != f.alex.TenantID || first.EndedAt != nil || !first.StartedAt.Equal(start) {
				t.Fatalf("recorded %+v", first)
			}
			// The end of the same contact, with the number written otherwise
			// and the contact ID padded: the same row, updated.
			in := voice("  c-1 ", "+61 412 345 679", ptr(f.alex.ID))
			in.EndedAt, in.ConnectionType = &end, interaction.ConnectionTypeTRANSFER
			again, err := contacts.Record(f.alexCtx, f.c, "AU", in)
			if err != nil {
				t.Fatal(err)
			}
			if again.ID != first.ID || again.EndedAt == nil || !again.EndedAt.Equal(end) ||
				again.PhoneNumber != "+61412345679" || again.ConnectionType != interaction.ConnectionTypeTRANSFER {
				t.Fatalf("recorded again %+v (first %s)", again, first.ID)
			}
			if all := stored(t, f, f.adminA); len(all) != 1 {
				t.Fatalf("%d interactions stored", len(all))
			}
		})

		t.Run("phone numbers in the tenant's region", func(t *testing.T) {
			cases := []struct {
				contactID, phone, region, want string
			}{
				{"r-au", "02 9876 5432", "AU", "+61298765432"},
				{"r-au-lower", "02 9876 5432", "au", "+61298765432"},
				{"r-gb", "020 7946 0000", "GB", "+442079460000"},
				{"r-us", "(415) 555-0132", "US", "+14155550132"},
				{"r-international", "+44 20 7946 0000", "AU", "+442079460000"},
				{"r-none", "", "AU", ""},
				{"r-spaces", "   ", "AU", ""},
			}
			for _, c := range cases {
				got, err := contacts.Record(f.alexCtx, f.c, c.region, voice(c.contactID, c.phone, nil))
				if err != nil || got.PhoneNumber != c.want {
					t.Errorf("%q in %s: %v, %v; want %q", c.phone, c.region, got, err, c.want)
				}
			}
		})

		t.Run("who records for whom", func(t *testing.T) {
			cases := []struct {
				name      string
				ctx       context.Context
				agent     *gid.ID
				contactID string
				want      gid.ID        // the agent recorded
				code      apierror.Code // "" for success
			}{
				{"an agent for itself by name", f.alexCtx, ptr(f.alex.ID), "w-1", f.alex.ID, ""},
				{"an agent for another", f.alexCtx, ptr(f.bea.ID), "w-2", "", apierror.Forbidden},
				{"a supervisor for an agent", f.samCtx, ptr(f.bea.ID), "w-3", f.bea.ID, ""},
				{"a supervisor for itself", f.samCtx, nil, "w-4", f.sam.ID, ""},
				{"an admin for an agent", f.adminA, ptr(f.alex.ID), "w-5", f.alex.ID, ""},
				{"an admin without an agent record, for nobody", f.adminA, nil, "w-6", "", apierror.BadUserInput},
				{"the operator", f.op, ptr(f.alex.ID), "w-7", "", apierror.Forbidden},
				{"no viewer", context.Background(), ptr(f.alex.ID), "w-8", "", apierror.Forbidden},
				{"a supervisor of A for B's agent", f.samCtx, ptr(f.cy.ID), "w-9", "", apierror.Forbidden},
				{"B's admin for A's agent", f.adminB, ptr(f.alex.ID), "w-10", "", apierror.Forbidden},
				{"B's agent for A's agent", f.cyCtx, ptr(f.alex.ID), "w-11", "", apierror.Forbidden},
				{"a supervisor for an agent that does not exist", f.samCtx, ptr(gid.New("AG")), "w-12", "", apierror.Forbidden},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					got, err := contacts.Record(c.ctx, f.c, "AU", voice(c.contactID, "", c.agent))
					if c.code == "" {
						if err != nil || got.AgentID != c.want {
							t.Fatalf("recorded %v, %v; want agent %s", got, err, c.want)
						}
						return
					}
					if cd, msg := classify.Of(err); cd != c.code {
						t.Fatalf("%v (%s %q), want %s", err, cd, msg, c.code)
					}
					for _, admin := range []context.Context{f.adminA, f.adminB} {
						for _, in := range stored(t, f, admin) {
							if in.ContactID == c.contactID {
								t.Fatalf("a refused interaction was stored: %+v", in)
							}
						}
					}
				})
			}
		})

		t.Run("a supervisor moves an interaction to another agent", func(t *testing.T) {
			mine, err := contacts.Record(f.beaCtx, f.c, "AU", voice("m-1", "", nil))
			if err != nil {
				t.Fatal(err)
			}
			moved, err := contacts.Record(f.samCtx, f.c, "AU", voice("m-1", "", ptr(f.alex.ID)))
			if err != nil || moved.ID != mine.ID || moved.AgentID != f.alex.ID {
				t.Fatalf("moved %+v, %v (was %s)", moved, err, mine.ID)
			}
			// Bea no longer sees it, so hers would be a new row: the contact
			// ID is taken in the tenant.
			_, err = contacts.Record(f.beaCtx, f.c, "AU", voice("m-1", "", nil))
			if cd, _ := classify.Of(err); cd != apierror.Conflict {
				t.Fatalf("bea records alex's contact: %v", err)
			}
		})

		t.Run("the same contact ID in another tenant is another interaction", func(t *testing.T) {
			theirs, err := contacts.Record(f.cyCtx, f.c, "GB", voice("c-1", "020 7946 0000", nil))
			if err != nil {
				t.Fatal(err)
			}
			if theirs.TenantID == f.alex.TenantID || theirs.AgentID != f.cy.ID || theirs.PhoneNumber != "+442079460000" {
				t.Fatalf("tenant B recorded %+v", theirs)
			}
			var ours *ent.Interaction
			for _, in := range stored(t, f, f.adminA) {
				if in.ContactID == "c-1" {
					ours = in
				}
			}
			if ours == nil || ours.ID == theirs.ID || ours.AgentID != f.alex.ID || ours.PhoneNumber != "+61412345679" {
				t.Fatalf("tenant A's c-1 is now %+v", ours)
			}
			if n := len(stored(t, f, f.adminB)); n != 1 {
				t.Fatalf("tenant B has %d interactions", n)
			}
		})

		t.Run("bad input", func(t *testing.T) {
			before := len(stored(t, f, f.adminA))
			early := start.Add(-time.Second)
			cases := []struct {
				name string
				in   contacts.Interaction
			}{
				{"no contact ID", voice("", "", nil)},
				{"a blank contact ID", voice(" \t", "", nil)},
				{"a contact ID too long", voice(strings.Repeat("c", 129), "", nil)},
				{"not a phone number", voice("b-1", "12", nil)},
				{"letters for a phone number", voice("b-2", "call me", nil)},
				{"ended before it started", func() contacts.Interaction { i := voice("b-3", "", nil); i.EndedAt = &early; return i }()},
				{"no channel", func() contacts.Interaction { i := voice("b-4", "", nil); i.Channel = ""; return i }()},
				{"an unknown connection type", func() contacts.Interaction { i := voice("b-5", "", nil); i.ConnectionType = "TELEPATHY"; return i }()},
			}
			for _, c := range cases {
				if _, err := contacts.Record(f.alexCtx, f.c, "AU", c.in); func() apierror.Code { cd, _ := classify.Of(err); return cd }() != apierror.BadUserInput {
					t.Errorf("%s: %v, want BAD_USER_INPUT", c.name, err)
				}
			}
			if after := len(stored(t, f, f.adminA)); after != before {
				t.Fatalf("bad input stored %d interactions", after-before)
			}
		})

		t.Run("an agent sees only its own", func(t *testing.T) {
			for _, c := range []struct {
				name string
				ctx  context.Context
				want gid.ID // every interaction seen is this agent's; "" for all of the tenant
				none bool
			}{
				{"alex", f.alexCtx, f.alex.ID, false},
				{"bea", f.beaCtx, f.bea.ID, false},
				{"cy", f.cyCtx, f.cy.ID, false},
				{"the supervisor", f.samCtx, "", false},
				{"an admin without a record", f.adminA, "", false},
				{"the operator", f.op, "", true},
			} {
				all, err := f.c.Interaction.Query().All(c.ctx)
				if err != nil && !c.none {
					t.Fatalf("%s: %v", c.name, err)
				}
				if c.none && len(all) > 0 {
					t.Fatalf("%s sees %d interactions", c.name, len(all))
				}
				tenant := viewer.FromContext(c.ctx).TenantID
				for _, in := range all {
					if in.TenantID != tenant || (c.want != "" && in.AgentID != c.want) {
						t.Fatalf("%s sees %+v", c.name, in)
					}
				}
			}
		})
	})
}
