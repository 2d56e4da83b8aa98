-- Add column "verification_status" to table: "email_addresses"
ALTER TABLE `email_addresses` ADD COLUMN `verification_status` text NULL;
-- Add column "verification_checked_at" to table: "email_addresses"
ALTER TABLE `email_addresses` ADD COLUMN `verification_checked_at` datetime NULL;
