-- Create "email_addresses" table
CREATE TABLE `email_addresses` (`id` varchar NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `address` text NOT NULL, `display_name` text NULL, `ses_identity_arn` text NOT NULL, `contact_flow_id` text NULL, `queue_id` text NULL, `tenant_id` varchar NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `email_addresses_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE CASCADE);
-- Create index "emailaddress_tenant_id_address" to table: "email_addresses"
CREATE UNIQUE INDEX `emailaddress_tenant_id_address` ON `email_addresses` (`tenant_id`, `address`);
