-- Modify "instances" table
ALTER TABLE "instances" ADD COLUMN "assist_model_id" character varying NULL, ADD COLUMN "assist_region" character varying NULL;
-- Create "assist_usage_days" table
CREATE TABLE "assist_usage_days" ("id" character varying(28) NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "day" timestamptz NOT NULL, "calls" bigint NOT NULL DEFAULT 0, "failed_calls" bigint NOT NULL DEFAULT 0, "input_tokens" bigint NOT NULL DEFAULT 0, "output_tokens" bigint NOT NULL DEFAULT 0, "tenant_id" character varying(28) NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "assist_usage_days_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "assistusageday_tenant_id_day" to table: "assist_usage_days"
CREATE UNIQUE INDEX "assistusageday_tenant_id_day" ON "assist_usage_days" ("tenant_id", "day");
