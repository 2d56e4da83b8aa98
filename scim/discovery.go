package scim

import (
	"encoding/json"
	"strings"
)

// The discovery documents of RFC 7644 §4: what this service provider
// supports, its one resource type, and the User attributes it keeps.

type supported struct {
	Supported bool `json:"supported"`
}

type authScheme struct {
	Type        string `json:"type"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Primary     bool   `json:"primary"`
}

func serviceProviderConfig(base string) any {
	return map[string]any{
		"schemas":        []string{ServiceProviderConfigSchema},
		"patch":          supported{true},
		"bulk":           map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":         map[string]any{"supported": true, "maxResults": maxResults},
		"changePassword": supported{false},
		"sort":           supported{false},
		"etag":           supported{false},
		"authenticationSchemes": []authScheme{{
			Type:        "oauthbearertoken",
			Name:        "OAuth Bearer Token",
			Description: "A bearer token that an admin of the tenant creates in switchboard (createScimToken).",
			Primary:     true,
		}},
		"meta": map[string]string{"resourceType": "ServiceProviderConfig", "location": base + "/ServiceProviderConfig"},
	}
}

func userResourceType(base string) any {
	return map[string]any{
		"schemas":     []string{ResourceTypeSchema},
		"id":          "User",
		"name":        "User",
		"endpoint":    "/Users",
		"description": "An organisation contact of the tenant's directory",
		"schema":      UserSchema,
		"meta":        map[string]string{"resourceType": "ResourceType", "location": base + "/ResourceTypes/User"},
	}
}

// attribute describes an attribute in the Schemas document (RFC 7643 §7).
type attribute struct {
	Name            string      `json:"name"`
	Type            string      `json:"type"`
	MultiValued     bool        `json:"multiValued"`
	Description     string      `json:"description"`
	Required        bool        `json:"required"`
	CaseExact       bool        `json:"caseExact"`
	Mutability      string      `json:"mutability"`
	Returned        string      `json:"returned"`
	Uniqueness      string      `json:"uniqueness"`
	CanonicalValues []string    `json:"canonicalValues,omitempty"`
	SubAttributes   []attribute `json:"subAttributes,omitempty"`
}

func str(name, desc string) attribute {
	return attribute{Name: name, Type: "string", Description: desc, Mutability: "readWrite", Returned: "default", Uniqueness: "none"}
}

func multi(name, desc string, types []string) attribute {
	typ := str("type", "The kind of "+name+" value")
	typ.CanonicalValues = types
	primary := attribute{Name: "primary", Type: "boolean", Description: "The primary value", Mutability: "readWrite", Returned: "default", Uniqueness: "none"}
	return attribute{
		Name: name, Type: "complex", MultiValued: true, Description: desc,
		Mutability: "readWrite", Returned: "default", Uniqueness: "none",
		SubAttributes: []attribute{str("value", "The "+name+" value"), typ, primary},
	}
}

func userSchema(base string) any {
	userName := str("userName", "Unique identifier of the user, typically the user principal name; unique in the tenant regardless of case")
	userName.Required, userName.Uniqueness = true, "server"
	formatted := str("formatted", "The full name; returned as the given and family names joined")
	name := attribute{
		Name: "name", Type: "complex", Description: "The components of the user's name",
		Mutability: "readWrite", Returned: "default", Uniqueness: "none",
		SubAttributes: []attribute{formatted, str("familyName", "The family name"), str("givenName", "The given name")},
	}
	active := attribute{Name: "active", Type: "boolean", Description: "Whether the contact is shown in the agents' directory", Mutability: "readWrite", Returned: "default", Uniqueness: "none"}
	return map[string]any{
		"schemas":     []string{SchemaSchema},
		"id":          UserSchema,
		"name":        "User",
		"description": "An organisation contact",
		"attributes": []attribute{
			userName,
			name,
			str("displayName", "The name shown to agents"),
			str("title", "The job title"),
			active,
			multi("emails", "Email addresses", []string{"work", "home", "other"}),
			multi("phoneNumbers", "Phone numbers, kept in E.164", []string{"work", "home", "mobile", "fax", "pager", "other"}),
		},
		"meta": map[string]string{"resourceType": "Schema", "location": base + "/Schemas/" + UserSchema},
	}
}

// projection applies the attributes and excludedAttributes parameters
// (RFC 7644 §3.4.2.5) to a User; id and schemas are always returned.
type projection struct {
	include, exclude map[string][]string // lower-case attribute → sub-attributes ([] for the whole)
}

func newProjection(attrs, excluded []string) (*projection, error) {
	p := &projection{}
	read := func(list []string) (map[string][]string, error) {
		if len(list) == 0 {
			return nil, nil
		}
		m := map[string][]string{}
		for _, a := range list {
			path, err := ParsePath(a)
			if err != nil || path.Filter != nil || path.Attr == "" {
				return nil, badRequest("invalidValue", "%q is not an attribute", truncate(a, 60))
			}
			if !isCoreURN(path.URN) {
				continue
			}
			key := strings.ToLower(path.Attr)
			if path.Sub == "" {
				m[key] = []string{}
			} else if subs, ok := m[key]; !ok || len(subs) > 0 {
				m[key] = append(subs, strings.ToLower(path.Sub))
			}
		}
		return m, nil
	}
	var err error
	if p.include, err = read(attrs); err != nil {
		return nil, err
	}
	if p.exclude, err = read(excluded); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *projection) apply(u *User) any {
	if p.include == nil && p.exclude == nil {
		return u
	}
	raw, _ := json.Marshal(u)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	for k, v := range m {
		key := strings.ToLower(k)
		if key == "id" || key == "schemas" {
			continue
		}
		if p.include != nil {
			subs, ok := p.include[key]
			switch {
			case !ok:
				delete(m, k)
			case len(subs) > 0:
				m[k] = keepSubs(v, subs)
			}
		}
		if subs, ok := p.exclude[key]; ok && len(subs) == 0 {
			delete(m, k)
		}
	}
	return m
}

// keepSubs keeps only the named sub-attributes of a complex value, or of
// each value of a multi-valued one.
func keepSubs(v any, subs []string) any {
	keep := func(o map[string]any) map[string]any {
		out := map[string]any{}
		for k, x := range o {
			for _, s := range subs {
				if strings.EqualFold(k, s) {
					out[k] = x
				}
			}
		}
		return out
	}
	switch v := v.(type) {
	case map[string]any:
		return keep(v)
	case []any:
		out := make([]any, 0, len(v))
		for _, x := range v {
			if o, ok := x.(map[string]any); ok {
				out = append(out, keep(o))
			}
		}
		return out
	}
	return v
}
