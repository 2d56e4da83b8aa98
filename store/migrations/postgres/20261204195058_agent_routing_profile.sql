-- Modify "agents" table
ALTER TABLE "agents" ADD COLUMN "connect_routing_profile" character varying NULL;
