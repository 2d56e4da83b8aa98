package scim_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"

	"switchboard/internal/testenv"
	"switchboard/scim"
)

var filterSeeds = []string{
	`userName eq "bjensen"`,
	`userName eq "Megan.Bowen@Alpha.example" and externalId eq "megan.bowen"`,
	`emails[type eq "work"].value eq "fuzz@alpha.example"`,
	`emails[type eq "work" and value co "@alpha"] or phoneNumbers pr`,
	`not (active eq false) and (title sw "Head" or displayName ew "n")`,
	`meta.lastModified ge "2020-01-01T00:00:00Z" and meta.created lt "2100-01-01T00:00:00.5+10:00"`,
	`urn:ietf:params:scim:schemas:core:2.0:User:name.familyName co "O'Malley"`,
	`id eq "CT01HZZZZZZZZZZZZZZZZZZZZZZZ" or id ne "x"`,
	`userName eq "q\"uote \\ \u00e9 %_"`,
	`phoneNumbers[primary eq true].value sw "+61"`,
	`x gt -1.5e3`,
	`(((a pr`,
	`emails[type eq "work"`,
}

var pathSeeds = []string{
	`title`, `name.givenName`, `NAME.FAMILYNAME`, `displayName`, `active`, `userName`, `externalId`,
	`emails`, `emails[type eq "work"].value`, `emails[type eq "work"]`, `emails[value co "@"].primary`,
	`phoneNumbers[type eq "mobile"].value`, `phoneNumbers[type eq "fax" and primary eq false].type`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`,
	`urn:ietf:params:scim:schemas:core:2.0:User:title`, `addresses[type eq "work"].locality`,
	`id`, `meta`, `emails[type eq "work"`, `name..x`,
}

// fuzzServers are the SCIM servers a fuzz input is sent to: one over
// SQLite, and one over PostgreSQL when one is configured.
func fuzzServers(f *testing.F) []*env {
	envs := []*env{newEnv(f, testenv.Backends()[0])}
	if os.Getenv(testenv.PostgresEnv) != "" {
		envs = append(envs, newEnv(f, testenv.Backends()[1]))
	}
	return envs
}

// checkSCIM fails unless a response is a 2xx or a 4xx SCIM error: never a
// 500, whatever the input.
func checkSCIM(t *testing.T, what string, r response) {
	t.Helper()
	switch {
	case r.status >= 500:
		t.Fatalf("%s: status %d: %s", what, r.status, r.raw)
	case r.status >= 400:
		if schemas, _ := r.body["schemas"].([]any); len(schemas) != 1 || schemas[0] != scim.ErrorSchema {
			t.Fatalf("%s: %d is not a SCIM error: %s", what, r.status, r.raw)
		}
	}
}

// FuzzFilter: the filter parser never panics, refuses with invalidFilter,
// prints what it parses in a form that parses to the same tree, and a
// filter sent to the server gets a list or a 400, never a 500.
func FuzzFilter(f *testing.F) {
	for _, s := range filterSeeds {
		f.Add(s)
	}
	envs := fuzzServers(f)
	for _, e := range envs {
		e.newUser(e.a.token, "fuzz@alpha.example")
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := scim.ParseFilter(s)
		if err != nil {
			var se *scim.Error
			if !errors.As(err, &se) || se.Status != 400 || se.ScimType != "invalidFilter" {
				t.Fatalf("ParseFilter(%q): %#v", s, err)
			}
		} else {
			printed := e.String()
			again, err := scim.ParseFilter(printed)
			if err != nil {
				t.Fatalf("ParseFilter(%q) prints %q, which does not parse: %v", s, printed, err)
			}
			if !reflect.DeepEqual(e, again) || again.String() != printed {
				t.Fatalf("ParseFilter(%q) prints %q, which parses to %q", s, printed, again)
			}
		}
		for _, env := range envs {
			env.t = t
			r := env.do("GET", "/scim/v2/Users?filter="+url.QueryEscape(s), env.a.token, nil)
			checkSCIM(t, "GET filter", r)
			if err != nil && strings.TrimSpace(s) != "" && (r.status != http.StatusBadRequest || r.body["scimType"] != "invalidFilter") {
				t.Fatalf("a filter that does not parse got %d: %s", r.status, r.raw)
			}
			r = env.do("POST", "/scim/v2/Users/.search", env.a.token, map[string]any{"filter": s})
			checkSCIM(t, "POST .search", r)
		}
	})
}

// FuzzPatchPath: the path parser never panics, refuses with invalidPath
// and round-trips what it parses; a PATCH with the path, whatever its
// value, gets the user or a 400, never a 500.
func FuzzPatchPath(f *testing.F) {
	for _, s := range pathSeeds {
		f.Add(s, `"fuzz@alpha.example"`)
	}
	f.Add(`phoneNumbers[type eq "work"].value`, `"02 9000 0000"`)
	f.Add(`active`, `"False"`)
	f.Add(`name`, `{"givenName":"G","familyName":"F"}`)
	f.Add(`emails`, `[{"value":"a@alpha.example","type":"work","primary":true}]`)
	f.Add(``, `{"name.givenName":"x","active":true}`)
	envs := fuzzServers(f)
	ids := make([]string, len(envs))
	for i, e := range envs {
		ids[i] = e.newUser(e.a.token, "fuzz@alpha.example")
	}
	f.Fuzz(func(t *testing.T, s, value string) {
		p, err := scim.ParsePath(s)
		if err != nil {
			var se *scim.Error
			if !errors.As(err, &se) || se.Status != 400 || se.ScimType != "invalidPath" {
				t.Fatalf("ParsePath(%q): %#v", s, err)
			}
		} else {
			again, err := scim.ParsePath(p.String())
			if err != nil || !reflect.DeepEqual(p, again) {
				t.Fatalf("ParsePath(%q) prints %q, which parses to %#v: %v", s, p.String(), again, err)
			}
		}
		var v any = value // a string, unless it is JSON
		if json.Valid([]byte(value)) {
			v = json.RawMessage(value)
		}
		for i, env := range envs {
			env.t = t
			for _, op := range []string{"Add", "replace", "remove"} {
				body := map[string]any{
					"schemas":    []string{scim.PatchOpSchema},
					"Operations": []map[string]any{{"op": op, "path": s, "value": v}},
				}
				r := env.do("PATCH", "/scim/v2/Users/"+ids[i], env.a.token, body)
				checkSCIM(t, op+" "+s, r)
				if r.status == http.StatusNotFound {
					t.Fatalf("the user went missing: %s", r.raw)
				}
			}
		}
	})
}
