-- Modify "email_addresses" table
ALTER TABLE "email_addresses" ADD COLUMN "verification_status" character varying NULL, ADD COLUMN "verification_checked_at" timestamptz NULL;
