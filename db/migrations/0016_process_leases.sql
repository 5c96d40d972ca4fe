CREATE TABLE "blob_writes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"sha256" text NOT NULL,
	"process_id" uuid,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "processes" (
	"id" uuid PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"host" text NOT NULL,
	"pid" integer NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"heartbeat_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "processes_kind_check" CHECK (kind in ('web', 'worker'))
);
--> statement-breakpoint
ALTER TABLE "conversions" ADD COLUMN "process_id" uuid;--> statement-breakpoint
ALTER TABLE "uploads" ADD COLUMN "process_id" uuid;--> statement-breakpoint
CREATE INDEX "blob_writes_sha256_idx" ON "blob_writes" USING btree ("sha256");--> statement-breakpoint
CREATE INDEX "blob_writes_process_idx" ON "blob_writes" USING btree ("process_id");