-- Modify "instances" table
ALTER TABLE "instances" ADD COLUMN "email_backup_days" bigint NULL, ADD COLUMN "reporting_account_id" character varying NULL, ADD COLUMN "reporting_dashboard_id" character varying NULL, ADD COLUMN "reporting_user_arn" character varying NULL;
-- Create "admin_users" table
CREATE TABLE "admin_users" ("id" character varying(28) NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "email" character varying NOT NULL, "name" character varying NOT NULL, "organisation" character varying NULL, "role" character varying NOT NULL, "last_sign_in_at" timestamptz NULL, "tenant_id" character varying(28) NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "admin_users_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "adminuser_tenant_id_email" to table: "admin_users"
CREATE UNIQUE INDEX "adminuser_tenant_id_email" ON "admin_users" ("tenant_id", "email");
-- Create "microsoft_integrations" table
CREATE TABLE "microsoft_integrations" ("id" character varying(28) NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "directory_tenant_id" character varying NOT NULL, "client_id" character varying NOT NULL, "client_secret_sealed" character varying NOT NULL, "tenant_id" character varying(28) NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "microsoft_integrations_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "microsoftintegration_tenant_id" to table: "microsoft_integrations"
CREATE UNIQUE INDEX "microsoftintegration_tenant_id" ON "microsoft_integrations" ("tenant_id");
