// Package contactpoint is how switchboard writes the ways to reach a
// person: phone numbers in E.164, email addresses bare and in lower case.
// The data layer stores them so, and every lookup (directory search, SCIM
// filters, interactions by number) normalises its input the same way.
package contactpoint

import (
	"net/mail"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"switchboard/apierror"
)

// NormalisePhone returns a phone number in E.164; a number written without
// a country code is read in region (ISO 3166, e.g. "AU"). A string that is
// no possible phone number is a BAD_USER_INPUT error.
func NormalisePhone(raw, region string) (string, error) {
	num, err := phonenumbers.Parse(raw, strings.ToUpper(region))
	if err != nil || !phonenumbers.IsPossibleNumber(num) {
		return "", apierror.New(apierror.BadUserInput, "%q is not a phone number", raw)
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// NormaliseEmail returns the bare, lower-case form of an email address. A
// string that is no single bare address (a display name included) is a
// BAD_USER_INPUT error.
func NormaliseEmail(s string) (string, error) {
	addr, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil || addr.Name != "" {
		return "", apierror.New(apierror.BadUserInput, "%q is not an email address", s)
	}
	return strings.ToLower(addr.Address), nil
}

// Digits returns the digits of s, as phone numbers are searched by.
func Digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
