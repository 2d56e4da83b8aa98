// Package schematype holds the Go types of structured entity fields, apart
// from ent/schema so that the generated code can use them.
package schematype

// ContactPoint is one typed email address or phone number of a contact.
type ContactPoint struct {
	Type    string `json:"type"`
	Value   string `json:"value"`
	Primary bool   `json:"primary,omitempty"`
}
