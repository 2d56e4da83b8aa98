package connectusers

import (
	"strings"
	"testing"

	"switchboard/connectaws"
)

// An agent's name is Connect's first and last names, spaced once; the
// username when Connect has neither; cut to the schema's 200 bytes on a
// character's boundary.
func TestFullName(t *testing.T) {
	long := strings.Repeat("é", 150) // 300 bytes
	for _, c := range []struct {
		u     connectaws.User
		want  string
		named bool
	}{
		{connectaws.User{Username: "jd", FirstName: "Jane", LastName: "Doe"}, "Jane Doe", true},
		{connectaws.User{Username: "jd", FirstName: " Jane ", LastName: ""}, "Jane", true},
		{connectaws.User{Username: "jd", LastName: "Doe"}, "Doe", true},
		{connectaws.User{Username: "jd", FirstName: "  "}, "jd", false},
		{connectaws.User{Username: "jd", FirstName: long}, strings.Repeat("é", 100), true},
	} {
		if got, named := fullName(c.u); got != c.want || named != c.named {
			t.Errorf("fullName(%+v) = %q, %v; want %q, %v", c.u, got, named, c.want, c.named)
		}
	}
}
