-- Add column "roles" to table: "modules"
ALTER TABLE `modules` ADD COLUMN `roles` json NULL;
-- Create "flows_keys" table
CREATE TABLE `flows_keys` (`id` varchar NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `key_hash` blob NOT NULL, `created_by` text NULL, `tenant_id` varchar NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `flows_keys_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE CASCADE);
-- Create index "flowskey_tenant_id" to table: "flows_keys"
CREATE UNIQUE INDEX `flowskey_tenant_id` ON `flows_keys` (`tenant_id`);
-- Create index "flowskey_key_hash" to table: "flows_keys"
CREATE UNIQUE INDEX `flowskey_key_hash` ON `flows_keys` (`key_hash`);
-- Create "operational_parameters" table
CREATE TABLE `operational_parameters` (`id` varchar NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `group_name` text NOT NULL, `key` text NOT NULL, `value` text NOT NULL, `tenant_id` varchar NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `operational_parameters_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE CASCADE);
-- Create index "operationalparameter_tenant_id_group_name_key" to table: "operational_parameters"
CREATE UNIQUE INDEX `operationalparameter_tenant_id_group_name_key` ON `operational_parameters` (`tenant_id`, `group_name`, `key`);
