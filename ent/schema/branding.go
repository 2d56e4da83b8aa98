package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// BrandingImage is a tenant's logo or favicon, as its admin uploaded it
// once package branding found the bytes to be an image of an allowed kind
// and size. It is served at a URL naming its SHA-256, which changes when
// the image does.
type BrandingImage struct {
	ent.Schema
}

// Mixin of BrandingImage.
func (BrandingImage) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("BI"), TenantMixin{}}
}

// Fields of BrandingImage.
func (BrandingImage) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("kind").Values("LOGO", "FAVICON").Immutable(),
		// Sniffed from the bytes, never the upload's name or declared type.
		field.String("content_type").MaxLen(64).Immutable(),
		field.Bytes("data").MaxLen(1 << 20).Immutable(),
		field.String("sha256").MaxLen(64).Immutable(),
		field.Int("width").Immutable(),
		field.Int("height").Immutable(),
	}
}

// Indexes of BrandingImage: one of each kind a tenant.
func (BrandingImage) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "kind").Unique()}
}

// Annotations of BrandingImage: not a GraphQL type (Tenant.branding gives
// its URLs).
func (BrandingImage) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}
