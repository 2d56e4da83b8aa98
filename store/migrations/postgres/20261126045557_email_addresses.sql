-- Create "email_addresses" table
CREATE TABLE "email_addresses" ("id" character varying(28) NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "address" character varying NOT NULL, "display_name" character varying NULL, "ses_identity_arn" character varying NOT NULL, "contact_flow_id" character varying NULL, "queue_id" character varying NULL, "tenant_id" character varying(28) NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "email_addresses_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "emailaddress_tenant_id_address" to table: "email_addresses"
CREATE UNIQUE INDEX "emailaddress_tenant_id_address" ON "email_addresses" ("tenant_id", "address");
