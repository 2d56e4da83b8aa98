-- Create "schedules" table
CREATE TABLE `schedules` (`id` varchar NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `time_zone` text NOT NULL, `weekly_hours` json NOT NULL, `exceptions` json NOT NULL, `tenant_id` varchar NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `schedules_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE CASCADE);
-- Create index "schedule_tenant_id_name" to table: "schedules"
CREATE UNIQUE INDEX `schedule_tenant_id_name` ON `schedules` (`tenant_id`, `name`);
