package scim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Limits of the filter and path parser: longer or deeper input is refused
// before it costs anything.
const (
	maxFilterLen   = 8 << 10
	maxFilterDepth = 32
)

// Expr is a parsed SCIM filter (RFC 7644 §3.4.2.2). Its String method
// prints it back in a canonical form that parses to the same tree.
type Expr interface {
	String() string
	isExpr()
}

// LogicalExpr is "Left and Right" or "Left or Right".
type LogicalExpr struct {
	Op          string // "and" or "or"
	Left, Right Expr
}

// NotExpr is "not (X)".
type NotExpr struct{ X Expr }

// CompareExpr is "Path op Value", or "Path pr" (Value is then the zero Value).
type CompareExpr struct {
	Path  AttrPath
	Op    string // lower case: eq ne co sw ew gt ge lt le pr
	Value Value
}

// ValuePathExpr is a multi-valued attribute with a value filter and no
// sub-attribute, as in `emails[type eq "work" and value co "@example.com"]`:
// it matches when some value of the attribute matches the filter.
type ValuePathExpr struct{ Path AttrPath }

func (*LogicalExpr) isExpr()   {}
func (*NotExpr) isExpr()       {}
func (*CompareExpr) isExpr()   {}
func (*ValuePathExpr) isExpr() {}

// AttrPath names an attribute: `name.givenName`, `emails[type eq "work"].value`,
// or with its schema, `urn:ietf:params:scim:schemas:core:2.0:User:userName`.
// It is both a filter's attribute path and a PATCH operation's path.
type AttrPath struct {
	URN    string // the schema URN as written, or ""
	Attr   string // the attribute name as written; "" when the path is a schema URN alone
	Filter Expr   // the value filter of a multi-valued attribute, or nil
	Sub    string // the sub-attribute name as written, or ""
}

// ValueKind is the type of a filter's comparison value.
type ValueKind int

// The kinds of comparison value.
const (
	NoValue ValueKind = iota // the "pr" operator takes none
	StringValue
	NumberValue
	BoolValue
	NullValue
)

// Value is a filter's comparison value.
type Value struct {
	Kind ValueKind
	Str  string // the string, or a number as written
	Bool bool
}

// String prints the value as the filter grammar writes it.
func (v Value) String() string {
	switch v.Kind {
	case StringValue:
		return quote(v.Str)
	case NumberValue:
		return v.Str
	case BoolValue:
		if v.Bool {
			return "true"
		}
		return "false"
	case NullValue:
		return "null"
	}
	return ""
}

// quote writes s as a JSON string, without escaping HTML characters.
func quote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// String prints the expression, parenthesising operands as precedence needs.
func (e *LogicalExpr) String() string {
	prec := precedence(e)
	left, right := e.Left.String(), e.Right.String()
	if precedence(e.Left) < prec {
		left = "(" + left + ")"
	}
	if precedence(e.Right) <= prec {
		right = "(" + right + ")"
	}
	return left + " " + e.Op + " " + right
}

// String prints the expression.
func (e *NotExpr) String() string { return "not (" + e.X.String() + ")" }

// String prints the expression.
func (e *CompareExpr) String() string {
	if e.Op == "pr" {
		return e.Path.String() + " pr"
	}
	return e.Path.String() + " " + e.Op + " " + e.Value.String()
}

// String prints the expression.
func (e *ValuePathExpr) String() string { return e.Path.String() }

// precedence orders the operators for printing: or < and < everything else.
func precedence(e Expr) int {
	if l, ok := e.(*LogicalExpr); ok {
		if l.Op == "or" {
			return 1
		}
		return 2
	}
	return 3
}

// String prints the path as written.
func (p AttrPath) String() string {
	var b strings.Builder
	if p.URN != "" {
		b.WriteString(p.URN)
		if p.Attr != "" {
			b.WriteByte(':')
		}
	}
	b.WriteString(p.Attr)
	if p.Filter != nil {
		b.WriteString("[" + p.Filter.String() + "]")
	}
	if p.Sub != "" {
		b.WriteString("." + p.Sub)
	}
	return b.String()
}

// ParseFilter parses a filter of the SCIM grammar: attribute expressions
// with eq, ne, co, sw, ew, gt, ge, lt, le and pr; and, or and not;
// parentheses; value paths such as `emails[type eq "work"]`, and, as
// Microsoft Entra ID writes them, value paths with a sub-attribute compared
// to a value, `emails[type eq "work"].value eq "a@example.com"`. Operators,
// keywords and literals are matched case-insensitively. An error is a
// *Error with scimType invalidFilter.
func ParseFilter(s string) (Expr, error) {
	p, err := newParser(s, "invalidFilter")
	if err != nil {
		return nil, err
	}
	if p.peek().kind == tokEOF {
		return nil, p.errorf("the filter is empty")
	}
	e, err := p.parseOr(0, false)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.errorf("unexpected %s at %d", t, t.pos+1)
	}
	return e, nil
}

