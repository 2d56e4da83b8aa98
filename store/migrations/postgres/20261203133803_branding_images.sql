-- Create "branding_images" table
CREATE TABLE "branding_images" ("id" character varying(28) NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "kind" character varying NOT NULL, "content_type" character varying NOT NULL, "data" bytea NOT NULL, "sha256" character varying NOT NULL, "width" bigint NOT NULL, "height" bigint NOT NULL, "tenant_id" character varying(28) NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "branding_images_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "brandingimage_tenant_id_kind" to table: "branding_images"
CREATE UNIQUE INDEX "brandingimage_tenant_id_kind" ON "branding_images" ("tenant_id", "kind");
