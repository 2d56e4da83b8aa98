package scim

import (
	"strings"
	"time"

	"entgo.io/ent/dialect/sql"

	"switchboard/contactpoint"
	"switchboard/ent/contact"
	"switchboard/ent/predicate"
	"switchboard/ent/schema/schematype"
	"switchboard/gid"
)

// What filters can name. Every string comparison folds ASCII case, but
// those on id and externalId, which are case-exact (RFC 7643 §3.1, §4.1);
// the stores fold case as they do (ASCII on SQLite).

type attrKind int

const (
	kindString attrKind = iota
	kindBool
	kindTime
	kindMulti // emails, phoneNumbers: filtered on their values' sub-attributes
)

type attrDef struct {
	kind      attrKind
	column    string // the contact's column; for kindMulti, its search column
	caseExact bool
}

// userAttrs are the filterable attributes, by lower-case path.
var userAttrs = map[string]attrDef{
	"id":                {kind: kindString, column: contact.FieldID, caseExact: true},
	"username":          {kind: kindString, column: contact.FieldScimUserName},
	"externalid":        {kind: kindString, column: contact.FieldScimExternalID, caseExact: true},
	"displayname":       {kind: kindString, column: contact.FieldName},
	"name.givenname":    {kind: kindString, column: contact.FieldGivenName},
	"name.familyname":   {kind: kindString, column: contact.FieldFamilyName},
	"title":             {kind: kindString, column: contact.FieldJobTitle},
	"active":            {kind: kindBool, column: contact.FieldActive},
	"meta.created":      {kind: kindTime, column: contact.FieldCreatedAt},
	"meta.lastmodified": {kind: kindTime, column: contact.FieldUpdatedAt},
	"emails":            {kind: kindMulti, column: contact.FieldSearchEmails},
	"phonenumbers":      {kind: kindMulti, column: contact.FieldSearchPhones},
}

// elemAttrs are the sub-attributes of an email address or phone number.
var elemAttrs = map[string]attrDef{
	"value":   {kind: kindString},
	"type":    {kind: kindString},
	"primary": {kind: kindBool},
}

// isCoreURN reports whether a path's URN is absent or the core User schema.
func isCoreURN(urn string) bool { return urn == "" || strings.EqualFold(urn, UserSchema) }

// lookup finds the attribute a filter path names: for emails and
// phoneNumbers, the sub-attribute of their values it compares ("value" by
// default).
func lookup(p AttrPath) (def attrDef, elem string, err error) {
	if !isCoreURN(p.URN) {
		return def, "", badRequest("invalidFilter", "filtering on %s is not supported", p)
	}
	attr := strings.ToLower(p.Attr)
	if d, ok := userAttrs[attr]; ok && d.kind == kindMulti {
		elem = strings.ToLower(p.Sub)
		if elem == "" {
			elem = "value"
		}
		if _, ok := elemAttrs[elem]; !ok {
			return def, "", badRequest("invalidFilter", "%s has no sub-attribute %q", p.Attr, p.Sub)
		}
		return d, elem, nil
	}
	if p.Filter != nil {
		return def, "", badRequest("invalidFilter", "%s is not multi-valued", p.Attr)
	}
	key := attr
	if p.Sub != "" {
		key += "." + strings.ToLower(p.Sub)
	}
	d, ok := userAttrs[key]
	if !ok {
		return def, "", badRequest("invalidFilter", "filtering on %s is not supported", p)
	}
	return d, "", nil
}

// checkFilter checks that a parsed filter names only attributes that can
// be filtered on, with operators and values of their type.
func checkFilter(e Expr) error {
	switch e := e.(type) {
	case *LogicalExpr:
		if err := checkFilter(e.Left); err != nil {
			return err
		}
		return checkFilter(e.Right)
	case *NotExpr:
		return checkFilter(e.X)
	case *ValuePathExpr:
		def, _, err := lookup(e.Path)
		if err != nil {
			return err
		}
		if def.kind != kindMulti {
			return badRequest("invalidFilter", "%s is not multi-valued", e.Path.Attr)
		}
		return checkElemFilter(e.Path.Filter)
	case *CompareExpr:
		def, elem, err := lookup(e.Path)
		if err != nil {
			return err
		}
		if def.kind == kindMulti {
			if e.Path.Filter != nil {
				if err := checkElemFilter(e.Path.Filter); err != nil {
					return err
				}
			}
			def = elemAttrs[elem]
		}
		if e.Path.URN == "" && strings.EqualFold(e.Path.Attr, "id") && !(e.Op == "eq" || e.Op == "ne" || e.Op == "pr") {
			return badRequest("invalidFilter", "id takes eq, ne and pr")
		}
		return checkCompare(e, def)
	}
	return badRequest("invalidFilter", "unsupported filter")
}

