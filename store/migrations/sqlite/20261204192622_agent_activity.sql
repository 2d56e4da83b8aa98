-- Create "agent_activities" table
CREATE TABLE `agent_activities` (`id` varchar NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `event_id` text NOT NULL, `event_at` datetime NOT NULL, `on_contact` bool NOT NULL DEFAULT (false), `after_contact_work` bool NOT NULL DEFAULT (false), `since` datetime NOT NULL, `contacts` json NULL, `agent_id` varchar NOT NULL, `tenant_id` varchar NOT NULL, `next_status_id` varchar NULL, PRIMARY KEY (`id`), CONSTRAINT `agent_activities_agents_activity` FOREIGN KEY (`agent_id`) REFERENCES `agents` (`id`) ON DELETE CASCADE, CONSTRAINT `agent_activities_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE CASCADE, CONSTRAINT `agent_activities_agent_status_next_status` FOREIGN KEY (`next_status_id`) REFERENCES `agent_status` (`id`) ON DELETE SET NULL);
-- Create index "agent_activities_agent_id_key" to table: "agent_activities"
CREATE UNIQUE INDEX `agent_activities_agent_id_key` ON `agent_activities` (`agent_id`);
-- Create index "agentactivity_tenant_id_agent_id" to table: "agent_activities"
CREATE INDEX `agentactivity_tenant_id_agent_id` ON `agent_activities` (`tenant_id`, `agent_id`);
