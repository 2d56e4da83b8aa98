-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_conversations" table
CREATE TABLE `new_conversations` (`id` varchar NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `channel` text NOT NULL, `external_id` text NOT NULL, `active_external_id` text NULL, `participant` text NULL, `connect_contact_id` text NULL, `status` text NOT NULL DEFAULT ('ACTIVE'), `started_at` datetime NOT NULL, `ended_at` datetime NULL, `agent_id` varchar NULL, `tenant_id` varchar NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `conversations_agents_conversations` FOREIGN KEY (`agent_id`) REFERENCES `agents` (`id`) ON DELETE SET NULL, CONSTRAINT `conversations_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE CASCADE);
-- Copy rows from old table "conversations" to new temporary table "new_conversations"
INSERT INTO `new_conversations` (`id`, `created_at`, `updated_at`, `channel`, `external_id`, `participant`, `connect_contact_id`, `status`, `started_at`, `ended_at`, `agent_id`, `tenant_id`) SELECT `id`, `created_at`, `updated_at`, `channel`, `external_id`, `participant`, `connect_contact_id`, `status`, `started_at`, `ended_at`, `agent_id`, `tenant_id` FROM `conversations`;
-- Drop "conversations" table after copying rows
DROP TABLE `conversations`;
-- Rename temporary table "new_conversations" to "conversations"
ALTER TABLE `new_conversations` RENAME TO `conversations`;
-- Create index "conversation_tenant_id_channel_active_external_id" to table: "conversations"
CREATE UNIQUE INDEX `conversation_tenant_id_channel_active_external_id` ON `conversations` (`tenant_id`, `channel`, `active_external_id`);
-- Create index "conversation_tenant_id_agent_id_started_at" to table: "conversations"
CREATE INDEX `conversation_tenant_id_agent_id_started_at` ON `conversations` (`tenant_id`, `agent_id`, `started_at`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