// checkElemFilter checks the filter in a value path's brackets.
func checkElemFilter(e Expr) error {
	switch e := e.(type) {
	case *LogicalExpr:
		if err := checkElemFilter(e.Left); err != nil {
			return err
		}
		return checkElemFilter(e.Right)
	case *NotExpr:
		return checkElemFilter(e.X)
	case *CompareExpr:
		def, ok := elemAttrs[strings.ToLower(e.Path.Attr)]
		if !ok || e.Path.URN != "" || e.Path.Sub != "" || e.Path.Filter != nil {
			return badRequest("invalidFilter", "%s is not a sub-attribute of emails or phoneNumbers", e.Path)
		}
		return checkCompare(e, def)
	}
	return badRequest("invalidFilter", "unsupported value filter")
}

func checkCompare(e *CompareExpr, def attrDef) error {
	if e.Op == "pr" {
		return nil
	}
	switch def.kind {
	case kindString:
		switch e.Op {
		case "eq", "ne", "co", "sw", "ew":
		default:
			return badRequest("invalidFilter", "%s takes eq, ne, co, sw, ew and pr", e.Path)
		}
		if e.Value.Kind != StringValue {
			return badRequest("invalidFilter", "%s is compared with a string", e.Path)
		}
	case kindBool:
		if e.Op != "eq" && e.Op != "ne" {
			return badRequest("invalidFilter", "%s takes eq, ne and pr", e.Path)
		}
		if e.Value.Kind != BoolValue {
			return badRequest("invalidFilter", "%s is compared with true or false", e.Path)
		}
	case kindTime:
		switch e.Op {
		case "eq", "ne", "gt", "ge", "lt", "le":
		default:
			return badRequest("invalidFilter", "%s takes eq, ne, gt, ge, lt, le and pr", e.Path)
		}
		if _, err := parseTime(e.Value); err != nil {
			return badRequest("invalidFilter", "%s is compared with a date-time such as \"2024-05-01T00:00:00Z\"", e.Path)
		}
	}
	return nil
}

func parseTime(v Value) (time.Time, error) {
	if v.Kind != StringValue {
		return time.Time{}, badRequest("invalidFilter", "not a date-time")
	}
	return time.Parse(time.RFC3339Nano, v.Str)
}

// sqlFilter is a filter translated for the store: p selects the rows
// (nil: every row); exact says whether it selects exactly the matching
// rows, or more, which are then matched one by one.
type sqlFilter struct {
	p     predicate.Contact
	exact bool
}

var matchNothing = contact.IDEQ(gid.ID(""))

// compile translates a checked filter for the store.
func compile(e Expr) sqlFilter {
	switch e := e.(type) {
	case *LogicalExpr:
		l, r := compile(e.Left), compile(e.Right)
		out := sqlFilter{exact: l.exact && r.exact}
		switch {
		case e.Op == "and" && l.p == nil:
			out.p = r.p
		case e.Op == "and" && r.p == nil:
			out.p = l.p
		case e.Op == "and":
			out.p = contact.And(l.p, r.p)
		case l.p == nil || r.p == nil:
			out.p = nil
		default:
			out.p = contact.Or(l.p, r.p)
		}
		return out
	case *NotExpr:
		x := compile(e.X)
		switch {
		case !x.exact:
			return sqlFilter{}
		case x.p == nil:
			return sqlFilter{p: matchNothing, exact: true}
		}
		return sqlFilter{p: contact.Not(x.p), exact: true}
	case *ValuePathExpr:
		def, _, _ := lookup(e.Path)
		return sqlFilter{p: prefilter(def, e.Path.Filter)}
	case *CompareExpr:
		def, elem, _ := lookup(e.Path)
		if def.kind == kindMulti {
			return compileMulti(def, elem, e)
		}
		return compileCompare(def, e)
	}
	return sqlFilter{}
}

// present selects rows where the column holds a value other than "".
func present(col string) predicate.Contact {
	return func(s *sql.Selector) {
		s.Where(sql.And(sql.NotNull(s.C(col)), sql.NEQ(s.C(col), "")))
	}
}

