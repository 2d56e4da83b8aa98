-- Create index "agent_tenant_id_connect_user_id" to table: "agents"
CREATE INDEX "agent_tenant_id_connect_user_id" ON "agents" ("tenant_id", "connect_user_id");
