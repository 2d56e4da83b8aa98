-- Create "schedules" table
CREATE TABLE "schedules" ("id" character varying(28) NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "time_zone" character varying NOT NULL, "weekly_hours" jsonb NOT NULL, "exceptions" jsonb NOT NULL, "tenant_id" character varying(28) NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "schedules_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "schedule_tenant_id_name" to table: "schedules"
CREATE UNIQUE INDEX "schedule_tenant_id_name" ON "schedules" ("tenant_id", "name");
