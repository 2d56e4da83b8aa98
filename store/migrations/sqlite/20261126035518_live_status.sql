-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Add column "connect_status_arn" to table: "agent_status"
ALTER TABLE `agent_status` ADD COLUMN `connect_status_arn` text NULL;
-- Create "new_agent_status_changes" table
CREATE TABLE `new_agent_status_changes` (`id` varchar NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `changed_at` datetime NOT NULL, `changed_by` text NULL, `source` text NOT NULL DEFAULT ('DESKTOP'), `connect_event_id` text NULL, `agent_id` varchar NOT NULL, `tenant_id` varchar NOT NULL, `status_id` varchar NOT NULL, `previous_status_id` varchar NULL, PRIMARY KEY (`id`), CONSTRAINT `agent_status_changes_agents_status_changes` FOREIGN KEY (`agent_id`) REFERENCES `agents` (`id`) ON DELETE NO ACTION, CONSTRAINT `agent_status_changes_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE CASCADE, CONSTRAINT `agent_status_changes_agent_status_status` FOREIGN KEY (`status_id`) REFERENCES `agent_status` (`id`) ON DELETE NO ACTION, CONSTRAINT `agent_status_changes_agent_status_previous_status` FOREIGN KEY (`previous_status_id`) REFERENCES `agent_status` (`id`) ON DELETE SET NULL);
-- Copy rows from old table "agent_status_changes" to new temporary table "new_agent_status_changes"
INSERT INTO `new_agent_status_changes` (`id`, `created_at`, `updated_at`, `changed_at`, `changed_by`, `source`, `agent_id`, `tenant_id`, `status_id`, `previous_status_id`) SELECT `id`, `created_at`, `updated_at`, `changed_at`, `changed_by`, `source`, `agent_id`, `tenant_id`, `status_id`, `previous_status_id` FROM `agent_status_changes`;
-- Drop "agent_status_changes" table after copying rows
DROP TABLE `agent_status_changes`;
-- Rename temporary table "new_agent_status_changes" to "agent_status_changes"
ALTER TABLE `new_agent_status_changes` RENAME TO `agent_status_changes`;
-- Create index "agentstatuschange_tenant_id_agent_id_changed_at" to table: "agent_status_changes"
CREATE INDEX `agentstatuschange_tenant_id_agent_id_changed_at` ON `agent_status_changes` (`tenant_id`, `agent_id`, `changed_at`);
-- Create index "agentstatuschange_tenant_id_connect_event_id" to table: "agent_status_changes"
CREATE UNIQUE INDEX `agentstatuschange_tenant_id_connect_event_id` ON `agent_status_changes` (`tenant_id`, `connect_event_id`);
-- Create "instances" table
CREATE TABLE `instances` (`id` varchar NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `instance_arn` text NOT NULL, `alias` text NULL, `region` text NOT NULL, `role_arn` text NOT NULL, `external_id` text NOT NULL, `chat_contact_flow_id` text NULL, `modules` json NULL, `agent_event_key_hash` blob NULL, `tenant_id` varchar NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `instances_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE CASCADE);
-- Create index "instance_tenant_id" to table: "instances"
CREATE UNIQUE INDEX `instance_tenant_id` ON `instances` (`tenant_id`);
-- Create index "instance_agent_event_key_hash" to table: "instances"
CREATE UNIQUE INDEX `instance_agent_event_key_hash` ON `instances` (`agent_event_key_hash`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
