-- Create "agents" table
CREATE TABLE `agents` (`id` varchar NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `email` text NOT NULL, `name` text NOT NULL, `connect_username` text NULL, `connect_user_id` text NULL, `role` text NOT NULL DEFAULT ('AGENT'), `status_since` datetime NULL, `tenant_id` varchar NOT NULL, `current_status_id` varchar NULL, PRIMARY KEY (`id`), CONSTRAINT `agents_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE CASCADE, CONSTRAINT `agents_agent_status_current_status` FOREIGN KEY (`current_status_id`) REFERENCES `agent_status` (`id`) ON DELETE SET NULL);
-- Create index "agent_tenant_id_email" to table: "agents"
CREATE UNIQUE INDEX `agent_tenant_id_email` ON `agents` (`tenant_id`, `email`);
-- Create index "agent_tenant_id_name" to table: "agents"
CREATE INDEX `agent_tenant_id_name` ON `agents` (`tenant_id`, `name`);
-- Create "agent_status" table
CREATE TABLE `agent_status` (`id` varchar NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `type` text NOT NULL, `display_order` integer NOT NULL DEFAULT (1), `enabled` bool NOT NULL DEFAULT (true), `connect_status_id` text NULL, `tenant_id` varchar NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `agent_status_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE CASCADE);
-- Create index "agentstatus_tenant_id_name" to table: "agent_status"
CREATE UNIQUE INDEX `agentstatus_tenant_id_name` ON `agent_status` (`tenant_id`, `name`);
-- Create "agent_status_changes" table
CREATE TABLE `agent_status_changes` (`id` varchar NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `changed_at` datetime NOT NULL, `changed_by` text NULL, `source` text NOT NULL DEFAULT ('DESKTOP'), `agent_id` varchar NOT NULL, `tenant_id` varchar NOT NULL, `status_id` varchar NOT NULL, `previous_status_id` varchar NULL, PRIMARY KEY (`id`), CONSTRAINT `agent_status_changes_agents_status_changes` FOREIGN KEY (`agent_id`) REFERENCES `agents` (`id`) ON DELETE NO ACTION, CONSTRAINT `agent_status_changes_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE CASCADE, CONSTRAINT `agent_status_changes_agent_status_status` FOREIGN KEY (`status_id`) REFERENCES `agent_status` (`id`) ON DELETE NO ACTION, CONSTRAINT `agent_status_changes_agent_status_previous_status` FOREIGN KEY (`previous_status_id`) REFERENCES `agent_status` (`id`) ON DELETE SET NULL);
-- Create index "agentstatuschange_tenant_id_agent_id_changed_at" to table: "agent_status_changes"
CREATE INDEX `agentstatuschange_tenant_id_agent_id_changed_at` ON `agent_status_changes` (`tenant_id`, `agent_id`, `changed_at`);
-- Create "contacts" table
CREATE TABLE `contacts` (`id` varchar NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `scope` text NOT NULL DEFAULT ('PERSONAL'), `source` text NOT NULL DEFAULT ('MANUAL'), `name` text NOT NULL, `given_name` text NULL, `family_name` text NULL, `email` text NULL, `phone_number` text NULL, `emails` json NULL, `phone_numbers` json NULL, `job_title` text NULL, `scim_user_name` text NULL, `scim_external_id` text NULL, `active` bool NOT NULL DEFAULT (true), `owner_id` varchar NULL, `tenant_id` varchar NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `contacts_agents_contacts` FOREIGN KEY (`owner_id`) REFERENCES `agents` (`id`) ON DELETE SET NULL, CONSTRAINT `contacts_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE CASCADE);
-- Create index "contact_tenant_id_scope_name" to table: "contacts"
CREATE INDEX `contact_tenant_id_scope_name` ON `contacts` (`tenant_id`, `scope`, `name`);
-- Create index "contact_tenant_id_owner_id" to table: "contacts"
CREATE INDEX `contact_tenant_id_owner_id` ON `contacts` (`tenant_id`, `owner_id`);
-- Create index "contact_tenant_id_scim_user_name" to table: "contacts"
CREATE UNIQUE INDEX `contact_tenant_id_scim_user_name` ON `contacts` (`tenant_id`, `scim_user_name`);
-- Create "conversations" table
CREATE TABLE `conversations` (`id` varchar NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `channel` text NOT NULL, `external_id` text NOT NULL, `participant` text NULL, `connect_contact_id` text NULL, `status` text NOT NULL DEFAULT ('ACTIVE'), `started_at` datetime NOT NULL, `ended_at` datetime NULL, `agent_id` varchar NULL, `tenant_id` varchar NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `conversations_agents_conversations` FOREIGN KEY (`agent_id`) REFERENCES `agents` (`id`) ON DELETE SET NULL, CONSTRAINT `conversations_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE CASCADE);
-- Create index "conversation_tenant_id_channel_external_id_status" to table: "conversations"
CREATE INDEX `conversation_tenant_id_channel_external_id_status` ON `conversations` (`tenant_id`, `channel`, `external_id`, `status`);
-- Create index "conversation_tenant_id_agent_id_started_at" to table: "conversations"
CREATE INDEX `conversation_tenant_id_agent_id_started_at` ON `conversations` (`tenant_id`, `agent_id`, `started_at`);
-- Create "emails" table
CREATE TABLE `emails` (`id` varchar NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `direction` text NOT NULL, `from` text NOT NULL, `to` json NOT NULL, `cc` json NULL, `subject` text NOT NULL DEFAULT (''), `date` datetime NOT NULL, `message_id` text NOT NULL, `object_key` text NULL, `state` text NOT NULL DEFAULT ('RECEIVED'), `tenant_id` varchar NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `emails_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE CASCADE);
-- Create index "email_tenant_id_message_id" to table: "emails"
CREATE UNIQUE INDEX `email_tenant_id_message_id` ON `emails` (`tenant_id`, `message_id`);
-- Create index "email_tenant_id_direction_date" to table: "emails"
CREATE INDEX `email_tenant_id_direction_date` ON `emails` (`tenant_id`, `direction`, `date`);
-- Create "interactions" table
CREATE TABLE `interactions` (`id` varchar NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `contact_id` text NOT NULL, `channel` text NOT NULL, `phone_number` text NULL, `connection_type` text NOT NULL, `started_at` datetime NOT NULL, `ended_at` datetime NULL, `agent_id` varchar NOT NULL, `tenant_id` varchar NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `interactions_agents_interactions` FOREIGN KEY (`agent_id`) REFERENCES `agents` (`id`) ON DELETE NO ACTION, CONSTRAINT `interactions_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE CASCADE);
-- Create index "interaction_tenant_id_contact_id" to table: "interactions"
CREATE UNIQUE INDEX `interaction_tenant_id_contact_id` ON `interactions` (`tenant_id`, `contact_id`);
-- Create index "interaction_tenant_id_agent_id_started_at" to table: "interactions"
CREATE INDEX `interaction_tenant_id_agent_id_started_at` ON `interactions` (`tenant_id`, `agent_id`, `started_at`);
-- Create index "interaction_tenant_id_phone_number" to table: "interactions"
CREATE INDEX `interaction_tenant_id_phone_number` ON `interactions` (`tenant_id`, `phone_number`);
-- Create "modules" table
CREATE TABLE `modules` (`id` varchar NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `url` text NOT NULL, `position` integer NOT NULL DEFAULT (0), `tenant_id` varchar NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `modules_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE CASCADE);
-- Create index "module_tenant_id_position" to table: "modules"
CREATE INDEX `module_tenant_id_position` ON `modules` (`tenant_id`, `position`);
-- Create "templates" table
CREATE TABLE `templates` (`id` varchar NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `channel` text NOT NULL, `body` text NOT NULL, `tenant_id` varchar NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `templates_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE CASCADE);
-- Create index "template_tenant_id_channel_name" to table: "templates"
CREATE INDEX `template_tenant_id_channel_name` ON `templates` (`tenant_id`, `channel`, `name`);
-- Create "tenants" table
CREATE TABLE `tenants` (`id` varchar NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `contact_name` text NULL, `contact_email` text NULL, `contact_phone` text NULL, `product` text NOT NULL DEFAULT ('standard'), `seats` integer NOT NULL DEFAULT (0), `lifecycle` text NOT NULL DEFAULT ('ACTIVE'), `default_region` text NOT NULL DEFAULT ('US'), PRIMARY KEY (`id`));
