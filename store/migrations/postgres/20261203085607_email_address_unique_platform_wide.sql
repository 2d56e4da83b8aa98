-- Drop index "emailaddress_tenant_id_address" from table: "email_addresses"
DROP INDEX "emailaddress_tenant_id_address";
-- Create index "emailaddress_address" to table: "email_addresses"
CREATE UNIQUE INDEX "emailaddress_address" ON "email_addresses" ("address");