// ParsePath parses a PATCH operation's path (RFC 7644 §3.5.2): an
// attribute path, optionally with a value filter and a sub-attribute, as
// `emails[type eq "work"].value`; or a schema URN alone. An error is a
// *Error with scimType invalidPath.
func ParsePath(s string) (AttrPath, error) {
	p, err := newParser(s, "invalidPath")
	if err != nil {
		return AttrPath{}, err
	}
	t := p.next()
	if t.kind != tokWord {
		return AttrPath{}, p.errorf("a path starts with an attribute name")
	}
	path, err := p.parsePath(t, 0, false)
	if err != nil {
		return AttrPath{}, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return AttrPath{}, p.errorf("unexpected %s at %d", t, t.pos+1)
	}
	return path, nil
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokWord
	tokString
	tokLParen
	tokRParen
	tokLBracket
	tokRBracket
)

type token struct {
	kind     tokKind
	text     string // a word as written; a string's decoded value
	pos, end int
}

func (t token) String() string {
	switch t.kind {
	case tokEOF:
		return "end of input"
	case tokString:
		return "string " + quote(t.text)
	case tokWord:
		return quote(t.text)
	}
	return quote(t.text)
}

type parser struct {
	toks     []token
	i        int
	scimType string
}

func newParser(s, scimType string) (*parser, error) {
	p := &parser{scimType: scimType}
	if len(s) > maxFilterLen {
		return nil, p.errorf("longer than %d bytes", maxFilterLen)
	}
	toks, err := lex(s)
	if err != nil {
		return nil, p.errorf("%v", err)
	}
	p.toks = toks
	return p, nil
}

func (p *parser) errorf(format string, args ...any) error {
	what := "filter"
	if p.scimType == "invalidPath" {
		what = "path"
	}
	return &Error{Status: 400, ScimType: p.scimType, Detail: "invalid " + what + ": " + fmt.Sprintf(format, args...)}
}

func (p *parser) peek() token { return p.toks[p.i] }

