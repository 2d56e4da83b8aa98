package schema

import (
	"context"
	"strings"

	"entgo.io/ent"

	"switchboard/apierror"
	"switchboard/contactpoint"
	gen "switchboard/ent"
	"switchboard/ent/hook"
	"switchboard/ent/schema/schematype"
)

// Hooks of Contact: addresses are validated, phone numbers normalised to
// E.164 (numbers without a country code read in the tenant's region), the
// primary email and phone kept in step with the typed lists, and the
// search columns derived from the result, on every path that writes one.
func (Contact) Hooks() []ent.Hook {
	return []ent.Hook{
		hook.On(func(next ent.Mutator) ent.Mutator {
			return hook.ContactFunc(func(ctx context.Context, m *gen.ContactMutation) (ent.Value, error) {
				if m.Op().Is(ent.OpUpdate) && touchesContactPoints(m) {
					return nil, apierror.New(apierror.BadUserInput, "update contacts one at a time")
				}
				if m.Op().Is(ent.OpCreate | ent.OpUpdateOne) {
					if err := normaliseContact(ctx, m); err != nil {
						return nil, err
					}
				}
				return next.Mutate(ctx, m)
			})
		}, ent.OpCreate|ent.OpUpdate|ent.OpUpdateOne),
	}
}

func touchesContactPoints(m *gen.ContactMutation) bool {
	for _, f := range m.Fields() {
		switch f {
		case "name", "given_name", "family_name", "email", "phone_number", "emails", "phone_numbers":
			return true
		}
	}
	return len(m.ClearedFields()) > 0
}

// current returns a field's value after the mutation: the new one when it
// sets one, the stored one otherwise (updates), or the zero value.
func current[T any](ctx context.Context, m *gen.ContactMutation, set func() (T, bool), cleared bool, old func(context.Context) (T, error)) (T, error) {
	if v, ok := set(); ok {
		return v, nil
	}
	var zero T
	if cleared || m.Op().Is(ent.OpCreate) {
		return zero, nil
	}
	return old(ctx)
}

func normaliseContact(ctx context.Context, m *gen.ContactMutation) error {
	name, err := current(ctx, m, m.Name, false, m.OldName)
	if err != nil {
		return err
	}
	given, err := current(ctx, m, m.GivenName, m.GivenNameCleared(), m.OldGivenName)
	if err != nil {
		return err
	}
	family, err := current(ctx, m, m.FamilyName, m.FamilyNameCleared(), m.OldFamilyName)
	if err != nil {
		return err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return apierror.New(apierror.BadUserInput, "a contact needs a name")
	}
	if _, ok := m.Name(); ok {
		m.SetName(name)
	}
	emails, err := current(ctx, m, m.Emails, m.EmailsCleared(), m.OldEmails)
	if err != nil {
		return err
	}
	phones, err := current(ctx, m, m.PhoneNumbers, m.PhoneNumbersCleared(), m.OldPhoneNumbers)
	if err != nil {
		return err
	}
	email, emailSet := m.Email()
	phone, phoneSet := m.PhoneNumber()
	region, err := tenantRegion(ctx, m)
	if err != nil {
		return err
	}

	if err := boundContactPoints(emails, phones); err != nil {
		return err
	}
	for i := range emails {
		norm, err := contactpoint.NormaliseEmail(emails[i].Value)
		if err != nil {
			return err
		}
		emails[i].Value = norm
		emails[i].Type = pointType(emails[i].Type)
	}
	for i := range phones {
		norm, err := contactpoint.NormalisePhone(phones[i].Value, region)
		if err != nil {
			return err
		}
		phones[i].Value = norm
		phones[i].Type = pointType(phones[i].Type)
	}
	if emailSet {
		if email = strings.TrimSpace(email); email != "" {
			if email, err = contactpoint.NormaliseEmail(email); err != nil {
				return err
			}
		}
		emails = withPrimary(emails, email)
	}
	if phoneSet {
		if phone = strings.TrimSpace(phone); phone != "" {
			if phone, err = contactpoint.NormalisePhone(phone, region); err != nil {
				return err
			}
		}
		phones = withPrimary(phones, phone)
	}
	if err := boundContactPoints(emails, phones); err != nil {
		return err
	}
	if emails == nil {
		emails = []schematype.ContactPoint{}
	}
	if phones == nil {
		phones = []schematype.ContactPoint{}
	}
	creating := m.Op().Is(ent.OpCreate)
	if creating || emailSet || m.EmailsCleared() || isSet(m.Emails) {
		m.SetEmails(emails)
		m.SetEmail(primary(emails))
	}
	if creating || phoneSet || m.PhoneNumbersCleared() || isSet(m.PhoneNumbers) {
		m.SetPhoneNumbers(phones)
		m.SetPhoneNumber(primary(phones))
	}

	var search []string
	for _, s := range []string{name, given, family} {
		if s = strings.TrimSpace(s); s != "" {
			search = append(search, strings.ToLower(s))
		}
	}
	m.SetSearchName(strings.Join(search, " "))
	addrs := make([]string, len(emails))
	for i, e := range emails {
		addrs[i] = e.Value
	}
	m.SetSearchEmails(strings.Join(addrs, " "))
	digits := make([]string, len(phones))
	for i, p := range phones {
		digits[i] = contactpoint.Digits(p.Value)
	}
	m.SetSearchPhones(strings.Join(digits, " "))
	return nil
}

// MaxContactPoints bounds a contact's emails, and its phone numbers: a
// person has a few of each, and each is matched on every search.
const MaxContactPoints = 20

// boundContactPoints refuses a contact with more than MaxContactPoints
// emails or phone numbers, before any is read.
func boundContactPoints(emails, phones []schematype.ContactPoint) error {
	if len(emails) > MaxContactPoints || len(phones) > MaxContactPoints {
		return apierror.New(apierror.BadUserInput, "a contact has at most %d emails and %d phone numbers", MaxContactPoints, MaxContactPoints)
	}
	return nil
}

func isSet[T any](f func() (T, bool)) bool { _, ok := f(); return ok }

// withPrimary makes value the primary entry of points (first when new);
// an empty value removes the primary entry.
func withPrimary(points []schematype.ContactPoint, value string) []schematype.ContactPoint {
	out := make([]schematype.ContactPoint, 0, len(points)+1)
	found := false
	for _, p := range points {
		if p.Primary {
			if value == "" {
				continue
			}
			p.Primary = false
		}
		if p.Value == value && value != "" {
			p.Primary, found = true, true
		}
		out = append(out, p)
	}
	if !found && value != "" {
		out = append([]schematype.ContactPoint{{Type: "work", Value: value, Primary: true}}, out...)
	}
	return out
}

// primary returns the primary entry's value, or the first's.
func primary(points []schematype.ContactPoint) string {
	for _, p := range points {
		if p.Primary {
			return p.Value
		}
	}
	if len(points) > 0 {
		return points[0].Value
	}
	return ""
}

func pointType(t string) string {
	t = strings.ToLower(strings.TrimSpace(t))
	if t == "" {
		return "work"
	}
	if len(t) > 32 {
		t = t[:32]
	}
	return t
}

func tenantRegion(ctx context.Context, m *gen.ContactMutation) (string, error) {
	id, ok := m.TenantID()
	if !ok {
		old, err := m.OldTenantID(ctx)
		if err != nil {
			return "", err
		}
		id = old
	}
	t, err := m.Client().Tenant.Get(ctx, id)
	if err != nil {
		return "", err
	}
	return t.DefaultRegion, nil
}
