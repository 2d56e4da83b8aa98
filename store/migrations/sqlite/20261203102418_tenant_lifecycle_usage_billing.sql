-- Add column "unsubscribed_at" to table: "tenants"
ALTER TABLE `tenants` ADD COLUMN `unsubscribed_at` datetime NULL;
-- Add column "marketplace_customer_identifier" to table: "tenants"
ALTER TABLE `tenants` ADD COLUMN `marketplace_customer_identifier` text NULL;
-- Add column "marketplace_aws_account_id" to table: "tenants"
ALTER TABLE `tenants` ADD COLUMN `marketplace_aws_account_id` text NULL;
-- Add column "marketplace_product_code" to table: "tenants"
ALTER TABLE `tenants` ADD COLUMN `marketplace_product_code` text NULL;
-- Add column "marketplace_license_arn" to table: "tenants"
ALTER TABLE `tenants` ADD COLUMN `marketplace_license_arn` text NULL;
-- Create "billing_log_entries" table
CREATE TABLE `billing_log_entries` (`id` varchar NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `sent_at` datetime NOT NULL, `hour` datetime NOT NULL, `dimension` text NOT NULL, `quantity` integer NOT NULL, `status` text NOT NULL, `metering_record_id` text NULL, `request_id` text NULL, `error` text NULL, `attempt` integer NOT NULL, `tenant_id` varchar NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `billing_log_entries_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE CASCADE);
-- Create index "billinglogentry_tenant_id_sent_at" to table: "billing_log_entries"
CREATE INDEX `billinglogentry_tenant_id_sent_at` ON `billing_log_entries` (`tenant_id`, `sent_at`);
-- Create "pending_subscriptions" table
CREATE TABLE `pending_subscriptions` (`id` varchar NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `customer_identifier` text NULL, `customer_aws_account_id` text NULL, `product_code` text NOT NULL, `license_arn` text NULL, `registered_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- Create index "pendingsubscription_product_cod_63f6ed5389377263fad247d3e5825f9d" to table: "pending_subscriptions"
CREATE UNIQUE INDEX `pendingsubscription_product_cod_63f6ed5389377263fad247d3e5825f9d` ON `pending_subscriptions` (`product_code`, `customer_identifier`, `customer_aws_account_id`);
-- Create "usage_hours" table
CREATE TABLE `usage_hours` (`id` varchar NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `hour` datetime NOT NULL, `active_agent_minutes` integer NOT NULL, `active_agents` integer NOT NULL, `late_minutes` integer NOT NULL DEFAULT (0), `metered_at` datetime NULL, `tenant_id` varchar NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `usage_hours_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE CASCADE);
-- Create index "usagehour_tenant_id_hour" to table: "usage_hours"
CREATE UNIQUE INDEX `usagehour_tenant_id_hour` ON `usage_hours` (`tenant_id`, `hour`);
-- Create index "usagehour_hour_metered_at" to table: "usage_hours"
CREATE INDEX `usagehour_hour_metered_at` ON `usage_hours` (`hour`, `metered_at`);
