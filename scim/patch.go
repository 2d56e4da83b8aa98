package scim

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"switchboard/ent/schema/schematype"
)

// maxOperations bounds the operations of one PATCH request.
const maxOperations = 1000

// patchRequest is a PATCH body (RFC 7644 §3.5.2).
type patchRequest struct {
	Schemas    []string         `json:"schemas"`
	Operations []patchOperation `json:"Operations"`
}

// patchOperation is one operation. Op is matched case-insensitively:
// Microsoft Entra ID writes "Add", "Replace" and "Remove".
type patchOperation struct {
	Op    string          `json:"op"`
	Path  *string         `json:"path"`
	Value json.RawMessage `json:"value"`
}

// ignoredAttrs are attributes of the core User schema that switchboard
// does not keep: operations on them succeed and change nothing, so that an
// identity provider's default attribute mappings work.
var ignoredAttrs = map[string]bool{
	"nickname": true, "profileurl": true, "usertype": true, "preferredlanguage": true,
	"locale": true, "timezone": true, "password": true, "addresses": true, "ims": true,
	"photos": true, "roles": true, "entitlements": true, "x509certificates": true,
}

// readOnlyAttrs cannot be written.
var readOnlyAttrs = map[string]bool{"id": true, "meta": true, "groups": true, "schemas": true}

// patch applies the operations of a PATCH request in order.
func (s *state) patch(req *patchRequest) error {
	if len(req.Operations) == 0 {
		return badRequest("invalidValue", "a PATCH request needs Operations")
	}
	if len(req.Operations) > maxOperations {
		return badRequest("tooMany", "a PATCH request has at most %d operations", maxOperations)
	}
	for _, o := range req.Operations {
		if err := s.apply(o); err != nil {
			return err
		}
	}
	return nil
}

func hasValue(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && !bytes.Equal(raw, []byte("null"))
}

func (s *state) apply(o patchOperation) error {
	op := strings.ToLower(strings.TrimSpace(o.Op))
	switch op {
	case "add", "replace", "remove":
	default:
		return badRequest("invalidSyntax", "op must be add, replace or remove, not %q", truncate(o.Op, 40))
	}
	if o.Path == nil || strings.TrimSpace(*o.Path) == "" {
		if op == "remove" {
			return badRequest("noTarget", "remove needs a path")
		}
		return s.applyObject(op, o.Value, false)
	}
	path, err := ParsePath(strings.TrimSpace(*o.Path))
	if err != nil {
		return err
	}
	if op != "remove" && !hasValue(o.Value) {
		return badRequest("invalidValue", "%s of %s needs a value", op, path)
	}
	if path.Attr == "" { // a schema URN: its members are attributes
		if !isCoreURN(path.URN) {
			return nil
		}
		if op == "remove" {
			return badRequest("invalidPath", "the User schema cannot be removed")
		}
		return s.applyObject(op, o.Value, true)
	}
	return s.applyPath(op, path, o.Value)
}

// applyObject applies add or replace of a value object without a path:
// each member names an attribute, which Microsoft Entra ID may write as a
// path ("name.givenName", `emails[type eq "work"].value`) or as a schema
// URN whose members are attributes.
func (s *state) applyObject(op string, raw json.RawMessage, nested bool) error {
	members, err := objectMembers(raw)
	if err != nil {
		return badRequest("invalidValue", "%s without a path takes an object of attributes", op)
	}
	for _, m := range members {
		path, err := ParsePath(m.name)
		if err != nil {
			return err
		}
		switch {
		case path.Attr != "":
			err = s.applyPath(op, path, m.value)
		case isCoreURN(path.URN) && !nested:
			err = s.applyObject(op, m.value, true)
		case isCoreURN(path.URN):
			err = badRequest("invalidValue", "the User schema does not nest")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

type member struct {
	name  string
	value json.RawMessage
}

// objectMembers returns a JSON object's members in order.
func objectMembers(raw json.RawMessage) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not an object")
	}
	var out []member
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, member{name, v})
	}
	return out, nil
}

func decodeString(raw json.RawMessage, p AttrPath) (string, error) {
	var v string
	if err := json.Unmarshal(unwrapValue(raw), &v); err != nil {
		return "", badRequest("invalidValue", "%s takes a string", p)
	}
	return v, nil
}

// unwrapValue returns X for a value written [{"value": X}] or [X], as
// Microsoft Entra ID's older provisioning jobs write single values; other
// values are returned as they are.
func unwrapValue(raw json.RawMessage) json.RawMessage {
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil || len(list) != 1 {
		return raw
	}
	var obj struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(list[0], &obj); err == nil && len(obj.Value) > 0 {
		return obj.Value
	}
	return list[0]
}

