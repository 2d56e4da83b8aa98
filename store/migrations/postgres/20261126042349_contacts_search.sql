-- Modify "contacts" table
ALTER TABLE "contacts" ADD COLUMN "search_name" character varying NOT NULL DEFAULT '', ADD COLUMN "search_emails" character varying NOT NULL DEFAULT '', ADD COLUMN "search_phones" character varying NOT NULL DEFAULT '';
-- Create index "contact_search_emails_trgm" to table: "contacts"
CREATE INDEX "contact_search_emails_trgm" ON "contacts" USING gin ("search_emails" gin_trgm_ops);
-- Create index "contact_search_name_trgm" to table: "contacts"
CREATE INDEX "contact_search_name_trgm" ON "contacts" USING gin ("search_name" gin_trgm_ops);
-- Create index "contact_search_phones_trgm" to table: "contacts"
CREATE INDEX "contact_search_phones_trgm" ON "contacts" USING gin ("search_phones" gin_trgm_ops);
-- Create index "contact_tenant_id_search_name" to table: "contacts"
CREATE INDEX "contact_tenant_id_search_name" ON "contacts" ("tenant_id", "search_name");
-- Create "scim_tokens" table
CREATE TABLE "scim_tokens" ("id" character varying(28) NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "token_hash" bytea NOT NULL, "created_by" character varying NULL, "last_used_at" timestamptz NULL, "revoked_at" timestamptz NULL, "tenant_id" character varying(28) NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "scim_tokens_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "scimtoken_tenant_id_name" to table: "scim_tokens"
CREATE INDEX "scimtoken_tenant_id_name" ON "scim_tokens" ("tenant_id", "name");
-- Create index "scimtoken_token_hash" to table: "scim_tokens"
CREATE UNIQUE INDEX "scimtoken_token_hash" ON "scim_tokens" ("token_hash");
