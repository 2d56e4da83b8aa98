-- Modify "modules" table
ALTER TABLE "modules" ADD COLUMN "roles" jsonb NULL;
-- Create "flows_keys" table
CREATE TABLE "flows_keys" ("id" character varying(28) NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "key_hash" bytea NOT NULL, "created_by" character varying NULL, "tenant_id" character varying(28) NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "flows_keys_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "flowskey_key_hash" to table: "flows_keys"
CREATE UNIQUE INDEX "flowskey_key_hash" ON "flows_keys" ("key_hash");
-- Create index "flowskey_tenant_id" to table: "flows_keys"
CREATE UNIQUE INDEX "flowskey_tenant_id" ON "flows_keys" ("tenant_id");
-- Create "operational_parameters" table
CREATE TABLE "operational_parameters" ("id" character varying(28) NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "group_name" character varying NOT NULL, "key" character varying NOT NULL, "value" character varying NOT NULL, "tenant_id" character varying(28) NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "operational_parameters_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "operationalparameter_tenant_id_group_name_key" to table: "operational_parameters"
CREATE UNIQUE INDEX "operationalparameter_tenant_id_group_name_key" ON "operational_parameters" ("tenant_id", "group_name", "key");
