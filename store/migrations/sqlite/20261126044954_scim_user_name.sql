-- Create index "contact_scim_user_name_trgm" to table: "contacts"
CREATE INDEX `contact_scim_user_name_trgm` ON `contacts` (`scim_user_name`);
