-- Create index "contact_scim_user_name_trgm" to table: "contacts"
CREATE INDEX "contact_scim_user_name_trgm" ON "contacts" USING gin ("scim_user_name" gin_trgm_ops);
