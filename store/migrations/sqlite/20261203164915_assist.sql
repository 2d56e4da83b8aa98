-- Add column "assist_model_id" to table: "instances"
ALTER TABLE `instances` ADD COLUMN `assist_model_id` text NULL;
-- Add column "assist_region" to table: "instances"
ALTER TABLE `instances` ADD COLUMN `assist_region` text NULL;
-- Create "assist_usage_days" table
CREATE TABLE `assist_usage_days` (`id` varchar NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `day` datetime NOT NULL, `calls` integer NOT NULL DEFAULT (0), `failed_calls` integer NOT NULL DEFAULT (0), `input_tokens` integer NOT NULL DEFAULT (0), `output_tokens` integer NOT NULL DEFAULT (0), `tenant_id` varchar NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `assist_usage_days_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE CASCADE);
-- Create index "assistusageday_tenant_id_day" to table: "assist_usage_days"
CREATE UNIQUE INDEX `assistusageday_tenant_id_day` ON `assist_usage_days` (`tenant_id`, `day`);
