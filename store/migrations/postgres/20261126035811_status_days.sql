-- Create "agent_status_days" table
CREATE TABLE "agent_status_days" ("id" character varying(28) NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "agent_id" character varying(28) NOT NULL, "day" timestamptz NOT NULL, "minutes" bytea NOT NULL, "active_minutes" bigint NOT NULL DEFAULT 0, "tenant_id" character varying(28) NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "agent_status_days_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "agentstatusday_tenant_id_agent_id_day" to table: "agent_status_days"
CREATE UNIQUE INDEX "agentstatusday_tenant_id_agent_id_day" ON "agent_status_days" ("tenant_id", "agent_id", "day");
