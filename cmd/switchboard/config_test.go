package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// serveFlagSet is serve's flags over a fresh config.
func serveFlagSet() (*config, *flagSet) {
	c := &config{}
	return c, newFlagSet("serve", io.Discard, c.serveFlags)
}

// Every field of config is a flag of serve and an environment variable,
// each of which sets it; the flag wins over the variable.
func TestEverySettingIsAFlagAndAnEnvironmentVariable(t *testing.T) {
	c, fs := serveFlagSet()
	byTarget := map[uintptr]*flag.Flag{}
	fs.VisitAll(func(f *flag.Flag) {
		byTarget[reflect.ValueOf(f.Value).Pointer()] = f
		if !slices.Contains(fs.settings, f.Name) {
			t.Errorf("serve's flag -%s is no setting: it has no environment variable", f.Name)
		}
		if want := "($" + envVar(f.Name) + ")"; !strings.Contains(f.Usage, want) {
			t.Errorf("the usage of -%s, %q, does not name %s", f.Name, f.Usage, want)
		}
	})
	v := reflect.ValueOf(c).Elem()
	for i := range v.NumField() {
		field := v.Type().Field(i)
		f := byTarget[v.Field(i).Addr().Pointer()]
		if f == nil {
			t.Errorf("config.%s is no flag of serve", field.Name)
			continue
		}
		t.Run(f.Name, func(t *testing.T) {
			// Values unlike the default: one for the variable, one for the flag.
			var fromEnv, fromFlag string
			switch field.Type.Kind() {
			case reflect.Int64: // a time.Duration
				def, _ := time.ParseDuration(f.DefValue)
				fromEnv, fromFlag = (def + time.Second).String(), (def + 2*time.Second).String()
			case reflect.String:
				fromEnv, fromFlag = "from-"+envVar(f.Name), "from-flag"
			case reflect.Bool:
				def, _ := strconv.ParseBool(f.DefValue)
				fromEnv, fromFlag = strconv.FormatBool(!def), strconv.FormatBool(def)
			case reflect.Int:
				def, _ := strconv.Atoi(f.DefValue)
				fromEnv, fromFlag = strconv.Itoa(def+1), strconv.Itoa(def+2)
			default:
				t.Fatalf("config.%s is a %s; teach this test its values", field.Name, field.Type)
			}
			value := func(args []string, environment map[string]string) string {
				t.Helper()
				c, fs := serveFlagSet()
				if err := fs.parse(args, env(environment)); err != nil {
					t.Fatalf("parsing %v with %v: %v", args, environment, err)
				}
				switch f := reflect.ValueOf(c).Elem().Field(i); f.Kind() {
				case reflect.Bool:
					return strconv.FormatBool(f.Bool())
				case reflect.Int:
					return strconv.FormatInt(f.Int(), 10)
				case reflect.Int64:
					return time.Duration(f.Int()).String()
				}
				return reflect.ValueOf(c).Elem().Field(i).String()
			}
			if got := value(nil, nil); got != f.DefValue {
				t.Errorf("without the variable or the flag config.%s = %q, want the default %q", field.Name, got, f.DefValue)
			}
			if got := value(nil, map[string]string{envVar(f.Name): fromEnv}); got != fromEnv {
				t.Errorf("$%s=%s: config.%s = %q", envVar(f.Name), fromEnv, field.Name, got)
			}
			if got := value([]string{"-" + f.Name + "=" + fromFlag}, map[string]string{envVar(f.Name): fromEnv}); got != fromFlag {
				t.Errorf("-%s=%s over $%s=%s: config.%s = %q, want the flag's", f.Name, fromFlag, envVar(f.Name), fromEnv, field.Name, got)
			}
		})
	}
}

// A variable is read as its flag is, and a value the flag refuses is
// refused.
func TestSettingRefusesABadVariable(t *testing.T) {
	_, fs := serveFlagSet()
	err := fs.parse(nil, env(map[string]string{"SWITCHBOARD_SEED": "perhaps"}))
	if err == nil || !strings.Contains(err.Error(), "SWITCHBOARD_SEED") {
		t.Errorf("SWITCHBOARD_SEED=perhaps: %v, want an error naming the variable", err)
	}
}

