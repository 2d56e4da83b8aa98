package scim_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"switchboard/scim"
)

func TestParseFilter(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want: the canonical form; "" for an error
	}{
		{`userName eq "bjensen"`, `userName eq "bjensen"`},
		{`USERNAME EQ "x"`, `USERNAME eq "x"`},
		{`userName Eq "x" AND externalId eq "y"`, `userName eq "x" and externalId eq "y"`},
		{"userName\teq  \"x\"", `userName eq "x"`},
		{`emails[type eq "work"].value eq "a@example.com"`, `emails[type eq "work"].value eq "a@example.com"`},
		{`emails[type eq "work" and value co "@example.com"]`, `emails[type eq "work" and value co "@example.com"]`},
		{`emails[Type EQ "work"] and userName pr`, `emails[Type eq "work"] and userName pr`},
		{`title pr`, `title pr`},
		{`a eq 1 or b eq 2 and c eq 3`, `a eq 1 or b eq 2 and c eq 3`},
		{`(a eq 1 or b eq 2) and c eq 3`, `(a eq 1 or b eq 2) and c eq 3`},
		{`a eq 1 or (b eq 2 or c eq 3)`, `a eq 1 or (b eq 2 or c eq 3)`},
		{`((a pr))`, `a pr`},
		{`not (a eq 1)`, `not (a eq 1)`},
		{`NOT(a eq 1) and b pr`, `not (a eq 1) and b pr`},
		{`meta.lastModified gt "2011-05-13T04:42:34Z"`, `meta.lastModified gt "2011-05-13T04:42:34Z"`},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`, `urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`},
		{`urn:ietf:params:scim:schemas:core:2.0:User:name.familyName co "O'Malley"`, `urn:ietf:params:scim:schemas:core:2.0:User:name.familyName co "O'Malley"`},
		{`userName eq "q\"uote \\ back\u00e9 <&>"`, `userName eq "q\"uote \\ backé <&>"`},
		{`active eq True`, `active eq true`},
		{`active ne FALSE`, `active ne false`},
		{`x eq null`, `x eq null`},
		{`x gt -1.5e3`, `x gt -1.5e3`},
		{`x-y_z eq "a"`, `x-y_z eq "a"`},
		{`and eq "x"`, `and eq "x"`},
		{`not pr`, `not pr`},
		{``, ""},
		{`   `, ""},
		{`userName`, ""},
		{`userName eq`, ""},
		{`eq "x"`, ""},
		{`userName eq "x" or`, ""},
		{`userName eq "x" xor b pr`, ""},
		{`(userName pr`, ""},
		{`userName pr)`, ""},
		{`emails[type eq "work"`, ""},
		{`emails[type eq "work"] eq "x"`, ""},
		{`emails [type eq "work"]`, ""},
		{`emails[type eq "work"] .value eq "x"`, ""},
		{`name.givenName[type eq "x"]`, ""},
		{`emails[value[type pr]]`, ""},
		{`a.b.c pr`, ""},
		{`1abc pr`, ""},
		{`userName eq 'x'`, ""},
		{`userName eq x`, ""},
		{`userName eq 01`, ""},
		{`userName eq "x\q"`, ""},
		{`userName eq "nul\u0000"`, ""},
		{`urn:ietf:params:scim:schemas:core:2.0:User eq "x"`, ""},
		{`urn::x pr`, ""},
		{`userName eq "x" ` + strings.Repeat(" ", 9000), ""},
		{strings.Repeat("(", 40) + "a pr" + strings.Repeat(")", 40), ""},
		{strings.Repeat("not (", 40) + "a pr" + strings.Repeat(")", 40), ""},
	} {
		e, err := scim.ParseFilter(tc.in)
		if tc.want == "" {
			var se *scim.Error
			if err == nil {
				t.Errorf("ParseFilter(%q) = %s, want an error", tc.in, e)
			} else if !errors.As(err, &se) || se.Status != 400 || se.ScimType != "invalidFilter" {
				t.Errorf("ParseFilter(%q): %#v", tc.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tc.in, err)
			continue
		}
		if got := e.String(); got != tc.want {
			t.Errorf("ParseFilter(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestFilterPrecedence(t *testing.T) {
	e, err := scim.ParseFilter(`a pr or b pr and not (c pr) or d pr`)
	if err != nil {
		t.Fatal(err)
	}
	// ((a or (b and not c)) or d)
	or1, ok := e.(*scim.LogicalExpr)
	if !ok || or1.Op != "or" {
		t.Fatalf("%#v", e)
	}
	or2, ok := or1.Left.(*scim.LogicalExpr)
	if !ok || or2.Op != "or" {
		t.Fatalf("%#v", or1.Left)
	}
	and, ok := or2.Right.(*scim.LogicalExpr)
	if !ok || and.Op != "and" {
		t.Fatalf("%#v", or2.Right)
	}
	if _, ok := and.Right.(*scim.NotExpr); !ok {
		t.Fatalf("%#v", and.Right)
	}
	vp, err := scim.ParseFilter(`emails[type eq "work"].value eq "a@b.example"`)
	if err != nil {
		t.Fatal(err)
	}
	c := vp.(*scim.CompareExpr)
	if c.Path.Attr != "emails" || c.Path.Sub != "value" || c.Path.Filter == nil || c.Op != "eq" || c.Value.Str != "a@b.example" {
		t.Fatalf("%#v", c)
	}
}

func TestParsePath(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want scim.AttrPath // compared by String and fields; zero Attr and URN for an error
	}{
		{`title`, scim.AttrPath{Attr: "title"}},
		{`name.givenName`, scim.AttrPath{Attr: "name", Sub: "givenName"}},
		{`emails[type eq "work"].value`, scim.AttrPath{Attr: "emails", Sub: "value"}},
		{`phoneNumbers[type eq "work"]`, scim.AttrPath{Attr: "phoneNumbers"}},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`, scim.AttrPath{URN: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", Attr: "department"}},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`, scim.AttrPath{URN: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", Attr: "manager", Sub: "value"}},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`, scim.AttrPath{URN: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}},
		{`urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "a:b"].value`, scim.AttrPath{URN: "urn:ietf:params:scim:schemas:core:2.0:User", Attr: "emails", Sub: "value"}},
		{` title `, scim.AttrPath{Attr: "title"}},
		{``, scim.AttrPath{}},
		{`name.`, scim.AttrPath{}},
		{`.name`, scim.AttrPath{}},
		{`name..givenName`, scim.AttrPath{}},
		{`emails[type eq "work"]x`, scim.AttrPath{}},
		{`emails[type eq "work"] .value`, scim.AttrPath{}},
		{`emails[type eq "work"].value.x`, scim.AttrPath{}},
		{`emails[]`, scim.AttrPath{}},
		{`emails[type eq "work"`, scim.AttrPath{}},
		{`title eq "x"`, scim.AttrPath{}},
		{`emails[emails[x pr]]`, scim.AttrPath{}},
		{`"title"`, scim.AttrPath{}},
		{`(title)`, scim.AttrPath{}},
	} {
		p, err := scim.ParsePath(tc.in)
		if tc.want.Attr == "" && tc.want.URN == "" {
			var se *scim.Error
			if err == nil {
				t.Errorf("ParsePath(%q) = %s, want an error", tc.in, p)
			} else if !errors.As(err, &se) || se.Status != 400 || se.ScimType != "invalidPath" {
				t.Errorf("ParsePath(%q): %#v", tc.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParsePath(%q): %v", tc.in, err)
			continue
		}
		if p.URN != tc.want.URN || p.Attr != tc.want.Attr || p.Sub != tc.want.Sub {
			t.Errorf("ParsePath(%q) = %#v", tc.in, p)
		}
		if again, err := scim.ParsePath(p.String()); err != nil || !reflect.DeepEqual(again, p) {
			t.Errorf("ParsePath(%q) does not round-trip: %s: %v", tc.in, p, err)
		}
	}
}
