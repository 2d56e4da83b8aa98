package scim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"switchboard/ent"
	"switchboard/ent/schema/schematype"
)

// The schema and message URNs of RFC 7643 and RFC 7644.
const (
	UserSchema                  = "urn:ietf:params:scim:schemas:core:2.0:User"
	EnterpriseUserSchema        = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	ListResponseSchema          = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	PatchOpSchema               = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	SearchRequestSchema         = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	ServiceProviderConfigSchema = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	ResourceTypeSchema          = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	SchemaSchema                = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)

// User is a SCIM User resource as switchboard returns it: an organisation
// contact with source SCIM. Attributes without a value are left out.
type User struct {
	Schemas      []string     `json:"schemas"`
	ID           string       `json:"id"`
	ExternalID   string       `json:"externalId,omitempty"`
	UserName     string       `json:"userName"`
	Name         *Name        `json:"name,omitempty"`
	DisplayName  string       `json:"displayName,omitempty"`
	Title        string       `json:"title,omitempty"`
	Active       bool         `json:"active"`
	Emails       []MultiValue `json:"emails,omitempty"`
	PhoneNumbers []MultiValue `json:"phoneNumbers,omitempty"`
	Meta         Meta         `json:"meta"`
}

// Name is the User's name. Formatted is derived from the given and family
// names; it is not stored.
type Name struct {
	Formatted  string `json:"formatted,omitempty"`
	FamilyName string `json:"familyName,omitempty"`
	GivenName  string `json:"givenName,omitempty"`
}

// MultiValue is one email address or phone number.
type MultiValue struct {
	Value   string `json:"value"`
	Type    string `json:"type,omitempty"`
	Primary bool   `json:"primary,omitempty"`
}

// Meta is a resource's metadata.
type Meta struct {
	ResourceType string     `json:"resourceType"`
	Created      *time.Time `json:"created,omitempty"`
	LastModified *time.Time `json:"lastModified,omitempty"`
	Location     string     `json:"location,omitempty"`
}

// userOf renders a contact as a SCIM User; base is the URL of /scim/v2.
func userOf(c *ent.Contact, base string) *User {
	created, modified := c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	u := &User{
		Schemas:     []string{UserSchema},
		ID:          string(c.ID),
		DisplayName: c.Name,
		Title:       c.JobTitle,
		Active:      c.Active,
		Meta: Meta{
			ResourceType: "User",
			Created:      &created,
			LastModified: &modified,
			Location:     base + "/Users/" + string(c.ID),
		},
	}
	if c.ScimUserName != nil {
		u.UserName = *c.ScimUserName
	}
	if c.ScimExternalID != nil {
		u.ExternalID = *c.ScimExternalID
	}
	if c.GivenName != "" || c.FamilyName != "" {
		u.Name = &Name{GivenName: c.GivenName, FamilyName: c.FamilyName, Formatted: joinName(c.GivenName, c.FamilyName)}
	}
	for _, p := range c.Emails {
		u.Emails = append(u.Emails, MultiValue{Value: p.Value, Type: p.Type, Primary: p.Primary})
	}
	for _, p := range c.PhoneNumbers {
		u.PhoneNumbers = append(u.PhoneNumbers, MultiValue{Value: p.Value, Type: p.Type, Primary: p.Primary})
	}
	return u
}

func joinName(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " ")
}

// state is a User as written: what POST, PUT and PATCH produce and what
// is stored in the contact.
type state struct {
	UserName    string
	ExternalID  string
	GivenName   string
	FamilyName  string
	Formatted   string // name.formatted as sent; it names the contact when no displayName does
	DisplayName string // "" when the contact's name is derived
	Title       string
	Active      bool
	Emails      []schematype.ContactPoint
	Phones      []schematype.ContactPoint
}

// stateOf reads a stored contact back. Its name counts as a displayName of
// its own unless it is what the name's parts or the userName would make.
func stateOf(c *ent.Contact) *state {
	s := &state{
		GivenName:  c.GivenName,
		FamilyName: c.FamilyName,
		Title:      c.JobTitle,
		Active:     c.Active,
		Emails:     append([]schematype.ContactPoint(nil), c.Emails...),
		Phones:     append([]schematype.ContactPoint(nil), c.PhoneNumbers...),
	}
	if c.ScimUserName != nil {
		s.UserName = *c.ScimUserName
	}
	if c.ScimExternalID != nil {
		s.ExternalID = *c.ScimExternalID
	}
	if c.Name != s.contactName() {
		s.DisplayName = c.Name
	}
	return s
}

// contactName is the contact's name: the displayName, else name.formatted,
// else the given and family names, else the userName.
func (s *state) contactName() string {
	for _, n := range []string{s.DisplayName, s.Formatted, joinName(s.GivenName, s.FamilyName), s.UserName} {
		if n = strings.TrimSpace(n); n != "" {
			return n
		}
	}
	return ""
}