// applyPath applies one operation to the attribute the path names.
func (s *state) applyPath(op string, p AttrPath, raw json.RawMessage) error {
	if !isCoreURN(p.URN) {
		return nil // an extension's attribute: not kept
	}
	if op != "remove" && !hasValue(raw) {
		return badRequest("invalidValue", "%s of %s needs a value", op, p)
	}
	attr := strings.ToLower(p.Attr)
	simple := map[string]*string{
		"username": &s.UserName, "externalid": &s.ExternalID, "displayname": &s.DisplayName, "title": &s.Title,
	}
	switch {
	case simple[attr] != nil || attr == "active":
		if p.Filter != nil || p.Sub != "" {
			return badRequest("invalidPath", "%s has no sub-attributes", p.Attr)
		}
		if attr == "active" {
			if op == "remove" {
				return badRequest("invalidValue", "active cannot be removed; replace it with false")
			}
			b, err := parseBool(unwrapValue(raw))
			if err != nil {
				return err
			}
			s.Active = b
			return nil
		}
		if op == "remove" {
			if attr == "username" {
				return badRequest("invalidValue", "userName is required")
			}
			*simple[attr] = ""
			return nil
		}
		v, err := decodeString(raw, p)
		if err != nil {
			return err
		}
		*simple[attr] = v
		return nil
	case attr == "name":
		return s.patchName(op, p, raw)
	case attr == "emails":
		return patchPoints(&s.Emails, op, p, raw)
	case attr == "phonenumbers":
		return patchPoints(&s.Phones, op, p, raw)
	case readOnlyAttrs[attr]:
		return badRequest("mutability", "%s is read-only", p.Attr)
	case ignoredAttrs[attr]:
		return nil
	}
	return badRequest("invalidPath", "%s is not an attribute of User", p.Attr)
}

func (s *state) patchName(op string, p AttrPath, raw json.RawMessage) error {
	if p.Filter != nil {
		return badRequest("invalidPath", "name is not multi-valued")
	}
	parts := map[string]*string{"givenname": &s.GivenName, "familyname": &s.FamilyName, "formatted": &s.Formatted}
	sub := strings.ToLower(p.Sub)
	switch {
	case sub == "":
		if op == "remove" {
			s.GivenName, s.FamilyName, s.Formatted = "", "", ""
			return nil
		}
		var in nameInput
		if err := json.Unmarshal(raw, &in); err != nil {
			return badRequest("invalidValue", "name takes an object")
		}
		if in.GivenName != nil {
			s.GivenName = *in.GivenName
		}
		if in.FamilyName != nil {
			s.FamilyName = *in.FamilyName
		}
		if in.Formatted != nil {
			s.Formatted = *in.Formatted
		}
		return nil
	case parts[sub] != nil:
		if op == "remove" {
			*parts[sub] = ""
			return nil
		}
		v, err := decodeString(raw, p)
		if err != nil {
			return err
		}
		*parts[sub] = v
		return nil
	case sub == "middlename" || sub == "honorificprefix" || sub == "honorificsuffix":
		return nil
	}
	return badRequest("invalidPath", "name has no sub-attribute %q", p.Sub)
}

// decodePoints reads values of emails or phoneNumbers: an array of
// objects, one object, or a bare string taken as a value.
func decodePoints(raw json.RawMessage, p AttrPath) ([]pointInput, error) {
	var list []pointInput
	if err := json.Unmarshal(raw, &list); err == nil {
		return list, nil
	}
	var one pointInput
	if err := json.Unmarshal(raw, &one); err == nil {
		return []pointInput{one}, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return []pointInput{{Value: &s}}, nil
	}
	return nil, badRequest("invalidValue", "%s takes objects with value, type and primary", p)
}

