-- Drop index "conversation_tenant_id_channel_external_id_status" from table: "conversations"
DROP INDEX "conversation_tenant_id_channel_external_id_status";
-- Modify "conversations" table
ALTER TABLE "conversations" ADD COLUMN "active_external_id" character varying NULL;
-- Create index "conversation_tenant_id_channel_active_external_id" to table: "conversations"
CREATE UNIQUE INDEX "conversation_tenant_id_channel_active_external_id" ON "conversations" ("tenant_id", "channel", "active_external_id");