func compileCompare(def attrDef, e *CompareExpr) sqlFilter {
	col := def.column
	switch def.kind {
	case kindBool:
		switch e.Op {
		case "pr":
			return sqlFilter{exact: true}
		case "eq":
			return sqlFilter{p: func(s *sql.Selector) { s.Where(sql.EQ(s.C(col), e.Value.Bool)) }, exact: true}
		}
		return sqlFilter{p: func(s *sql.Selector) { s.Where(sql.NEQ(s.C(col), e.Value.Bool)) }, exact: true}
	case kindTime:
		if e.Op == "pr" {
			return sqlFilter{exact: true}
		}
		t, _ := parseTime(e.Value)
		t = t.Local() // as the stores hold times written by time.Now
		ops := map[string]func(string, any) *sql.Predicate{
			"eq": sql.EQ, "ne": sql.NEQ, "gt": sql.GT, "ge": sql.GTE, "lt": sql.LT, "le": sql.LTE,
		}
		op := ops[e.Op]
		return sqlFilter{p: func(s *sql.Selector) { s.Where(op(s.C(col), t)) }, exact: true}
	}
	if e.Op == "pr" {
		return sqlFilter{p: present(col), exact: true}
	}
	v := e.Value.Str
	var cmp func(*sql.Selector) *sql.Predicate
	exact := true
	switch {
	case e.Op == "eq" || e.Op == "ne":
		if def.caseExact {
			cmp = func(s *sql.Selector) *sql.Predicate { return sql.EQ(s.C(col), v) }
		} else {
			cmp = func(s *sql.Selector) *sql.Predicate { return sql.EqualFold(s.C(col), v) }
		}
	case def.caseExact:
		// A case-folding LIKE selects more rows than match; each is checked.
		exact = false
		cmp = func(s *sql.Selector) *sql.Predicate { return sql.ContainsFold(s.C(col), v) }
	case e.Op == "co":
		cmp = func(s *sql.Selector) *sql.Predicate { return sql.ContainsFold(s.C(col), v) }
	case e.Op == "sw":
		cmp = func(s *sql.Selector) *sql.Predicate { return sql.HasPrefixFold(s.C(col), v) }
	default: // ew
		cmp = func(s *sql.Selector) *sql.Predicate { return sql.HasSuffixFold(s.C(col), v) }
	}
	p := predicate.Contact(func(s *sql.Selector) {
		s.Where(sql.And(sql.NotNull(s.C(col)), sql.NEQ(s.C(col), ""), cmp(s)))
	})
	if e.Op == "ne" {
		p = contact.Not(p)
	}
	return sqlFilter{p: p, exact: exact}
}

// compileMulti selects candidates for a comparison of emails or phone
// numbers by their search column, which holds every value.
func compileMulti(def attrDef, elem string, e *CompareExpr) sqlFilter {
	var pre predicate.Contact
	if e.Path.Filter != nil {
		pre = prefilter(def, e.Path.Filter)
	}
	if elem == "value" && e.Op == "pr" && e.Path.Filter == nil {
		return sqlFilter{p: present(def.column), exact: true}
	}
	if elem == "value" {
		pre = andP(pre, valuePredicate(def, e))
	}
	return sqlFilter{p: pre}
}

// prefilter selects candidates for a value filter from its comparisons
// of "value".
func prefilter(def attrDef, e Expr) predicate.Contact {
	switch e := e.(type) {
	case *LogicalExpr:
		l, r := prefilter(def, e.Left), prefilter(def, e.Right)
		if e.Op == "and" {
			return andP(l, r)
		}
		if l == nil || r == nil {
			return nil
		}
		return contact.Or(l, r)
	case *CompareExpr:
		if strings.EqualFold(e.Path.Attr, "value") {
			return valuePredicate(def, e)
		}
	}
	return nil
}

// valuePredicate selects rows whose search column could hold a value that
// the comparison matches: emails are stored lower-case, phone numbers in
// E.164, whose digits the search column holds.
func valuePredicate(def attrDef, e *CompareExpr) predicate.Contact {
	switch e.Op {
	case "eq", "co", "sw", "ew":
	case "pr":
		return present(def.column)
	default:
		return nil
	}
	col := def.column
	v := e.Value.Str
	if col == contact.FieldSearchPhones {
		if v = contactpoint.Digits(v); v == "" {
			return nil
		}
		return func(s *sql.Selector) { s.Where(sql.Contains(s.C(col), v)) }
	}
	return func(s *sql.Selector) { s.Where(sql.ContainsFold(s.C(col), v)) }
}

func andP(a, b predicate.Contact) predicate.Contact {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return contact.And(a, b)
}

