-- Create "branding_images" table
CREATE TABLE `branding_images` (`id` varchar NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `kind` text NOT NULL, `content_type` text NOT NULL, `data` blob NOT NULL, `sha256` text NOT NULL, `width` integer NOT NULL, `height` integer NOT NULL, `tenant_id` varchar NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `branding_images_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE CASCADE);
-- Create index "brandingimage_tenant_id_kind" to table: "branding_images"
CREATE UNIQUE INDEX `brandingimage_tenant_id_kind` ON `branding_images` (`tenant_id`, `kind`);