// The AWS endpoint settings reach what serve builds switchboard from.
func TestAWSEndpointSettings(t *testing.T) {
	c, fs := serveFlagSet()
	if err := fs.parse([]string{"-aws-sts-endpoint", "http://sts.test", "-aws-s3-endpoint", "http://s3.test"},
		env(map[string]string{"SWITCHBOARD_AWS_CONNECT_ENDPOINT": "http://connect.test", "SWITCHBOARD_AWS_SES_ENDPOINT": "http://ses.test"})); err != nil {
		t.Fatal(err)
	}
	aws := c.wire(nil, nil, nil).AWS
	if aws == nil {
		t.Fatal("serve builds switchboard without AWS")
	}
	got := [4]string{aws.STSEndpoint, aws.ConnectEndpoint, aws.S3Endpoint, aws.SESEndpoint}
	if want := [4]string{"http://sts.test", "http://connect.test", "http://s3.test", "http://ses.test"}; got != want {
		t.Errorf("STS, Connect, S3 and SES endpoints %q, want %q", got, want)
	}
}

// README.md's configuration table lists every setting: one row for each,
// with its flag and its variable, and no row without a flag of serve.
func TestREADMEListsEverySetting(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "\n## Configuration\n")
	if !ok {
		t.Fatal("README.md has no Configuration section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	_, fs := serveFlagSet()
	code := regexp.MustCompile("`([^`]*)`")
	listed := map[string]bool{}
	rows := 0
	for line := range strings.SplitSeq(section, "\n") {
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		if !strings.HasPrefix(line, "|") || len(cells) < 2 || strings.Contains(line, "| --- |") ||
			strings.TrimSpace(cells[0]) == "variable" {
			continue
		}
		rows++
		var vars, flags []string
		for _, m := range code.FindAllStringSubmatch(cells[0], -1) {
			vars = append(vars, m[1])
		}
		for _, m := range code.FindAllStringSubmatch(cells[1], -1) {
			flags = append(flags, strings.TrimLeft(m[1], "-"))
		}
		if len(flags) != 1 {
			t.Errorf("the row %q has %d flags, want one", line, len(flags))
			continue
		}
		name := flags[0]
		if fs.Lookup(name) == nil {
			t.Errorf("the row %q names -%s, which serve does not have", line, name)
		}
		if want := envVar(name); len(vars) != 1 || vars[0] != want {
			t.Errorf("the row of -%s names the variables %q, want %s", name, vars, want)
		}
		if listed[name] {
			t.Errorf("-%s has two rows", name)
		}
		listed[name] = true
	}
	if rows == 0 {
		t.Fatal("found no rows in the Configuration section's table")
	}
	fs.VisitAll(func(f *flag.Flag) {
		if !listed[f.Name] {
			t.Errorf("README.md's configuration table has no row for -%s ($%s)", f.Name, envVar(f.Name))
		}
	})
}

// serve refuses an encryption key it could not use, before it opens the
// store: one configured too short, or a kept one that is not a key; and a
// public URL SNS could not post to.
func TestServeRefusesABadEncryptionKey(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, m map[string]string) []string
		want  string
	}{
		{"too short in the environment", func(t *testing.T, m map[string]string) []string {
			m["SWITCHBOARD_ENCRYPTION_KEY"] = "only-31-characters-long-0123456"
			return nil
		}, "at least 32 characters"},
		{"too short as a flag", func(t *testing.T, m map[string]string) []string {
			m["SWITCHBOARD_ENCRYPTION_KEY"] = strings.Repeat("k", 40)
			return []string{"-encryption-key", "short"}
		}, "at least 32 characters"},
		{"a kept file that is not a key", func(t *testing.T, m map[string]string) []string {
			if err := os.WriteFile(filepath.Join(m["SWITCHBOARD_DATA_DIR"], "encryption-key"), []byte("not a key\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			return nil
		}, "encryption-key"},
		{"a public URL that is not one", func(t *testing.T, m map[string]string) []string {
			return []string{"-public-url", "sb.example.com/"}
		}, "-public-url"},
		{"a public URL with a query", func(t *testing.T, m map[string]string) []string {
			m["SWITCHBOARD_PUBLIC_URL"] = "https://sb.example.com/?x=1"
			return nil
		}, "-public-url"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "sb.db")
			m := map[string]string{"SWITCHBOARD_DATA_DIR": t.TempDir(), "SWITCHBOARD_DATABASE_URL": "sqlite://" + db}
			args := append([]string{"serve", "-addr", "127.0.0.1:0"}, c.setup(t, m)...)
			out, _, err := runCmd(t, env(m), args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("serve: %v, want an error saying %q", err, c.want)
			}
			if out != "" {
				t.Errorf("serve printed %q", out)
			}
			if _, err := os.Stat(db); err == nil {
				t.Error("serve opened the store before checking the encryption key")
			}
		})
	}
}
