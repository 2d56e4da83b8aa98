-- Modify "tenants" table
ALTER TABLE "tenants" ADD COLUMN "unsubscribed_at" timestamptz NULL, ADD COLUMN "marketplace_customer_identifier" character varying NULL, ADD COLUMN "marketplace_aws_account_id" character varying NULL, ADD COLUMN "marketplace_product_code" character varying NULL, ADD COLUMN "marketplace_license_arn" character varying NULL;
-- Create "pending_subscriptions" table
CREATE TABLE "pending_subscriptions" ("id" character varying(28) NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "customer_identifier" character varying NULL, "customer_aws_account_id" character varying NULL, "product_code" character varying NOT NULL, "license_arn" character varying NULL, "registered_at" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- Create index "pendingsubscription_product_co_27d11bb2cb0f38b3d9faae024e82a2a5" to table: "pending_subscriptions"
CREATE UNIQUE INDEX "pendingsubscription_product_co_27d11bb2cb0f38b3d9faae024e82a2a5" ON "pending_subscriptions" ("product_code", "customer_identifier", "customer_aws_account_id");
-- Create "billing_log_entries" table
CREATE TABLE "billing_log_entries" ("id" character varying(28) NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "sent_at" timestamptz NOT NULL, "hour" timestamptz NOT NULL, "dimension" character varying NOT NULL, "quantity" bigint NOT NULL, "status" character varying NOT NULL, "metering_record_id" character varying NULL, "request_id" character varying NULL, "error" character varying NULL, "attempt" bigint NOT NULL, "tenant_id" character varying(28) NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "billing_log_entries_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "billinglogentry_tenant_id_sent_at" to table: "billing_log_entries"
CREATE INDEX "billinglogentry_tenant_id_sent_at" ON "billing_log_entries" ("tenant_id", "sent_at");
-- Create "usage_hours" table
CREATE TABLE "usage_hours" ("id" character varying(28) NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "hour" timestamptz NOT NULL, "active_agent_minutes" bigint NOT NULL, "active_agents" bigint NOT NULL, "late_minutes" bigint NOT NULL DEFAULT 0, "metered_at" timestamptz NULL, "tenant_id" character varying(28) NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "usage_hours_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "usagehour_hour_metered_at" to table: "usage_hours"
CREATE INDEX "usagehour_hour_metered_at" ON "usage_hours" ("hour", "metered_at");
-- Create index "usagehour_tenant_id_hour" to table: "usage_hours"
CREATE UNIQUE INDEX "usagehour_tenant_id_hour" ON "usage_hours" ("tenant_id", "hour");