// patchPoints applies an operation to emails or phoneNumbers.
func patchPoints(list *[]schematype.ContactPoint, op string, p AttrPath, raw json.RawMessage) error {
	sub := strings.ToLower(p.Sub)
	switch sub {
	case "", "value", "type", "primary":
	case "display":
		return nil
	default:
		return badRequest("invalidPath", "%s has no sub-attribute %q", p.Attr, p.Sub)
	}
	if p.Filter != nil {
		if err := checkElemFilter(p.Filter); err != nil {
			var se *Error
			if errors.As(err, &se) {
				return badRequest("invalidPath", "%s", se.Detail)
			}
			return err
		}
	}
	var matched []int
	for i, el := range *list {
		if p.Filter == nil || matchElem(p.Filter, el) {
			matched = append(matched, i)
		}
	}

	if p.Filter == nil && sub == "" {
		switch op {
		case "replace":
			in, err := decodePoints(raw, p)
			if err != nil {
				return err
			}
			*list = nil
			for _, v := range in {
				addPoint(list, v.point())
			}
		case "add":
			in, err := decodePoints(raw, p)
			if err != nil {
				return err
			}
			for _, v := range in {
				addPoint(list, v.point())
			}
		case "remove":
			if !hasValue(raw) {
				*list = nil
				return nil
			}
			in, err := decodePoints(raw, p)
			if err != nil {
				return err
			}
			for _, v := range in {
				drop := v.point().Value
				*list = filterPoints(*list, func(el schematype.ContactPoint) bool {
					return !strings.EqualFold(el.Value, drop)
				})
			}
		}
		return nil
	}

	if op == "remove" {
		keep := make([]schematype.ContactPoint, 0, len(*list))
		for i, el := range *list {
			switch {
			case !contains(matched, i):
			case sub == "" || sub == "value":
				continue // removing the value removes the entry
			case sub == "type":
				el.Type = ""
			case sub == "primary":
				el.Primary = false
			}
			keep = append(keep, el)
		}
		*list = keep
		return nil
	}

	// add or replace of matched values, or of their sub-attribute.
	var in pointInput
	switch sub {
	case "":
		ins, err := decodePoints(raw, p)
		if err != nil {
			return err
		}
		if len(ins) != 1 {
			return badRequest("invalidValue", "%s takes one object", p)
		}
		in = ins[0]
	case "value", "type":
		v, err := decodeString(raw, p)
		if err != nil {
			return err
		}
		if sub == "value" {
			in.Value = &v
		} else {
			in.Type = &v
		}
	case "primary":
		b, err := parseBool(raw)
		if err != nil {
			return err
		}
		fb := flexBool(b)
		in.Primary = &fb
	}
	if len(matched) == 0 {
		// Microsoft Entra ID adds and replaces `emails[type eq "work"].value`
		// whether or not the user has a work email: make the entry the
		// filter describes.
		el, ok := template(p.Filter)
		if !ok || (in.Value == nil && el.Value == "") {
			return badRequest("noTarget", "no value of %s matches %s", p.Attr, p)
		}
		*list = append(*list, el)
		matched = []int{len(*list) - 1}
	}
	for _, i := range matched {
		el := &(*list)[i]
		if in.Value != nil {
			el.Value = *in.Value
		}
		if in.Type != nil {
			el.Type = *in.Type
		}
		if in.Primary != nil {
			el.Primary = bool(*in.Primary)
			if el.Primary {
				setPrimary(*list, i)
			}
		}
	}
	return nil
}

// addPoint adds a value, or updates the entry of the same value and type.
func addPoint(list *[]schematype.ContactPoint, v schematype.ContactPoint) {
	for i, el := range *list {
		if strings.EqualFold(el.Value, v.Value) && strings.EqualFold(el.Type, v.Type) {
			(*list)[i].Primary = v.Primary || el.Primary
			if v.Primary {
				setPrimary(*list, i)
			}
			return
		}
	}
	*list = append(*list, v)
	if v.Primary {
		setPrimary(*list, len(*list)-1)
	}
}

// setPrimary makes entry i the only primary one.
func setPrimary(list []schematype.ContactPoint, i int) {
	for j := range list {
		list[j].Primary = j == i
	}
}

func filterPoints(list []schematype.ContactPoint, keep func(schematype.ContactPoint) bool) []schematype.ContactPoint {
	out := list[:0]
	for _, el := range list {
		if keep(el) {
			out = append(out, el)
		}
	}
	return out
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// template returns the entry a value filter of equalities joined by "and"
// describes, such as `type eq "work"`; no filter describes a work entry.
func template(f Expr) (schematype.ContactPoint, bool) {
	var el schematype.ContactPoint
	if f == nil {
		return schematype.ContactPoint{Type: "work"}, true
	}
	var walk func(Expr) bool
	walk = func(e Expr) bool {
		switch e := e.(type) {
		case *LogicalExpr:
			return e.Op == "and" && walk(e.Left) && walk(e.Right)
		case *CompareExpr:
			if e.Op != "eq" {
				return false
			}
			switch strings.ToLower(e.Path.Attr) {
			case "type":
				el.Type = e.Value.Str
				return e.Value.Kind == StringValue
			case "value":
				el.Value = e.Value.Str
				return e.Value.Kind == StringValue
			case "primary":
				el.Primary = e.Value.Bool
				return e.Value.Kind == BoolValue
			}
		}
		return false
	}
	if !walk(f) {
		return el, false
	}
	return el, true
}
