-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_contacts" table
CREATE TABLE `new_contacts` (`id` varchar NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `scope` text NOT NULL DEFAULT ('PERSONAL'), `source` text NOT NULL DEFAULT ('MANUAL'), `name` text NOT NULL, `given_name` text NULL, `family_name` text NULL, `email` text NULL, `phone_number` text NULL, `emails` json NULL, `phone_numbers` json NULL, `job_title` text NULL, `scim_user_name` text NULL, `scim_external_id` text NULL, `active` bool NOT NULL DEFAULT (true), `search_name` text NOT NULL DEFAULT (''), `search_emails` text NOT NULL DEFAULT (''), `search_phones` text NOT NULL DEFAULT (''), `owner_id` varchar NULL, `tenant_id` varchar NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `contacts_agents_contacts` FOREIGN KEY (`owner_id`) REFERENCES `agents` (`id`) ON DELETE SET NULL, CONSTRAINT `contacts_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE CASCADE);
-- Copy rows from old table "contacts" to new temporary table "new_contacts"
INSERT INTO `new_contacts` (`id`, `created_at`, `updated_at`, `scope`, `source`, `name`, `given_name`, `family_name`, `email`, `phone_number`, `emails`, `phone_numbers`, `job_title`, `scim_user_name`, `scim_external_id`, `active`, `owner_id`, `tenant_id`) SELECT `id`, `created_at`, `updated_at`, `scope`, `source`, `name`, `given_name`, `family_name`, `email`, `phone_number`, `emails`, `phone_numbers`, `job_title`, `scim_user_name`, `scim_external_id`, `active`, `owner_id`, `tenant_id` FROM `contacts`;
-- Drop "contacts" table after copying rows
DROP TABLE `contacts`;
-- Rename temporary table "new_contacts" to "contacts"
ALTER TABLE `new_contacts` RENAME TO `contacts`;
-- Create index "contact_tenant_id_scope_name" to table: "contacts"
CREATE INDEX `contact_tenant_id_scope_name` ON `contacts` (`tenant_id`, `scope`, `name`);
-- Create index "contact_tenant_id_owner_id" to table: "contacts"
CREATE INDEX `contact_tenant_id_owner_id` ON `contacts` (`tenant_id`, `owner_id`);
-- Create index "contact_tenant_id_scim_user_name" to table: "contacts"
CREATE UNIQUE INDEX `contact_tenant_id_scim_user_name` ON `contacts` (`tenant_id`, `scim_user_name`);
-- Create index "contact_tenant_id_search_name" to table: "contacts"
CREATE INDEX `contact_tenant_id_search_name` ON `contacts` (`tenant_id`, `search_name`);
-- Create index "contact_search_name_trgm" to table: "contacts"
CREATE INDEX `contact_search_name_trgm` ON `contacts` (`search_name`);
-- Create index "contact_search_emails_trgm" to table: "contacts"
CREATE INDEX `contact_search_emails_trgm` ON `contacts` (`search_emails`);
-- Create index "contact_search_phones_trgm" to table: "contacts"
CREATE INDEX `contact_search_phones_trgm` ON `contacts` (`search_phones`);
-- Create "scim_tokens" table
CREATE TABLE `scim_tokens` (`id` varchar NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `token_hash` blob NOT NULL, `created_by` text NULL, `last_used_at` datetime NULL, `revoked_at` datetime NULL, `tenant_id` varchar NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `scim_tokens_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE CASCADE);
-- Create index "scimtoken_token_hash" to table: "scim_tokens"
CREATE UNIQUE INDEX `scimtoken_token_hash` ON `scim_tokens` (`token_hash`);
-- Create index "scimtoken_tenant_id_name" to table: "scim_tokens"
CREATE INDEX `scimtoken_tenant_id_name` ON `scim_tokens` (`tenant_id`, `name`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
