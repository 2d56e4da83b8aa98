-- Add column "email_backup_days" to table: "instances"
ALTER TABLE `instances` ADD COLUMN `email_backup_days` integer NULL;
-- Add column "reporting_account_id" to table: "instances"
ALTER TABLE `instances` ADD COLUMN `reporting_account_id` text NULL;
-- Add column "reporting_dashboard_id" to table: "instances"
ALTER TABLE `instances` ADD COLUMN `reporting_dashboard_id` text NULL;
-- Add column "reporting_user_arn" to table: "instances"
ALTER TABLE `instances` ADD COLUMN `reporting_user_arn` text NULL;
-- Create "admin_users" table
CREATE TABLE `admin_users` (`id` varchar NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `email` text NOT NULL, `name` text NOT NULL, `organisation` text NULL, `role` text NOT NULL, `last_sign_in_at` datetime NULL, `tenant_id` varchar NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `admin_users_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE CASCADE);
-- Create index "adminuser_tenant_id_email" to table: "admin_users"
CREATE UNIQUE INDEX `adminuser_tenant_id_email` ON `admin_users` (`tenant_id`, `email`);
-- Create "microsoft_integrations" table
CREATE TABLE `microsoft_integrations` (`id` varchar NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `directory_tenant_id` text NOT NULL, `client_id` text NOT NULL, `client_secret_sealed` text NOT NULL, `tenant_id` varchar NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `microsoft_integrations_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE CASCADE);
-- Create index "microsoftintegration_tenant_id" to table: "microsoft_integrations"
CREATE UNIQUE INDEX `microsoftintegration_tenant_id` ON `microsoft_integrations` (`tenant_id`);
