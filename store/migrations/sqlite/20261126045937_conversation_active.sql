-- Drop index "conversation_tenant_id_channel_external_id_status" from table: "conversations"
DROP INDEX `conversation_tenant_id_channel_external_id_status`;
-- Create index "conversation_active_external" to table: "conversations"
CREATE UNIQUE INDEX `conversation_active_external` ON `conversations` (`tenant_id`, `channel`, `external_id`) WHERE status = 'ACTIVE';