// peekAt returns the token k places ahead, or the final EOF token.
func (p *parser) peekAt(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func isWord(t token, w string) bool { return t.kind == tokWord && strings.EqualFold(t.text, w) }

// parseOr parses `and` terms joined by `or`; inValue is true within a
// value filter's brackets, where value paths may not nest.
func (p *parser) parseOr(depth int, inValue bool) (Expr, error) {
	left, err := p.parseAnd(depth, inValue)
	if err != nil {
		return nil, err
	}
	for isWord(p.peek(), "or") {
		p.next()
		right, err := p.parseAnd(depth, inValue)
		if err != nil {
			return nil, err
		}
		left = &LogicalExpr{Op: "or", Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) parseAnd(depth int, inValue bool) (Expr, error) {
	left, err := p.parseTerm(depth, inValue)
	if err != nil {
		return nil, err
	}
	for isWord(p.peek(), "and") {
		p.next()
		right, err := p.parseTerm(depth, inValue)
		if err != nil {
			return nil, err
		}
		left = &LogicalExpr{Op: "and", Left: left, Right: right}
	}
	return left, nil
}

var compareOps = map[string]bool{
	"eq": true, "ne": true, "co": true, "sw": true, "ew": true,
	"gt": true, "ge": true, "lt": true, "le": true, "pr": true,
}

func (p *parser) parseTerm(depth int, inValue bool) (Expr, error) {
	if depth >= maxFilterDepth {
		return nil, p.errorf("nested deeper than %d", maxFilterDepth)
	}
	t := p.next()
	switch {
	case t.kind == tokLParen:
		e, err := p.parseOr(depth+1, inValue)
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tokRParen {
			return nil, p.errorf("expected ) at %d, found %s", c.pos+1, c)
		}
		return e, nil
	case isWord(t, "not") && p.peek().kind == tokLParen:
		p.next()
		e, err := p.parseOr(depth+1, inValue)
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tokRParen {
			return nil, p.errorf("expected ) at %d, found %s", c.pos+1, c)
		}
		return &NotExpr{X: e}, nil
	case t.kind != tokWord:
		return nil, p.errorf("expected an attribute at %d, found %s", t.pos+1, t)
	}
	path, err := p.parsePath(t, depth, inValue)
	if err != nil {
		return nil, err
	}
	if path.Attr == "" {
		return nil, p.errorf("%q names a schema, not an attribute", path.URN)
	}
	if path.Filter != nil && path.Sub == "" {
		return &ValuePathExpr{Path: path}, nil
	}
	op := p.next()
	if op.kind != tokWord || !compareOps[strings.ToLower(op.text)] {
		return nil, p.errorf("expected an operator after %s at %d, found %s", path, op.pos+1, op)
	}
	e := &CompareExpr{Path: path, Op: strings.ToLower(op.text)}
	if e.Op == "pr" {
		return e, nil
	}
	v := p.next()
	switch {
	case v.kind == tokString:
		e.Value = Value{Kind: StringValue, Str: v.text}
	case isWord(v, "true"), isWord(v, "false"):
		e.Value = Value{Kind: BoolValue, Bool: strings.EqualFold(v.text, "true")}
	case isWord(v, "null"):
		e.Value = Value{Kind: NullValue}
	case v.kind == tokWord && isNumber(v.text):
		e.Value = Value{Kind: NumberValue, Str: v.text}
	default:
		return nil, p.errorf("expected a value after %s %s at %d, found %s", path, e.Op, v.pos+1, v)
	}
	return e, nil
}

// parsePath parses an attribute path starting with the word t: the
// attribute, then a value filter in brackets and a sub-attribute.
func (p *parser) parsePath(t token, depth int, inValue bool) (AttrPath, error) {
	path, err := splitAttrPath(t.text)
	if err != nil {
		return AttrPath{}, p.errorf("%v", err)
	}
	if b := p.peek(); b.kind == tokLBracket && b.pos == t.end {
		if inValue {
			return AttrPath{}, p.errorf("value filters do not nest")
		}
		if path.Sub != "" || path.Attr == "" {
			return AttrPath{}, p.errorf("a value filter follows a multi-valued attribute, not %s", path)
		}
		p.next()
		f, err := p.parseOr(depth+1, true)
		if err != nil {
			return AttrPath{}, err
		}
		end := p.next()
		if end.kind != tokRBracket {
			return AttrPath{}, p.errorf("expected ] at %d, found %s", end.pos+1, end)
		}
		path.Filter = f
		if s := p.peek(); s.kind == tokWord && s.pos == end.end && strings.HasPrefix(s.text, ".") {
			p.next()
			if !isAttrName(s.text[1:]) {
				return AttrPath{}, p.errorf("%q is not a sub-attribute", s.text)
			}
			path.Sub = s.text[1:]
		}
	}
	return path, nil
}

// splitAttrPath reads `[URN ":"] ATTRNAME ["." subAttr]`, or a schema URN
// alone (a URN whose last part is a version, as `...:2.0:User` is not).
func splitAttrPath(w string) (AttrPath, error) {
	var path AttrPath
	rest := w
	if len(w) >= 4 && strings.EqualFold(w[:4], "urn:") {
		if isSchemaURN(w) {
			if !isURN(w) {
				return AttrPath{}, fmt.Errorf("%q is not a schema URN", w)
			}
			return AttrPath{URN: w}, nil
		}
		i := strings.LastIndexByte(w, ':')
		path.URN, rest = w[:i], w[i+1:]
		if !isURN(path.URN) {
			return AttrPath{}, fmt.Errorf("%q is not a schema URN", path.URN)
		}
	}
	attr, sub, hasSub := strings.Cut(rest, ".")
	if !isAttrName(attr) || (hasSub && !isAttrName(sub)) {
		return AttrPath{}, fmt.Errorf("%q is not an attribute path", w)
	}
	path.Attr, path.Sub = attr, sub
	return path, nil
}

// isSchemaURN reports whether w is one of the schemas that PATCH value
// objects use as keys: the core User schema or an extension.
func isSchemaURN(w string) bool {
	for _, s := range []string{UserSchema, EnterpriseUserSchema} {
		if strings.EqualFold(w, s) {
			return true
		}
	}
	return false
}

// isURN checks the characters of a schema URN: "urn:" and then letters,
// digits and the punctuation that URNs use, with no empty part.
func isURN(s string) bool {
	if len(s) < 5 || !strings.EqualFold(s[:4], "urn:") {
		return false
	}
	for _, part := range strings.Split(s, ":") {
		if part == "" {
			return false
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isAlpha(c) || isDigit(c) || strings.IndexByte(":.-_+%=@;$,!*'/()", c) >= 0) {
			return false
		}
	}
	return true
}

// isAttrName checks ATTRNAME = ALPHA *(ALPHA / DIGIT / "-" / "_"), and
// allows "$ref", which RFC 7643 uses as a sub-attribute name.
func isAttrName(s string) bool {
	if s == "$ref" {
		return true
	}
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !(isAlpha(c) || isDigit(c) || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isNumber checks JSON's number grammar.
func isNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || !isDigit(s[i]) {
			return false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			return false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	return i == len(s)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// lex splits s into words, strings and brackets; it always ends with an
// EOF token.
func lex(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case isSpace(c):
			i++
		case c == '(' || c == ')' || c == '[' || c == ']':
			kind := map[byte]tokKind{'(': tokLParen, ')': tokRParen, '[': tokLBracket, ']': tokRBracket}[c]
			toks = append(toks, token{kind: kind, text: string(c), pos: i, end: i + 1})
			i++
		case c == '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated string at %d", i+1)
			}
			var str string
			if err := json.Unmarshal([]byte(s[i:j+1]), &str); err != nil {
				return nil, fmt.Errorf("malformed string at %d", i+1)
			}
			if strings.IndexByte(str, 0) >= 0 {
				return nil, fmt.Errorf("the string at %d holds a NUL character", i+1)
			}
			toks = append(toks, token{kind: tokString, text: str, pos: i, end: j + 1})
			i = j + 1
		default:
			j := i
			for j < len(s) && !isSpace(s[j]) && strings.IndexByte("()[]\"", s[j]) < 0 {
				j++
			}
			toks = append(toks, token{kind: tokWord, text: s[i:j], pos: i, end: j})
			i = j
		}
	}
	return append(toks, token{kind: tokEOF, pos: len(s), end: len(s)}), nil
}
