-- Modify "agent_status" table
ALTER TABLE "agent_status" ADD COLUMN "connect_status_arn" character varying NULL;
-- Modify "agent_status_changes" table
ALTER TABLE "agent_status_changes" ADD COLUMN "connect_event_id" character varying NULL;
-- Create index "agentstatuschange_tenant_id_connect_event_id" to table: "agent_status_changes"
CREATE UNIQUE INDEX "agentstatuschange_tenant_id_connect_event_id" ON "agent_status_changes" ("tenant_id", "connect_event_id");
-- Create "instances" table
CREATE TABLE "instances" ("id" character varying(28) NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "instance_arn" character varying NOT NULL, "alias" character varying NULL, "region" character varying NOT NULL, "role_arn" character varying NOT NULL, "external_id" character varying NOT NULL, "chat_contact_flow_id" character varying NULL, "modules" jsonb NULL, "agent_event_key_hash" bytea NULL, "tenant_id" character varying(28) NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "instances_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "instance_agent_event_key_hash" to table: "instances"
CREATE UNIQUE INDEX "instance_agent_event_key_hash" ON "instances" ("agent_event_key_hash");
-- Create index "instance_tenant_id" to table: "instances"
CREATE UNIQUE INDEX "instance_tenant_id" ON "instances" ("tenant_id");
