-- Create "tenants" table
CREATE TABLE "tenants" ("id" character varying(28) NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "contact_name" character varying NULL, "contact_email" character varying NULL, "contact_phone" character varying NULL, "product" character varying NOT NULL DEFAULT 'standard', "seats" bigint NOT NULL DEFAULT 0, "lifecycle" character varying NOT NULL DEFAULT 'ACTIVE', "default_region" character varying NOT NULL DEFAULT 'US', PRIMARY KEY ("id"));
-- Create "agent_status" table
CREATE TABLE "agent_status" ("id" character varying(28) NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "type" character varying NOT NULL, "display_order" bigint NOT NULL DEFAULT 1, "enabled" boolean NOT NULL DEFAULT true, "connect_status_id" character varying NULL, "tenant_id" character varying(28) NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "agent_status_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "agentstatus_tenant_id_name" to table: "agent_status"
CREATE UNIQUE INDEX "agentstatus_tenant_id_name" ON "agent_status" ("tenant_id", "name");
-- Create "agents" table
CREATE TABLE "agents" ("id" character varying(28) NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "email" character varying NOT NULL, "name" character varying NOT NULL, "connect_username" character varying NULL, "connect_user_id" character varying NULL, "role" character varying NOT NULL DEFAULT 'AGENT', "status_since" timestamptz NULL, "tenant_id" character varying(28) NOT NULL, "current_status_id" character varying(28) NULL, PRIMARY KEY ("id"), CONSTRAINT "agents_agent_status_current_status" FOREIGN KEY ("current_status_id") REFERENCES "agent_status" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, CONSTRAINT "agents_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "agent_tenant_id_email" to table: "agents"
CREATE UNIQUE INDEX "agent_tenant_id_email" ON "agents" ("tenant_id", "email");
-- Create index "agent_tenant_id_name" to table: "agents"
CREATE INDEX "agent_tenant_id_name" ON "agents" ("tenant_id", "name");
-- Create "agent_status_changes" table
CREATE TABLE "agent_status_changes" ("id" character varying(28) NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "changed_at" timestamptz NOT NULL, "changed_by" character varying NULL, "source" character varying NOT NULL DEFAULT 'DESKTOP', "agent_id" character varying(28) NOT NULL, "tenant_id" character varying(28) NOT NULL, "status_id" character varying(28) NOT NULL, "previous_status_id" character varying(28) NULL, PRIMARY KEY ("id"), CONSTRAINT "agent_status_changes_agent_status_previous_status" FOREIGN KEY ("previous_status_id") REFERENCES "agent_status" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, CONSTRAINT "agent_status_changes_agent_status_status" FOREIGN KEY ("status_id") REFERENCES "agent_status" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "agent_status_changes_agents_status_changes" FOREIGN KEY ("agent_id") REFERENCES "agents" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "agent_status_changes_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "agentstatuschange_tenant_id_agent_id_changed_at" to table: "agent_status_changes"
CREATE INDEX "agentstatuschange_tenant_id_agent_id_changed_at" ON "agent_status_changes" ("tenant_id", "agent_id", "changed_at");
-- Create "contacts" table
CREATE TABLE "contacts" ("id" character varying(28) NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "scope" character varying NOT NULL DEFAULT 'PERSONAL', "source" character varying NOT NULL DEFAULT 'MANUAL', "name" character varying NOT NULL, "given_name" character varying NULL, "family_name" character varying NULL, "email" character varying NULL, "phone_number" character varying NULL, "emails" jsonb NULL, "phone_numbers" jsonb NULL, "job_title" character varying NULL, "scim_user_name" character varying NULL, "scim_external_id" character varying NULL, "active" boolean NOT NULL DEFAULT true, "owner_id" character varying(28) NULL, "tenant_id" character varying(28) NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "contacts_agents_contacts" FOREIGN KEY ("owner_id") REFERENCES "agents" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, CONSTRAINT "contacts_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "contact_tenant_id_owner_id" to table: "contacts"
CREATE INDEX "contact_tenant_id_owner_id" ON "contacts" ("tenant_id", "owner_id");
-- Create index "contact_tenant_id_scim_user_name" to table: "contacts"
CREATE UNIQUE INDEX "contact_tenant_id_scim_user_name" ON "contacts" ("tenant_id", "scim_user_name");
-- Create index "contact_tenant_id_scope_name" to table: "contacts"
CREATE INDEX "contact_tenant_id_scope_name" ON "contacts" ("tenant_id", "scope", "name");
-- Create "conversations" table
CREATE TABLE "conversations" ("id" character varying(28) NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "channel" character varying NOT NULL, "external_id" character varying NOT NULL, "participant" character varying NULL, "connect_contact_id" character varying NULL, "status" character varying NOT NULL DEFAULT 'ACTIVE', "started_at" timestamptz NOT NULL, "ended_at" timestamptz NULL, "agent_id" character varying(28) NULL, "tenant_id" character varying(28) NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "conversations_agents_conversations" FOREIGN KEY ("agent_id") REFERENCES "agents" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, CONSTRAINT "conversations_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "conversation_tenant_id_agent_id_started_at" to table: "conversations"
CREATE INDEX "conversation_tenant_id_agent_id_started_at" ON "conversations" ("tenant_id", "agent_id", "started_at");
-- Create index "conversation_tenant_id_channel_external_id_status" to table: "conversations"
CREATE INDEX "conversation_tenant_id_channel_external_id_status" ON "conversations" ("tenant_id", "channel", "external_id", "status");
-- Create "emails" table
CREATE TABLE "emails" ("id" character varying(28) NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "direction" character varying NOT NULL, "from" character varying NOT NULL, "to" jsonb NOT NULL, "cc" jsonb NULL, "subject" character varying NOT NULL DEFAULT '', "date" timestamptz NOT NULL, "message_id" character varying NOT NULL, "object_key" character varying NULL, "state" character varying NOT NULL DEFAULT 'RECEIVED', "tenant_id" character varying(28) NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "emails_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "email_tenant_id_direction_date" to table: "emails"
CREATE INDEX "email_tenant_id_direction_date" ON "emails" ("tenant_id", "direction", "date");
-- Create index "email_tenant_id_message_id" to table: "emails"
CREATE UNIQUE INDEX "email_tenant_id_message_id" ON "emails" ("tenant_id", "message_id");
-- Create "interactions" table
CREATE TABLE "interactions" ("id" character varying(28) NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "contact_id" character varying NOT NULL, "channel" character varying NOT NULL, "phone_number" character varying NULL, "connection_type" character varying NOT NULL, "started_at" timestamptz NOT NULL, "ended_at" timestamptz NULL, "agent_id" character varying(28) NOT NULL, "tenant_id" character varying(28) NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "interactions_agents_interactions" FOREIGN KEY ("agent_id") REFERENCES "agents" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "interactions_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "interaction_tenant_id_agent_id_started_at" to table: "interactions"
CREATE INDEX "interaction_tenant_id_agent_id_started_at" ON "interactions" ("tenant_id", "agent_id", "started_at");
-- Create index "interaction_tenant_id_contact_id" to table: "interactions"
CREATE UNIQUE INDEX "interaction_tenant_id_contact_id" ON "interactions" ("tenant_id", "contact_id");
-- Create index "interaction_tenant_id_phone_number" to table: "interactions"
CREATE INDEX "interaction_tenant_id_phone_number" ON "interactions" ("tenant_id", "phone_number");
-- Create "modules" table
CREATE TABLE "modules" ("id" character varying(28) NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "url" character varying NOT NULL, "position" bigint NOT NULL DEFAULT 0, "tenant_id" character varying(28) NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "modules_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "module_tenant_id_position" to table: "modules"
CREATE INDEX "module_tenant_id_position" ON "modules" ("tenant_id", "position");
-- Create "templates" table
CREATE TABLE "templates" ("id" character varying(28) NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "channel" character varying NOT NULL, "body" character varying NOT NULL, "tenant_id" character varying(28) NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "templates_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "template_tenant_id_channel_name" to table: "templates"
CREATE INDEX "template_tenant_id_channel_name" ON "templates" ("tenant_id", "channel", "name");
