-- Add column "connect_routing_profile" to table: "agents"
ALTER TABLE `agents` ADD COLUMN `connect_routing_profile` text NULL;
