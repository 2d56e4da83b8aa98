-- Create "agent_status_days" table
CREATE TABLE `agent_status_days` (`id` varchar NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `agent_id` varchar NOT NULL, `day` datetime NOT NULL, `minutes` blob NOT NULL, `active_minutes` integer NOT NULL DEFAULT (0), `tenant_id` varchar NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `agent_status_days_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE CASCADE);
-- Create index "agentstatusday_tenant_id_agent_id_day" to table: "agent_status_days"
CREATE UNIQUE INDEX `agentstatusday_tenant_id_agent_id_day` ON `agent_status_days` (`tenant_id`, `agent_id`, `day`);