// finish trims what was written and checks what is required: a userName;
// at most one primary value of each kind; no empty values.
func (s *state) finish() error {
	s.UserName = strings.TrimSpace(s.UserName)
	if s.UserName == "" {
		return badRequest("invalidValue", "userName is required")
	}
	s.ExternalID = strings.TrimSpace(s.ExternalID)
	s.GivenName = strings.TrimSpace(s.GivenName)
	s.FamilyName = strings.TrimSpace(s.FamilyName)
	s.DisplayName = strings.TrimSpace(s.DisplayName)
	s.Title = strings.TrimSpace(s.Title)
	s.Emails = tidyPoints(s.Emails)
	s.Phones = tidyPoints(s.Phones)
	texts := []string{s.UserName, s.ExternalID, s.GivenName, s.FamilyName, s.Formatted, s.DisplayName, s.Title}
	for _, p := range append(append([]schematype.ContactPoint(nil), s.Emails...), s.Phones...) {
		texts = append(texts, p.Type, p.Value)
	}
	for _, t := range texts {
		if strings.IndexByte(t, 0) >= 0 {
			return badRequest("invalidValue", "values may not hold NUL characters")
		}
	}
	return nil
}

// tidyPoints drops empty values and keeps only the first primary one.
func tidyPoints(points []schematype.ContactPoint) []schematype.ContactPoint {
	out := make([]schematype.ContactPoint, 0, len(points))
	primary := false
	for _, p := range points {
		p.Value, p.Type = strings.TrimSpace(p.Value), strings.TrimSpace(p.Type)
		if p.Value == "" {
			continue
		}
		if p.Primary {
			p.Primary = !primary
			primary = true
		}
		out = append(out, p)
	}
	return out
}

// userInput is a User as POST and PUT send it. JSON member names match
// case-insensitively; unknown members, such as the enterprise extension's,
// are ignored.
type userInput struct {
	UserName     *string      `json:"userName"`
	ExternalID   *string      `json:"externalId"`
	Name         *nameInput   `json:"name"`
	DisplayName  *string      `json:"displayName"`
	Title        *string      `json:"title"`
	Active       *flexBool    `json:"active"`
	Emails       []pointInput `json:"emails"`
	PhoneNumbers []pointInput `json:"phoneNumbers"`
}

type nameInput struct {
	Formatted  *string `json:"formatted"`
	GivenName  *string `json:"givenName"`
	FamilyName *string `json:"familyName"`
}

type pointInput struct {
	Value   *string   `json:"value"`
	Type    *string   `json:"type"`
	Primary *flexBool `json:"primary"`
}

func (p pointInput) point() schematype.ContactPoint {
	var c schematype.ContactPoint
	if p.Value != nil {
		c.Value = *p.Value
	}
	if p.Type != nil {
		c.Type = *p.Type
	}
	if p.Primary != nil {
		c.Primary = bool(*p.Primary)
	}
	return c
}

func points(in []pointInput) []schematype.ContactPoint {
	out := make([]schematype.ContactPoint, 0, len(in))
	for _, p := range in {
		out = append(out, p.point())
	}
	return out
}

// stateFrom makes the state a POST or PUT body describes; active is kept
// from old (a PUT) when the body leaves it out, and is true for a new User.
func stateFrom(in *userInput, old *state) *state {
	s := &state{Active: true}
	if old != nil {
		s.Active = old.Active
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	s.UserName = str(in.UserName)
	s.ExternalID = str(in.ExternalID)
	if in.Name != nil {
		s.GivenName, s.FamilyName, s.Formatted = str(in.Name.GivenName), str(in.Name.FamilyName), str(in.Name.Formatted)
	}
	s.DisplayName = str(in.DisplayName)
	s.Title = str(in.Title)
	if in.Active != nil {
		s.Active = bool(*in.Active)
	}
	s.Emails = points(in.Emails)
	s.Phones = points(in.PhoneNumbers)
	return s
}

// flexBool is a boolean that Microsoft Entra ID may also send as a string,
// "True" or "False".
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	v, err := parseBool(data)
	if err != nil {
		return err
	}
	*b = flexBool(v)
	return nil
}

// parseBool reads a JSON boolean or a string "true"/"false" in any case.
func parseBool(data []byte) (bool, error) {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return false, err
	}
	switch v := v.(type) {
	case bool:
		return v, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, badRequest("invalidValue", "%s is not a boolean", truncate(string(data), 40))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// decodeJSON reads exactly one JSON value from r into v: malformed JSON is
// invalidSyntax, a value of the wrong type invalidValue, and a body over
// the limit a 413.
func decodeJSON(r io.Reader, v any) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return badRequest("invalidSyntax", "the request body could not be read")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		var se *Error
		switch {
		case errors.As(err, &se):
			return se
		case errors.As(err, &te):
			field := te.Field
			if field == "" {
				field = "the body"
			}
			return badRequest("invalidValue", "%s: expected %s, found JSON %s", field, te.Type, te.Value)
		case errors.Is(err, io.EOF):
			return badRequest("invalidSyntax", "the request body is empty")
		}
		return badRequest("invalidSyntax", "the request body is not valid JSON: %v", jsonProblem(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("invalidSyntax", "the request body holds more than one JSON value")
	}
	return nil
}

// jsonProblem describes a JSON syntax error without quoting the input.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end"
	}
	return "malformed"
}