// match evaluates a checked filter on a User, as the store would.
func match(e Expr, u *User) bool {
	switch e := e.(type) {
	case *LogicalExpr:
		if e.Op == "and" {
			return match(e.Left, u) && match(e.Right, u)
		}
		return match(e.Left, u) || match(e.Right, u)
	case *NotExpr:
		return !match(e.X, u)
	case *ValuePathExpr:
		return len(elements(u, e.Path)) > 0
	case *CompareExpr:
		def, elem, err := lookup(e.Path)
		if err != nil {
			return false
		}
		if def.kind == kindMulti {
			var vals []any
			for _, el := range elements(u, e.Path) {
				vals = append(vals, elemValues(el, elem)...)
			}
			return compareAll(vals, e, elemAttrs[elem])
		}
		return compareAll(userValues(u, e.Path), e, def)
	}
	return false
}

// elements returns the values of a multi-valued attribute that the path's
// value filter selects.
func elements(u *User, p AttrPath) []schematype.ContactPoint {
	var all []MultiValue
	switch strings.ToLower(p.Attr) {
	case "emails":
		all = u.Emails
	case "phonenumbers":
		all = u.PhoneNumbers
	}
	var out []schematype.ContactPoint
	for _, v := range all {
		el := schematype.ContactPoint{Type: v.Type, Value: v.Value, Primary: v.Primary}
		if p.Filter == nil || matchElem(p.Filter, el) {
			out = append(out, el)
		}
	}
	return out
}

// matchElem evaluates a value filter on one email address or phone number.
func matchElem(e Expr, el schematype.ContactPoint) bool {
	switch e := e.(type) {
	case *LogicalExpr:
		if e.Op == "and" {
			return matchElem(e.Left, el) && matchElem(e.Right, el)
		}
		return matchElem(e.Left, el) || matchElem(e.Right, el)
	case *NotExpr:
		return !matchElem(e.X, el)
	case *CompareExpr:
		name := strings.ToLower(e.Path.Attr)
		def, ok := elemAttrs[name]
		if !ok {
			return false
		}
		return compareAll(elemValues(el, name), e, def)
	}
	return false
}

func elemValues(el schematype.ContactPoint, name string) []any {
	switch name {
	case "value":
		return strs(el.Value)
	case "type":
		return strs(el.Type)
	case "primary":
		return []any{el.Primary}
	}
	return nil
}

// strs returns the non-empty strings as values.
func strs(ss ...string) []any {
	var out []any
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func userValues(u *User, p AttrPath) []any {
	key := strings.ToLower(p.Attr)
	if p.Sub != "" {
		key += "." + strings.ToLower(p.Sub)
	}
	name := u.Name
	if name == nil {
		name = &Name{}
	}
	switch key {
	case "id":
		return strs(u.ID)
	case "username":
		return strs(u.UserName)
	case "externalid":
		return strs(u.ExternalID)
	case "displayname":
		return strs(u.DisplayName)
	case "name.givenname":
		return strs(name.GivenName)
	case "name.familyname":
		return strs(name.FamilyName)
	case "title":
		return strs(u.Title)
	case "active":
		return []any{u.Active}
	case "meta.created":
		if u.Meta.Created != nil {
			return []any{*u.Meta.Created}
		}
	case "meta.lastmodified":
		if u.Meta.LastModified != nil {
			return []any{*u.Meta.LastModified}
		}
	}
	return nil
}

// compareAll reports whether some value matches the comparison; "ne" is
// "not eq", so an absent attribute is "ne" anything.
func compareAll(vals []any, e *CompareExpr, def attrDef) bool {
	if e.Op == "pr" {
		return len(vals) > 0
	}
	if e.Op == "ne" {
		eq := *e
		eq.Op = "eq"
		return !compareAll(vals, &eq, def)
	}
	for _, v := range vals {
		if compareOne(v, e, def) {
			return true
		}
	}
	return false
}

func compareOne(v any, e *CompareExpr, def attrDef) bool {
	switch v := v.(type) {
	case bool:
		return e.Value.Kind == BoolValue && e.Op == "eq" && v == e.Value.Bool
	case time.Time:
		t, err := parseTime(e.Value)
		if err != nil {
			return false
		}
		switch e.Op {
		case "eq":
			return v.Equal(t)
		case "gt":
			return v.After(t)
		case "ge":
			return !v.Before(t)
		case "lt":
			return v.Before(t)
		case "le":
			return !v.After(t)
		}
	case string:
		if e.Value.Kind != StringValue {
			return false
		}
		want := e.Value.Str
		if !def.caseExact {
			v, want = asciiLower(v), asciiLower(want)
		}
		switch e.Op {
		case "eq":
			return v == want
		case "co":
			return strings.Contains(v, want)
		case "sw":
			return strings.HasPrefix(v, want)
		case "ew":
			return strings.HasSuffix(v, want)
		}
	}
	return false
}

// asciiLower folds ASCII letters only, as the stores' LOWER and LIKE do.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
