package contactpoint_test

import (
	"errors"
	"testing"

	"switchboard/apierror"
	"switchboard/contactpoint"
)

func TestNormalisePhone(t *testing.T) {
	for _, c := range []struct{ raw, region, want string }{
		{"02 9876 5432", "AU", "+61298765432"},
		{"(02) 9876-5432", "au", "+61298765432"},
		{"+61 412 345 678", "US", "+61412345678"},
		{"+44 20 7946 0000", "AU", "+442079460000"},
		{"(415) 555-0100", "US", "+14155550100"},
	} {
		got, err := contactpoint.NormalisePhone(c.raw, c.region)
		if err != nil || got != c.want {
			t.Errorf("NormalisePhone(%q, %q) = %q, %v; want %q", c.raw, c.region, got, err, c.want)
		}
	}
	for _, raw := range []string{"", "12", "not a number", "+999 1"} {
		if got, err := contactpoint.NormalisePhone(raw, "AU"); !isBadInput(err) {
			t.Errorf("NormalisePhone(%q) = %q, %v; want BAD_USER_INPUT", raw, got, err)
		}
	}
}

func TestNormaliseEmail(t *testing.T) {
	for _, c := range []struct{ raw, want string }{
		{"Jordan@Customer.Example", "jordan@customer.example"},
		{"  alex@acme.example ", "alex@acme.example"},
		{"<Sam@Acme.Example>", "sam@acme.example"},
	} {
		got, err := contactpoint.NormaliseEmail(c.raw)
		if err != nil || got != c.want {
			t.Errorf("NormaliseEmail(%q) = %q, %v; want %q", c.raw, got, err, c.want)
		}
	}
	for _, raw := range []string{"", "not-an-email", "@@", "Alex <alex@acme.example>", "a@b.example, c@d.example"} {
		if got, err := contactpoint.NormaliseEmail(raw); !isBadInput(err) {
			t.Errorf("NormaliseEmail(%q) = %q, %v; want BAD_USER_INPUT", raw, got, err)
		}
	}
}

func TestDigits(t *testing.T) {
	if got := contactpoint.Digits("+61 (02) 9876-5432 x1"); got != "610298765432"+"1" {
		t.Fatalf("Digits = %q", got)
	}
	if got := contactpoint.Digits("no digits"); got != "" {
		t.Fatalf("Digits = %q", got)
	}
}

func isBadInput(err error) bool {
	var ae *apierror.Error
	return errors.As(err, &ae) && ae.Code == apierror.BadUserInput
}
